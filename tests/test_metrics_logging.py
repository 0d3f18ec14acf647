"""Tests of metrics.logging: structlog events stamped with the request id, sanitized and stored."""

from __future__ import annotations

import io
import json

import pytest
import structlog

import metrics
from metrics.clock import ManualClock
from metrics.logging import configure_logging
from metrics.testing import configured


@pytest.fixture
def runtime(tmp_path):
    with configured(tmp_path / "index.db", ManualClock()) as rt:
        yield rt
    structlog.reset_defaults()


def test_events_carry_the_request_id_and_are_read_back_in_order(runtime):
    """Log calls inside a tracked request are stored under its id, between its start and end events."""
    configure_logging(runtime, stream=io.StringIO())
    log = structlog.get_logger("engine")
    with metrics.track_request("scan") as request:
        log.info("scan.discover", files=3)
        log.warning("scan.skip", path="big.min.js", reason="too large")
    log.info("outside")
    stored = metrics.events(request.request_id)
    assert [e.event for e in stored] == ["request.started", "scan.discover", "scan.skip", "request.finished"]
    assert stored[1].fields == {"files": 3} and stored[2].level == "warning"


def test_events_are_sanitized_before_storage_and_output(runtime):
    """Secrets in event text and fields never reach the store or the rendered log line."""
    out = io.StringIO()
    configure_logging(runtime, renderer="json", stream=out)
    with metrics.track_request("bot.command") as request:
        structlog.get_logger().info(
            "bot.start", token="123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
            note="mail admin@example.com, password=hunter2",
        )
    (event,) = [e for e in metrics.events(request.request_id) if e.event == "bot.start"]
    stored = json.dumps(event.fields)
    for secret in ("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0", "admin@example.com", "hunter2"):
        assert secret not in stored and secret not in out.getvalue()
    line = json.loads(out.getvalue().splitlines()[0])
    assert line["request_id"] == request.request_id and line["token"] == "[REDACTED]"


def test_level_filter_applies_to_storage_too(runtime):
    """Events below the configured level are neither printed nor stored."""
    configure_logging(runtime, level="warning", stream=io.StringIO())
    with metrics.track_request("scan") as request:
        structlog.get_logger().info("chatty")
        structlog.get_logger().error("bad")
    assert [e.event for e in metrics.events(request.request_id) if e.logger != "metrics.track"] == ["bad"]


def test_capture_logs_still_works_for_library_code(runtime):
    """structlog's capture_logs sees the request id-free raw events of library code."""
    with structlog.testing.capture_logs() as logs:
        structlog.get_logger().info("hello", x=1)
    assert logs == [{"event": "hello", "x": 1, "log_level": "info"}]


def test_unknown_level_is_refused(runtime):
    """A misspelt level raises at once naming the accepted ones."""
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging(runtime, level="loud")


def test_configure_logging_accepts_the_store(runtime):
    """Passing the configured Store (as entry points may) stores events through the same runtime."""
    configure_logging(runtime.store, stream=io.StringIO())
    with metrics.track_request("check") as request:
        structlog.get_logger().info("check.file", path="a.py")
    assert "check.file" in [e.event for e in metrics.events(request.request_id)]
