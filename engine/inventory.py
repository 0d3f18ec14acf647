"""Stage 3 of a scan: what the tree holds once the planned files are read — the
fingerprinted files from the index and from this run, and the skipped ones — and the
corpus built from them."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

from engine.discover import relative_path
from engine.fingerprint import Columns, unpack_columns
from engine.match import Corpus
from engine.plan import Plan
from engine.records import Counted, FileResult, FileStatus, KnownFile, SkippedFile
from engine.staging import Staging
from engine.store import Store


class Inventory(NamedTuple):
    """The tree after reading, by absolute path."""

    stored: dict[str, KnownFile]  # fingerprinted files whose fingerprints the index holds
    fresh: dict[str, FileResult]  # files fingerprinted in this run
    results: list[FileResult]  # every file read whose row changes (to store)
    touched: list[KnownFile]  # read, content unchanged: only size and mtime change
    skipped: list[SkippedFile]

    def counted(self) -> list[Counted]:
        """Every fingerprinted file, for the report's figures."""
        return [*self.stored.values(), *self.fresh.values()]

    def file_hashes(self) -> str:
        """One digest of every fingerprinted file's path and content."""
        digest = hashlib.blake2b(digest_size=16)
        pairs = [(p, k.hash) for p, k in self.stored.items()] + \
                [(p, r.content_hash) for p, r in self.fresh.items()]
        for path, content in sorted(pairs):
            digest.update(f"{path}\0{content}\n".encode())
        return digest.hexdigest()


def take_inventory(work: Plan, read: Iterable[FileResult], known: dict[str, KnownFile],
                   root: Path) -> Inventory:
    """Sort what the workers read, with the reused files, into an Inventory."""
    results: list[FileResult] = []
    touched: dict[str, KnownFile] = {}
    for result in read:
        if result.status == FileStatus.UNCHANGED:
            touched[result.path] = known[result.path]._replace(size=result.size,
                                                               mtime_ns=result.mtime_ns)
        else:
            results.append(result)
    current = {**{p: known[p] for p in work.reused}, **touched}
    skipped = [SkippedFile.of(relative_path(r.path, root), r.status, r.error)
               for r in results if r.status.skipped]
    skipped += [SkippedFile.of(relative_path(p, root), k.status, k.error)
                for p, k in current.items() if FileStatus(k.status).skipped]
    return Inventory(
        stored={p: k for p, k in current.items() if FileStatus(k.status).fingerprinted},
        fresh={r.path: r for r in results if r.status.fingerprinted},
        results=results, touched=list(touched.values()), skipped=skipped)


def build_corpus(inventory: Inventory, store: Store, root: Path, staging: Staging) -> Corpus:
    """The corpus of every fingerprinted file, in path order: stored fingerprints from the
    index, fresh ones from this run's `staging`, each read and decoded as it is added."""
    def files() -> Iterator[tuple[str, Columns]]:
        for path in sorted([*inventory.stored, *inventory.fresh]):
            if path in inventory.fresh:
                yield relative_path(path, root), unpack_columns(staging.blob(path))
            elif (blob := store.fingerprint_blob(inventory.stored[path].id)) is not None:
                yield relative_path(path, root), store.columns_of(blob)
    return Corpus.of_files(files())
