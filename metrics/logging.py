"""structlog processors that stamp the request id and store every event, and the one-call setup.

Call `configure_logging(runtime)` once, in an entry point (the engine's and
the bot's `main`, `python -m metrics`); library code only calls
`structlog.get_logger()`.
"""

from __future__ import annotations

import logging as stdlib_logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger

from metrics.context import current_request_id
from metrics.records import EventRow
from metrics.runtime import Runtime, configure, get_runtime
from metrics.sanitize import sanitize_value
from metrics.store import Store

_RESERVED = frozenset({"event", "level", "request_id", "timestamp", "logger", "logger_name"})


def add_request_id(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Stamp the current request id on the event unless it already carries one."""
    if "request_id" not in event_dict:
        request_id = current_request_id()
        if request_id is not None:
            event_dict["request_id"] = request_id
    return event_dict


def sanitize_event(logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
    """Redact secrets from every value of the event before it is stored or printed."""
    return sanitize_value(event_dict)  # type: ignore[no-any-return]


class StoreEvents:
    """Queue each event (level, event, fields, time) into the metrics store; pass it on unchanged."""

    def __init__(self, runtime: Runtime | None = None) -> None:
        self._runtime = runtime

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        runtime = self._runtime or get_runtime()
        fields = {k: v for k, v in event_dict.items() if k not in _RESERVED}
        runtime.writer.add_event(
            EventRow(
                request_id=event_dict.get("request_id"),
                ts=runtime.clock.time(),
                level=str(event_dict.get("level", method_name)),
                event=str(event_dict.get("event", "")),
                logger=event_dict.get("logger"),
                fields=fields,
            )
        )
        return event_dict


def processors(runtime: Runtime | None = None, *, renderer: str = "console") -> list[Any]:
    """The processor chain used by `configure_logging`, exposed for apps that build their own."""
    final: Any = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if renderer == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        add_request_id,
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        sanitize_event,
        StoreEvents(runtime),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        final,
    ]


def configure_logging(
    target: Runtime | Store | None = None,
    *,
    level: str | int = "info",
    renderer: str = "console",
    stream: TextIO | None = None,
) -> Runtime:
    """Configure structlog once: request ids stamped, events sanitized and stored, output on stderr."""
    if isinstance(target, Store):
        current = get_runtime()
        runtime = current if current.store is target else configure(target)
    else:
        runtime = target or get_runtime()
    # Events follow the global runtime (and so survive a later configure()) unless a private one was given.
    bound = None if runtime is get_runtime() else runtime
    if isinstance(level, str):
        numeric = stdlib_logging.getLevelName(level.upper())
        if not isinstance(numeric, int):
            raise ValueError(f"unknown log level {level!r}; use debug, info, warning or error")
        level = numeric
    structlog.configure(
        processors=processors(bound, renderer=renderer),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
    return runtime
