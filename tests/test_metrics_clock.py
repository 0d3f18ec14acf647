"""Tests of metrics.clock: durations and the scripted clock."""

from __future__ import annotations

import pytest

from metrics.clock import ManualClock, format_duration, parse_duration
from metrics.exceptions import ConfigError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90.0), (90, 90.0), ("250ms", 0.25), ("15m", 900.0), ("1h", 3600.0), ("7d", 604800.0), ("2W", 1209600.0)],
)
def test_parse_duration_units(text, seconds):
    """Numbers are seconds and each unit suffix scales correctly."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "1y", "-5m", "", True])
def test_parse_duration_rejects_bad_input_with_a_hint(text):
    """Unknown units, negatives and non-durations raise ConfigError saying what is expected."""
    with pytest.raises(ConfigError, match="duration"):
        parse_duration(text)


def test_manual_clock_moves_only_when_told():
    """The scripted clock advances wall and monotonic time together and only on advance()."""
    clock = ManualClock(start=1000.0)
    assert clock.time() == clock.monotonic() == 1000.0
    clock.advance("5m")
    assert clock.time() == 1300.0 and clock.monotonic() == 1300.0


def test_format_duration_round_trips_common_windows():
    """Whole units render compactly and parse back to the same seconds."""
    for seconds in (30.0, 900.0, 3600.0, 86400.0):
        assert parse_duration(format_duration(seconds)) == seconds
