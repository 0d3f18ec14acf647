"""All the wiring in one place: the Application from the command table, rate limiter, commands menu and alert loop."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import structlog
from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, Defaults,
    MessageHandler, filters,
)
from telegram.ext import BaseRateLimiter
from telegram.request import BaseRequest

import metrics
from bot.alerts import TelegramNotifier, evaluate_forever
from bot.commands import COMMANDS, command_of_button, on_button, unknown
from bot.config import ROLES, BotConfig, Role
from bot.guard import guarded, on_error
from bot.services import KEY, Services
from engine.queries import Index

log = structlog.get_logger("bot")

# Updates handled at once: reads wait on SQLite in worker threads, so a few dozen
# in flight keep one slow answer from holding up everyone else's.
CONCURRENT_UPDATES = 32


def build_application(config: BotConfig, token: str, db_path: Path, *, base_url: str | None = None,
                      base_file_url: str | None = None, request: BaseRequest | None = None,
                      alert_loop: bool = True, rate_limiter: BaseRateLimiter | None = None) -> Application:
    """The bot, wired: every command guarded, buttons, an error handler, AIORateLimiter, menu and alerts.

    `rate_limiter` replaces Telegram's limits (30 messages a second) where a
    test talks to the local stand-in only.
    """
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=3))
        .concurrent_updates(CONCURRENT_UPDATES)
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .post_init(startup)
        .post_shutdown(shutdown)
    )
    if base_url:
        builder = builder.base_url(base_url).base_file_url(base_file_url or base_url.replace("/bot", "/file/bot"))
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()
    app.bot_data[KEY] = Services(config=config, db_path=db_path, index=Index(db_path), started_at=time.time())
    app.bot_data["alert_loop"] = alert_loop

    for name, command in COMMANDS.items():
        app.add_handler(CommandHandler(name, guarded(name, command.handler)))
    app.add_handler(CallbackQueryHandler(guarded("button", on_button, button_command=command_of_button)))
    app.add_handler(MessageHandler(filters.COMMAND, guarded("help", unknown)))
    app.add_error_handler(on_error)
    return app


def command_menu(config: BotConfig, role: Role) -> list[BotCommand]:
    """The commands Telegram shows a role in its menu."""
    return [BotCommand(name, COMMANDS[name].help) for name in config.commands_for(role)]


async def startup(app: Application) -> None:
    """Register the command menus (everyone's, then per power user and admin) and start the alert loop."""
    svc: Services = app.bot_data[KEY]
    config = svc.config
    await app.bot.set_my_commands(command_menu(config, "user"), scope=BotCommandScopeDefault())
    for role in ROLES[1:]:
        ids = config.power_users if role == "power_user" else config.admins
        for user_id in ids:
            await app.bot.set_my_commands(command_menu(config, role), scope=BotCommandScopeChat(user_id))
    if config.alert_chat_id is not None and config.alert_interval > 0 and app.bot_data.get("alert_loop"):
        notifier = TelegramNotifier(app.bot, config.alert_chat_id)
        metrics.add_notifier(notifier)
        app.bot_data["notifier"] = notifier
        svc.alert_task = asyncio.get_running_loop().create_task(evaluate_forever(config.alert_interval))
    warm = asyncio.get_running_loop().create_task(asyncio.to_thread(_warm_index, svc))
    svc.background.add(warm)
    warm.add_done_callback(svc.background.discard)
    log.info("bot.started", commands=len(COMMANDS), alert_chat=config.alert_chat_id)


def _warm_index(svc: Services) -> None:
    """Rank the last scan's clones once, so the first /duplicates does not pay for it."""
    try:
        scan = svc.index.latest_scan()
        if scan is not None:
            svc.index.clones_page(scan, "", 0, 1)
    except Exception as exc:  # noqa: BLE001 - a broken index is reported by the commands that need it
        log.warning("bot.index_unreadable", error=repr(exc))


async def shutdown(app: Application) -> None:
    """Stop the alert loop, unregister the notifier and let a running scan finish."""
    svc: Services = app.bot_data[KEY]
    if svc.alert_task is not None:
        svc.alert_task.cancel()
        await asyncio.gather(svc.alert_task, return_exceptions=True)
        svc.alert_task = None
    notifier = app.bot_data.pop("notifier", None)
    if notifier is not None:
        try:
            metrics.remove_notifier(notifier)
        except ValueError:
            pass
    if svc.background:
        await asyncio.gather(*svc.background, return_exceptions=True)
    svc.index.close()
