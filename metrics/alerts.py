"""Alert rules and their lifecycle, modelled on Prometheus Alertmanager.

Each evaluation measures every rule (one observation per key: an operation
or a scanned root). An observation over the warning or critical threshold
opens a *pending* alert; once the condition has held for the rule's `for`
duration it is *firing* and the notifiers are told. The database keeps one
open alert per rule and key, so a condition that persists never opens a
second one. A firing alert is re-sent after the repeat interval (or at once
when it escalates to critical), and is *resolved*, with a resolved notice,
when the condition clears. Silences hold notifications back until they expire.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import structlog

from metrics.clock import SYSTEM_CLOCK, Clock, format_duration, parse_duration
from metrics.exceptions import AlertError
from metrics.grafana import time_range_link
from metrics.models import Alert, AlertEvent, OperationSummary, Silence
from metrics.playbook import alert_actions
from metrics.sanitize import sanitize, sanitize_value
from metrics.store import Store
from metrics.summary import summarize_rows

log = structlog.get_logger("metrics.alerts")


class Rule(NamedTuple):
    """One alert rule: what it measures, its thresholds and its timing."""

    name: str
    title: str
    measure: str
    warning: float
    critical: float
    for_s: float
    repeat_s: float
    window_s: float
    min_count: int = 0
    unit: str = ""
    operations: tuple[str, ...] = ()
    runbook: str | None = None
    enabled: bool = True
    dashboard: str | None = None  # a Grafana dashboard URL; alerts link to it, time range and key set


class Observation(NamedTuple):
    """The measured value of a rule for one key, with the figures behind it."""

    value: float
    operations: tuple[str, ...]
    snapshot: dict[str, Any]


class Notification(NamedTuple):
    """An alert to send and why: firing, repeat, escalated or resolved."""

    alert: Alert
    event: AlertEvent


@runtime_checkable
class Notifier(Protocol):
    """Anything told about alerts; `notify` may be a plain or an async function."""

    def notify(self, alert: Alert, event: str) -> Awaitable[None] | None:
        """Deliver one alert notification."""


# The declarative rule table; thresholds are overridable from [tool.codebot.alerts.<name>].
DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("error_rate", "High error rate", "error_rate", warning=0.05, critical=0.20,
         for_s=300, repeat_s=3600, window_s=900, min_count=10, unit="ratio"),
    Rule("p95_latency", "Slow requests (p95 latency)", "p95_latency", warning=2000, critical=10000,
         for_s=300, repeat_s=3600, window_s=900, min_count=10, unit="ms"),
    Rule("scan_failures", "Scans are failing", "failures", warning=1, critical=3,
         for_s=0, repeat_s=3600, window_s=3600, unit="count", operations=("scan", "check")),
    Rule("duplication_rising", "Duplication is rising", "duplication_rise", warning=0.5, critical=2.0,
         for_s=0, repeat_s=86400, window_s=7 * 86400, unit="points"),
    Rule("new_clones", "New clones on the main branch", "new_clones", warning=1, critical=10,
         for_s=0, repeat_s=86400, window_s=7 * 86400, unit="count", operations=("main", "master")),
)


def severity_of(rule: Rule, value: float) -> str | None:
    """'critical', 'warning' or None for a measured value."""
    if value >= rule.critical:
        return "critical"
    if value >= rule.warning:
        return "warning"
    return None


def format_value(rule: Rule, value: float | None) -> str:
    """Render a measured value in the rule's unit."""
    if value is None:
        return "n/a"
    if rule.unit == "ratio":
        return f"{value:.1%}"
    if rule.unit == "ms":
        return f"{value:,.0f} ms"
    if rule.unit == "points":
        return f"{value:+.2f} points"
    if rule.unit == "count":
        return f"{value:g}"
    return f"{value:g}"


def describe(rule: Rule, key: str, value: float, severity: str) -> str:
    """One-paragraph description of an alert for people."""
    threshold = rule.critical if severity == "critical" else rule.warning
    window = format_duration(rule.window_s)
    what = {
        "error_rate": f"{format_value(rule, value)} of '{key}' requests failed over the last {window}",
        "p95_latency": f"p95 latency of '{key}' is {format_value(rule, value)} over the last {window}",
        "failures": f"{value:g} '{key}' request(s) failed in the last {window}",
        "duplication_rise": f"duplication in {key} rose by {format_value(rule, value)} since the previous scan",
        "new_clones": f"the last scan of {key} found {value:g} new clone class(es)",
    }.get(rule.measure, f"{rule.measure} of {key} is {value:g}")
    return f"{what} ({severity} at {format_value(rule, threshold)})."


