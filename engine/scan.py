"""A whole scan, stage by stage: plan → fingerprint → inventory and corpus → detect →
a ScanRecord → the index.

    plan.plan                what to read, what to reuse, what vanished
    pool.fingerprint_all     read and fingerprint (a process pool); the fingerprints wait
                             on disk until saved (staging.Staging)
    inventory.take_inventory the tree as read; inventory.build_corpus its corpus
    detect.detect            exact, renamed and near-miss clone classes, with suggestions
    records.scan_stats       the report's figures; a ScanRecord of everything
    store.Store.save         one transaction

Only files whose size or mtime changed are read, and only files whose content
hash changed are parsed; everything else comes from the index. When no file
changed and the settings are the same, the previous scan's clones are reused as
they are. `check` runs the same stages on the files it is given (see `check`).
"""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

from engine import baseline
from engine.cluster import Cluster, fingerprint_on, spread_on
from engine.config import Settings
from engine.discover import common_root, discover, relative_path
from engine.interrupts import interrupts_held
from engine.inventory import Inventory, build_corpus, take_inventory
from engine.plan import plan
from engine.pool import fingerprint_all
from engine.records import (FileResult, Job, KeyedClone, RepoSpec, ScanRecord, ScanResult,
                            ScanStats, scan_stats)
from engine.repos import cross_repo_first, relative_repos
from engine.staging import Staging
from engine.store import LastScan, Store, default_db_path, scan_lock

# Called as (phase, done, total): phases "reading", "matching", "storing".
Progress = Callable[[str, int, int], None]
# Bump when stored clones (their suggestions) change meaning: a scan then detects afresh.
_CLONES_VERSION = 4  # 4: near copies that align in shape but call other APIs are not reported


def scan(paths: list[Path], settings: Settings, db_path: Path | None = None,
         progress: Progress | None = None, request_id: str | None = None,
         lock_timeout: float = 30.0, update_baseline: bool = False,
         force: bool = False, reported: bool = True,
         on_saved: Callable[[int], None] | None = None,
         cluster: Cluster | None = None, repos: Sequence[RepoSpec] = ()) -> ScanResult:
    """Scan `paths`, store the results in the index, and return the report's content.

    New clones are those the baseline does not accept (see `baseline`); without
    a baseline, those not in the last reported scan. `update_baseline` accepts all
    current clones (in the index and in ROOT/.codebot-baseline.json). With
    `reported=False` the scan is stored unreported: the caller marks it reported
    (`Store.mark_reported`) once its report and verdict are out. `on_saved(scan_id)`
    is called as the scan is committed, with Ctrl-C held off in between, so an
    interrupt can say truthfully whether the scan was saved. A `cluster` (see
    `cluster.connected`) does the pool's and matching's work; `repos` (checked, see
    `repos.validate`) name the repositories among `paths`.
    """
    clock, started_at = time.perf_counter(), datetime.now(timezone.utc)
    paths = [p.absolute() for p in paths]
    root = common_root(paths)
    db_path, named = db_path or default_db_path(root), relative_repos(repos, root)
    report = progress or (lambda phase, done, total: None)
    # One scan of an index at a time: a second one waits, then reuses the first's results.
    with scan_lock(db_path, lock_timeout), \
            Store(db_path, timeout=lock_timeout, force=force) as store, \
            Staging(db_path) as staging:
        known = store.known_files()
        work = plan(discover(paths, root, set(settings.lang), settings.exclude), known,
                    settings, paths)
        if work.jobs or work.vanished:
            store.verify()  # never write into a damaged file
        read = staging.stage(_read(work.jobs, settings, cluster, report))
        tree = take_inventory(work, read, known, root)
        last = store.last_scan(str(root))
        settings_key, file_hashes = _settings_key(settings), tree.file_hashes()
        report("matching", 0, 1)
        keyed, clones_of = _clones(tree, staging, file_hashes, settings_key, store, last,
                                   settings, root, cluster)
        report("matching", 1, 1)
        accepted = baseline.accepted_of(keyed) if update_baseline else baseline.load(root, store)
        new_keys = baseline.new_keys(keyed, accepted, last.clone_keys if last else frozenset())
        record = ScanRecord(
            root=str(root), request_id=request_id, started_at=started_at,
            settings={"key": settings_key, "fingerprint_key": settings.fingerprint_key()},
            file_hashes=file_hashes, stats=_stats(tree, keyed, clock),
            results=tree.results, touched=tree.touched, vanished=work.vanished,
            clones=keyed, new_keys=new_keys, reported=reported, clones_of=clones_of,
            repos=named, staged=staging.used)
        report("storing", 0, 1)
        with interrupts_held():  # the caller learns of the save exactly when it happens
            scan_id = store.save(record)
            if on_saved:
                on_saved(scan_id)
        if update_baseline:
            baseline.record(root, store, keyed)
        report("storing", 1, 1)
    new_ids = frozenset(c.id for c, k in keyed if k in new_keys)
    return ScanResult(root, record.stats, cross_repo_first([c for c, _ in keyed], named),
                      tuple(sorted(tree.skipped)), new_ids, request_id, scan_id, named)


def _read(jobs: list[Job], settings: Settings, cluster: Cluster | None,
          report: Progress) -> Iterator[FileResult]:
    """The jobs' results: from the cluster's workers when there is a cluster, else the pool."""
    def reading(done: int, total: int) -> None:
        report("reading", done, total)

    if cluster is not None and jobs:
        return fingerprint_on(cluster.client(), jobs, reading)
    return fingerprint_all(jobs, settings.worker_count, reading)


def _stats(tree: Inventory, keyed: list[KeyedClone], clock: float) -> ScanStats:
    """The report's figures of a scan that started at `clock` (perf_counter)."""
    return scan_stats(tree.counted(), [c for c, _ in keyed], reused=len(tree.stored),
                      parsed=len(tree.fresh), skipped=len(tree.skipped),
                      duration_s=time.perf_counter() - clock)


def _clones(tree: Inventory, staging: Staging, file_hashes: str, settings_key: str,
            store: Store, last: LastScan | None, settings: Settings, root: Path,
            cluster: Cluster | None) -> tuple[list[KeyedClone], int | None]:
    """The previous scan's clones (and its id) when neither the files nor the settings
    changed; else detected afresh (and None), keeping the suggestions of clones untouched
    by the changes; matched on the `cluster`'s workers when there is one."""
    same_settings = last is not None and _settings_of(last.settings) == settings_key
    if same_settings and last.file_hashes == file_hashes:
        return store.clones_of_scan(last.id), last.id
    from engine.detect import detect  # numpy, rapidfuzz: only when there is matching to do

    changed = {relative_path(path, root) for path in tree.fresh}
    previous = {key: clone for clone, key in store.clones_of_scan(last.id)
                if not any(f.path in changed for f in clone.fragments)} if same_settings else {}
    return detect(build_corpus(tree, store, root, staging), settings, root, previous=previous,
                  spread=spread_on(cluster)), None


def _settings_key(settings: Settings) -> str:
    return settings.detection_key() + settings.fingerprint_key() + f";c{_CLONES_VERSION}"


def _settings_of(stored: str) -> str:
    try:
        return json.loads(stored).get("key", "")
    except (ValueError, AttributeError):
        return ""
