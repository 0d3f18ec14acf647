"""A scan on a Dask cluster (`scan --cluster local|tcp://HOST:PORT`).

Fingerprinting: the planned files are fingerprinted by the cluster's workers instead of
the local pool. The jobs go out in batches (the biggest files first), each batch one
task running the same per-file function as the pool (`fingerprint.fingerprint_file`);
the results come back as batches finish and go to the same code that writes the index,
on the client. Workers read the files by path: on a cluster of other machines they must
see the scanned tree under the same absolute paths (a shared file system).

Matching: its partitioned steps run through a `Spread` — in this process for a local
scan (`IN_PROCESS`), or one task per partition on the cluster (`spread_on`). The steps
are the same functions either way, so a scan on a cluster finds what a local one finds.

Dask is imported only here and only when a cluster is asked for: without the `cluster`
extra installed, `--cluster` is a usage error that says what to install.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import pickle
import re
import signal
import threading
import uuid
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple, Protocol

from engine.exceptions import ClusterError, UsageError
from engine.fingerprint import fingerprint_file
from engine.records import FileResult, FileStatus, Job

if TYPE_CHECKING:
    from distributed import Client

# How long to wait for a scheduler at an address before giving up (seconds).
CONNECT_TIMEOUT = 5.0
INSTALL_HINT = "pip install 'codebot[cluster]'  (or: pip install 'dask[distributed]')"
_ADDRESS = re.compile(r"tcp://[A-Za-z0-9.\-]+:[0-9]{1,5}|tcp://\[[0-9A-Fa-f:]+\]:[0-9]{1,5}")
# Files per task at most: enough to make a task's overhead small beside its work.
_MAX_BATCH = 32


class Task(Protocol):
    """Work sent off: its result when done."""

    def result(self) -> Any: ...


class Spread(NamedTuple):
    """Where matching's partitioned steps run: `run(function, payloads)` is each payload's
    result, in order; `parts` is how many partitions are worth making. `submit(function,
    payload)` sends one job off at once (None: the caller's own pool, if any)."""

    run: Callable[[Callable[[Any], Any], Iterable[Any]], list[Any]]
    parts: int
    submit: Callable[[Callable[[Any], Any], Any], Task] | None = None


def _in_process(function: Callable[[Any], Any], payloads: Iterable[Any]) -> list[Any]:
    return [function(payload) for payload in payloads]


IN_PROCESS = Spread(_in_process, 1)
# Partitions per worker: two even out their sizes; more copy more of the blocks that
# several partitions' seeds lie in (see `match.RunPartition`).
_PARTS_PER_WORKER = 2


def spread_on(cluster: Cluster | None) -> Spread:
    """The cluster's workers as a Spread, one task per partition (IN_PROCESS for None)."""
    if cluster is None:
        return IN_PROCESS
    client = cluster.client()

    def run(function: Callable[[Any], Any], payloads: Iterable[Any]) -> list[Any]:
        return _run_on(client, function, payloads)

    def submit(function: Callable[[Any], Any], payload: Any) -> Task:
        # Pickled here: the scheduler keeps a queued task's arguments, and one bytes object
        # is all it holds, not the payload's objects (50 MiB of them for 9,500 clones, in
        # this process when the cluster is local).
        return _ClusterTask(client.submit(_unpacked, function, pickle.dumps(payload),
                                          pure=False, key=_task_key(function)))

    return Spread(run, _PARTS_PER_WORKER * _worker_count(client), submit)


def _task_key(function: Callable[[Any], Any]) -> str:
    """A task's key named after the step it runs, as Dask names its own."""
    return f"{function.__name__}-{uuid.uuid4().hex}"


def without_gc(function: Callable[[Any], Any], payload: Any) -> Any:
    """`function(payload)` with the cyclic garbage collector off, as in the local pool's
    workers: the steps build many small objects and no cycles, and collecting costs."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return function(payload)
    finally:
        if was_enabled:
            gc.enable()


def _unpacked(function: Callable[[Any], Any], packed: bytes) -> Any:
    return without_gc(function, pickle.loads(packed))


class _ClusterTask:
    """A job on the cluster, its payload in the task (small: run again elsewhere if its
    worker dies). Its result is fetched once and kept: each fetch is a round trip."""

    _NOT_YET = object()

    def __init__(self, future: Any) -> None:
        self._future = future
        self._result = self._NOT_YET

    def result(self) -> Any:
        if self._result is self._NOT_YET:
            with _failures_as_cluster_errors():
                self._result = self._future.result()
            self._future.release()
        return self._result


def _run_on(client: Client, function: Callable[[Any], Any], payloads: Iterable[Any]
            ) -> list[Any]:
    """Each payload sent straight to a worker as it is made (`scatter`: neither this
    process nor the scheduler keeps it) and `function` run there on it; the results in
    order, each payload dropped from its worker once its task is done."""
    futures = []
    try:
        with _failures_as_cluster_errors():
            for payload in payloads:
                [data] = client.scatter([payload], hash=False)
                # Before the jobs sent off by `submit` (suggestions): the scan waits on these.
                futures.append(client.submit(without_gc, function, data, pure=False,
                                             priority=1, key=_task_key(function)))
                del data, payload
            return client.gather(futures)
    finally:
        client.cancel(futures)


@contextlib.contextmanager
def _failures_as_cluster_errors() -> Iterator[None]:
    """A cluster that cannot finish the work (a task whose workers keep dying, a lost
    scheduler) is a ClusterError; an error raised by the task itself passes as it is."""
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    try:
        yield
    except (KilledWorker, CancelledError, OSError, TimeoutError) as exc:
        raise ClusterError(f"the Dask cluster lost the scan's work ({type(exc).__name__}: "
                           f"{exc}); the index keeps the previous scan") from exc


class ClusterSpec(NamedTuple):
    """Where to fingerprint: a LocalCluster of `workers` processes, or a scheduler address."""

    address: str | None  # None: start a LocalCluster
    workers: int


def cluster_spec(value: str | None, workers: int | None) -> ClusterSpec | None:
    """The `--cluster` and `--workers` options checked (None without `--cluster`); a bad
    value, or Dask not installed, is a UsageError."""
    if value is None:
        if workers is not None:
            raise UsageError("--workers needs --cluster local")
        return None
    if value != "local" and not _ADDRESS.fullmatch(value):
        raise UsageError(f"--cluster must be 'local' or a scheduler address such as "
                         f"tcp://HOST:8786, not {value!r}")
    if workers is not None and value != "local":
        raise UsageError("--workers applies to --cluster local only: a running scheduler "
                         "has the workers it has")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be 1 or more, not {workers}")
    _require_dask()
    return ClusterSpec(None if value == "local" else value, workers or os.cpu_count() or 1)


def _require_dask() -> None:
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise UsageError(f"--cluster needs Dask distributed, which is not installed: "
                         f"{INSTALL_HINT}") from exc


class Cluster:
    """A cluster to work on: a client of a running scheduler, or a LocalCluster started at
    the first `client()` call — an unchanged rescan, with nothing to fingerprint or
    match, starts no process."""

    def __init__(self, spec: ClusterSpec, stack: contextlib.ExitStack) -> None:
        self._spec, self._stack = spec, stack
        self._client: Client | None = None

    @property
    def started(self) -> bool:
        """Whether the cluster has been reached (or started) yet."""
        return self._client is not None

    def client(self) -> Client:
        if self._client is None:
            self._client = self._stack.enter_context(_client_of(self._spec))
        return self._client


@contextlib.contextmanager
def connected(spec: ClusterSpec | None) -> Iterator[Cluster | None]:
    """The cluster `spec` names (None for None); a scheduler address is reached at once,
    so a wrong one fails before any work. What is started here is closed on the way out,
    whatever ends the scan."""
    if spec is None:
        yield None
        return
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with contextlib.ExitStack() as stack:
        cluster = Cluster(spec, stack)
        if spec.address is not None:
            cluster.client()
        yield cluster


@contextlib.contextmanager
def _client_of(spec: ClusterSpec) -> Iterator[Client]:
    import dask
    from distributed import Client, LocalCluster

    if spec.address is not None:
        with _client(spec.address) as client:
            yield client
        return
    # The scheduler's HTTP server on any free port: 8787 may be another cluster's. The
    # workers' statistical profiler (a sample every 10 ms, for the dashboard) costs about
    # 5% of a scan's CPU, and nobody looks at it.
    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=spec.workers, threads_per_worker=1, processes=True,
                         dashboard_address=":0", silence_logs=logging.ERROR,
                         preload=[__name__]) as local, \
            Client(local, set_as_default=False) as client:
        yield client


def dask_setup(worker: object) -> None:
    """Run in each worker process of a LocalCluster as it starts (the workers' `preload`):
    SIGINT ignored. A Ctrl-C at the terminal reaches every process of its group; the scan
    alone acts on it, and closes the cluster."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _client(address: str) -> Iterator[Client]:
    """A client of the scheduler at `address`; unreachable within CONNECT_TIMEOUT s is a
    UsageError."""
    from distributed import Client

    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address} within "
                         f"{CONNECT_TIMEOUT:g} s: {exc}") from exc
    with client:
        yield client


