"""CodeBot metrics: request tracking, stored events, summaries, alerts, triage and Prometheus export.

    import metrics
    metrics.configure(".codebot/index.db")
    with metrics.track_request("scan", metadata={"root": root}) as request:
        ...                                   # request.request_id == metrics.current_request_id()
        metrics.record_scan(files=120, duplication_pct=3.2, new_clones=1, duration_s=0.8, root=root)
    metrics.investigate(request.request_id).model_dump()
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metrics.alerts import DEFAULT_RULES, AlertManager, Notification, Notifier, Rule
    from metrics.clock import Clock, ManualClock, SystemClock, parse_duration
    from metrics.context import Request, current_request, current_request_id, track_request
    from metrics.exceptions import (
        AlertError,
        ConfigError,
        MetricsError,
        SchemaError,
        StoreCorruptError,
        StoreError,
        StoreLockedError,
    )
    from metrics.models import Alert, ErrorGroup, OperationSummary, Silence, TriageReport
    from metrics.notifiers import LogNotifier, format_alert
    from metrics.playbook import register_actions
    from metrics.records import EventRow, MetricRow, ScanRow, Status, is_request_id, new_request_id
    from metrics.runtime import Runtime, configure, shutdown
    from metrics.sanitize import sanitize, sanitize_value
    from metrics.settings import MetricsSettings, load_settings, settings_from_table
    from metrics.sqlite import default_db_path
    from metrics.store import Store

# Names re-exported from the submodules, imported on first use: an engine command
# needs the request tracking only, not the alert engine or pydantic models.
_EXPORTS = {
    "Alert": "metrics.models",
    "AlertError": "metrics.exceptions",
    "AlertManager": "metrics.alerts",
    "Clock": "metrics.clock",
    "ConfigError": "metrics.exceptions",
    "DEFAULT_RULES": "metrics.alerts",
    "ErrorGroup": "metrics.models",
    "EventRow": "metrics.records",
    "LogNotifier": "metrics.notifiers",
    "ManualClock": "metrics.clock",
    "MetricRow": "metrics.records",
    "MetricsError": "metrics.exceptions",
    "MetricsSettings": "metrics.settings",
    "Notification": "metrics.alerts",
    "Notifier": "metrics.alerts",
    "OperationSummary": "metrics.models",
    "Request": "metrics.context",
    "Rule": "metrics.alerts",
    "Runtime": "metrics.runtime",
    "ScanRow": "metrics.records",
    "SchemaError": "metrics.exceptions",
    "Silence": "metrics.models",
    "Status": "metrics.records",
    "Store": "metrics.store",
    "StoreCorruptError": "metrics.exceptions",
    "StoreError": "metrics.exceptions",
    "StoreLockedError": "metrics.exceptions",
    "SystemClock": "metrics.clock",
    "TriageReport": "metrics.models",
    "configure": "metrics.runtime",
    "current_request": "metrics.context",
    "current_request_id": "metrics.context",
    "default_db_path": "metrics.sqlite",
    "format_alert": "metrics.notifiers",
    "is_request_id": "metrics.records",
    "load_settings": "metrics.settings",
    "new_request_id": "metrics.records",
    "parse_duration": "metrics.clock",
    "register_actions": "metrics.playbook",
    "sanitize": "metrics.sanitize",
    "sanitize_value": "metrics.sanitize",
    "settings_from_table": "metrics.settings",
    "shutdown": "metrics.runtime",
    "track_request": "metrics.context",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'metrics' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def get_runtime() -> Runtime:
    """The global runtime (see `metrics.runtime.get_runtime`)."""
    from metrics.runtime import get_runtime as runtime

    return runtime()


__all__ = [
    "DEFAULT_RULES", "Alert", "AlertError", "AlertManager", "Clock", "ConfigError", "ErrorGroup", "EventRow",
    "LogNotifier", "ManualClock", "MetricRow", "MetricsError", "MetricsSettings", "Notification", "Notifier",
    "OperationSummary", "Request", "Rule", "Runtime", "ScanRow", "SchemaError", "Silence", "Status", "Store",
    "StoreCorruptError", "StoreError", "StoreLockedError", "SystemClock", "TriageReport", "add_notifier",
    "aevaluate_alerts", "alert_rules", "audit", "configure", "current_request", "current_request_id",
    "default_db_path", "evaluate_alerts", "events", "export_text", "flush", "format_alert", "get_runtime",
    "investigate", "is_request_id", "load_settings", "log_event", "new_request_id", "open_alerts", "parse_duration",
    "record_scan", "register_actions", "remove_notifier", "sanitize", "sanitize_value", "settings_from_table", "shutdown",
    "silence", "silences", "summarize", "top_errors", "track_request",
]


def record_scan(
    *,
    files: int,
    duplication_pct: float,
    new_clones: int,
    duration_s: float,
    root: str | Path = ".",
    branch: str | None = None,
    request_id: str | None = None,
    status: Status | str = "success",
) -> ScanRow:
    """Report one scan's figures (read by the 'duplication rising' and 'new clones' rules)."""
    return get_runtime().record_scan(
        files=files, duplication_pct=duplication_pct, new_clones=new_clones, duration_s=duration_s,
        root=root, branch=branch, request_id=request_id, status=status,
    )


