"""Clocks for the metrics package: the system clock and a scripted one for tests.

Every component takes a clock so that alert timing, batching and pruning can
be driven step by step in tests without sleeping.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Protocol

from metrics.exceptions import ConfigError


class Clock(Protocol):
    """Source of wall time (epoch seconds) and monotonic time (seconds)."""

    def time(self) -> float:
        """Return the wall-clock time in seconds since the epoch."""

    def monotonic(self) -> float:
        """Return a monotonic time in seconds, for measuring durations."""


class SystemClock:
    """The real clock: `time.time()` and `time.perf_counter()`."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.perf_counter()


class ManualClock:
    """A clock that moves only when told to; wall and monotonic time advance together."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float | str) -> float:
        """Move the clock forward by a number of seconds or a duration like '5m'."""
        step = parse_duration(seconds)
        with self._lock:
            self._now += step
            return self._now


SYSTEM_CLOCK = SystemClock()

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$", re.IGNORECASE)


def parse_duration(value: float | int | str) -> float:
    """Turn '90s', '15m', '1h', '7d', '2w' or a number of seconds into seconds."""
    if isinstance(value, bool):
        raise ConfigError(f"duration must be a number of seconds or like '15m', not {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConfigError(
                f"invalid duration {value!r}: use a number with a unit, e.g. 30s, 15m, 1h, 7d"
            )
        seconds = float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    if seconds < 0:
        raise ConfigError(f"duration must not be negative, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """Render seconds compactly, e.g. 3600 -> '1h', 90 -> '90s'."""
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