# -- measuring -------------------------------------------------------------


def _summaries(store: Store, now: float, window_s: float, cache: dict[float, dict[str, OperationSummary]]) -> dict[str, OperationSummary]:
    if window_s not in cache:
        cache[window_s] = summarize_rows(store.window_rows(now - window_s, now), window_s)
    return cache[window_s]


def measure(rule: Rule, store: Store, now: float, cache: dict[float, dict[str, OperationSummary]] | None = None) -> dict[str, Observation]:
    """Observations of one rule at `now`, keyed by operation or scanned root."""
    cache = {} if cache is None else cache
    found: dict[str, Observation] = {}
    if rule.measure in ("error_rate", "p95_latency"):
        for op, summary in _summaries(store, now, rule.window_s, cache).items():
            if rule.operations and op not in rule.operations:
                continue
            if summary.count < max(rule.min_count, 1):
                continue
            value = summary.error_rate if rule.measure == "error_rate" else summary.p95_ms
            snapshot = summary.model_dump(exclude={"top_errors"})
            found[op] = Observation(float(value or 0.0), (op,), snapshot)
    elif rule.measure == "failures":
        for op, summary in _summaries(store, now, rule.window_s, cache).items():
            if rule.operations and op not in rule.operations:
                continue
            if summary.errors:
                snapshot = summary.model_dump(exclude={"top_errors"})
                groups = store.error_groups(now - rule.window_s, now, op, limit=1)
                if groups:
                    snapshot["last_error"] = groups[0]["error_message"]
                    snapshot["last_request_id"] = groups[0]["last_request_id"]
                found[op] = Observation(float(summary.errors), (op,), snapshot)
    elif rule.measure == "duplication_rise":
        for root in store.scan_roots():
            scans = store.recent_scans(root, limit=2)
            if len(scans) < 2 or scans[0].ts < now - rule.window_s:
                continue
            latest, previous = scans
            found[root] = Observation(
                latest.duplication_pct - previous.duplication_pct,
                ("scan",),
                {
                    "previous_pct": previous.duplication_pct, "latest_pct": latest.duplication_pct,
                    "previous_request_id": previous.request_id, "latest_request_id": latest.request_id,
                    "files": latest.files,
                },
            )
    elif rule.measure == "new_clones":
        for root in store.scan_roots():
            scans = store.recent_scans(root, limit=1)
            if not scans or scans[0].ts < now - rule.window_s:
                continue
            latest = scans[0]
            # An unknown branch counts as the main branch: the engine may not know it.
            if rule.operations and latest.branch is not None and latest.branch not in rule.operations:
                continue
            found[root] = Observation(
                float(latest.new_clones), ("scan",),
                {"new_clones": latest.new_clones, "branch": latest.branch,
                 "duplication_pct": latest.duplication_pct, "request_id": latest.request_id},
            )
    return found


# -- links -----------------------------------------------------------------

# Measures whose key is a scanned root; the others are keyed by operation.
_ROOT_MEASURES = ("duplication_rise", "new_clones")


def dashboard_actions(rule: Rule, key: str, started_at: float, now: float) -> list[str]:
    """A suggested action linking to the rule's dashboard over the alert's window, filtered to its key."""
    if not rule.dashboard:
        return []
    variable = "root" if rule.measure in _ROOT_MEASURES else "operation"
    link = time_range_link(rule.dashboard, started_at - rule.window_s, now, {variable: key})
    return [f"Look at the dashboard: {link}"]


# -- lifecycle -------------------------------------------------------------


