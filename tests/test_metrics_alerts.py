"""Tests of metrics.alerts: rule evaluation and the Alertmanager-style lifecycle, on a scripted clock."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

import metrics
from metrics.alerts import DEFAULT_RULES, AlertManager, Observation, Rule, severity_of, step
from metrics.clock import ManualClock
from metrics.exceptions import AlertError
from metrics.settings import MetricsSettings, RuleOverride
from metrics.testing import RecordingNotifier, configured


class Boom(RuntimeError):
    """A failure raised inside tracked code."""


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def runtime(tmp_path, clock, notifier):
    with configured(tmp_path / "index.db", clock, notifiers=[notifier]) as rt:
        yield rt


def traffic(clock: ManualClock, total: int = 20, errors: int = 5, operation: str = "bot.status") -> None:
    """Run `total` tracked requests of which `errors` fail."""
    for index in range(total):
        try:
            with metrics.track_request(operation, user_id=42):
                clock.advance(0.01)
                if index < errors:
                    raise Boom("backend exploded")
        except Boom:
            pass


def step_and_evaluate(clock: ManualClock, seconds: float, errors: int = 5) -> list[str]:
    """Advance the clock, add a slice of traffic and evaluate the rules."""
    clock.advance(seconds)
    traffic(clock, errors=errors)
    return [n.event for n in metrics.evaluate_alerts()]


def open_error_rate_rows(runtime) -> list[sqlite3.Row]:
    return runtime.store.query("SELECT * FROM metric_alerts WHERE rule = 'error_rate'")


def test_error_rate_fires_only_after_for_duration(runtime, clock, notifier):
    """25% errors opens a pending alert that fires as critical once it has held for the rule's 5 minutes."""
    traffic(clock)
    assert [n.event for n in metrics.evaluate_alerts()] == []
    assert [a.state for a in metrics.open_alerts()] == ["pending"]
    assert step_and_evaluate(clock, 240) == []
    assert step_and_evaluate(clock, 60) == ["firing"]
    alert, event = notifier.sent[0]
    assert (alert.rule, alert.key, alert.severity, alert.state) == ("error_rate", "bot.status", "critical", "firing")
    assert alert.value == pytest.approx(0.25)
    assert alert.suggestions and alert.snapshot["count"] == 60


def test_same_condition_keeps_one_alert_and_repeats_after_interval(runtime, clock, notifier):
    """While the condition holds no second alert opens, and the repeat interval re-notifies once."""
    traffic(clock)
    metrics.evaluate_alerts()
    assert step_and_evaluate(clock, 300) == ["firing"]
    sent = []
    for _ in range(11):  # 55 minutes later: still inside the 1h repeat interval
        sent += step_and_evaluate(clock, 300)
    assert sent == []
    assert len(open_error_rate_rows(runtime)) == 1
    assert step_and_evaluate(clock, 300) == ["repeat"]
    assert len(open_error_rate_rows(runtime)) == 1
    assert notifier.events == ["firing", "repeat"]


def test_clearing_condition_resolves_and_sends_resolved_notice(runtime, clock, notifier):
    """When the errors stop for a whole window the alert resolves and a resolved notice goes out."""
    traffic(clock)
    metrics.evaluate_alerts()
    step_and_evaluate(clock, 300)
    events = []
    for _ in range(4):  # 20 clean minutes push the errors out of the 15-minute window
        events += step_and_evaluate(clock, 300, errors=0)
    assert events == ["resolved"]
    assert metrics.open_alerts() == []
    (row,) = open_error_rate_rows(runtime)
    assert row["state"] == "resolved" and row["resolved_at"] is not None
    assert notifier.events == ["firing", "resolved"]


def test_condition_clearing_while_pending_never_notifies(tmp_path, clock, notifier):
    """A condition that clears before the `for` duration leaves no notification and no open alert."""
    settings = MetricsSettings(alerts={"error_rate": RuleOverride(window="60s")})
    with configured(tmp_path / "index.db", clock, notifiers=[notifier], settings=settings):
        traffic(clock)
        metrics.evaluate_alerts()
        assert [a.state for a in metrics.open_alerts()] == ["pending"]
        assert step_and_evaluate(clock, 120, errors=0) == []
        assert metrics.open_alerts() == []
        assert step_and_evaluate(clock, 300, errors=0) == []
    assert notifier.sent == []


def test_silence_suppresses_until_it_expires(runtime, clock, notifier):
    """A silenced rule fires without notifying; after the silence expires the notification goes out."""
    silence = metrics.silence("error_rate", "30m", reason="deploy in progress, token=abc123")
    assert "abc123" not in (silence.reason or "")
    traffic(clock)
    metrics.evaluate_alerts()
    assert step_and_evaluate(clock, 300) == []
    assert [a.state for a in metrics.open_alerts()] == ["firing"]
    assert step_and_evaluate(clock, 900) == []
    assert step_and_evaluate(clock, 600) == ["firing"]  # 30m after the silence began
    assert notifier.events == ["firing"]


def test_silence_by_alert_id_and_unknown_targets(runtime, clock):
    """An alert id silences its rule and key; an unknown id or rule is an AlertError naming what exists."""
    traffic(clock)
    metrics.evaluate_alerts()
    (alert,) = metrics.open_alerts()
    made = metrics.silence(alert.id, "1h")
    assert (made.rule, made.key) == ("error_rate", "bot.status")
    with pytest.raises(AlertError, match="no alert with id 999"):
        metrics.silence(999, "1h")
    with pytest.raises(AlertError, match="known rules: error_rate"):
        metrics.silence("nope", "1h")


