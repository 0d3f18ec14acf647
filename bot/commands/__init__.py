"""The command table: every command once, with its role, usage, help text and handler.

`bot.app` wires the Application from `COMMANDS` and `BUTTONS`; /help and
Telegram's command menus list `COMMANDS` in its order; the configuration
takes each command's default role from it; a test checks the README's table
against it. The handlers live in one module per group: `index` (clones),
`operations` (requests and health), `alerts`, `scan`; /start, /help, the
buttons' dispatch and the answer to unknown commands are here.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple

from telegram import Update
from telegram.ext import ContextTypes

from bot.catalog import CATALOG, Role, usage
from bot.exceptions import ButtonExpiredError
from bot.guard import Handler
from bot.render import esc_clip
from bot.replies import say, send
from bot.services import services
from bot.views import help_report

ButtonHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, str], Awaitable[None]]


class Command(NamedTuple):
    """One command: its catalog entry (role, arguments, help) and its handler."""

    role: Role
    args: str
    help: str
    handler: Handler


class Button(NamedTuple):
    """A kind of inline button, by the prefix of its callback data: the command whose permission
    pressing it needs, and its handler (given the data after the prefix)."""

    command: str
    handler: ButtonHandler


from bot.commands import alerts, index, operations, refactor, scan  # noqa: E402  (after the types above)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot does and list the commands this user may use."""
    await help_command(update, context)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands this user may use."""
    config = services(context).config
    role = config.role_of(update.effective_user.id if update.effective_user else None) or "user"
    await send(update, context, help_report(role, [usage(name) for name in config.commands_for(role)]))


# name -> handler, for every command of the catalog.
HANDLERS: dict[str, Handler] = {
    "start": start, "help": help_command, "status": operations.status,
    "health": operations.health_command, "duplicates": index.duplicates,
    "dashboard": operations.dashboard, "errors": operations.errors,
    "latency": operations.latency, "triage": operations.triage, "alerts": alerts.alerts,
    "silence": alerts.silence, "scan": scan.scan,
}
# name -> command, in the catalog's order (that of /help and of the command menus).
COMMANDS: dict[str, Command] = {name: Command(*entry, HANDLERS[name])
                                for name, entry in CATALOG.items()}


# callback data prefix -> button; a button needs the permission of the command that made it.
BUTTONS: dict[str, Button] = {
    "dup": Button("duplicates", index.on_page_button),
    "code": Button("duplicates", index.on_code_button),
    "sil": Button("silence", alerts.on_silence_button),
    "ref": Button("refactor", refactor.on_refactor_button),
}


def command_of_button(data: str) -> str | None:
    """Which command's permission a button needs (None for data no button of this bot carries)."""
    button = BUTTONS.get(data.split(":", 1)[0])
    return button.command if button is not None else None


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a pressed inline button: a page of duplicates, a clone's code, or a silence."""
    kind, _, rest = (update.callback_query.data or "").partition(":")  # type: ignore[union-attr]
    button = BUTTONS.get(kind)
    if button is None:
        raise ButtonExpiredError("This button is not known to this version of the bot.")
    await button.handler(update, context, rest)


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a command the bot does not know."""
    words = (update.effective_message.text or "").split() if update.effective_message else []
    command = esc_clip(words[0], 40) if words else "that"
    await say(update, context, f"I don't know {command}. /help lists the commands you may use.")