def step(
    rule: Rule, key: str, alert: dict[str, Any] | None, observation: Observation | None, now: float, silenced: bool
) -> tuple[dict[str, Any] | None, AlertEvent | None]:
    """Advance one alert by one evaluation; returns the record to store (or None) and the event to send."""
    severity = severity_of(rule, observation.value) if observation is not None else None
    if severity is None:
        if alert is None:
            return None, None
        if alert["state"] == "pending":
            return {**alert, "state": "inactive", "resolved_at": now, "updated_at": now}, None
        resolved = {**alert, "state": "resolved", "resolved_at": now, "updated_at": now}
        if observation is not None:
            resolved["value"] = observation.value
        if alert["notifications"] and not silenced:
            resolved["last_notified_at"] = now
            resolved["notifications"] = alert["notifications"] + 1
            return resolved, "resolved"
        return resolved, None

    assert observation is not None
    previous_severity = alert["severity"] if alert else None
    record: dict[str, Any] = dict(alert) if alert else {
        "rule": rule.name, "key": key, "state": "pending", "started_at": now, "fired_at": None,
        "last_notified_at": None, "resolved_at": None, "notifications": 0,
    }
    record.update(
        severity=severity,
        title=sanitize(f"[{severity.upper()}] {rule.title}: {key}"),
        description=sanitize(describe(rule, key, observation.value, severity)),
        operations=list(observation.operations),
        snapshot=sanitize_value(observation.snapshot),
        suggestions=[*alert_actions(rule.name), *dashboard_actions(rule, key, record["started_at"], now)],
        runbook=rule.runbook,
        value=observation.value,
        threshold=rule.critical if severity == "critical" else rule.warning,
        updated_at=now,
    )
    event: AlertEvent | None = None
    if record["state"] == "pending":
        if now - record["started_at"] < rule.for_s:
            return record, None
        record["state"] = "firing"
        record["fired_at"] = now
        event = "firing"
    elif record["last_notified_at"] is None:
        event = "firing"  # it fired while silenced
    elif previous_severity == "warning" and severity == "critical":
        event = "escalated"
    elif now - record["last_notified_at"] >= rule.repeat_s:
        event = "repeat"
    if event is None or silenced:
        return record, None
    record["last_notified_at"] = now
    record["notifications"] = record["notifications"] + 1
    return record, event


def is_silenced(silences: Iterable[Mapping[str, Any]], rule: str, key: str) -> bool:
    """Whether any active silence matches the rule and key."""
    return any(s["rule"] in (rule, "*") and s["key"] in (None, key) for s in silences)


def to_alert(record: Mapping[str, Any]) -> Alert:
    """Build the public Alert model from a stored record."""
    return Alert(**{name: record.get(name) for name in Alert.model_fields})


