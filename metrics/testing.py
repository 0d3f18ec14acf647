"""Helpers for tests of code that uses metrics: a configured scratch store and a recording notifier."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from metrics.clock import ManualClock
from metrics.models import Alert
from metrics.runtime import Runtime, configure, shutdown


class RecordingNotifier:
    """A notifier that keeps every (alert, event) it is given, in order."""

    def __init__(self) -> None:
        self.sent: list[tuple[Alert, str]] = []

    def notify(self, alert: Alert, event: str) -> None:
        self.sent.append((alert, event))

    @property
    def events(self) -> list[str]:
        """The events received, e.g. ['firing', 'repeat', 'resolved']."""
        return [event for _, event in self.sent]


@contextmanager
def configured(db_path: str | Path, clock: ManualClock | None = None, **options: Any) -> Iterator[Runtime]:
    """Configure the global runtime on a scratch store with a scripted clock; shut it down afterwards."""
    options.setdefault("background", False)
    options.setdefault("notifiers", [])
    runtime = configure(db_path, clock=clock or ManualClock(), **options)
    try:
        yield runtime
    finally:
        shutdown()
