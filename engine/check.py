"""`check FILE ...`: the given files, fresh from disk, against the stored index of the rest.

The pre-commit entry. Only the given files are read: every other file's
fingerprints come from the index as the last scan stored them. The given
files' units replace their stored ones, matching is seeded from them alone
(`detect(..., seed_files=...)`), and what is left is filtered to the clones
the baseline does not accept. A fragment in a file that is gone from disk (a
renamed or deleted file the index still remembers) is dropped, so a rename is
not reported as a copy of itself.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import time
from bisect import bisect_left, bisect_right
from collections.abc import Set
from pathlib import Path
from typing import NamedTuple

import xxhash

from engine import baseline
from engine.config import Settings
from engine.detect import detect
from engine.discover import is_excluded, language_of
from engine.exceptions import StoreError, UsageError
from engine.fingerprint import fingerprint_file, unpack_columns
from engine.match import Corpus
from engine.records import (
    PARSED, TOKENS, Clone, FileResult, ScanResult, ScanStats, SkippedFile,
)
from engine.scan import default_db_path, duplicated_lines, scan
from engine.store import KnownFile, Store

ROOT_MARKERS = (".git", "pyproject.toml", ".codebot")
DELETED = "deleted: not on disk"


class CheckResult(NamedTuple):
    """What a check found, as a report, and what it had to say on the way."""

    report: ScanResult
    notes: tuple[str, ...]


def find_root(start: Path) -> Path:
    """The nearest folder from `start` upwards holding .git, pyproject.toml or .codebot."""
    start = start.absolute()
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return start


def root_of(files: list[Path]) -> Path:
    """The repository the checked files belong to (found from the files, not from the
    working directory); files of more than one repository are a usage error."""
    roots = {find_root(file.absolute().parent) for file in files}
    if len(roots) > 1:
        raise UsageError("the files belong to more than one repository ("
                         + ", ".join(sorted(map(str, roots))) + "); check them one repository "
                         "at a time")
    return roots.pop()


def check(files: list[Path], settings: Settings, root: Path, db_path: Path | None = None,
          lock_timeout: float = 30.0, request_id: str | None = None) -> CheckResult:
    """Clones that the given files take part in and the baseline does not accept."""
    clock = time.perf_counter()
    root = root.absolute()
    db = db_path or default_db_path(root)
    notes: list[str] = []
    targets, skipped = _targets(files, root, settings)
    fingerprint_key = settings.fingerprint_key()
    missing = _index_state(db, root, fingerprint_key, lock_timeout)
    if missing:
        notes.append(f"{missing}: building it first with a full scan of {root}")
        scan([root], settings, db, lock_timeout=lock_timeout)
    checked: dict[str, FileResult] = {}
    for path, (rel, language) in targets.items():
        result = fingerprint_file(path, language, "", settings.max_file_size,
                                  settings.noise_policy)
        if result.status in (PARSED, TOKENS):
            checked[rel] = result
        else:
            skipped.append(SkippedFile(rel, result.status + (f": {result.error}" if result.error else "")))
    prefix = f"{root}{os.sep}"
    with Store(db, timeout=lock_timeout) as store:
        accepted = baseline.load(root, store)
        indexed = {path[len(prefix):].replace(os.sep, "/"): row
                   for path, row in store.known_files().items() if path.startswith(prefix)}
        stored = {rel: row for rel, row in indexed.items()
                  if row.status in (PARSED, TOKENS) and row.fingerprint_key == fingerprint_key}
        corpus = _stored_corpus(store, str(root), stored)
    for skip in skipped:
        if skip.reason == DELETED and skip.path not in indexed:
            raise UsageError(f"{skip.path}: no such file (not on disk, and the index of {root} "
                             "never had it)")
    replaced = {rel for rel, _ in skipped} | checked.keys()
    stale = _tombstone(corpus, replaced)
    seeds: set[int] = set()
    for rel in sorted(checked):
        if checked[rel].blob:
            seeds.add(len(corpus.paths))
            corpus.add_file(rel, *unpack_columns(checked[rel].blob))
    found = detect(corpus, settings, root, seed_files=seeds) if seeds else []
    clones = []
    for clone, key in found:
        clone = _on_disk(clone, root, checked.keys(), stale)
        if clone is not None and not (accepted is not None
                                      and baseline.is_accepted(clone, key, accepted)):
            clones.append(clone)
    lines = sum(r.lines for r in checked.values())
    duplicated = duplicated_lines(clones, checked.keys())
    stats = ScanStats(
        files=len(checked), lines=lines, tokens=sum(r.tokens for r in checked.values()),
        duplicated_lines=duplicated,
        duplication_pct=round(100.0 * duplicated / lines, 2) if lines else 0.0,
        duration_s=round(time.perf_counter() - clock, 3), files_reused=len(stored.keys() - replaced),
        files_parsed=len(checked), files_skipped=len(skipped))
    report = ScanResult(root, stats, tuple(clones), tuple(sorted(skipped)),
                        frozenset(c.id for c in clones), request_id)
    return CheckResult(report, tuple(notes))


def _stored_corpus(store: Store, root: str, stored: dict[str, KnownFile]) -> Corpus:
    """The corpus of every stored file: from the snapshot when it is current, else built
    file by file (and the snapshot taken for the next check)."""
    state = _state(stored)
    data = store.cached_corpus(root, state)
    corpus = _thaw(data) if data is not None else None
    if corpus is not None:
        return corpus
    corpus = Corpus()
    columns = store.fingerprint_columns(row.id for row in stored.values())
    for rel in sorted(stored):
        if stored[rel].id in columns:
            corpus.add_file(rel, *columns[stored[rel].id])
    try:
        store.save_cached_corpus(root, state, marshal.dumps(vars(corpus)))
    except StoreError:
        pass  # a scan holds the lock: the next check takes the snapshot
    return corpus


def _state(stored: dict[str, KnownFile]) -> str:
    """What a corpus snapshot depends on: the files, their content, and the corpus layout."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(" ".join(sorted(vars(Corpus()))).encode())
    for rel in sorted(stored):
        row = stored[rel]
        digest.update(f"{rel}\0{row.hash}\0{row.id}\0{row.fingerprint_key}\n".encode())
    return digest.hexdigest()


