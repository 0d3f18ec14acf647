"""The Refactor button under a clone shown in full: the change that removes the clone, sent as a
`.patch` document (power users and admins; `bot.catalog.ACTIONS`)."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import NamedTuple

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.render import button, esc, esc_clip
from bot.replies import say
from bot.services import Services, masks_code, services
from engine.discover import language_of
from engine.exceptions import RefactorRefusedError, StaleIndexError
from engine.records import Clone
from metrics.sanitize import mask_code

CAPTION_SHOWN = 900  # characters of the summary in the document's caption (Telegram: 1024)


class Patch(NamedTuple):
    """A clone's refactoring as the chat gets it: the file, its name, the caption; or why not."""

    content: bytes
    filename: str
    caption: str
    refused: str = ""


def refactor_keyboard(svc: Services, update: Update, clone: Clone) -> InlineKeyboardMarkup | None:
    """A Refactor button for a Python clone, shown to users who may press it."""
    user = update.effective_user.id if update.effective_user else None
    if not svc.config.allows(user, "refactor") or \
            not all(language_of(f.path) == "python" for f in clone.fragments):
        return None
    return InlineKeyboardMarkup([[button("Refactor", f"ref:{clone.id}")]])


def make_patch(db: Path, clone_id: str, masked: bool) -> Patch:
    """The refactoring of a clone as a patch (blocking: run it in a worker thread)."""
    from engine.refactor import load, refactoring  # libcst loads when a patch is asked for

    try:
        loaded = load(db, clone_id)
        made = refactoring(loaded.clone, loaded.sources)
    except (RefactorRefusedError, StaleIndexError) as exc:
        return Patch(b"", "", "", str(exc))
    diff = made.diff
    note = ""
    if masked and mask_code(diff) != diff:
        diff, note = mask_code(diff), " (secret-looking literals masked: it will not apply as is)"
    caption = (f"<b>Refactor {esc(clone_id)}</b>: {esc_clip(made.summary, CAPTION_SHOWN)}{note}. "
               "Apply it from the scanned root: <code>git apply</code>")
    return Patch(diff.encode(), f"{clone_id}.patch", caption)


async def on_refactor_button(update: Update, context: ContextTypes.DEFAULT_TYPE, clone_id: str) -> None:
    """The Refactor button: send the clone's refactoring as a .patch, or say why there is none."""
    svc = services(context)
    patch = await asyncio.to_thread(make_patch, svc.db_path, clone_id, masks_code(svc, update))
    if patch.refused:
        await say(update, context, f"No refactoring for {esc(clone_id)}: {esc_clip(patch.refused, 600)}")
        return
    await context.bot.send_document(
        update.effective_chat.id, document=InputFile(patch.content, filename=patch.filename),  # type: ignore[union-attr]
        filename=patch.filename, caption=patch.caption, parse_mode=ParseMode.HTML)
