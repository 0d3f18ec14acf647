"""/scan: a scan under the configured root in the background, a progress message, then the summary."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import structlog
from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

import metrics
from bot.args import quoted
from bot.catalog import usage
from bot.exceptions import UsageError
from bot.guard import failure_text
from bot.replies import say, unchanged
from bot.render import esc
from bot.services import services
from bot.views import scan_done, scan_failed, scan_progress, scan_summary
from engine.records import ScanResult

log = structlog.get_logger("bot")

MAX_SCAN_ARG = 1024  # characters of a /scan path; no real path under the root is longer
PROGRESS_EVERY_S = 1.0


def resolve_scan_path(root: Path, args: list[str]) -> Path:
    """The folder or file to scan: under the configured scan root, and existing."""
    if len(args) > 1:
        raise UsageError(f"usage: {usage('scan')}")
    if not args:
        return root
    typed = args[0]
    if len(typed) > MAX_SCAN_ARG or "\0" in typed:
        raise UsageError(f"{quoted(typed)} is not a path the scan root can hold. usage: {usage('scan')}")
    try:
        target = (root / typed).resolve()
        inside = target.is_relative_to(root)
        exists = inside and target.exists()
    except (OSError, RuntimeError) as exc:  # too long a name, a symlink loop, no permission
        raise UsageError(f"{quoted(typed)} cannot be read ({type(exc).__name__}). usage: {usage('scan')}") from exc
    if not inside:
        raise UsageError(f"{quoted(typed)} is outside the scan root; give a path inside it")
    if not exists:
        raise UsageError(f"{quoted(typed)} does not exist under the scan root. usage: {usage('scan')}")
    return target


async def scan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start a scan in the background; a progress message is edited and the summary posted."""
    svc = services(context)
    if svc.scan_task is not None and not svc.scan_task.done():
        await say(update, context, f"A scan is already running (request <code>{esc(svc.scan_request_id)}</code>); "
                                   "its summary will be posted here.")
        return
    target = resolve_scan_path(svc.scan_root, list(context.args or []))
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    sent = await context.bot.send_message(chat_id, scan_progress(target, 0, 0), parse_mode=ParseMode.HTML)
    svc.scan_task = asyncio.get_running_loop().create_task(
        run_scan(context, ProgressMessage(context.bot, chat_id, sent.message_id), target))
    svc.background.add(svc.scan_task)
    svc.scan_task.add_done_callback(svc.background.discard)


@dataclass(frozen=True)
class ProgressMessage:
    """The message a running scan edits, in the chat that asked for it."""

    bot: Bot
    chat_id: int
    message_id: int

    async def edit(self, text: str) -> None:
        """Replace the message's text (the same text again is not an error)."""
        try:
            await self.bot.edit_message_text(text, chat_id=self.chat_id, message_id=self.message_id,
                                             parse_mode=ParseMode.HTML)
        except BadRequest as exc:
            if not unchanged(exc):
                raise


class FileCount:
    """The engine's progress callback: files read so far, of how many (written from the scan's thread)."""

    def __init__(self) -> None:
        self.done = 0
        self.total = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase == "reading":
            self.done, self.total = done, total


def _scan_blocking(target: Path, db_path: Path, progress: FileCount, request_id: str) -> ScanResult:
    from engine.config import load_settings
    from engine.scan import scan as engine_scan

    root = target if target.is_dir() else target.parent
    settings = load_settings(root, {})
    return engine_scan([target], settings, db_path, progress=progress, request_id=request_id)


async def run_scan(context: ContextTypes.DEFAULT_TYPE, message: ProgressMessage, target: Path) -> None:
    """Run the engine under a tracked request, edit the progress message, then post the summary;
    a failure is posted with its request id."""
    svc = services(context)
    request_id = None
    try:
        async with metrics.track_request("scan", metadata={"root": str(target), "via": "bot"}) as request:
            request_id = svc.scan_request_id = request.request_id
            result = await scan_with_progress(target, svc.db_path, request.request_id, message)
            from engine.tracking import record_scan  # the engine CLI reports its scans the same way

            await asyncio.to_thread(record_scan, result)
        await message.edit(scan_done(target, result.stats.duration_s))
        await context.bot.send_message(message.chat_id, scan_summary(result, request_id), parse_mode=ParseMode.HTML)
    except Exception as exc:  # noqa: BLE001 - reported in the chat with the request id
        log.error("bot.scan_failed", request_id=request_id, error=repr(exc))
        try:
            await message.edit(scan_failed(failure_text(exc), request_id))
        except Exception as send_error:  # noqa: BLE001
            log.error("bot.answer_failed", request_id=request_id, error=repr(send_error))


async def scan_with_progress(target: Path, db_path: Path, request_id: str, message: ProgressMessage) -> ScanResult:
    """The engine's scan in a worker thread; the message shows the files read about once a second."""
    count = FileCount()
    work = asyncio.ensure_future(asyncio.to_thread(_scan_blocking, target, db_path, count, request_id))
    shown = (0, 0)
    while not work.done():
        await asyncio.wait({work}, timeout=PROGRESS_EVERY_S)
        now = (count.done, count.total)
        if not work.done() and now != shown and now[1]:
            shown = now
            await message.edit(scan_progress(target, *now))
    return work.result()
