"""Built-in alert notifiers; the bot adds its Telegram one through `metrics.add_notifier`."""

from __future__ import annotations

from typing import Any

import structlog

from metrics.models import Alert

_LEVELS = {"firing": "warning", "repeat": "warning", "escalated": "error", "resolved": "info"}


class LogNotifier:
    """Writes each alert notification as a structured log event (and so into the store's events)."""

    def __init__(self, logger: Any | None = None) -> None:
        self.log = logger if logger is not None else structlog.get_logger("metrics.alerts")

    def notify(self, alert: Alert, event: str) -> None:
        level = _LEVELS.get(event, "warning")
        if alert.severity == "critical" and event != "resolved":
            level = "error"
        getattr(self.log, level)(
            f"alert.{event}",
            alert_id=alert.id,
            rule=alert.rule,
            key=alert.key,
            severity=alert.severity,
            title=alert.title,
            description=alert.description,
            value=alert.value,
        )


def format_alert(alert: Alert, event: str) -> str:
    """Plain-text rendering of a notification, e.g. for chat messages."""
    head = {"resolved": "RESOLVED", "repeat": "STILL FIRING", "escalated": "ESCALATED"}.get(event, "FIRING")
    lines = [f"{head}: {alert.title}", alert.description]
    if event != "resolved" and alert.suggestions:
        lines.append("Suggested actions:")
        lines.extend(f"- {action}" for action in alert.suggestions)
    if alert.runbook:
        lines.append(f"Runbook: {alert.runbook}")
    lines.append(f"alert #{alert.id} · silence with: python -m metrics silence {alert.id} 1h")
    return "\n".join(lines)
