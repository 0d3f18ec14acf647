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

from bot.config import Role
from bot.exceptions import ButtonExpiredError
from bot.guard import Handler
from bot.render import esc_clip
from bot.replies import say, send
from bot.services import services
from bot.views import help_report

ButtonHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, str], Awaitable[None]]


class Command(NamedTuple):
    """One command: the least role that may run it, its arguments and what it does (for /help and
    the menu), and its handler."""

    role: Role
    args: str
    help: str
    handler: Handler


class Button(NamedTuple):
    """A kind of inline button, by the prefix of its callback data: the command whose permission
    pressing it needs, and its handler (given the data after the prefix)."""

    command: str
    handler: ButtonHandler


def usage(name: str) -> str:
    """The usage line of a command, e.g. `/errors [window] — top errors, e.g. /errors 24h`."""
    command = COMMANDS[name]
    return f"/{name} {command.args}".rstrip() + f" — {command.help}"


# The command modules import `usage` from here, so they are imported after it.
from bot.commands import alerts, index, operations, scan  # noqa: E402


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot does and list the commands this user may use."""
    await help_command(update, context)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands this user may use."""
    config = services(context).config
    role = config.role_of(update.effective_user.id if update.effective_user else None) or "user"
    await send(update, context, help_report(role, [usage(name) for name in config.commands_for(role)]))


# name -> command; the order of /help and of the command menus.
COMMANDS: dict[str, Command] = {
    "start": Command("user", "", "what this bot does", start),
    "help": Command("user", "", "the commands you may use", help_command),
    "status": Command("user", "", "index, requests and alerts at a glance", operations.status),
    "health": Command("user", "", "database, last scan, disk, GitHub API", operations.health_command),
    "duplicates": Command("user", "[path-prefix] [top N]", "the largest clone classes of the last scan",
                          index.duplicates),
    "dashboard": Command("power_user", "", "status, latency, errors, duplication trend, alerts",
                         operations.dashboard),
    "errors": Command("admin", "[window]", "top errors, e.g. /errors 24h", operations.errors),
    "latency": Command("admin", "[window]", "latency percentiles per operation", operations.latency),
    "triage": Command("admin", "<request_id|clone_id>", "explain a request, or show a clone in full",
                      operations.triage),
    "alerts": Command("admin", "", "open alerts and silences", alerts.alerts),
    "silence": Command("admin", "<alert_id|rule> <duration>", "hold an alert back, e.g. /silence 3 2h",
                       alerts.silence),
    "scan": Command("admin", "[path]", "scan in the background and post the summary", scan.scan),
}

# callback data prefix -> button; a button needs the permission of the command that made it.
BUTTONS: dict[str, Button] = {
    "dup": Button("duplicates", index.on_page_button),
    "code": Button("duplicates", index.on_code_button),
    "sil": Button("silence", alerts.on_silence_button),
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
