"""The SQLite adapter: schema, batched writes and the read queries of the metrics package.

The file is shared with the engine, so every table here carries a `metric_`
prefix and the schema version lives in the shared `schema_versions` table
under `component='metrics'`. WAL mode lets readers run while one writer
writes; a writer that finds the file locked waits `busy_timeout` seconds and
then raises StoreLockedError. All writes happen inside one transaction.
"""

from __future__ import annotations

import json
from bisect import bisect_left
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metrics.exceptions import SchemaError, StoreCorruptError, StoreError, StoreLockedError
from metrics.records import EventRow, MetricRow, ScanRow, Status
from metrics.sqlite import Fault, fault_of, foreign_tables, migrate

if TYPE_CHECKING:
    import sqlite_utils

SCHEMA_VERSION = 1
COMPONENT = "metrics"

# Upper bounds (ms) of the latency histogram buckets kept in the hourly aggregates
# and exposed to Prometheus; +Inf is the row count.
LATENCY_BUCKETS_MS: tuple[int, ...] = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
_BUCKET_COLUMNS = tuple(f"b_{bound}" for bound in LATENCY_BUCKETS_MS)

# In MetricRow field order, so a row can be bound as it is.
METRIC_COLUMNS = (
    "request_id", "operation", "status", "started_at", "ts", "latency_ms", "parent_id",
    "error_type", "error_code", "error_message", "fingerprint", "user_id", "metadata",
)
ERROR_STATUSES = (Status.ERROR.value, Status.TIMEOUT.value)


def _migrate_v1(db: sqlite_utils.Database) -> None:
    db["metric_rows"].create(
        {
            "id": int, "request_id": str, "parent_id": str, "operation": str, "status": str,
            "started_at": float, "ts": float, "latency_ms": float, "error_type": str,
            "error_code": str, "error_message": str, "fingerprint": str, "user_id": str,
            "metadata": str,
        },
        pk="id",
        not_null={"request_id", "operation", "status", "started_at", "ts", "latency_ms"},
        if_not_exists=True,
    )
    rows = db["metric_rows"]
    rows.create_index(["ts"], index_name="metric_rows_ts", if_not_exists=True)
    rows.create_index(["request_id"], index_name="metric_rows_request", if_not_exists=True)
    rows.create_index(["operation", "ts"], index_name="metric_rows_operation_ts", if_not_exists=True)
    # Each index slows the batch writes, so there are only four. The error index is
    # partial (errors are few); child requests and a user's requests are found
    # through the time index (within the parent's span, or a window around a request).
    db.execute(
        "CREATE INDEX IF NOT EXISTS metric_rows_fingerprint ON metric_rows(fingerprint, ts) "
        "WHERE fingerprint IS NOT NULL"
    )

    hourly: dict[str, Any] = {
        "hour": int, "operation": str, "status": str, "count": int,
        "latency_sum": float, "latency_max": float,
    }
    hourly.update({column: int for column in _BUCKET_COLUMNS})
    db["metric_hourly"].create(
        hourly, pk=("hour", "operation", "status"),
        not_null=set(hourly), defaults={column: 0 for column in _BUCKET_COLUMNS},
        if_not_exists=True,
    )

    db["metric_events"].create(
        {"id": int, "request_id": str, "ts": float, "level": str, "event": str, "logger": str, "fields": str},
        pk="id", not_null={"ts", "level", "event", "fields"}, if_not_exists=True,
    )
    db["metric_events"].create_index(["ts"], index_name="metric_events_ts", if_not_exists=True)
    db.execute(
        "CREATE INDEX IF NOT EXISTS metric_events_request ON metric_events(request_id, ts, id) "
        "WHERE request_id IS NOT NULL"
    )

    db["metric_scans"].create(
        {
            "id": int, "request_id": str, "ts": float, "root": str, "branch": str, "files": int,
            "duplication_pct": float, "new_clones": int, "duration_s": float, "status": str,
        },
        pk="id", not_null={"ts", "root", "files", "duplication_pct", "new_clones", "duration_s", "status"},
        if_not_exists=True,
    )
    db["metric_scans"].create_index(["root", "ts"], index_name="metric_scans_root_ts", if_not_exists=True)

    db["metric_alerts"].create(
        {
            "id": int, "rule": str, "key": str, "state": str, "severity": str, "title": str,
            "description": str, "operations": str, "snapshot": str, "suggestions": str,
            "runbook": str, "value": float, "threshold": float, "started_at": float,
            "fired_at": float, "last_notified_at": float, "resolved_at": float,
            "updated_at": float, "notifications": int,
        },
        pk="id", not_null={"rule", "key", "state", "started_at", "updated_at"},
        defaults={"notifications": 0}, if_not_exists=True,
    )
    # The database itself guarantees one open alert per rule and key.
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS metric_alerts_open ON metric_alerts(rule, key) "
        "WHERE state IN ('pending', 'firing')"
    )
    db["metric_alerts"].create_index(["updated_at"], index_name="metric_alerts_updated", if_not_exists=True)

    db["metric_silences"].create(
        {"id": int, "rule": str, "key": str, "created_at": float, "expires_at": float,
         "created_by": str, "reason": str},
        pk="id", not_null={"rule", "created_at", "expires_at"}, if_not_exists=True,
    )
    db["metric_audit"].create(
        {"id": int, "ts": float, "request_id": str, "user_id": str, "action": str,
         "outcome": str, "detail": str},
        pk="id", not_null={"ts", "action"}, if_not_exists=True,
    )
    db["metric_audit"].create_index(["ts"], index_name="metric_audit_ts", if_not_exists=True)
    db["metric_audit"].create_index(["request_id"], index_name="metric_audit_request", if_not_exists=True)


