"""Tests of metrics.store: schema, transactions, locking, corruption and pruning on real SQLite files."""

from __future__ import annotations

import sqlite3
import time

import pytest

from metrics.exceptions import SchemaError, StoreCorruptError, StoreError, StoreLockedError
from metrics.records import MetricRow, Status
from metrics.store import LATENCY_BUCKETS_MS, Store, hourly_aggregates


def row(ts: float, latency: float = 12.0, status: str = Status.SUCCESS.value, operation: str = "scan", rid: str = "req-000000000001") -> MetricRow:
    return MetricRow(rid, operation, status, ts - latency / 1000, ts, latency)


def test_schema_version_shares_the_table_with_the_engine(tmp_path):
    """The metrics version is one row of schema_versions, next to the engine's own row."""
    path = tmp_path / "index.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_versions(component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_versions VALUES ('engine', 3)")
    conn.commit()
    conn.close()
    with Store(path) as store:
        rows = dict(store.query("SELECT component, version FROM schema_versions").__iter__())
        assert rows == {"engine": 3, "metrics": 1}
        assert store.query("PRAGMA journal_mode")[0][0] == "wal"
        tables = set(store.db.table_names())
        assert {t for t in tables if not t.startswith("metric_")} == {"schema_versions"}


def test_reopening_keeps_data_and_version(tmp_path):
    """A second open of the same file migrates nothing and sees the rows written before."""
    path = tmp_path / "index.db"
    with Store(path) as store:
        store.write_batch([row(100.0)])
    with Store(path) as store:
        assert store.schema_version() == 1
        assert store.count_rows() == 1


def test_newer_schema_is_refused(tmp_path):
    """A store written by a newer metrics schema raises SchemaError instead of being altered."""
    path = tmp_path / "index.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_versions SET version = 99 WHERE component = 'metrics'")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match="upgrade"):
        Store(path)


def test_corrupt_file_gives_a_clear_error(tmp_path):
    """A file that is not SQLite raises StoreCorruptError naming the file and what to do."""
    path = tmp_path / "index.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreCorruptError, match="index.db.*move it aside"):
        Store(path)


def test_locked_store_waits_then_fails_clearly(tmp_path):
    """While another connection holds the write lock a write waits busy_timeout and raises StoreLockedError."""
    path = tmp_path / "index.db"
    store = Store(path, busy_timeout=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    started = time.perf_counter()
    with pytest.raises(StoreLockedError, match="locked by another writer"):
        store.write_batch([row(1.0)])
    assert time.perf_counter() - started >= 0.15
    other.execute("ROLLBACK")
    store.write_batch([row(1.0)])
    assert store.count_rows() == 1
    other.close()
    store.close()


def test_failed_batch_leaves_nothing_behind(tmp_path):
    """A batch with one bad row is rolled back whole: no rows and no hourly aggregates."""
    with Store(tmp_path / "index.db") as store:
        bad = MetricRow("req-000000000002", None, "success", 1.0, 1.0, 1.0)  # type: ignore[arg-type]
        with pytest.raises(StoreError, match="constraint") as caught:
            store.write_batch([row(1.0), bad])
        assert not isinstance(caught.value, StoreCorruptError)
        assert store.count_rows() == 0
        assert store.hourly(0, 10_000) == []


def test_hourly_aggregates_count_and_bucket_latencies(tmp_path):
    """Batches fold into per-hour, per-status aggregates with cumulative latency buckets, across batches."""
    with Store(tmp_path / "index.db") as store:
        store.write_batch([row(3600.0 + 1, 3.0), row(3600.0 + 2, 700.0)])
        store.write_batch([row(3600.0 + 3, 5.0), row(7200.0 + 5, 20.0, Status.ERROR.value)])
        hourly = {(h["hour"], h["status"]): h for h in store.hourly(0, 10_000)}
        first = hourly[(3600, "success")]
        assert (first["count"], first["latency_sum"], first["latency_max"]) == (3, 708.0, 700.0)
        assert (first["b_5"], first["b_500"], first["b_1000"], first["b_60000"]) == (2, 2, 3, 3)
        assert hourly[(7200, "error")]["count"] == 1 and hourly[(7200, "error")]["b_10"] == 0


def test_hourly_fold_matches_a_direct_count():
    """The Python fold gives per-bucket cumulative counts equal to counting latencies directly."""
    rows = [row(100.0, latency) for latency in (1, 5, 5.01, 99, 100, 250, 60_000, 90_000)]
    ((hour, _, status, count, total, peak, *buckets),) = hourly_aggregates(rows)
    assert (hour, status, count, peak) == (0, "success", 8, 90_000)
    assert buckets == [sum(1 for r in rows if r.latency_ms <= bound) for bound in LATENCY_BUCKETS_MS]


def test_prune_drops_old_rows_but_keeps_hourly_totals(tmp_path):
    """Retention pruning deletes old raw rows and events while the hourly aggregates stay."""
    with Store(tmp_path / "index.db") as store:
        store.write_batch([row(1000.0), row(2000.0), row(90_000.0)])
        assert store.prune(before=50_000.0) == (2, 0)
        assert store.count_rows() == 1
        assert sum(t["count"] for t in store.hourly_totals()) == 3


def test_opening_an_up_to_date_store_does_not_wait_for_a_writer(tmp_path):
    """An existing store opens at once even while another process holds the write lock."""
    path = tmp_path / "index.db"
    Store(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    started = time.perf_counter()
    with Store(path, busy_timeout=2.0) as store:
        assert store.schema_version() == 1
    assert time.perf_counter() - started < 1.0
    other.execute("ROLLBACK")
    other.close()