def fingerprint_on(client: Client, jobs: list[Job],
                   progress: Callable[[int, int], None] | None = None) -> Iterator[FileResult]:
    """Each job's FileResult, fingerprinted by the cluster's workers, as batches finish;
    `progress(done, total)` after each file. A worker that cannot read a file the client
    can is a UsageError: the workers do not share the scanned tree."""
    from distributed import as_completed

    total = len(jobs)
    if not total:
        return
    futures = [client.submit(fingerprint_batch, batch, pure=False)
               for batch in _batches(jobs, _worker_count(client))]
    done = 0
    try:
        for future in as_completed(futures, loop=client.loop):
            with _failures_as_cluster_errors():
                results = future.result()
            future.release()  # its worker may drop the batch's results now
            for result in results:
                _check_shared(result)
                done += 1
                if progress:
                    progress(done, total)
                yield result
    finally:
        client.cancel(futures)


def fingerprint_batch(jobs: list[Job]) -> list[FileResult]:
    """The work of one task on a worker: the pool's per-file function over a batch (the
    collector off: collecting while syntax trees live costs 5x)."""
    return without_gc(_fingerprint_all, jobs)


def _fingerprint_all(jobs: list[Job]) -> list[FileResult]:
    return [fingerprint_file(job.path, job.language, job.known_hash, job.max_size, job.policy)
            for job in jobs]


def _batches(jobs: list[Job], workers: int) -> list[list[Job]]:
    """The jobs in batches, biggest files first, about 8 batches a worker at most."""
    ordered = sorted(jobs, key=lambda job: -job.size)
    size = max(1, min(_MAX_BATCH, len(ordered) // (workers * 8)))
    return [ordered[start:start + size] for start in range(0, len(ordered), size)]


def _worker_count(client: Client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def _check_shared(result: FileResult) -> None:
    if result.status is FileStatus.UNREADABLE and os.access(result.path, os.R_OK):
        raise UsageError(f"a cluster worker cannot read {result.path} ({result.error}); "
                         "the workers must see the scanned tree under the same paths")