MIGRATIONS = {1: _migrate_v1}


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, separators=(",", ":"))


def _unjson(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def hourly_aggregates(rows: Sequence[MetricRow]) -> list[tuple[Any, ...]]:
    """Fold metric rows into (hour, operation, status) aggregates with cumulative latency buckets."""
    buckets = len(LATENCY_BUCKETS_MS)
    groups: dict[tuple[int, str, str], list[Any]] = {}
    for row in rows:
        key = (int(row.ts // 3600) * 3600, row.operation, row.status)
        acc = groups.get(key)
        if acc is None:
            acc = groups[key] = [0, 0.0, 0.0] + [0] * (buckets + 1)
        latency = row.latency_ms
        acc[0] += 1
        acc[1] += latency
        if latency > acc[2]:
            acc[2] = latency
        # One bisect per row into per-bucket counts; made cumulative once per group below.
        acc[3 + bisect_left(LATENCY_BUCKETS_MS, latency)] += 1
    result = []
    for (hour, operation, status), acc in groups.items():
        cumulative, running = [], 0
        for count in acc[3:3 + buckets]:
            running += count
            cumulative.append(running)
        result.append((hour, operation, status, acc[0], acc[1], acc[2], *cumulative))
    return result


_HOURLY_UPSERT = (
    "INSERT INTO metric_hourly (hour, operation, status, count, latency_sum, latency_max, "
    + ", ".join(_BUCKET_COLUMNS)
    + ") VALUES ("
    + ", ".join("?" * (6 + len(_BUCKET_COLUMNS)))
    + ") ON CONFLICT(hour, operation, status) DO UPDATE SET count = count + excluded.count, "
    "latency_sum = latency_sum + excluded.latency_sum, "
    "latency_max = max(latency_max, excluded.latency_max), "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in _BUCKET_COLUMNS)
)
_METRIC_INSERT = (
    f"INSERT INTO metric_rows ({', '.join(METRIC_COLUMNS)}) VALUES ({', '.join('?' * len(METRIC_COLUMNS))})"
)


def _metric_from_row(row: sqlite3.Row) -> MetricRow:
    return MetricRow(
        request_id=row["request_id"], operation=row["operation"], status=row["status"],
        started_at=row["started_at"], ts=row["ts"], latency_ms=row["latency_ms"],
        parent_id=row["parent_id"], error_type=row["error_type"], error_code=row["error_code"],
        error_message=row["error_message"], fingerprint=row["fingerprint"], user_id=row["user_id"],
        metadata=_unjson(row["metadata"]),
    )


def _scan_from_row(row: sqlite3.Row) -> ScanRow:
    return ScanRow(
        request_id=row["request_id"], ts=row["ts"], root=row["root"], branch=row["branch"],
        files=row["files"], duplication_pct=row["duplication_pct"], new_clones=row["new_clones"],
        duration_s=row["duration_s"], status=Status(row["status"]),
    )


_ALERT_JSON = ("operations", "snapshot", "suggestions")


def _alert_from_row(row: sqlite3.Row) -> dict[str, Any]:
    data = dict(row)
    for key in _ALERT_JSON:
        data[key] = _unjson(data[key]) or ([] if key != "snapshot" else {})
    return data


class Store:
    """A metrics store on one SQLite file; safe to share between threads."""

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        if str(path) != ":memory:":
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the folder for the metrics store {self.path}: {exc}") from exc
        with self._errors():
            try:
                self._conn = sqlite3.connect(
                    str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
                )
            except sqlite3.OperationalError as exc:
                raise StoreError(f"cannot open the metrics store {self.path}: {exc}") from exc
            self._conn.row_factory = sqlite3.Row
            self._db: sqlite_utils.Database | None = None
            try:
                self._refuse_foreign()
                self._conn.execute("PRAGMA journal_mode=WAL").fetchone()
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
            except BaseException:
                self._conn.close()
                raise

    # -- plumbing -----------------------------------------------------------

    def _refuse_foreign(self) -> None:
        """Add no tables to another application's database (one without schema_versions)."""
        foreign = foreign_tables(self._conn)
        if foreign:
            raise StoreError(
                f"{self.path} is another application's SQLite database ({foreign} tables, "
                "none of them CodeBot's); it was left untouched")

    @property
    def db(self) -> sqlite_utils.Database:
        """A sqlite-utils view of the connection (imported on first use: it is slow to import)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self._conn)
        return self._db

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"metrics store {self.path}: a write broke a constraint ({exc})") from exc
        except sqlite3.DatabaseError as exc:
            fault = fault_of(exc)
            if fault is Fault.LOCKED:
                raise StoreLockedError(
                    f"the metrics store {self.path} is locked by another writer; waited "
                    f"{self.busy_timeout:g}s (retry later or raise busy_timeout)"
                ) from exc
            if fault is Fault.DAMAGED:
                raise StoreCorruptError(
                    f"the metrics store {self.path} is damaged ({exc}); move it aside to start a new one"
                ) from exc
            if fault is Fault.NOT_A_DATABASE:
                raise StoreCorruptError(
                    f"{self.path} is not a usable SQLite database ({exc}); move it aside to start a new one"
                ) from exc
            raise StoreError(f"metrics store {self.path}: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run writes in one IMMEDIATE transaction, waiting up to busy_timeout for the lock."""
        with self._lock, self._errors():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Run one read query and return all rows."""
        with self._lock, self._errors():
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        """Close the connection; the store cannot be used afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self._lock, self._errors():
            found = migrate(self._conn, COMPONENT, SCHEMA_VERSION, MIGRATIONS)
        if found > SCHEMA_VERSION:
            raise SchemaError(
                f"{self.path} holds metrics schema v{found}, newer than v{SCHEMA_VERSION} "
                "known here; upgrade codebot"
            )

    def schema_version(self) -> int:
        """Return the metrics schema version recorded in the store."""
        rows = self.query("SELECT version FROM schema_versions WHERE component = ?", (COMPONENT,))
        return rows[0][0] if rows else 0

    # -- writes -------------------------------------------------------------

    def write_batch(
        self,
        metrics: Sequence[MetricRow] = (),
        events: Sequence[EventRow] = (),
        scans: Sequence[ScanRow] = (),
    ) -> None:
        """Write metric rows (and their hourly aggregates), events and scans in one transaction."""
        if not (metrics or events or scans):
            return
        metric_values = [r if r.metadata is None else r._replace(metadata=_json(r.metadata)) for r in metrics]
        with self.transaction() as conn:
            if metric_values:
                conn.executemany(_METRIC_INSERT, metric_values)
                conn.executemany(_HOURLY_UPSERT, hourly_aggregates(metrics))
            if events:
                conn.executemany(
                    "INSERT INTO metric_events (request_id, ts, level, event, logger, fields) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(e.request_id, e.ts, e.level, e.event, e.logger, _json(e.fields)) for e in events],
                )
            if scans:
                conn.executemany(
                    "INSERT INTO metric_scans (request_id, ts, root, branch, files, duplication_pct, "
                    "new_clones, duration_s, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (s.request_id, s.ts, s.root, s.branch, s.files, s.duplication_pct,
                         s.new_clones, s.duration_s, str(s.status))
                        for s in scans
                    ],
                )

    def prune(self, before: float) -> tuple[int, int]:
        """Delete metric rows and events older than `before`; hourly aggregates stay."""
        with self.transaction() as conn:
            rows = conn.execute("DELETE FROM metric_rows WHERE ts < ?", (before,)).rowcount
            events = conn.execute("DELETE FROM metric_events WHERE ts < ?", (before,)).rowcount
            conn.execute(
                "DELETE FROM metric_silences WHERE expires_at < ?", (before,)
            )
        return rows, events

    # -- metric reads -------------------------------------------------------

    def window_rows(self, start: float, end: float, operation: str | None = None) -> list[tuple[str, str, float]]:
        """(operation, status, latency_ms) of every request that finished in [start, end]."""
        if operation is None:
            sql = "SELECT operation, status, latency_ms FROM metric_rows WHERE ts >= ? AND ts <= ?"
            params: tuple[Any, ...] = (start, end)
        else:
            sql = (
                "SELECT operation, status, latency_ms FROM metric_rows "
                "WHERE operation = ? AND ts >= ? AND ts <= ?"
            )
            params = (operation, start, end)
        with self._lock, self._errors():
            return [tuple(row) for row in self._conn.execute(sql, params)]  # type: ignore[misc]

    def error_groups(
        self, start: float, end: float, operation: str | None = None, limit: int = 10
    ) -> list[dict[str, Any]]:
        """Errors in the window grouped by fingerprint, most frequent first."""
        where = "ts >= ? AND ts <= ? AND fingerprint IS NOT NULL"
        params: list[Any] = [start, end]
        if operation is not None:
            where += " AND operation = ?"
            params.append(operation)
        groups = self.query(
            f"SELECT fingerprint, COUNT(*) AS count, MIN(ts) AS first_seen, MAX(ts) AS last_seen "
            f"FROM metric_rows WHERE {where} GROUP BY fingerprint ORDER BY count DESC, last_seen DESC LIMIT ?",
            (*params, limit),
        )
        result = []
        for group in groups:
            last = self.query(
                "SELECT request_id, operation, status, error_type, error_code, error_message FROM metric_rows "
                "WHERE fingerprint = ? AND ts = ? LIMIT 1",
                (group["fingerprint"], group["last_seen"]),
            )[0]
            result.append({**dict(group), **dict(last), "last_request_id": last["request_id"]})
        return result

    def fingerprint_stats(self, fingerprint: str) -> dict[str, Any]:
        """All-time count, first and last sighting of one error fingerprint."""
        row = self.query(
            "SELECT COUNT(*) AS count, MIN(ts) AS first_seen, MAX(ts) AS last_seen FROM metric_rows "
            "WHERE fingerprint = ?",
            (fingerprint,),
        )[0]
        return dict(row)

    def rows_for_request(self, request_id: str) -> list[MetricRow]:
        """Every metric row recorded under one request id."""
        rows = self.query("SELECT * FROM metric_rows WHERE request_id = ? ORDER BY ts, id", (request_id,))
        return [_metric_from_row(row) for row in rows]

    def child_rows(self, parent: MetricRow, limit: int = 100) -> list[MetricRow]:
        """Metric rows of operations nested inside `parent` (they finish within its span)."""
        rows = self.query(
            "SELECT * FROM metric_rows WHERE ts >= ? AND ts <= ? AND parent_id = ? ORDER BY started_at, id LIMIT ?",
            (parent.started_at, parent.ts, parent.request_id, limit),
        )
        return [_metric_from_row(row) for row in rows]

    def nearby_rows(
        self,
        *,
        start: float,
        end: float,
        exclude: str,
        operation: str | None = None,
        user_id: str | None = None,
        fingerprint: str | None = None,
        limit: int = 10,
    ) -> list[MetricRow]:
        """Requests in [start, end] sharing the operation, user or error fingerprint given."""
        if fingerprint is not None:
            column, value = "fingerprint", fingerprint
        elif user_id is not None:
            column, value = "user_id", user_id
        elif operation is not None:
            column, value = "operation", operation
        else:
            return []
        rows = self.query(
            f"SELECT * FROM metric_rows WHERE {column} = ? AND ts >= ? AND ts <= ? AND request_id != ? "
            "ORDER BY ts DESC LIMIT ?",
            (value, start, end, exclude, limit),
        )
        return [_metric_from_row(row) for row in rows]

    def count_rows(self) -> int:
        """Number of raw metric rows kept."""
        return self.query("SELECT COUNT(*) FROM metric_rows")[0][0]

    def hourly_totals(self) -> list[dict[str, Any]]:
        """Lifetime totals per operation and status from the hourly aggregates."""
        sums = ", ".join(f"SUM({c}) AS {c}" for c in _BUCKET_COLUMNS)
        rows = self.query(
            f"SELECT operation, status, SUM(count) AS count, SUM(latency_sum) AS latency_sum, "
            f"MAX(latency_max) AS latency_max, {sums} FROM metric_hourly GROUP BY operation, status "
            "ORDER BY operation, status"
        )
        return [dict(row) for row in rows]

    def hourly(self, start: float, end: float) -> list[dict[str, Any]]:
        """Hourly aggregate rows whose hour starts in [start, end]."""
        rows = self.query(
            "SELECT * FROM metric_hourly WHERE hour >= ? AND hour <= ? ORDER BY hour, operation, status",
            (start, end),
        )
        return [dict(row) for row in rows]

    # -- events -------------------------------------------------------------

    def events_for_request(self, request_ids: Sequence[str], limit: int = 1000) -> list[EventRow]:
        """Events of the given request ids in time order."""
        if not request_ids:
            return []
        marks = ", ".join("?" * len(request_ids))
        rows = self.query(
            f"SELECT * FROM metric_events WHERE request_id IN ({marks}) ORDER BY ts, id LIMIT ?",
            (*request_ids, limit),
        )
        return [
            EventRow(row["request_id"], row["ts"], row["level"], row["event"], row["logger"], _unjson(row["fields"]))
            for row in rows
        ]

    # -- scans --------------------------------------------------------------

    def recent_scans(self, root: str | None = None, limit: int = 2) -> list[ScanRow]:
        """The latest successful scans, newest first, of one root or of any."""
        if root is None:
            rows = self.query(
                "SELECT * FROM metric_scans WHERE status = 'success' ORDER BY ts DESC, id DESC LIMIT ?", (limit,)
            )
        else:
            rows = self.query(
                "SELECT * FROM metric_scans WHERE root = ? AND status = 'success' ORDER BY ts DESC, id DESC LIMIT ?",
                (root, limit),
            )
        return [_scan_from_row(row) for row in rows]

    def scan_roots(self) -> list[str]:
        """Every root that has been scanned."""
        return [row[0] for row in self.query("SELECT DISTINCT root FROM metric_scans ORDER BY root")]

    # -- alerts and silences ------------------------------------------------

    def open_alerts(self) -> list[dict[str, Any]]:
        """Alerts that are pending or firing, oldest first."""
        rows = self.query("SELECT * FROM metric_alerts WHERE state IN ('pending', 'firing') ORDER BY id")
        return [_alert_from_row(row) for row in rows]

    def alerts(self, *, since: float | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Alerts updated since a time (all if None), newest first."""
        rows = self.query(
            "SELECT * FROM metric_alerts WHERE updated_at >= ? ORDER BY updated_at DESC, id DESC LIMIT ?",
            (since if since is not None else float("-inf"), limit),
        )
        return [_alert_from_row(row) for row in rows]

    def alert(self, alert_id: int) -> dict[str, Any] | None:
        """One alert by id."""
        rows = self.query("SELECT * FROM metric_alerts WHERE id = ?", (alert_id,))
        return _alert_from_row(rows[0]) if rows else None

    def save_alert(self, alert: dict[str, Any]) -> int:
        """Insert an alert (no id) or update it (with id); returns its id."""
        values = {key: (_json(value) if key in _ALERT_JSON else value) for key, value in alert.items()}
        alert_id = values.pop("id", None)
        with self.transaction() as conn:
            if alert_id is None:
                columns = ", ".join(values)
                cursor = conn.execute(
                    f"INSERT INTO metric_alerts ({columns}) VALUES ({', '.join('?' * len(values))})",
                    tuple(values.values()),
                )
                return int(cursor.lastrowid or 0)
            assignments = ", ".join(f"{key} = ?" for key in values)
            conn.execute(f"UPDATE metric_alerts SET {assignments} WHERE id = ?", (*values.values(), alert_id))
            return int(alert_id)

    def add_silence(
        self, rule: str, key: str | None, created_at: float, expires_at: float, created_by: str | None, reason: str | None
    ) -> int:
        """Store a silence for a rule (and optionally one key) until `expires_at`."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO metric_silences (rule, key, created_at, expires_at, created_by, reason) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (rule, key, created_at, expires_at, created_by, reason),
            )
            return int(cursor.lastrowid or 0)

    def active_silences(self, now: float) -> list[dict[str, Any]]:
        """Silences that have not expired at `now`."""
        rows = self.query(
            "SELECT * FROM metric_silences WHERE created_at <= ? AND expires_at > ? ORDER BY expires_at", (now, now)
        )
        return [dict(row) for row in rows]

    # -- audit --------------------------------------------------------------

    def add_audit(
        self, ts: float, action: str, *, request_id: str | None, user_id: str | None,
        outcome: str | None, detail: dict[str, Any] | None,
    ) -> None:
        """Record one audited action (a bot command, an admin change)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO metric_audit (ts, request_id, user_id, action, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)",
                (ts, request_id, user_id, action, outcome, _json(detail)),
            )

    def audit_log(self, *, since: float | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Audited actions, newest first."""
        rows = self.query(
            "SELECT * FROM metric_audit WHERE ts >= ? ORDER BY ts DESC, id DESC LIMIT ?",
            (since if since is not None else float("-inf"), limit),
        )
        return [{**dict(row), "detail": _unjson(row["detail"])} for row in rows]
