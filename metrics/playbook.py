"""The playbook: suggested actions per alert rule, and likely causes of common errors for triage."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

# metrics' own actions per rule; the engine and the bot add theirs (their commands and
# flags are theirs to name) with `register_actions`.
ALERT_ACTIONS: dict[str, tuple[str, ...]] = {
    "error_rate": (
        "Open the top errors of the operation: `python -m metrics errors --window 15m`.",
        "Triage the most recent failed request id: `python -m metrics triage <request_id>`.",
        "Check whether a recent deploy or configuration change lines up with the first error.",
        "If one input keeps failing, exclude it and file a bug.",
    ),
    "p95_latency": (
        "Compare p50 and p95 with `python -m metrics latency`; a high p95 with a normal p50 means a few slow inputs.",
        "Check CPU and disk contention on the host.",
    ),
    "scan_failures": (
        "Triage the failed scan's request id (printed on stderr) with `python -m metrics triage <request_id>`.",
        "Check that the scanned path exists and is readable by the CI user.",
        "Check that the index database is not locked by another scan or damaged.",
        "Run the scan locally with the same arguments to reproduce.",
    ),
    "duplication_rising": (
        "Compare the last scans' figures: `python -m metrics status`.",
        "If the copies are intended (generated code, fixtures), exclude them or accept them into the baseline.",
    ),
    "new_clones": (
        "Refactor the new clones while the change is fresh, or accept them into the baseline with a reason.",
        "Check which commits on the main branch the scan followed.",
    ),
}
_REGISTERED: dict[str, list[str]] = {}

DEFAULT_ACTIONS = (
    "Look at the alert's metrics snapshot and the recent errors: `python -m metrics status`.",
)


def register_actions(actions: dict[str, Sequence[str]]) -> None:
    """Add a component's suggested actions for these rules (once each, whoever calls)."""
    for rule, lines in actions.items():
        known = _REGISTERED.setdefault(rule, [])
        known.extend(line for line in lines if line not in known)


def alert_actions(rule: str) -> list[str]:
    """Suggested actions for an alert of the given rule."""
    return [*ALERT_ACTIONS.get(rule, DEFAULT_ACTIONS), *_REGISTERED.get(rule, ())]


class ErrorHint(NamedTuple):
    """A known failure: how to recognise it and what to do about it."""

    types: tuple[str, ...]
    message: re.Pattern[str] | None
    codes: tuple[str, ...]
    cause: str
    actions: tuple[str, ...]


_HINTS: tuple[ErrorHint, ...] = (
    ErrorHint(
        ("StoreLockedError",), re.compile(r"database is locked|locked by another", re.I), ("SQLITE_BUSY",),
        "Another process held the SQLite index locked for longer than the busy timeout.",
        ("Check for a concurrent scan or a stuck process holding the index open.",
         "Retry the command; raise the busy timeout if scans legitimately overlap."),
    ),
    ErrorHint(
        ("StoreCorruptError", "DatabaseError"), re.compile(r"malformed|not a database", re.I), (),
        "The SQLite index file is damaged or is not a database.",
        ("Move the index file aside; the next scan rebuilds it.",
         "Check the disk for errors and that nothing else writes to the file."),
    ),
    ErrorHint(
        ("FileNotFoundError", "NotADirectoryError"), None, ("ENOENT", "ENOTDIR"),
        "A path given to the operation does not exist (a typo, a deleted folder or a wrong working directory).",
        ("Check the path argument and the working directory of the job.",
         "If the path is relative, run from the repository root or pass an absolute path."),
    ),
    ErrorHint(
        ("PermissionError",), None, ("EACCES", "EPERM"),
        "The process may not read a file or folder, or may not write the index.",
        ("Check the file permissions and the user the job runs as.",
         "Exclude unreadable folders, or point the index at a writable location."),
    ),
    ErrorHint(
        ("UnicodeDecodeError", "UnicodeError"), None, (),
        "A file is not valid text in the expected encoding.",
        ("Find the file named in the events before the error and exclude it if it is binary or generated.",),
    ),
    ErrorHint(
        ("SyntaxError", "IndentationError", "TabError"), None, (),
        "A source file does not parse; the engine should fall back to token-level detection.",
        ("Check the file named in the error; if it is valid for a newer Python, file a bug with it.",),
    ),
    ErrorHint(
        ("MemoryError",), None, (),
        "The operation ran out of memory, usually on a very large file or tree.",
        ("Exclude generated or vendored folders, use fewer worker processes, or raise the job's memory limit.",),
    ),
    ErrorHint(
        ("TimeoutError", "CancelledError"), re.compile(r"timed? ?out", re.I), ("ETIMEDOUT",),
        "The operation did not finish in time (slow input, contention or a hung dependency).",
        ("Check the latency of the operation with `python -m metrics latency` and the events before the timeout.",
         "Retry; if it recurs on the same input, exclude that input and file a bug."),
    ),
    ErrorHint(
        ("RetryAfter", "RateLimited", "RateLimitError", "TooManyRequests"), re.compile(r"rate.?limit|too many requests|retry after", re.I), ("429",),
        "An external API (Telegram) rate-limited the requests.",
        ("Slow down: rely on the bot's rate limiter and avoid bursts of messages.",
         "Send long reports as one document instead of many messages."),
    ),
    ErrorHint(
        ("ConnectionError", "ConnectionRefusedError", "NetworkError", "ConnectError", "TimedOut"), None,
        ("ECONNREFUSED", "ECONNRESET"),
        "A network call failed (the remote service is down or unreachable).",
        ("Check network access from the host and the remote service's status; the request can be retried.",),
    ),
    ErrorHint(
        ("ValidationError", "ConfigError"), None, (),
        "The input or configuration is invalid.",
        ("Read the error message: it names the setting or argument to fix.",),
    ),
)


def _short(type_name: str | None) -> str:
    return (type_name or "").rsplit(".", 1)[-1]


def explain_error(
    error_type: str | None, error_code: str | None, message: str | None, evidence: Sequence[str] = ()
) -> tuple[str, list[str]]:
    """Likely cause and suggested actions for an error, from its type, code, message and prior events."""
    short = _short(error_type)
    text = " ".join([message or "", *evidence])
    for hint in _HINTS:
        if short in hint.types or (error_code and error_code in hint.codes) or (
            hint.message is not None and hint.message.search(text)
        ):
            return hint.cause, list(hint.actions)
    named = short or "an unknown error"
    cause = f"{named} raised inside the operation"
    if message:
        cause += f": {message}"
    return cause, [
        "Read the timeline: the events just before the error show what the operation was doing.",
        "Reproduce with the same input and file a bug with the request id if it is not an input problem.",
    ]
