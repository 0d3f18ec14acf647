"""The batch writer: queues metric rows, events and scans and flushes them in one transaction.

A flush happens when the queue reaches `batch_size`, when `flush_interval`
seconds have passed since the last flush (checked on every add and by an
optional background thread), on every read through the runtime, and at
interpreter exit. A failed flush puts its rows back, so none is lost while
the process lives.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from metrics.clock import SYSTEM_CLOCK, Clock
from metrics.exceptions import MetricsError
from metrics.records import EventRow, MetricRow, ScanRow
from metrics.store import Store

# Without a store (not configured yet) rows wait in memory; the cap keeps a
# process that never configures one from growing without bound.
MAX_PENDING = 200_000


class BatchWriter:
    """Thread-safe queue in front of a Store; `store` may be attached later."""

    def __init__(
        self,
        store: Store | None = None,
        *,
        batch_size: int = 5000,
        flush_interval: float = 1.0,
        clock: Clock = SYSTEM_CLOCK,
        background: bool = True,
        on_flush: Callable[[float], None] | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.store = store
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.clock = clock
        self.background = background
        self.on_flush = on_flush
        self.dropped = 0
        self.last_error: MetricsError | None = None
        self._metrics: list[MetricRow] = []
        self._events: list[EventRow] = []
        self._scans: list[ScanRow] = []
        self._size = 0
        self._retry_at = 0.0
        self._queue_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._flushing = threading.local()
        self._last_flush = clock.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- queueing -----------------------------------------------------------

    def add_metric(self, row: MetricRow) -> None:
        """Queue one metric row."""
        self._add(self._metrics, row)

    def add_event(self, row: EventRow) -> None:
        """Queue one event."""
        self._add(self._events, row)

    def add_scan(self, row: ScanRow) -> None:
        """Queue one scan's figures."""
        self._add(self._scans, row)

    def pending(self) -> int:
        """Number of queued items not yet written."""
        with self._queue_lock:
            return len(self._metrics) + len(self._events) + len(self._scans)

    def _add(self, queue: list, row: object) -> None:  # type: ignore[type-arg]
        with self._queue_lock:
            if self.store is None:
                if len(queue) < MAX_PENDING:
                    queue.append(row)
                else:
                    self.dropped += 1
                return
            queue.append(row)
            self._size += 1
            due = self._size >= self.batch_size
        if self._thread is None and self.background:
            self._start_thread()
        now = self.clock.monotonic()
        if now < self._retry_at or (not due and now - self._last_flush < self.flush_interval):
            return
        # A flush that logs (for example an error) must not flush again from inside itself.
        if getattr(self._flushing, "active", False):
            return
        try:
            self.flush()
        except MetricsError as exc:
            # The tracked code must not fail because the store is busy: the rows
            # stay queued for the next flush, and an explicit flush() still raises.
            self.last_error = exc

    # -- flushing -----------------------------------------------------------

    def attach(self, store: Store) -> None:
        """Point the writer at a store and write what was queued before."""
        self.store = store
        self.flush()

    def flush(self) -> int:
        """Write everything queued in one transaction; return the number of items written."""
        store = self.store
        if store is None:
            return 0
        with self._flush_lock:
            self._flushing.active = True
            try:
                with self._queue_lock:
                    metrics, self._metrics = self._metrics, []
                    events, self._events = self._events, []
                    scans, self._scans = self._scans, []
                    self._size = 0
                if not (metrics or events or scans):
                    self._last_flush = self.clock.monotonic()
                    return 0
                try:
                    store.write_batch(metrics, events, scans)
                except BaseException:
                    # Back off so a long lock held by another writer does not make every
                    # tracked request wait out the busy timeout again.
                    self._retry_at = self.clock.monotonic() + max(self.flush_interval, 1.0)
                    with self._queue_lock:
                        self._metrics[:0] = metrics
                        self._events[:0] = events
                        self._scans[:0] = scans
                        self._size = len(self._metrics) + len(self._events) + len(self._scans)
                    raise
                self._last_flush = self.clock.monotonic()
                self._retry_at = 0.0
            finally:
                self._flushing.active = False
        if self.on_flush is not None:
            self.on_flush(self.clock.time())
        return len(metrics) + len(events) + len(scans)

    def _start_thread(self) -> None:
        with self._queue_lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._run, name="metrics-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(max(self.flush_interval, 0.05)):
            try:
                self.flush()
            except MetricsError as exc:  # rows stay queued; the next flush retries
                self.last_error = exc

    def close(self) -> None:
        """Stop the background thread and write what is left."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        try:
            self.flush()
        finally:
            # Rows added after close wait in memory (capped) instead of hitting a closed store.
            self.store = None

    def adopt(self, other: BatchWriter) -> None:
        """Take over the rows queued in another writer (one that never had a store)."""
        with other._queue_lock:
            metrics, other._metrics = other._metrics, []
            events, other._events = other._events, []
            scans, other._scans = other._scans, []
        with self._queue_lock:
            self._metrics[:0] = metrics
            self._events[:0] = events
            self._scans[:0] = scans
            self._size = len(self._metrics) + len(self._events) + len(self._scans)
