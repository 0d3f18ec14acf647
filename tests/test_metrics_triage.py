"""Tests of metrics.triage: investigating a request id end to end on a real store."""

from __future__ import annotations

import io

import pytest
import structlog

import metrics
from metrics.clock import ManualClock
from metrics.logging import configure_logging
from metrics.testing import configured


@pytest.fixture
def runtime(tmp_path, clock):
    with configured(tmp_path / "index.db", clock) as rt:
        configure_logging(rt, level="debug", stream=io.StringIO())
        yield rt
    structlog.reset_defaults()


def failing_scan(clock: ManualClock, path: str) -> str:
    """Run a scan that walks some files and fails on a missing one, the way the engine would."""
    log = structlog.get_logger("engine.scan")
    try:
        with metrics.track_request("scan", user_id="ci", metadata={"root": "/repo"}) as request:
            log.info("scan.discover", files=3)
            clock.advance(0.2)
            with metrics.track_request("parse"):
                log.info("parse.file", path="/repo/a.py")
                clock.advance(0.1)
                log.warning("parse.open", path=path)
                raise FileNotFoundError(2, "No such file or directory", path)
    except FileNotFoundError:
        pass
    return request.request_id


def test_failed_scan_triage_names_the_cause(runtime, clock):
    """A request that failed inside a scan is found, its timeline is in order and the cause is named."""
    request_id = failing_scan(clock, "/repo/gone.py")
    report = metrics.investigate(request_id)
    data = report.model_dump()
    assert list(data) == ["request_id", "found", "metrics", "timeline", "root_cause", "related", "alerts", "suggestions"]
    assert report.found
    assert {m["operation"] for m in report.metrics} == {"scan", "parse"}
    events = [entry.event for entry in report.timeline]
    assert events == [
        "request.started", "scan.discover", "request.started", "parse.file", "parse.open",
        "request.failed", "request.failed",
    ]
    assert [e.ts for e in report.timeline] == sorted(e.ts for e in report.timeline)
    cause = report.root_cause
    assert cause is not None and cause.operation == "parse"
    assert cause.error_type == "FileNotFoundError" and cause.error_code == "ENOENT"
    assert "does not exist" in cause.likely_cause
    assert any("/repo/gone.py" in line for line in cause.evidence)
    assert report.suggestions


def test_unknown_request_id_is_not_found(runtime):
    """An id with nothing stored gives found=False, an empty report and advice."""
    report = metrics.investigate("req-000000000000")
    assert not report.found and report.timeline == [] and report.root_cause is None
    assert "req-000000000000" in report.suggestions[0]


def test_related_requests_share_the_error_user_or_operation(runtime, clock):
    """An earlier failure with the same fingerprint and the same user's nearby request are listed with reasons."""
    failing_scan(clock, "/repo/one.py")
    clock.advance("2h")
    with metrics.track_request("bot.status", user_id="ci") as nearby:
        pass
    second = failing_scan(clock, "/repo/two.py")
    report = metrics.investigate(second)
    by_reason = {(item.operation, tuple(item.reasons)) for item in report.related}
    assert ("parse", ("same_error",)) in by_reason
    assert any(item.request_id == nearby.request_id and item.reasons == ["same_user"] for item in report.related)
    assert report.root_cause.occurrences == 2
    assert report.root_cause.first_seen < report.root_cause.last_seen


def test_open_alerts_covering_the_operation_are_included(runtime, clock):
    """A firing scan_failures alert shows up in the triage of a failed scan, with its actions."""
    request_id = failing_scan(clock, "/repo/gone.py")
    metrics.evaluate_alerts()
    report = metrics.investigate(request_id)
    assert [a.rule for a in report.alerts] == ["scan_failures"]
    assert any("scanned path exists" in s for s in report.suggestions)


def test_successful_request_triage(runtime, clock):
    """A successful request is found with no root cause and a suggestion saying it succeeded."""
    with metrics.track_request("bot.status") as request:
        pass
    report = metrics.investigate(request.request_id)
    assert report.found and report.root_cause is None
    assert "succeeded" in report.suggestions[0]
