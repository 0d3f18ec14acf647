"""`check FILE ...`: the given files, fresh from disk, against the stored index of the rest.

The pre-commit entry. Only the given files are read and parsed. The index's
lookup (`engine.lookup`) names the stored files that share a unit hash or an LSH
band bucket with them; only those files' fingerprints are loaded, as the last
scan stored them, next to the given files' fresh units (which replace their
stored versions). Matching is seeded from the given files alone
(`detect(..., seed_files=...)`), and what is left is filtered to the clones
the baseline does not accept. A fragment in a file that is gone from disk (a
renamed or deleted file the index still remembers) is dropped, so a rename is
not reported as a copy of itself.
"""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Set
from pathlib import Path
from typing import Iterator, NamedTuple

from engine import baseline
from engine.config import Settings
from engine.detect import detect
from engine.discover import is_excluded, language_of, relative_path
from engine.exceptions import StoreError, UsageError
from engine.fingerprint import Columns, unpack_columns
from engine.lookup import Lookup, Shared, of_corpus, pairable_bands
from engine.match import Corpus, seedable
from engine.pool import fingerprint_all
from engine.records import (
    FileResult, FileStatus, Job, KeyedClone, KnownFile, ScanResult, SkippedFile, scan_stats,
)
from engine.scan import scan
from engine.store import Store, default_db_path

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
    """Clones that the given files take part in and the baseline does not accept.

    The scan's stages over the given files only: they are fingerprinted
    (`pool.fingerprint_all`), the stored files that share keys with them are loaded
    (without the given files' stored versions; see `engine.lookup`), and `detect` is
    seeded from the given files.
    """
    clock = time.perf_counter()
    root = root.absolute()
    db = db_path or default_db_path(root)
    notes: list[str] = []
    targets, skipped = _targets(files, root, settings)
    missing = _index_state(db, root, settings.fingerprint_key(), lock_timeout)
    if missing:
        notes.append(f"{missing}: building it first with a full scan of {root}")
        scan([root], settings, db, lock_timeout=lock_timeout)
    jobs = [Job(path, language, "", settings.max_file_size, settings.noise_policy, 0)
            for path, (_, language) in targets.items()]
    checked: dict[str, FileResult] = {}
    for result in fingerprint_all(jobs, workers=1):
        rel = targets[result.path][0]
        if result.status.fingerprinted:
            checked[rel] = result
        else:
            skipped.append(SkippedFile.of(rel, result.status, result.error))
    replaced = {rel for rel, _ in skipped} | checked.keys()
    fresh = {rel: unpack_columns(r.blob) for rel, r in checked.items() if r.blob}
    with Store(db, timeout=lock_timeout) as store:
        accepted = baseline.load(root, store)
        under = str(root).rstrip(os.sep) + os.sep
        indexed = {relative_path(path, root): row for path, row in store.known_files().items()
                   if path.startswith(under)}
        stored = {rel: row for rel, row in indexed.items()
                  if FileStatus(row.status).fingerprinted
                  and row.fingerprint_key == settings.fingerprint_key()}
        corpus, shared = _sharing_corpus(store, str(root), stored, fresh, replaced, settings)
    for skip in skipped:
        if skip.reason == DELETED and skip.path not in indexed:
            raise UsageError(f"{skip.path}: no such file (not on disk, and the index of {root} "
                             "never had it)")
    seeds = set(range(len(corpus.paths), len(corpus.paths) + len(fresh)))
    for rel in sorted(fresh):
        corpus.add_file(rel, *fresh[rel])
    found = detect(corpus, settings, root, seed_files=seeds, too_common=shared.too_common,
                   too_common_bands=shared.too_common_bands) if seeds else []
    clones = [clone for clone, key in _on_disk(found, root, checked.keys())
              if not (accepted is not None and baseline.is_accepted(clone, key, accepted))]
    stats = scan_stats(list(checked.values()), clones, reused=len(stored.keys() - replaced),
                       parsed=len(checked), skipped=len(skipped),
                       duration_s=time.perf_counter() - clock, of_paths=checked.keys())
    report = ScanResult(root, stats, tuple(clones), tuple(sorted(skipped)),
                        frozenset(c.id for c in clones), request_id)
    return CheckResult(report, tuple(notes))


def _sharing_corpus(store: Store, root: str, stored: dict[str, KnownFile],
                    fresh: dict[str, Columns], replaced: set[str], settings: Settings
                    ) -> tuple[Corpus, Shared]:
    """The corpus of the stored files that share a unit hash or a band bucket with the
    checked ones (their stored versions left out), and the keys too common to match."""
    import numpy as np
    checked = Corpus.of_files(sorted(fresh.items()))
    bands, _ = pairable_bands(checked, settings.min_lines, settings.min_tokens)
    # Only a unit a run may start from can pair the checked files with another file.
    starts = seedable(checked, settings.min_lines, settings.min_tokens)
    shared = _lookup(store, root, stored, settings).shared(
        np.asarray(checked.renamed, dtype=np.uint64)[starts], bands, replaced)
    return _stored_corpus(store, stored, shared.paths), shared


def _stored_corpus(store: Store, stored: dict[str, KnownFile], wanted: Set[str]) -> Corpus:
    """The corpus of the `wanted` stored files, in path order, from their stored blobs."""
    paths = sorted(rel for rel in wanted if rel in stored)
    return Corpus.of_files(store.stored_columns((rel, stored[rel].id) for rel in paths))


def _lookup(store: Store, root: str, stored: dict[str, KnownFile], settings: Settings
            ) -> Lookup:
    """The lookup of every stored file: kept in the index for its state, else made from
    the whole corpus (and kept for the next check)."""
    state = _state(stored, settings)
    data = store.cached_corpus(root, state)
    lookup = Lookup.from_bytes(data) if data is not None else None
    if lookup is not None:
        return lookup
    lookup = of_corpus(_stored_corpus(store, stored, stored.keys()), settings.min_lines,
                       settings.min_tokens)
    try:
        store.save_cached_corpus(root, state, lookup.to_bytes())
    except StoreError:
        pass  # a scan holds the lock: the next check keeps it
    return lookup


def _state(stored: dict[str, KnownFile], settings: Settings) -> str:
    """What a lookup depends on: the files, their content, the settings and its layout."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"lookup {Lookup._fields} {settings.detection_key()}".encode())
    for rel in sorted(stored):
        row = stored[rel]
        digest.update(f"{rel}\0{row.hash}\0{row.id}\0{row.fingerprint_key}\n".encode())
    return digest.hexdigest()


def _targets(files: list[Path], root: Path, settings: Settings
             ) -> tuple[dict[str, tuple[str, str]], list[SkippedFile]]:
    """The given files to read (absolute path -> relative path, language) and those skipped."""
    targets: dict[str, tuple[str, str]] = {}
    skipped: list[SkippedFile] = []
    for file in files:
        path = file.absolute()
        rel = relative_path(str(path), root)
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
        if not store.has_files_under(str(root)):
            return f"the index {db} has no files of {root} (it was rebuilt)"
        if store.has_stale_fingerprints(str(root), fingerprint_key):
            return f"the index {db} was built with other settings or an older CodeBot"
    return ""


def _on_disk(found: list[KeyedClone], root: Path, checked: Set[str]
             ) -> Iterator[KeyedClone]:
    """The clones without fragments in vanished files, those with two left."""
    for clone, key in found:
        kept = tuple(f for f in clone.fragments if f.path in checked or (root / f.path).exists())
        if len(kept) >= 2:
            yield KeyedClone(clone._replace(fragments=kept) if len(kept) < len(clone.fragments)
                             else clone, key)
