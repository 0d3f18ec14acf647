"""Tests of metrics.writer: batching by size and time, no row lost under concurrency, locks or crashes."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import metrics
from metrics.clock import ManualClock
from metrics.exceptions import StoreLockedError
from metrics.records import MetricRow, Status
from metrics.store import Store
from metrics.testing import configured
from metrics.writer import BatchWriter

ROOT = Path(__file__).resolve().parents[1]


def metric(n: int) -> MetricRow:
    return MetricRow(f"req-{n:012x}", "scan", Status.SUCCESS.value, 1.0, 1.0, 1.0)


def test_flushes_when_the_batch_is_full(tmp_path):
    """Rows stay queued until batch_size is reached, then go to the store in one write."""
    with Store(tmp_path / "index.db") as store:
        writer = BatchWriter(store, batch_size=10, flush_interval=3600, clock=ManualClock(), background=False)
        for n in range(9):
            writer.add_metric(metric(n))
        assert store.count_rows() == 0 and writer.pending() == 9
        writer.add_metric(metric(9))
        assert store.count_rows() == 10 and writer.pending() == 0


def test_flushes_when_the_interval_has_passed(tmp_path):
    """A row added after flush_interval seconds of scripted time flushes the queue."""
    clock = ManualClock()
    with Store(tmp_path / "index.db") as store:
        writer = BatchWriter(store, batch_size=1000, flush_interval=2.0, clock=clock, background=False)
        writer.add_metric(metric(1))
        assert store.count_rows() == 0
        clock.advance(2.5)
        writer.add_metric(metric(2))
        assert store.count_rows() == 2


def test_failed_flush_keeps_the_rows_for_the_next_one(tmp_path):
    """A flush that meets a locked store raises and keeps every row queued; the retry writes them."""
    path = tmp_path / "index.db"
    with Store(path, busy_timeout=0.05) as store:
        writer = BatchWriter(store, batch_size=1000, flush_interval=3600, clock=ManualClock(), background=False)
        for n in range(5):
            writer.add_metric(metric(n))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreLockedError):
            writer.flush()
        assert writer.pending() == 5
        other.execute("ROLLBACK")
        other.close()
        assert writer.flush() == 5
        assert store.count_rows() == 5


def test_rows_queued_before_configure_are_written_after(tmp_path):
    """Requests tracked before a store is configured are kept in memory and written once it is."""
    metrics.shutdown()
    with metrics.track_request("early") as early:
        pass
    with configured(tmp_path / "index.db") as runtime:
        assert [r.operation for r in runtime.store.rows_for_request(early.request_id)] == ["early"]


def test_many_threads_and_tasks_lose_no_row(tmp_path):
    """Eight threads and sixty asyncio tasks tracking requests at once leave exactly one row each."""
    threads_n, per_thread, tasks_n, per_task = 8, 200, 60, 10
    with configured(tmp_path / "index.db", batch_size=64, background=True, flush_interval=0.01) as runtime:
        barrier = threading.Barrier(threads_n + 1)

        def work(worker: int) -> None:
            barrier.wait()
            for n in range(per_thread):
                try:
                    with metrics.track_request("thread", user_id=worker):
                        if n % 7 == 0:
                            raise ValueError("odd input")
                except ValueError:
                    pass

        async def task(worker: int) -> None:
            for _ in range(per_task):
                async with metrics.track_request("task", user_id=worker):
                    await asyncio.sleep(0)

        async def all_tasks() -> None:
            await asyncio.gather(*(task(w) for w in range(tasks_n)))

        threads = [threading.Thread(target=work, args=(w,)) for w in range(threads_n)]
        for thread in threads:
            thread.start()
        barrier.wait()
        asyncio.run(all_tasks())
        for thread in threads:
            thread.join()
        metrics.flush()
        counts = dict(runtime.store.query("SELECT operation, COUNT(DISTINCT request_id) FROM metric_rows GROUP BY operation").__iter__())
        assert counts == {"thread": threads_n * per_thread, "task": tasks_n * per_task}
        hourly = sum(t["count"] for t in runtime.store.hourly_totals())
        assert hourly == threads_n * per_thread + tasks_n * per_task


def _run(code: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={"CODEBOT_DB": str(db), "PATH": "/usr/bin:/bin"},
    )


def test_crash_inside_tracked_code_still_records_the_metric(tmp_path):
    """An uncaught exception that ends the process still leaves its error row in the store."""
    db = tmp_path / "index.db"
    done = _run(
        """
        import metrics
        metrics.configure()
        with metrics.track_request("scan", metadata={"api_key": "k-123"}):
            raise RuntimeError("crashed with password=hunter2")
        """,
        db,
    )
    assert done.returncode == 1 and "RuntimeError" in done.stderr
    with Store(db) as store:
        (row,) = store.query("SELECT * FROM metric_rows")
        assert (row["operation"], row["status"], row["error_type"]) == ("scan", "error", "RuntimeError")
        assert "hunter2" not in row["error_message"] and "k-123" not in row["metadata"]


def test_normal_exit_flushes_without_an_explicit_call(tmp_path):
    """Rows still queued when the interpreter exits normally are written by the exit hook."""
    db = tmp_path / "index.db"
    done = _run(
        """
        import metrics
        metrics.configure(batch_size=10_000, flush_interval=3600, background=False)
        for _ in range(250):
            with metrics.track_request("bot.status"):
                pass
        """,
        db,
    )
    assert done.returncode == 0, done.stderr
    with Store(db) as store:
        assert store.count_rows() == 250


def test_busy_store_does_not_break_tracked_code(tmp_path):
    """When the store is locked by another writer, leaving a tracked block still succeeds and the row waits."""
    path = tmp_path / "index.db"
    with configured(path, batch_size=1, busy_timeout=0.05) as runtime:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with metrics.track_request("scan") as request:
            pass
        assert isinstance(runtime.writer.last_error, StoreLockedError)
        other.execute("ROLLBACK")
        other.close()
        metrics.flush()
        assert runtime.store.rows_for_request(request.request_id)


def test_after_a_failed_flush_automatic_flushes_back_off(tmp_path):
    """Once a flush met a lock, further adds do not retry (and wait) until the back-off has passed."""
    path = tmp_path / "index.db"
    clock = ManualClock()
    with Store(path, busy_timeout=0.05) as store:
        writer = BatchWriter(store, batch_size=1, flush_interval=1.0, clock=clock, background=False)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        writer.add_metric(metric(1))
        first = writer.last_error
        assert isinstance(first, StoreLockedError)
        other.execute("ROLLBACK")
        other.close()
        writer.add_metric(metric(2))
        assert writer.pending() == 2 and store.count_rows() == 0
        clock.advance(1.5)
        writer.add_metric(metric(3))
        assert writer.pending() == 0 and store.count_rows() == 3
