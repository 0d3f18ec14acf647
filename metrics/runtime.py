"""The metrics runtime (store, batch writer, clock, alert manager) and the one global instance.

Global state lives only here and changes only through `configure()` and
`shutdown()`. Before `configure()` is called, tracked requests are queued in
memory and written once a store is configured.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metrics.clock import SYSTEM_CLOCK, Clock, parse_duration
from metrics.current import current_request_id
from metrics.exceptions import StoreError
from metrics.records import EventRow, ScanRow, Status
from metrics.sanitize import sanitize, sanitize_value
from metrics.sqlite import default_db_path
from metrics.store import Store
from metrics.writer import BatchWriter

# The alert engine, its settings and the report models (pydantic) load when first used:
# a command that only records its request (every engine command) never needs them.
if TYPE_CHECKING:
    from metrics.alerts import AlertManager, Notification, Notifier, Rule
    from metrics.models import Alert, ErrorGroup, OperationSummary, Silence, TriageReport
    from metrics.settings import MetricsSettings

PRUNE_EVERY_S = 3600.0


class Runtime:
    """Everything the metrics package needs at run time, bound to one store and one clock."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        batch_size: int = 5000,
        flush_interval: float = 1.0,
        background: bool = True,
        retention: float | str = "30d",
        rules: Sequence[Rule] | None = None,
        notifiers: Iterable[Notifier] | None = None,
        settings: MetricsSettings | None = None,
        owns_store: bool = True,
    ) -> None:
        self.store = store
        self.clock = clock
        self.retention_s = parse_duration(retention)
        self.owns_store = owns_store
        self._last_prune: float | None = None
        self.writer = BatchWriter(
            store, batch_size=batch_size, flush_interval=flush_interval, clock=clock,
            background=background, on_flush=self._after_flush,
        )
        self._rules = rules
        self._settings = settings
        self._notifiers = None if notifiers is None else list(notifiers)
        self._alerts: AlertManager | None = None

    @property
    def alerts(self) -> AlertManager:
        """The alert manager: the given rules (default: DEFAULT_RULES with the settings'
        overrides) and notifiers (default: a LogNotifier), made on first use."""
        if self._alerts is None:
            from metrics.alerts import DEFAULT_RULES, AlertManager
            from metrics.notifiers import LogNotifier
            from metrics.settings import apply_overrides

            rules = self._rules if self._rules is not None else DEFAULT_RULES
            if self._settings is not None:
                rules = apply_overrides(rules, self._settings.alerts)
            self._alerts = AlertManager(
                self.read_store, clock=self.clock, rules=rules,
                notifiers=[LogNotifier()] if self._notifiers is None else self._notifiers,
            )
        return self._alerts

    @property
    def notifiers(self) -> list[Notifier] | None:
        """The notifiers in force, or None while none were chosen (the default applies)."""
        return self._notifiers if self._alerts is None else self._alerts.notifiers

    # -- store access -------------------------------------------------------

    def read_store(self) -> Store:
        """The store, after writing everything queued so reads see it."""
        if self.store is None:
            raise StoreError("metrics are not configured: call metrics.configure(db_path) first")
        self.writer.flush()
        return self.store

    def _after_flush(self, now: float) -> None:
        if self._last_prune is None or now - self._last_prune >= PRUNE_EVERY_S:
            self._last_prune = now
            self.prune(now)

    def prune(self, now: float | None = None) -> tuple[int, int]:
        """Delete raw rows and events older than the retention; hourly aggregates are kept."""
        if self.store is None:
            return 0, 0
        now = self.clock.time() if now is None else now
        return self.store.prune(now - self.retention_s)

    def close(self) -> None:
        """Write what is queued and, if this runtime opened the store, close it."""
        self.writer.close()
        if self.store is not None and self.owns_store:
            self.store.close()

    # -- reporting into the store ------------------------------------------

    def record_scan(
        self,
        *,
        files: int,
        duplication_pct: float,
        new_clones: int,
        duration_s: float,
        root: str | Path = ".",
        branch: str | None = None,
        request_id: str | None = None,
        status: Status | str = Status.SUCCESS,
    ) -> ScanRow:
        """Queue one scan's figures for the duplication and new-clone alert rules."""
        if files < 0 or new_clones < 0 or duration_s < 0 or not 0 <= duplication_pct <= 100:
            raise ValueError(
                "scan figures out of range: files, new_clones and duration_s must be >= 0 "
                f"and duplication_pct within 0..100 (got {files}, {new_clones}, {duration_s}, {duplication_pct})"
            )
        row = ScanRow(
            request_id=request_id or current_request_id(), ts=self.clock.time(), root=sanitize(str(root)),
            branch=branch, files=int(files), duplication_pct=float(duplication_pct),
            new_clones=int(new_clones), duration_s=float(duration_s), status=Status(status),
        )
        self.writer.add_scan(row)
        return row

    def log_event(self, event: str, *, level: str = "info", request_id: str | None = None, **fields: Any) -> None:
        """Store one event directly (the structlog processor does this for log calls)."""
        self.writer.add_event(
            EventRow(request_id or current_request_id(), self.clock.time(), level, sanitize(event), None,
                     sanitize_value(fields))
        )

    def audit(
        self, action: str, *, user_id: str | int | None = None, request_id: str | None = None,
        outcome: str | None = None, detail: dict[str, Any] | None = None,
    ) -> None:
        """Record an audited action (a bot command) with its request id."""
        self.read_store().add_audit(
            self.clock.time(), sanitize(action), request_id=request_id or current_request_id(),
            user_id=None if user_id is None else str(user_id), outcome=outcome,
            detail=sanitize_value(detail) if detail else None,
        )

    # -- reading ------------------------------------------------------------

    def summarize(
        self, operation: str | None = None, window: float | str = "1h", *, top_errors: int = 3
    ) -> list[OperationSummary]:
        """Per-operation summaries over the last `window`, each with its top errors."""
        from metrics.summary import error_group, summarize_latencies, summarize_rows

        seconds = parse_duration(window)
        store = self.read_store()
        now = self.clock.time()
        start = now - seconds
        rows = store.window_rows(start, now, operation)
        summaries = summarize_rows(rows, seconds)
        if operation is not None and operation not in summaries:
            summaries[operation] = summarize_latencies(operation, seconds, ())
        result = []
        for name, summary in summaries.items():
            groups: list[ErrorGroup] = []
            if summary.errors and top_errors:
                groups = [error_group(g) for g in store.error_groups(start, now, name, limit=top_errors)]
            result.append(summary.model_copy(update={"top_errors": groups}))
        return result

    def top_errors(self, window: float | str = "1h", operation: str | None = None, limit: int = 10) -> list[ErrorGroup]:
        """Errors in the window grouped by fingerprint, most frequent first."""
        from metrics.summary import error_group

        seconds = parse_duration(window)
        now = self.clock.time()
        return [error_group(g) for g in self.read_store().error_groups(now - seconds, now, operation, limit)]

    def events(self, request_id: str) -> list[EventRow]:
        """The stored events of one request, in order."""
        return self.read_store().events_for_request([request_id])

    def investigate(self, request_id: str, *, window: float | str = "15m") -> TriageReport:
        """The triage report of one request id."""
        from metrics.triage import investigate

        store = self.read_store()
        return investigate(
            store, request_id.strip(), self.alerts.open_alerts(), window_s=parse_duration(window),
            retention_s=self.retention_s,
        )

    def recent_scans(self, root: str | None = None, limit: int = 5) -> list[ScanRow]:
        """The latest recorded scans, newest first."""
        return self.read_store().recent_scans(root, limit)

    # -- alerts -------------------------------------------------------------

    def evaluate_alerts(self, now: float | None = None) -> list[Notification]:
        """Run the alert rules once and notify (see AlertManager.evaluate)."""
        return self.alerts.evaluate(now)

    async def aevaluate_alerts(self, now: float | None = None) -> list[Notification]:
        """Run the alert rules once and await async notifiers."""
        return await self.alerts.aevaluate(now)

    def open_alerts(self) -> list[Alert]:
        """Pending and firing alerts."""
        return self.alerts.open_alerts()

    def silence(self, target: str | int, duration: float | str, **kwargs: Any) -> Silence:
        """Silence a rule or one alert for a while."""
        return self.alerts.silence(target, duration, **kwargs)