class AlertManager:
    """Evaluates the rules against a store, keeps alert state there and tells the notifiers."""

    def __init__(
        self,
        store: Callable[[], Store],
        *,
        clock: Clock = SYSTEM_CLOCK,
        rules: Sequence[Rule] = DEFAULT_RULES,
        notifiers: Iterable[Notifier] = (),
    ) -> None:
        names = [rule.name for rule in rules]
        if len(set(names)) != len(names):
            raise ValueError(f"alert rule names must be unique, got {names}")
        self._store = store
        self.clock = clock
        self.rules = tuple(rules)
        self.notifiers: list[Notifier] = list(notifiers)
        self._tasks: set[asyncio.Task[Any]] = set()

    def add_notifier(self, notifier: Notifier) -> None:
        """Register a notifier (the bot's Telegram notifier, a log notifier, ...)."""
        if not callable(getattr(notifier, "notify", None)):
            raise TypeError(f"{notifier!r} has no notify(alert, event) method")
        self.notifiers.append(notifier)

    def remove_notifier(self, notifier: Notifier) -> None:
        """Unregister a notifier."""
        self.notifiers.remove(notifier)

    def rule(self, name: str) -> Rule:
        """Look a rule up by name."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise AlertError(f"unknown alert rule {name!r}; known rules: {', '.join(r.name for r in self.rules)}")

    # -- evaluation ---------------------------------------------------------

    def plan(self, now: float | None = None) -> list[Notification]:
        """Measure every rule, store the new alert states and return the notifications to send."""
        store = self._store()
        now = self.clock.time() if now is None else now
        silences = store.active_silences(now)
        open_by_key = {(a["rule"], a["key"]): a for a in store.open_alerts()}
        cache: dict[float, dict[str, OperationSummary]] = {}
        notifications: list[Notification] = []
        for rule in self.rules:
            if not rule.enabled:
                continue
            observations = measure(rule, store, now, cache)
            keys = set(observations) | {key for (name, key) in open_by_key if name == rule.name}
            for key in sorted(keys):
                current = open_by_key.get((rule.name, key))
                record, event = step(
                    rule, key, current, observations.get(key), now, is_silenced(silences, rule.name, key)
                )
                if record is None:
                    continue
                record["id"] = store.save_alert(record)
                if event is not None:
                    notifications.append(Notification(to_alert(record), event))
        return notifications

    def evaluate(self, now: float | None = None) -> list[Notification]:
        """Evaluate and deliver; async notifiers run to completion (or as tasks inside a running loop)."""
        notifications = self.plan(now)
        pending: list[Awaitable[None]] = []
        for notification in notifications:
            pending.extend(self._call(notification))
        if pending:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                asyncio.run(self._gather(pending))
            else:
                task = loop.create_task(self._gather(pending))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return notifications

    async def aevaluate(self, now: float | None = None) -> list[Notification]:
        """Evaluate and deliver, awaiting async notifiers; for use inside an event loop."""
        notifications = self.plan(now)
        pending: list[Awaitable[None]] = []
        for notification in notifications:
            pending.extend(self._call(notification))
        await self._gather(pending)
        return notifications

    def _call(self, notification: Notification) -> list[Awaitable[None]]:
        awaitables = []
        for notifier in list(self.notifiers):
            try:
                result = notifier.notify(notification.alert, notification.event)
            except Exception as exc:  # noqa: BLE001 - one broken notifier must not stop the others
                log.error("alert.notify_failed", notifier=type(notifier).__name__, alert_id=notification.alert.id, error=repr(exc))
                continue
            if inspect.isawaitable(result):
                awaitables.append(self._guard(notifier, notification, result))
        return awaitables

    async def _guard(self, notifier: Notifier, notification: Notification, result: Awaitable[None]) -> None:
        try:
            await result
        except Exception as exc:  # noqa: BLE001 - one broken notifier must not stop the others
            log.error("alert.notify_failed", notifier=type(notifier).__name__, alert_id=notification.alert.id, error=repr(exc))

    @staticmethod
    async def _gather(awaitables: Sequence[Awaitable[None]]) -> None:
        await asyncio.gather(*awaitables)

    # -- reading and silencing ---------------------------------------------

    def open_alerts(self) -> list[Alert]:
        """Pending and firing alerts."""
        return [to_alert(record) for record in self._store().open_alerts()]

    def history(self, since: float | None = None, limit: int = 100) -> list[Alert]:
        """Alerts of any state, most recently updated first."""
        return [to_alert(record) for record in self._store().alerts(since=since, limit=limit)]

    def silences(self, now: float | None = None) -> list[Silence]:
        """Silences in force."""
        now = self.clock.time() if now is None else now
        return [Silence(**s) for s in self._store().active_silences(now)]

    def silence(
        self,
        target: str | int,
        duration: float | str,
        *,
        key: str | None = None,
        reason: str | None = None,
        created_by: str | None = None,
    ) -> Silence:
        """Silence a rule (by name, or '*' for all) or one alert (by id) for a duration like '2h'."""
        seconds = parse_duration(duration)
        if seconds <= 0:
            raise AlertError("a silence needs a positive duration, e.g. 30m or 2h")
        store = self._store()
        text = str(target).strip()
        if text.isdigit():
            record = store.alert(int(text))
            if record is None:
                raise AlertError(f"no alert with id {text}; list them with `python -m metrics alerts`")
            rule_name, key = record["rule"], record["key"]
        elif text == "*":
            rule_name = "*"
        else:
            rule_name = self.rule(text).name
        now = self.clock.time()
        silence_id = store.add_silence(
            rule_name, key, now, now + seconds, created_by, sanitize(reason) if reason else None
        )
        return Silence(
            id=silence_id, rule=rule_name, key=key, created_at=now, expires_at=now + seconds,
            created_by=created_by, reason=sanitize(reason) if reason else None,
        )


def summary_status_line(alert: Alert) -> str:
    """A one-line rendering of an alert for CLIs and logs."""
    severity = (alert.severity or "").upper()
    return f"#{alert.id} {alert.state:<8} {severity:<8} {alert.rule}:{alert.key} — {alert.description}"

