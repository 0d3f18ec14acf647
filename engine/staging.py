"""Fresh fingerprints kept on disk from the moment they are read until the scan is saved.

A scan reads every new or changed file before it matches, and the index takes their
fingerprints only at the end, in the one transaction that writes the scan
(`Store.save`), so a failed scan leaves the index as it was. Held in memory until then,
the fingerprints cost as much as the corpus built from them: 400 MiB for 6.7 M lines.
They wait instead in a scratch SQLite file beside the index, written in batches as the
results arrive, read back one file at a time for the corpus, and copied into the index
inside SQLite. The scratch file is the scan's own: scans of an index hold its scan lock
(`store.scan_lock`), and one left by a killed scan is replaced.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterable, Iterator

from engine.exceptions import StoreError
from engine.records import FileResult

# Results written in one transaction: few commits, little held at once.
_BATCH = 64


class Staging:
    """`with Staging(index_path) as staging:` the scratch file of one scan, removed after."""

    def __init__(self, index: Path) -> None:
        self.path = index.with_name(index.name + "-staging")
        self._conn: sqlite3.Connection | None = None

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self.path.unlink(missing_ok=True)

    @property
    def used(self) -> Path | None:
        """The scratch file, if anything was staged (for `Store.save` to copy from)."""
        return self.path if self._conn is not None else None

    def stage(self, results: Iterable[FileResult]) -> Iterator[FileResult]:
        """Each result as it comes, its fingerprints written here and dropped from it."""
        batch: list[tuple[str, bytes]] = []
        for result in results:
            if result.blob is not None:
                batch.append((result.path, result.blob))
                result = result._replace(blob=None)
                if len(batch) >= _BATCH:
                    self._write(batch)
                    batch = []
            yield result
        if batch:
            self._write(batch)

    def blob(self, path: str) -> bytes:
        """The fingerprints staged for the file at `path`."""
        row = self._connection().execute("SELECT data FROM prints WHERE path = ?",
                                          [path]).fetchone()
        if row is None:
            raise KeyError(path)
        return row[0]

    def _write(self, batch: list[tuple[str, bytes]]) -> None:
        conn = self._connection()
        try:
            with conn:
                conn.executemany("INSERT OR REPLACE INTO prints VALUES (?, ?)", batch)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot keep fingerprints in {self.path}: {exc}") from exc

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.unlink(missing_ok=True)  # a killed scan's
                conn = sqlite3.connect(self.path)
                # Scratch: nothing to recover after a crash, so no journal and no syncs.
                conn.execute("PRAGMA journal_mode = OFF")
                conn.execute("PRAGMA synchronous = OFF")
                conn.execute("CREATE TABLE prints (path TEXT PRIMARY KEY, data BLOB NOT NULL)")
            except (sqlite3.Error, OSError) as exc:
                raise StoreError(f"cannot keep fingerprints in {self.path}: {exc}") from exc
            self._conn = conn
        return self._conn