_lock = threading.RLock()
_runtime: Runtime | None = None
_atexit_registered = False


def get_runtime() -> Runtime:
    """The global runtime; unconfigured (rows queued in memory) until `configure()`."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime(None)
            _register_atexit()
        return _runtime


def configure(
    db: str | Path | Store | None = None,
    *,
    clock: Clock | None = None,
    batch_size: int = 5000,
    flush_interval: float = 1.0,
    background: bool = True,
    busy_timeout: float = 5.0,
    settings: MetricsSettings | None = None,
    rules: Sequence[Rule] | None = None,
    notifiers: Iterable[Notifier] | None = None,
) -> Runtime:
    """Point the metrics package at a store (a path, a Store, or $CODEBOT_DB / .codebot/index.db).

    Rows queued before configuration are written to the new store; notifiers
    registered on the previous runtime are kept unless `notifiers` is given.
    """
    global _runtime
    owns = not isinstance(db, Store)
    store = db if isinstance(db, Store) else Store(db if db is not None else default_db_path(), busy_timeout=busy_timeout)
    with _lock:
        old = _runtime
        if notifiers is None and old is not None and old.notifiers is not None:
            notifiers = list(old.notifiers)
        new = Runtime(
            store, clock=clock or SYSTEM_CLOCK, batch_size=batch_size, flush_interval=flush_interval,
            background=background, retention=settings.retention_s if settings else "30d",
            rules=rules, notifiers=notifiers, owns_store=owns, settings=settings,
        )
        if old is not None:
            if old.store is None:
                new.writer.adopt(old.writer)
            else:
                old.close()
        _runtime = new
        _register_atexit()
    new.writer.flush()
    return new


def shutdown() -> None:
    """Write everything queued, close the store and forget the configuration."""
    global _runtime
    with _lock:
        runtime, _runtime = _runtime, None
    if runtime is not None:
        runtime.close()


def _register_atexit() -> None:
    global _atexit_registered
    if not _atexit_registered:
        atexit.register(_flush_at_exit)
        _atexit_registered = True


def _flush_at_exit() -> None:
    runtime = _runtime
    if runtime is not None and runtime.store is not None:
        runtime.close()
