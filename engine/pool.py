"""Stage 2 of a scan: read and fingerprint the planned files, in a process pool when
there are enough of them to pay for starting one."""
from __future__ import annotations

import gc
import os
import signal
import threading
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from engine.fingerprint import fingerprint_file
from engine.near_sign import parameters
from engine.records import FileResult, Job

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# Below this many files to read, starting worker processes costs more than it saves.
POOL_MIN_FILES = 64
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def fingerprint_all(jobs: list[Job], workers: int,
                    progress: Callable[[int, int], None] | None = None) -> Iterator[FileResult]:
    """Each job's FileResult, as workers finish them; `progress(done, total)` after each."""
    total = len(jobs)
    pool: ProcessPoolExecutor | None = None
    gc_was_enabled = gc.isenabled()
    gc.disable()  # nothing cyclic is built; collecting while trees live costs 5x
    if workers <= 1 or total < POOL_MIN_FILES:
        results: Iterable[FileResult] = map(_work, jobs)
    else:
        import multiprocessing  # with concurrent.futures, only when a pool is worth it
        from concurrent.futures import ProcessPoolExecutor

        parameters()  # made once here, inherited by every forked worker
        gc.freeze()
        # Forking a process that runs other threads (the bot's /scan) can copy a
        # held lock into the child and hang it; a fork server starts clean.
        method = "fork" if threading.active_count() == 1 else "forkserver"
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                                   initializer=_init_worker)
        # Biggest files first, small chunks: no worker is left with a big file at the end.
        jobs = sorted(jobs, key=lambda job: -job.size)
        results = pool.map(_work, jobs, chunksize=max(1, min(8, total // (workers * 16))))
    try:
        for done, result in enumerate(results, 1):
            if progress:
                progress(done, total)
            yield result
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            gc.unfreeze()
        if gc_was_enabled:
            gc.enable()


def _work(job: Job) -> FileResult:
    return fingerprint_file(job.path, job.language, job.known_hash, job.max_size, job.policy)


def _init_worker() -> None:
    gc.disable()
    _die_with_parent()


def _die_with_parent() -> None:
    """End this worker when the process that started it (this scan, or its fork server)
    dies — the OOM killer, kill -9 — instead of living on as an orphan: Linux's
    parent-death signal, and a check for a parent that died before it was set."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return  # not Linux: the pool's own broken-pipe handling is all there is
    if os.getppid() != parent:
        os._exit(1)
