"""Reading command arguments typed in a chat: bounded numbers and durations, and safe echoes.

Everything typed is hostile until read: `str.isdigit()` accepts '³' and '①'
(which `int()` refuses), `\\d` accepts other scripts' digits, and Python
integers have no size, so a number goes on to overflow SQLite or a date.
These functions accept ASCII digits within stated bounds and nothing else;
the caller turns None into its usage reply.
"""
from __future__ import annotations

import re

from metrics.clock import format_duration, parse_duration

_INTEGER = re.compile(r"[0-9]{1,18}")  # ASCII digits; 18 of them always fit SQLite's 64 bits
_DURATION = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,3})?(?:ms|s|m|h|d|w)?", re.IGNORECASE)

MAX_ID = 2**63 - 1  # SQLite's largest integer
MAX_DURATION_S = 365 * 86400.0
ECHO_LIMIT = 60  # characters of a typed argument quoted back in an answer


def parse_int(text: str, low: int, high: int) -> int | None:
    """`text` as an integer within [low, high], ASCII digits only; None otherwise."""
    if not _INTEGER.fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_span(text: str, low: float, high: float = MAX_DURATION_S) -> float | None:
    """A duration like 90s, 15m, 2h or 7d in seconds within [low, high]; None otherwise."""
    if not _DURATION.fullmatch(text):
        return None
    seconds = parse_duration(text)
    return seconds if low <= seconds <= high else None


def span_bounds(low: float, high: float = MAX_DURATION_S) -> str:
    """The accepted range of a duration, as a usage reply states it."""
    return f"{format_duration(low)} to {format_duration(high)}"


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def clip_tail(text: str, limit: int) -> str:
    """`text` cut to its last `limit` characters (the end of a path says most)."""
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def quoted(arg: str, limit: int = ECHO_LIMIT) -> str:
    """A typed argument as an answer quotes it: control characters shown as escapes, capped."""
    return repr(clip(arg, limit))
