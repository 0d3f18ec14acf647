"""Request tracking: a request id in a contextvar and `track_request`, which times and records each request.

`track_request(operation)` works as a sync or async context manager and as
a decorator. On exit it queues one metric row (status, latency, error type,
code and sanitized message) and lifecycle events, then lets any exception
propagate. Nested requests record the enclosing request id as their parent.
"""

from __future__ import annotations

import errno
import functools
import inspect
from collections.abc import Callable
from contextvars import Token
from types import TracebackType
from typing import Any, TypeVar

from metrics.current import CURRENT, current_request, current_request_id
from metrics.records import EventRow, MetricRow, Status, error_fingerprint, new_request_id
from metrics.runtime import Runtime, get_runtime
from metrics.sanitize import sanitize, sanitize_value


F = TypeVar("F", bound=Callable[..., Any])

MAX_MESSAGE = 1000


class Request:
    """The live handle of a tracked request: its id, and hooks to set status, code and metadata."""

    __slots__ = (
        "request_id", "operation", "parent_id", "user_id", "metadata", "started_at",
        "status", "error_code", "_start_mono",
    )

    def __init__(
        self, request_id: str, operation: str, parent_id: str | None, user_id: str | None,
        metadata: dict[str, Any], started_at: float, start_mono: float,
    ) -> None:
        self.request_id = request_id
        self.operation = operation
        self.parent_id = parent_id
        self.user_id = user_id
        self.metadata = metadata
        self.started_at = started_at
        self.status: Status | None = None
        self.error_code: str | None = None
        self._start_mono = start_mono

    def set_status(self, status: Status | str, error_code: str | None = None) -> None:
        """Override the recorded outcome, e.g. 'rate_limited' for a request answered with a refusal."""
        self.status = Status(status)
        if error_code is not None:
            self.error_code = error_code

    def annotate(self, **metadata: Any) -> None:
        """Add figures to the request's metadata (stored sanitized)."""
        self.metadata.update(metadata)

    def __str__(self) -> str:
        return self.request_id

    def __repr__(self) -> str:
        return f"Request({self.request_id!r}, operation={self.operation!r})"


def error_type_name(exc: BaseException) -> str:
    """Qualified class name of an exception; builtins keep their bare name."""
    cls = type(exc)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def error_code_of(exc: BaseException) -> str | None:
    """A short machine code for an exception: its `code`/`error_code`, or the errno name."""
    for attribute in ("error_code", "code"):
        value = getattr(exc, attribute, None)
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return str(value)
    number = getattr(exc, "errno", None)
    if isinstance(number, int):
        return errno.errorcode.get(number, str(number))
    return None


def status_of(exc: BaseException) -> Status:
    """Map an exception to a request status."""
    if isinstance(exc, SystemExit) and exc.code in (None, 0):
        return Status.SUCCESS
    if isinstance(exc, TimeoutError):
        return Status.TIMEOUT
    name = type(exc).__name__.lower()
    if "ratelimit" in name or "retryafter" in name or "toomanyrequests" in name:
        return Status.RATE_LIMITED
    return Status.ERROR


class track_request:  # noqa: N801 - used like a function: `with track_request("scan") as req:`
    """Track one operation: `with`, `async with`, or `@track_request("op")` on a function."""

    def __init__(
        self,
        operation: str,
        *,
        user_id: str | int | None = None,
        metadata: dict[str, Any] | None = None,
        request_id: str | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        if not operation or not isinstance(operation, str):
            raise ValueError("track_request needs an operation name such as 'scan' or 'bot.status'")
        self.operation = operation
        self.user_id = None if user_id is None else str(user_id)
        self.metadata = metadata
        self.request_id = request_id
        self.runtime = runtime
        self._stack: list[tuple[Request, Token[Request | None], Runtime]] = []

    # -- context manager ----------------------------------------------------

    def __enter__(self) -> Request:
        runtime = self.runtime or get_runtime()
        parent = CURRENT.get()
        request = Request(
            request_id=self.request_id or new_request_id(),
            operation=self.operation,
            parent_id=parent.request_id if parent is not None else None,
            user_id=self.user_id if self.user_id is not None else (parent.user_id if parent else None),
            metadata=dict(self.metadata or {}),
            started_at=runtime.clock.time(),
            start_mono=runtime.clock.monotonic(),
        )
        token = CURRENT.set(request)
        self._stack.append((request, token, runtime))
        runtime.writer.add_event(
            EventRow(
                request.request_id, request.started_at, "info", "request.started", "metrics.track",
                sanitize_value({
                    "operation": request.operation, "parent_id": request.parent_id,
                    "user_id": request.user_id, "metadata": request.metadata,
                }),
            )
        )
        return request

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        request, token, runtime = self._stack.pop()
        try:
            _record(runtime, request, exc)
        finally:
            CURRENT.reset(token)
        return False

    async def __aenter__(self) -> Request:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return self.__exit__(exc_type, exc, tb)

    # -- decorator ----------------------------------------------------------

    def _fresh(self) -> track_request:
        return track_request(
            self.operation, user_id=self.user_id, metadata=self.metadata, runtime=self.runtime
        )

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                async with self._fresh():
                    return await func(*args, **kwargs)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._fresh():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _record(runtime: Runtime, request: Request, exc: BaseException | None) -> None:
    finished = runtime.clock.time()
    latency_ms = max(0.0, (runtime.clock.monotonic() - request._start_mono) * 1000.0)
    error_type = error_code = message = fingerprint = None
    if exc is not None:
        status = request.status or status_of(exc)
        if status is not Status.SUCCESS:
            error_type = error_type_name(exc)
            error_code = request.error_code or error_code_of(exc)
            message = sanitize(str(exc))[:MAX_MESSAGE] or None
    else:
        status = request.status or Status.SUCCESS
        error_code = request.error_code if status is not Status.SUCCESS else None
    if status is not Status.SUCCESS:
        fingerprint = error_fingerprint(request.operation, error_type or str(status), error_code, message)
    metadata = sanitize_value(request.metadata) if request.metadata else None
    runtime.writer.add_metric(
        MetricRow(
            request_id=request.request_id, operation=request.operation, status=status.value,
            started_at=request.started_at, ts=finished, latency_ms=latency_ms,
            parent_id=request.parent_id, error_type=error_type, error_code=error_code,
            error_message=message, fingerprint=fingerprint, user_id=request.user_id, metadata=metadata,
        )
    )
    fields: dict[str, Any] = {"operation": request.operation, "status": str(status), "latency_ms": round(latency_ms, 3)}
    if status is Status.SUCCESS:
        runtime.writer.add_event(EventRow(request.request_id, finished, "info", "request.finished", "metrics.track", fields))
    else:
        fields.update(error_type=error_type, error_code=error_code, message=message)
        runtime.writer.add_event(EventRow(request.request_id, finished, "error", "request.failed", "metrics.track", fields))
