"""Tests of metrics.runtime: configuration, scan figures, retention and audit on the global runtime."""

from __future__ import annotations

import pytest

import metrics
from metrics.clock import ManualClock
from metrics.exceptions import StoreError
from metrics.settings import MetricsSettings
from metrics.testing import RecordingNotifier, configured


def test_reading_before_configure_is_a_clear_error():
    """Asking for a summary with no store configured tells how to configure one."""
    metrics.shutdown()
    with pytest.raises(StoreError, match=r"metrics\.configure"):
        metrics.summarize()
    metrics.shutdown()


def test_default_path_comes_from_the_environment(tmp_path, monkeypatch):
    """configure() without a path uses $CODEBOT_DB."""
    monkeypatch.setenv("CODEBOT_DB", str(tmp_path / "env.db"))
    runtime = metrics.configure(background=False)
    try:
        assert runtime.store.path == tmp_path / "env.db"
    finally:
        metrics.shutdown()


def test_reconfiguring_keeps_registered_notifiers(tmp_path):
    """A notifier added by the bot survives a later configure() call by the engine."""
    notifier = RecordingNotifier()
    with configured(tmp_path / "a.db"):
        metrics.add_notifier(notifier)
        runtime = metrics.configure(tmp_path / "b.db", background=False)
        assert notifier in runtime.alerts.notifiers


def test_record_scan_takes_the_current_request_id_and_validates(tmp_path):
    """Scan figures are stamped with the running request and out-of-range figures are refused."""
    with configured(tmp_path / "index.db") as runtime:
        with metrics.track_request("scan") as request:
            metrics.record_scan(files=3, duplication_pct=12.5, new_clones=1, duration_s=0.2, root="/r")
        (scan,) = runtime.recent_scans()
        assert (scan.request_id, scan.files, scan.duplication_pct) == (request.request_id, 3, 12.5)
        with pytest.raises(ValueError, match="duplication_pct"):
            metrics.record_scan(files=3, duplication_pct=120, new_clones=0, duration_s=0.1)


def test_retention_prunes_on_flush_but_keeps_recent_rows(tmp_path):
    """Rows older than the retention are pruned automatically when the writer flushes."""
    clock = ManualClock()
    with configured(tmp_path / "index.db", clock, settings=MetricsSettings(retention="1d")) as runtime:
        with metrics.track_request("old"):
            pass
        metrics.flush()
        clock.advance("2d")
        with metrics.track_request("new"):
            pass
        metrics.flush()
        assert [r[0] for r in runtime.store.query("SELECT operation FROM metric_rows")] == ["new"]
        assert {t["operation"] for t in runtime.store.hourly_totals()} == {"old", "new"}


def test_audit_records_actions_with_the_request_id(tmp_path):
    """An audited bot command is stored sanitized with its request id and user."""
    with configured(tmp_path / "index.db") as runtime:
        with metrics.track_request("bot.scan", user_id=99) as request:
            metrics.audit("/scan /repo", user_id=99, outcome="ok", detail={"token": "secret-value"})
        (entry,) = runtime.store.audit_log()
        assert (entry["request_id"], entry["user_id"], entry["action"]) == (request.request_id, "99", "/scan /repo")
        assert entry["detail"] == {"token": "[REDACTED]"}
