"""A whole scan: discover → fingerprint (in a process pool) → match → suggest → store.

Only files whose size or mtime changed are read, and only files whose content
hash changed are parsed; everything else comes from the index. When no file
changed and the settings are the same, the previous scan's clones are reused
as they are.
"""
from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Container, Iterable, Iterator

from engine import baseline
from engine.config import Settings
from engine.discover import common_root, discover
from engine.detect import detect
from engine.fingerprint import fingerprint_file, unpack_columns
from engine.interrupts import interrupts_held
from engine.match import Corpus
from engine.near import parameters
from engine.records import (
    PARSED, SKIP_STATUSES, TOKENS, Clone, FileResult, ScanResult, ScanStats,
    SkippedFile, SourceFile,
)
from engine.store import KnownFile, Store, scan_lock

# Called as (phase, done, total): phases "reading", "matching", "storing".
Progress = Callable[[str, int, int], None]
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Below this many files to parse, starting worker processes costs more than it saves.
_POOL_MIN_FILES = 64

_Job = tuple[str, str, str, int, object, int]  # fingerprint_file's arguments, then the size


def default_db_path(root: Path) -> Path:
    return root / ".codebot" / "index.db"


def scan(paths: list[Path], settings: Settings, db_path: Path | None = None,
         progress: Progress | None = None, request_id: str | None = None,
         lock_timeout: float = 30.0, update_baseline: bool = False,
         force: bool = False, reported: bool = True,
         on_saved: Callable[[int], None] | None = None) -> ScanResult:
    """Scan `paths`, store the results in the index, and return the report's content.

    New clones are those the baseline does not accept (see `baseline`); without
    a baseline, those not in the last reported scan. `update_baseline` accepts all
    current clones (in the index and in ROOT/.codebot-baseline.json). With
    `reported=False` the scan is stored unreported: the caller marks it reported
    (`Store.mark_reported`) once its report and verdict are out. `on_saved(scan_id)`
    is called as the scan is committed, with Ctrl-C held off in between, so an
    interrupt can say truthfully whether the scan was saved.
    """
    clock = time.perf_counter()
    started_at = datetime.now(timezone.utc)
    paths = [p.absolute() for p in paths]
    root = common_root(paths)
    db_path = db_path or default_db_path(root)
    report = progress or (lambda phase, done, total: None)
    # One scan of an index at a time, from before the work: a second one waits and then
    # finds the first one's results stored.
    with scan_lock(db_path, lock_timeout), \
            Store(db_path, timeout=lock_timeout, force=force) as store:
        files = discover(paths, root, set(settings.lang), settings.exclude)
        known = store.known_files()
        fingerprint_key = settings.fingerprint_key()
        reused, jobs = _plan(files, known, fingerprint_key, settings)
        present = {str(f.path) for f in files}
        vanished = [p for p in known if p not in present and _under(p, paths)]
        if jobs or vanished:
            store.verify()  # never write into a damaged file
        results: list[FileResult] = []
        seen: dict[str, KnownFile] = {}
        for result in _run(jobs, settings.worker_count,
                           lambda done, total: report("reading", done, total)):
            if result.status == "unchanged":
                seen[result.path] = known[result.path]._replace(
                    size=result.size, mtime_ns=result.mtime_ns)
            else:
                results.append(result)
        current = {**{p: known[p] for p in reused}, **seen}
        skipped = [SkippedFile(_rel(f.path, root), f.status + (f": {f.error}" if f.error else ""))
                   for f in results if f.status in SKIP_STATUSES]
        skipped += [SkippedFile(_rel(p, root), k.status + (f": {k.error}" if k.error else ""))
                    for p, k in current.items() if k.status in SKIP_STATUSES]
        fingerprinted = {r.path: r for r in results if r.status in (PARSED, TOKENS)}
        stored = [p for p, k in current.items() if k.status in (PARSED, TOKENS)]
        settings_key = _settings_key(settings)
        file_hashes = _file_hashes(
            [(p, current[p].hash) for p in stored] + [(p, r.content_hash) for p, r in fingerprinted.items()])
        last = store.last_scan(str(root))
        report("matching", 0, 1)
        if last and _settings_of(last.settings) == settings_key and last.file_hashes == file_hashes:
            keyed = store.clones_of_scan(last.id)
        else:
            columns = store.fingerprint_columns(current[p].id for p in stored)
            corpus = Corpus()
            for path in sorted([*stored, *fingerprinted]):
                if path in fingerprinted:
                    blob = fingerprinted[path].blob
                    if blob:
                        corpus.add_file(_rel(path, root), *unpack_columns(blob))
                elif current[path].id in columns:
                    corpus.add_file(_rel(path, root), *columns[current[path].id])
            # Suggestions of clones untouched by this scan's changes are kept (when they were
            # made under the same settings).
            changed = {_rel(path, root) for path in fingerprinted}
            same = last is not None and _settings_of(last.settings) == settings_key
            previous = {key: clone for clone, key in store.clones_of_scan(last.id)
                        if not any(f.path in changed for f in clone.fragments)} if same else {}
            keyed = detect(corpus, settings, root, previous=previous)
        report("matching", 1, 1)
        clones = [c for c, _ in keyed]
        accepted = baseline.accepted_of(keyed) if update_baseline else baseline.load(root, store)
        if accepted is not None:
            new_keys = frozenset(k for c, k in keyed if not baseline.is_accepted(c, k, accepted))
        else:
            previous_keys = last.clone_keys if last else frozenset()
            new_keys = frozenset(k for _, k in keyed if k not in previous_keys)
        line_count = sum(current[p].lines for p in stored) + sum(r.lines for r in fingerprinted.values())
        duplicated = duplicated_lines(clones)
        stats = ScanStats(
            files=len(stored) + len(fingerprinted),
            lines=line_count,
            tokens=sum(current[p].tokens for p in stored) + sum(r.tokens for r in fingerprinted.values()),
            duplicated_lines=duplicated,
            duplication_pct=round(100.0 * duplicated / line_count, 2) if line_count else 0.0,
            duration_s=round(time.perf_counter() - clock, 3),
            files_reused=len(stored),  # reused with their fingerprints (skipped ones aside)
            files_parsed=len(fingerprinted),
            files_skipped=len(skipped),
        )
        report("storing", 0, 1)
        with interrupts_held():  # the caller learns of the save exactly when it happens
            scan_id = store.save_scan(
                root=str(root), request_id=request_id, started_at=started_at,
                settings={"key": settings_key, "fingerprint_key": fingerprint_key},
                file_hashes=file_hashes, stats=stats, results=results, seen=seen,
                vanished=vanished, clones=keyed, new_keys=new_keys, reported=reported)
            if on_saved:
                on_saved(scan_id)
        if update_baseline:
            baseline.record(root, store, keyed)
        report("storing", 1, 1)
    new_ids = frozenset(c.id for c, k in keyed if k in new_keys)
    return ScanResult(root, stats, tuple(clones), tuple(sorted(skipped)), new_ids, request_id,
                      scan_id)


