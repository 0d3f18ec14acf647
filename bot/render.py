"""Turning answers into Telegram HTML: escaping, 4096-character messages, HTML documents, plain text.

An answer is a `Report`: a title and parts, each part either a line-safe HTML
string (every line closes the tags it opens) or a `Code` block. A report is
sent as one message when it fits, as a few messages split between lines (a
code block is never cut) when it does not, and as an HTML document with
pygments-highlighted code beyond that.
"""
from __future__ import annotations

import html
import re
from typing import NamedTuple, Union

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.args import clip, clip_tail
from metrics.sanitize import sanitize

MESSAGE_LIMIT = 4096  # Telegram's limit for one message's text
CAPTION_LIMIT = 1024  # ... and for a document's caption
CALLBACK_LIMIT = 64  # bytes of callback data
MAX_PARTS = 3  # beyond this many messages, a document reads better than a flood
TITLE_LIMIT = 120  # characters of a report's title in a caption or a lone message


class Code(NamedTuple):
    """A block of source code: where it comes from, its language and text."""

    title: str
    language: str
    text: str
    first_line: int = 1


Part = Union[str, Code]


class Report(NamedTuple):
    """One answer: a title (document name and caption) and its parts."""

    title: str
    parts: tuple[Part, ...]
    keyboard: InlineKeyboardMarkup | None = None


def note(html_text: str) -> Report:
    """A short answer of one HTML part."""
    return Report("Answer", (html_text,))


def esc(value: object) -> str:
    """Sanitize and escape anything for Telegram's HTML parse mode.

    Every value an answer shows passes here, so no token, password or e-mail
    in a path, suggestion or message reaches a chat (code goes by `code_html`).
    """
    return html.escape(sanitize(str(value)), quote=False)


def esc_clip(value: object, limit: int, *, tail: bool = False) -> str:
    """`esc` of a value cut to `limit` characters, keeping its start (or its end, for paths).
    It is sanitized before the cut, so that no secret is cut into a piece no pattern knows."""
    text = sanitize(str(value))
    return html.escape(clip_tail(text, limit) if tail else clip(text, limit), quote=False)


def code_html(code: Code) -> str:
    """A code block as Telegram HTML; its text is shown as given (masked or not by the caller)."""
    language = re.sub(r"[^\w+-]", "", code.language) or "text"
    return (f"<b>{esc(code.title)}</b>\n<pre><code class=\"language-{language}\">"
            f"{html.escape(code.text.rstrip(), quote=False)}</code></pre>")


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), of the HTML source: an upper bound."""
    return len(text.encode("utf-16-le")) // 2


def _units(report: Report) -> list[str]:
    """Pieces that must not be cut: single text lines and whole code blocks."""
    units: list[str] = []
    for part in report.parts:
        if isinstance(part, Code):
            units.append(code_html(part))
        else:
            units.extend(part.split("\n"))
    return units


def to_messages(report: Report, limit: int = MESSAGE_LIMIT, max_parts: int = MAX_PARTS) -> list[str] | None:
    """The report as at most `max_parts` HTML messages, or None when it needs a document."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for unit in _units(report):
        length = telegram_length(unit) + 1
        if length > limit:
            return None
        if current and size + length > limit:
            chunks.append("\n".join(current))
            current, size = [], 0
        current.append(unit)
        size += length
    if current:
        chunks.append("\n".join(current))
    chunks = [chunk.strip("\n") for chunk in chunks if chunk.strip()]
    if len(chunks) > max_parts:
        return None
    return chunks or [esc_clip(report.title, TITLE_LIMIT)]


def to_document(report: Report) -> bytes:
    """The whole report as a standalone HTML page, code highlighted by pygments."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import TextLexer, get_lexer_by_name
    from pygments.util import ClassNotFound

    formatter = HtmlFormatter(linenos="inline", cssclass="code")
    body: list[str] = []
    for part in report.parts:
        if isinstance(part, Code):
            try:
                lexer = get_lexer_by_name(part.language)
            except ClassNotFound:
                lexer = TextLexer()
            numbered = HtmlFormatter(linenos="inline", linenostart=part.first_line, cssclass="code")
            body.append(f"<h3>{esc(part.title)}</h3>\n{highlight(part.text, lexer, numbered)}")
        else:
            body.append("<p>" + part.replace("\n", "<br>\n") + "</p>")
    page = (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{esc(report.title)}</title>\n<style>\nbody{{font-family:sans-serif;max-width:60em;"
        "margin:1em auto}} pre{{white-space:pre-wrap}}\n"
        f"{formatter.get_style_defs('.code')}\n</style></head>\n<body>\n<h2>{esc(report.title)}</h2>\n"
        + "\n".join(body) + "\n</body></html>\n"
    )
    return page.encode("utf-8")


def caption(report: Report) -> str:
    """A document's caption: the title and the first lines, under the caption limit."""
    lines = [f"<b>{esc_clip(report.title, TITLE_LIMIT)}</b>"]
    size = telegram_length(lines[0])
    for part in report.parts:
        if isinstance(part, Code):
            break
        for line in part.split("\n"):
            if size + telegram_length(line) + 40 > CAPTION_LIMIT:
                lines.append("… (the full report is in the file)")
                return "\n".join(lines)
            lines.append(line)
            size += telegram_length(line) + 1
        if len(lines) > 8:
            lines.append("… (the full report is in the file)")
            break
    return "\n".join(lines)


def document_name(report: Report) -> str:
    """A file name for the report's document."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", report.title).strip("-").lower()[:48] or "report"
    return f"{slug}.html"


def button(label: str, data: str) -> InlineKeyboardButton:
    """An inline button; its callback data must stay under Telegram's 64-byte limit."""
    if len(data.encode("utf-8")) >= CALLBACK_LIMIT:
        raise ValueError(f"callback data {data!r} is {len(data.encode())} bytes; the limit is 63")
    return InlineKeyboardButton(label, callback_data=data)


def silence_buttons(alert_id: int) -> list[InlineKeyboardButton]:
    """The buttons under an alert that silence it for an hour or a day."""
    return [button(f"🔕 #{alert_id} 1h", f"sil:{alert_id}:1h"), button(f"🔕 #{alert_id} 1d", f"sil:{alert_id}:1d")]


_TAG = re.compile(r"<[^>]+>")
_HIDDEN = re.compile(r"<(style|head|script)\b.*?</\1>", re.DOTALL | re.IGNORECASE)


def to_text(markup: str) -> str:
    """Telegram HTML (or one of our HTML documents) as plain text, for the console."""
    text = _HIDDEN.sub("", markup)
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"</(p|h[1-6]|div|tr)>", "\n", text, flags=re.IGNORECASE)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def bar(fraction: float, width: int = 10) -> str:
    """A text progress bar, e.g. ███░░░░░░░ for 0.3."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return "█" * filled + "░" * (width - filled)


def ago(seconds: float) -> str:
    """A compact age: 42s, 5m, 3h, 2d."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