def summarize(operation: str | None = None, window: float | str = "1h", *, top_errors: int = 3) -> list[OperationSummary]:
    """Per-operation count, error rate, avg/p50/p95/p99/max latency and top errors over `window`."""
    return get_runtime().summarize(operation, window, top_errors=top_errors)


def top_errors(window: float | str = "1h", operation: str | None = None, limit: int = 10) -> list[ErrorGroup]:
    """Errors in the window grouped by fingerprint, most frequent first."""
    return get_runtime().top_errors(window, operation, limit)


def events(request_id: str) -> list[EventRow]:
    """The stored (sanitized) events of one request, in order."""
    return get_runtime().events(request_id)


def investigate(request_id: str, *, window: float | str = "15m") -> TriageReport:
    """Triage report of a request id: metrics, timeline, root cause, related requests, alerts, suggestions."""
    return get_runtime().investigate(request_id, window=window)


def log_event(event: str, *, level: str = "info", request_id: str | None = None, **fields: Any) -> None:
    """Store one event directly, without going through structlog."""
    get_runtime().log_event(event, level=level, request_id=request_id, **fields)


def audit(
    action: str, *, user_id: str | int | None = None, request_id: str | None = None,
    outcome: str | None = None, detail: dict[str, Any] | None = None,
) -> None:
    """Record an audited action (e.g. a bot command) under the current request id."""
    get_runtime().audit(action, user_id=user_id, request_id=request_id, outcome=outcome, detail=detail)


def add_notifier(notifier: Notifier) -> None:
    """Register an alert notifier with `notify(alert, event)` (sync or async)."""
    get_runtime().alerts.add_notifier(notifier)


def remove_notifier(notifier: Notifier) -> None:
    """Unregister an alert notifier."""
    get_runtime().alerts.remove_notifier(notifier)


def evaluate_alerts(now: float | None = None) -> list[Notification]:
    """Evaluate the alert rules once and notify; call it periodically where the notifiers live."""
    return get_runtime().evaluate_alerts(now)


async def aevaluate_alerts(now: float | None = None) -> list[Notification]:
    """Evaluate the alert rules once from inside an event loop, awaiting async notifiers."""
    return await get_runtime().aevaluate_alerts(now)


def open_alerts() -> list[Alert]:
    """Pending and firing alerts."""
    return get_runtime().open_alerts()


def silences() -> list[Silence]:
    """The silences in force."""
    return get_runtime().alerts.silences()


def alert_rules() -> tuple[Rule, ...]:
    """The alert rules in force (the defaults with this project's overrides): what `silence` accepts by name."""
    return get_runtime().alerts.rules


def silence(target: str | int, duration: float | str, **kwargs: Any) -> Silence:
    """Silence an alert (by id) or a rule (by name) for a duration like '2h'."""
    return get_runtime().silence(target, duration, **kwargs)


def flush() -> int:
    """Write everything queued now; returns the number of items written."""
    return get_runtime().writer.flush()


def export_text() -> str:
    """The metrics in the Prometheus text exposition format."""
    from metrics.exposition import export_text as _export

    return _export(get_runtime())
