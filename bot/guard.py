"""The guard every command runs under: a tracked request id, the permission check, the audit trail,
and an answer for every outcome (a refusal, a usage line, or a failure with its request id).

A handler raises `UsageError`, `NotFoundError` or `ButtonExpiredError` for bad
input and lets anything else escape; `guarded()` turns each into a reply, so
no exception is left unanswered and none reaches the user as a traceback.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from telegram import Update
from telegram.ext import ContextTypes

import metrics
from bot.exceptions import BotError, ButtonExpiredError, NotFoundError, UsageError
from bot.render import esc, esc_clip
from bot.replies import say
from bot.services import services
from engine.exceptions import CodebotError
from metrics.exceptions import MetricsError

log = structlog.get_logger("bot")

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
ButtonCommand = Callable[[str], str | None]
AUDITED_ARGS = 6  # arguments kept in a request's metadata and the audit trail


def guarded(command: str, handler: Handler, *, button_command: ButtonCommand | None = None) -> Handler:
    """Wrap a handler: request id, permission check, audit trail, and no exception left unanswered.

    `button_command` names the command whose permission a pressed button needs, from its data.
    """

    async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        name = command
        if update.callback_query is not None and button_command is not None:
            name = button_command(update.callback_query.data or "") or command
        await run_guarded(update, context, name, handler)

    run.__name__ = run.__qualname__ = f"guarded_{handler.__name__}"
    run.__doc__ = handler.__doc__
    return run


async def run_guarded(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str, handler: Handler) -> None:
    """Run one handler under a tracked request; refusals, usage errors and failures each get an answer."""
    user_id = update.effective_user.id if update.effective_user else None
    query = update.callback_query
    args = list(context.args or []) if query is None else [query.data or ""]
    chat_id = update.effective_chat.id if update.effective_chat else None
    outcome, request_id, failure = "ok", None, None
    try:
        async with metrics.track_request(f"bot.{command}", user_id=user_id,
                                         metadata={"args": args[:AUDITED_ARGS], "chat": chat_id}) as request:
            request_id = request.request_id
            outcome = await _answer(update, context, command, handler, request)
    except Exception as exc:  # noqa: BLE001 - the user gets an answer with the request id instead
        outcome, failure = "error", exc
    await _audit(command, user_id, request_id, outcome, args)
    if failure is not None:
        await _report_failure(update, context, failure, request_id)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str, handler: Handler,
                  request: metrics.Request) -> str:
    """Refuse, or run the handler; the outcome as audited ('ok', 'refused', 'usage' or 'not_found').
    A failure is logged and raised on."""
    user_id = update.effective_user.id if update.effective_user else None
    if not services(context).config.allows(user_id, command):
        request.annotate(outcome="refused")
        await refuse(update, context, command, user_id)
        return "refused"
    if update.callback_query is not None:
        await update.callback_query.answer()
    try:
        await handler(update, context)
    except (UsageError, NotFoundError, ButtonExpiredError) as exc:
        outcome = "usage" if isinstance(exc, UsageError) else "not_found"
        request.annotate(outcome=outcome)
        await say(update, context, esc(exc))
        return outcome
    except Exception:
        log.exception("bot.command_failed", command=command)
        raise
    return "ok"


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str, user_id: int | None) -> None:
    """Politely tell a user the command is not theirs to run."""
    config = services(context).config
    role = config.role_of(user_id)
    if role is None:
        text = (f"Sorry, this bot only answers its team. If you belong to it, ask an admin to add "
                f"your Telegram id <code>{esc(user_id)}</code> to the bot's configuration.")
    else:
        text = (f"Sorry, /{esc(command)} needs the {esc(config.required_role(command))} role; "
                f"you are a {esc(role)}. /help lists what you can use.")
    if update.callback_query is not None:
        await update.callback_query.answer("Not allowed for your role", show_alert=True)
        return
    await say(update, context, text)


async def _audit(command: str, user_id: int | None, request_id: str | None, outcome: str, args: list[str]) -> None:
    try:
        await asyncio.to_thread(metrics.audit, f"/{command}", user_id=user_id, request_id=request_id,
                                outcome=outcome, detail={"args": args[:AUDITED_ARGS]})
    except Exception as exc:  # noqa: BLE001 - a broken audit store must not keep the answer back
        log.error("bot.audit_failed", request_id=request_id, error=repr(exc))


def failure_text(exc: BaseException) -> str:
    """What a failure is called in a chat, as HTML: our own errors carry messages written for
    people (sanitized and capped); anything else shows only its type."""
    if isinstance(exc, (BotError, CodebotError, MetricsError)):
        return esc_clip(exc, 500)
    return f"an internal error ({esc(type(exc).__name__)})"


async def _report_failure(update: Update, context: ContextTypes.DEFAULT_TYPE, exc: BaseException,
                          request_id: str | None) -> None:
    text = (f"⚠️ Sorry, that failed: {failure_text(exc)}\n"
            f"Request <code>{esc(request_id)}</code> — an admin can run "
            f"<code>/triage {esc(request_id)}</code> to see what happened.")
    try:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()
            except Exception:  # noqa: BLE001 - already answered or too old; the message below still goes
                pass
        await say(update, context, text)
    except Exception as send_error:  # noqa: BLE001 - nothing left to tell the user with
        log.error("bot.answer_failed", request_id=request_id, error=repr(send_error))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log an error raised outside the guarded handlers (polling, network)."""
    log.error("bot.error", error=repr(context.error), update=str(update)[:200])