def _thaw(data: bytes) -> Corpus | None:
    """A corpus from its snapshot, or None when the snapshot does not fit this version."""
    corpus = Corpus()
    try:
        columns = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return None
    if not isinstance(columns, dict) or set(columns) != set(vars(corpus)):
        return None
    corpus.__dict__.update(columns)
    return corpus


def _tombstone(corpus: Corpus, paths: Set[str]) -> set[str]:
    """Retire the stored version of these files: their units become unique noise and the
    file is renamed `PATH@indexed`, so no detector can match a file with its old self.
    Returns the new names, whose fragments are then dropped."""
    retired = set()
    for index, path in enumerate(corpus.paths):
        if path not in paths:
            continue
        corpus.paths[index] = f"{path}@indexed"
        retired.add(corpus.paths[index])
        low = bisect_left(corpus.file_of, index)
        high = bisect_right(corpus.file_of, index)
        for unit in range(low, high):
            unique = xxhash.xxh3_64_intdigest(f"{path}\0{unit}".encode(), seed=0x7071)
            corpus.exact[unit] = corpus.renamed[unit] = unique
            corpus.noise[unit] = True
            corpus.lines[unit] = corpus.tokens[unit] = 0
    return retired


def _targets(files: list[Path], root: Path, settings: Settings
             ) -> tuple[dict[str, tuple[str, str]], list[SkippedFile]]:
    """The given files to read (absolute path -> relative path, language) and those skipped."""
    targets: dict[str, tuple[str, str]] = {}
    skipped: list[SkippedFile] = []
    for file in files:
        path = file.absolute()
        rel = _rel(str(path), root)
        if path.is_dir():
            raise UsageError(f"{file} is a folder; check takes files (use scan for folders)")
        if not path.exists():
            skipped.append(SkippedFile(rel, DELETED))
            continue
        language = language_of(path.name)
        if language is None or (settings.lang and language not in settings.lang):
            skipped.append(SkippedFile(rel, "not a source file CodeBot reads"))
        elif is_excluded(rel, settings.exclude):
            skipped.append(SkippedFile(rel, "excluded by the settings"))
        else:
            targets[str(path)] = (rel, language)
    return targets, skipped


def _index_state(db: Path, root: Path, fingerprint_key: str, lock_timeout: float) -> str:
    """Why the index cannot serve a check of `root` yet, or "" when it can."""
    if not db.exists():
        return f"no index at {db} yet"
    with Store(db, timeout=lock_timeout) as store:
        if store.last_scan(str(root)) is None:
            return f"the index {db} has no scan of {root} yet"
        under_root = [f"{root}{os.sep}", f"{root}{chr(ord(os.sep) + 1)}"]
        if store.conn.execute("SELECT 1 FROM files WHERE path >= ? AND path < ? LIMIT 1",
                              under_root).fetchone() is None:
            return f"the index {db} has no files of {root} (it was rebuilt)"
        row = store.conn.execute(
            "SELECT 1 FROM files WHERE fingerprint_key != ? AND status IN (?, ?) "
            "AND path >= ? AND path < ? LIMIT 1",
            [fingerprint_key, PARSED, TOKENS, f"{root}{os.sep}", f"{root}{chr(ord(os.sep) + 1)}"]
        ).fetchone()
        if row is not None:
            return f"the index {db} was built with other settings or an older CodeBot"
    return ""


def _on_disk(clone: Clone, root: Path, checked: Set[str], retired: Set[str]) -> Clone | None:
    """The clone without fragments in retired or vanished files; None when fewer than two remain."""
    kept = tuple(f for f in clone.fragments if f.path in checked
                 or (f.path not in retired and (root / f.path).exists()))
    if len(kept) == len(clone.fragments):
        return clone
    return clone._replace(fragments=kept) if len(kept) >= 2 else None


def _rel(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()
