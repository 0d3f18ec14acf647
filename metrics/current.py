"""The request tracked in this context: one context variable, read by the runtime (to
stamp what it stores) and set by request tracking (`metrics.context`). Kept apart so that
neither of those two imports the other."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from metrics.context import Request

CURRENT: ContextVar[Request | None] = ContextVar("metrics_request", default=None)


def current_request() -> Request | None:
    """The request being tracked in this context, if any."""
    return CURRENT.get()


def current_request_id() -> str | None:
    """The id of the request being tracked in this context, if any."""
    request = CURRENT.get()
    return request.request_id if request is not None else None