def _plan(files: list[SourceFile], known: dict[str, KnownFile], fingerprint_key: str,
          settings: Settings) -> tuple[list[str], list[_Job]]:
    """Split the files into those reused untouched and the jobs that read them."""
    reused: list[str] = []
    jobs: list[_Job] = []
    policy = settings.noise_policy
    for file in files:
        path = str(file.path)
        row = known.get(path)
        fresh = row is not None and row.fingerprint_key == fingerprint_key \
            and row.language == file.language
        if fresh and row.size == file.size and row.mtime_ns == file.mtime_ns:
            reused.append(path)
        else:
            jobs.append((path, file.language, row.hash if fresh else "",
                         settings.max_file_size, policy, file.size))
    return reused, jobs


def _work(job: _Job) -> FileResult:
    return fingerprint_file(*job[:5])  # type: ignore[arg-type]


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


def _run(jobs: list[_Job], workers: int,
         progress: Callable[[int, int], None] | None) -> Iterator[FileResult]:
    total = len(jobs)
    pool = None
    gc_was_enabled = gc.isenabled()
    gc.disable()  # nothing cyclic is built; collecting while trees live costs 5x
    if workers <= 1 or total < _POOL_MIN_FILES:
        results: Iterable[FileResult] = map(_work, jobs)
    else:
        parameters()  # made once here, inherited by every forked worker
        gc.freeze()
        # Forking a process that runs other threads (the bot's /scan) can copy a
        # held lock into the child and hang it; a fork server starts clean.
        method = "fork" if threading.active_count() == 1 else "forkserver"
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                                   initializer=_init_worker)
        # Biggest files first, small chunks: no worker is left with a big file at the end.
        jobs = sorted(jobs, key=lambda job: -job[5])
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


def duplicated_lines(clones: Iterable[Clone], paths: Container[str] | None = None) -> int:
    """Lines covered by at least one fragment (of the files in `paths`, if given)."""
    covered: dict[str, set[int]] = {}
    for clone in clones:
        for f in clone.fragments:
            if paths is None or f.path in paths:
                covered.setdefault(f.path, set()).update(range(f.start_line, f.end_line + 1))
    return sum(len(lines) for lines in covered.values())


# Bump when stored clones (their suggestions) change meaning: a scan then detects afresh.
_CLONES_VERSION = 2  # 2: secret-looking literals masked in suggestions


def _settings_key(settings: Settings) -> str:
    return settings.model_dump_json(include={"min_lines", "min_tokens", "threshold"}) \
        + settings.fingerprint_key() + f";c{_CLONES_VERSION}"


def _settings_of(stored: str) -> str:
    try:
        return json.loads(stored).get("key", "")
    except (ValueError, AttributeError):
        return ""


def _file_hashes(pairs: list[tuple[str, str]]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for path, content in sorted(pairs):
        digest.update(f"{path}\0{content}\n".encode())
    return digest.hexdigest()


def _rel(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path


def _under(path: str, tops: list[Path]) -> bool:
    return any(Path(path).is_relative_to(top) for top in tops)
