"""Sending answers: a `Report` as an edit of the pressed message, one to three messages, or an HTML document."""
from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.render import Report, caption, document_name, note, to_document, to_messages


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, report: Report, *, edit: bool = False) -> None:
    """Send a report: edit the pressed message, or one to three messages, or an HTML document."""
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    messages = to_messages(report)
    if messages is None:
        await context.bot.send_document(
            chat_id, document=to_document(report), filename=document_name(report),
            caption=caption(report), parse_mode=ParseMode.HTML, reply_markup=report.keyboard)
        return
    query = update.callback_query
    if edit and query is not None and query.message is not None and len(messages) == 1:
        try:
            await query.edit_message_text(messages[0], parse_mode=ParseMode.HTML, reply_markup=report.keyboard)
        except BadRequest as exc:
            if not unchanged(exc):
                raise
        return
    for number, text in enumerate(messages, 1):
        await context.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML,
            reply_markup=report.keyboard if number == len(messages) else None)


async def say(update: Update, context: ContextTypes.DEFAULT_TYPE, html: str) -> None:
    """Send a short HTML answer to the chat of the update (through `send`, so within Telegram's limits)."""
    await send(update, context, note(html))


def unchanged(exc: BadRequest) -> bool:
    """Whether Telegram refused an edit only because the text is what it was (a page pressed twice)."""
    return "not modified" in str(exc).lower()
