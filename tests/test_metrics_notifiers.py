"""Tests of metrics.notifiers: the built-in log notifier and the plain-text alert format."""

from __future__ import annotations

import structlog

from metrics.models import Alert
from metrics.notifiers import LogNotifier, format_alert


def make_alert(**changes) -> Alert:
    data = dict(
        id=3, rule="error_rate", key="scan", state="firing", severity="critical",
        title="[CRITICAL] High error rate: scan", description="25.0% of 'scan' requests failed.",
        operations=["scan"], snapshot={"count": 40}, suggestions=["Open the top errors."],
        runbook="https://example.org/runbooks/error-rate", value=0.25, threshold=0.2,
        started_at=1.0, fired_at=2.0, last_notified_at=2.0, resolved_at=None, updated_at=2.0, notifications=1,
    )
    data.update(changes)
    return Alert(**data)


def test_log_notifier_logs_a_structured_event():
    """A firing critical alert is logged at error level with its rule, key and id."""
    with structlog.testing.capture_logs() as logs:
        LogNotifier().notify(make_alert(), "firing")
    assert logs[0]["event"] == "alert.firing" and logs[0]["log_level"] == "error"
    assert (logs[0]["rule"], logs[0]["key"], logs[0]["alert_id"]) == ("error_rate", "scan", 3)


def test_format_alert_includes_actions_runbook_and_silence_hint():
    """The text form lists actions and the runbook for a firing alert and omits actions when resolved."""
    text = format_alert(make_alert(), "firing")
    assert text.startswith("FIRING: [CRITICAL] High error rate: scan")
    assert "- Open the top errors." in text and "Runbook: https://example.org" in text
    assert "python -m metrics silence 3 1h" in text
    assert "Suggested actions" not in format_alert(make_alert(state="resolved"), "resolved")