def test_database_enforces_one_open_alert_per_rule_and_key(runtime, clock):
    """A second open alert for the same rule and key is refused by the store's unique index."""
    traffic(clock)
    metrics.evaluate_alerts()
    (alert,) = metrics.open_alerts()
    record = alert.model_dump()
    record.pop("id")
    with pytest.raises(metrics.StoreError):
        runtime.store.save_alert(record)


def test_warning_escalates_to_critical_with_a_notice(runtime, clock, notifier):
    """An alert firing as warning that crosses the critical threshold is re-sent as escalated."""
    traffic(clock, errors=2)  # 10%: warning
    metrics.evaluate_alerts()
    assert step_and_evaluate(clock, 300, errors=2) == ["firing"]
    assert notifier.sent[0][0].severity == "warning"
    assert step_and_evaluate(clock, 60, errors=20) == ["escalated"]
    assert notifier.sent[-1][0].severity == "critical"


def test_failed_scans_fire_at_once(runtime, clock, notifier):
    """A failed scan fires the scan_failures rule without a pending period."""
    with pytest.raises(FileNotFoundError):
        with metrics.track_request("scan"):
            raise FileNotFoundError(2, "No such file or directory", "/missing/repo")
    assert [n.event for n in metrics.evaluate_alerts()] == ["firing"]
    alert = notifier.sent[0][0]
    assert alert.rule == "scan_failures" and alert.severity == "warning"
    assert alert.snapshot["last_request_id"].startswith("req-")


def test_duplication_rising_and_new_clones_from_scan_figures(runtime, clock, notifier):
    """Scan figures reported by the engine drive the duplication-rising and new-clone rules."""
    metrics.record_scan(files=100, duplication_pct=3.0, new_clones=0, duration_s=1.2, root="/repo", branch="main")
    assert metrics.evaluate_alerts() == []
    clock.advance("1h")
    metrics.record_scan(files=101, duplication_pct=5.5, new_clones=12, duration_s=1.1, root="/repo", branch="main")
    fired = {(n.alert.rule, n.alert.severity) for n in metrics.evaluate_alerts()}
    assert fired == {("duplication_rising", "critical"), ("new_clones", "critical")}
    clock.advance("1h")
    metrics.record_scan(files=101, duplication_pct=5.5, new_clones=0, duration_s=1.0, root="/repo", branch="main")
    resolved = sorted(n.alert.rule for n in metrics.evaluate_alerts())
    assert resolved == ["duplication_rising", "new_clones"]
    assert notifier.events.count("resolved") == 2


def test_new_clones_on_a_feature_branch_do_not_alert(runtime, clock):
    """New clones reported for a branch other than main do not open an alert."""
    metrics.record_scan(files=10, duplication_pct=1.0, new_clones=5, duration_s=0.1, root="/repo", branch="feature-x")
    assert metrics.evaluate_alerts() == []


def test_async_notifier_is_awaited_and_a_broken_one_is_skipped(runtime, clock):
    """aevaluate awaits async notifiers, and a notifier that raises does not stop the others."""
    received: list[str] = []

    class AsyncNotifier:
        async def notify(self, alert, event):
            await asyncio.sleep(0)
            received.append(f"{alert.rule}:{event}")

    class Broken:
        def notify(self, alert, event):
            raise ConnectionError("telegram down")

    metrics.add_notifier(Broken())
    metrics.add_notifier(AsyncNotifier())
    with pytest.raises(FileNotFoundError):
        with metrics.track_request("scan"):
            raise FileNotFoundError("gone")
    asyncio.run(metrics.aevaluate_alerts())
    assert received == ["scan_failures:firing"]


def test_sync_evaluate_runs_async_notifiers_to_completion(runtime, clock):
    """evaluate() outside an event loop still delivers to async notifiers."""
    received: list[str] = []

    class AsyncNotifier:
        async def notify(self, alert, event):
            received.append(event)

    metrics.add_notifier(AsyncNotifier())
    with pytest.raises(FileNotFoundError):
        with metrics.track_request("scan"):
            raise FileNotFoundError("gone")
    metrics.evaluate_alerts()
    assert received == ["firing"]


def test_step_is_pure_and_follows_the_lifecycle():
    """The state step moves pending -> firing -> resolved as observations change."""
    rule = Rule("r", "R", "error_rate", warning=1, critical=2, for_s=10, repeat_s=100, window_s=60)
    hot = Observation(5.0, ("op",), {})
    record, event = step(rule, "k", None, hot, 0.0, silenced=False)
    assert record["state"] == "pending" and event is None
    record, event = step(rule, "k", record, hot, 10.0, silenced=False)
    assert record["state"] == "firing" and event == "firing" and record["notifications"] == 1
    record, event = step(rule, "k", record, None, 20.0, silenced=False)
    assert record["state"] == "resolved" and event == "resolved"


def test_severity_thresholds_and_default_rules_cover_the_spec():
    """Thresholds map values to warning/critical, and the default table has the five rules of the spec."""
    rule = DEFAULT_RULES[0]
    assert severity_of(rule, 0.01) is None
    assert severity_of(rule, 0.05) == "warning"
    assert severity_of(rule, 0.25) == "critical"
    assert {r.name for r in DEFAULT_RULES} == {
        "error_rate", "p95_latency", "scan_failures", "duplication_rising", "new_clones"
    }


def test_duplicate_rule_names_are_refused(tmp_path):
    """Two rules with one name are a configuration mistake caught at construction."""
    with pytest.raises(ValueError, match="unique"):
        AlertManager(lambda: None, rules=[DEFAULT_RULES[0], DEFAULT_RULES[0]])
