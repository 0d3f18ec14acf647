"""Small typed records that flow between the tracker, the batch writer and the store."""

from __future__ import annotations

import hashlib
import re
import secrets
from enum import StrEnum
from typing import Any, NamedTuple

REQUEST_ID = re.compile(r"^req-[0-9a-f]{12}$")


class Status(StrEnum):
    """Outcome of one tracked request."""

    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"


class MetricRow(NamedTuple):
    """One finished request: what ran, how it ended and how long it took."""

    request_id: str
    operation: str
    status: str  # a Status value, kept as a plain str: binding enum members to SQLite is slow
    started_at: float
    ts: float
    latency_ms: float
    parent_id: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    fingerprint: str | None = None
    user_id: str | None = None
    metadata: dict[str, Any] | None = None


class EventRow(NamedTuple):
    """One structured log event, already sanitized, tied to a request id when there is one."""

    request_id: str | None
    ts: float
    level: str
    event: str
    logger: str | None
    fields: dict[str, Any]


class ScanRow(NamedTuple):
    """The figures of one engine scan, read by the duplication and new-clone alert rules."""

    request_id: str | None
    ts: float
    root: str
    branch: str | None
    files: int
    duplication_pct: float
    new_clones: int
    duration_s: float
    status: Status = Status.SUCCESS


def new_request_id() -> str:
    """Return a fresh request id: 'req-' and 12 hex digits."""
    return "req-" + secrets.token_hex(6)


def is_request_id(text: str) -> bool:
    """Tell whether `text` has the shape of a request id."""
    return bool(REQUEST_ID.match(text))


# Variable parts of error messages (numbers, hex ids, quoted names, paths) are
# masked so the same failure on different inputs groups under one fingerprint.
_VARIABLE = re.compile(
    r"req-[0-9a-f]{12}|0x[0-9a-f]+|\b[0-9a-f]{8,}\b|'[^']*'|\"[^\"]*\"|(?:/[\w.-]+)+|\d+(?:\.\d+)?",
    re.IGNORECASE,
)


def error_fingerprint(operation: str, error_type: str | None, error_code: str | None, message: str | None) -> str:
    """Group errors like Sentry: same operation, type, code and message shape give the same id."""
    shape = _VARIABLE.sub("?", message or "")[:200]
    raw = "\x1f".join((operation, error_type or "", error_code or "", shape))
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]
