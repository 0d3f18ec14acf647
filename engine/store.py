"""The index: one SQLite file (WAL) holding files, fingerprints, scans and clones.

Every scan is written in one `BEGIN IMMEDIATE` transaction, so a second
writer waits (up to the busy timeout) and then gets a clear error, and a
crash or Ctrl-C mid-scan leaves the previous scan's data as it was. The
schema carries a version; migrations bring an older file up to date.

The file is only ever opened through SQLite: closing any other descriptor of
it would drop the POSIX locks of every connection this process holds on it
(SQLite's documented pitfall), and another process would then write under
them. Whole scans are serialised by an advisory lock on a separate file
(`index.db.lock`), taken before any work, so a second scan of the same tree
waits and then reuses the first one's results.

The index is a cache of the work tree, except the baseline and the history
(scans, metrics): a damaged file is set aside and rebuilt (`set_aside`,
`carry_over`), keeping whatever of those still reads.
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, NamedTuple

from engine.exceptions import (
    CorruptStoreError, DamagedIndexError, ForeignIndexError, StoreError, StoreLockedError,
)
from engine import repos
from engine.fingerprint import Columns, unpack_columns
from engine.records import Clone, FileStatus, Fragment, KeyedClone, KnownFile, ScanRecord
from metrics import sqlite

if TYPE_CHECKING:
    import sqlite_utils

SCHEMA_VERSION = 4
# Clones of older scans are pruned; the scans themselves (the trend) are kept.
KEEP_CLONES_OF_SCANS = 20


def default_db_path(root: Path) -> Path:
    """The index of the tree at `root`: $CODEBOT_DB, else ROOT/.codebot/index.db."""
    return sqlite.default_db_path(root)


class LastScan(NamedTuple):
    """The previous scan of a root: enough to reuse its results."""

    id: int
    settings: str
    file_hashes: str
    clone_keys: frozenset[str]


def _create_v1(db: sqlite_utils.Database) -> None:
    """The first schema: files, fingerprints, scans, clones, fragments."""
    db["files"].create({
        "id": int, "path": str, "size": int, "mtime_ns": int, "hash": str, "language": str,
        "status": str, "error": str, "lines": int, "tokens": int, "fingerprint_key": str,
        "seen_at": str,
    }, pk="id", not_null={"path"})
    db["files"].create_index(["path"], unique=True)
    db.execute("CREATE TABLE fingerprints (file_id INTEGER PRIMARY KEY "
               "REFERENCES files(id) ON DELETE CASCADE, data BLOB NOT NULL)")
    db["scans"].create({
        "id": int, "request_id": str, "root": str, "started_at": str, "duration_s": float,
        "settings": str, "file_hashes": str, "files": int, "lines": int, "tokens": int,
        "duplicated_lines": int, "duplication_pct": float, "files_reused": int,
        "files_parsed": int, "files_skipped": int, "clone_count": int, "new_clones": int,
    }, pk="id")
    db["scans"].create_index(["root", "id"])
    db["clones"].create({
        "id": int, "scan_id": int, "clone_id": str, "key": str, "kind": str,
        "similarity": float, "lines": int, "tokens": int, "suggestion": str, "is_new": int,
    }, pk="id", foreign_keys=[("scan_id", "scans", "id")])
    db["clones"].create_index(["scan_id"])
    db["clones"].create_index(["clone_id"])
    db["fragments"].create({
        "clone_row": int, "position": int, "path": str, "start_line": int, "end_line": int,
    }, foreign_keys=[("clone_row", "clones", "id")])
    db["fragments"].create_index(["clone_row"])


def _add_baseline_v2(db: sqlite_utils.Database) -> None:
    """The baseline: clones accepted by `scan --update-baseline`, by content key, per root."""
    db.execute("CREATE TABLE baselines (root TEXT PRIMARY KEY, recorded_at TEXT NOT NULL)")
    db.execute("CREATE TABLE baseline_clones (root TEXT NOT NULL REFERENCES baselines(root) "
               "ON DELETE CASCADE, key TEXT NOT NULL, paths TEXT NOT NULL, "
               "PRIMARY KEY (root, key))")
    # A cache for `check`: the whole corpus of a root, ready to load in one read.
    db.execute("CREATE TABLE corpus_cache (root TEXT PRIMARY KEY, state TEXT NOT NULL, "
               "data BLOB NOT NULL)")


def _add_reported_v3(db: sqlite_utils.Database) -> None:
    """Whether a scan's report and gate verdict went out. New clones are judged against the
    last reported scan, so a scan interrupted after its save cannot pass them."""
    db.execute("ALTER TABLE scans ADD COLUMN reported INTEGER NOT NULL DEFAULT 1")


def _add_repos_v4(db: sqlite_utils.Database) -> None:
    """The repositories of a multi-repository scan (`--repo`), as JSON [[name, folder], ...]
    with folders relative to the root; NULL for a scan of plain paths (and older scans)."""
    db.execute("ALTER TABLE scans ADD COLUMN repos TEXT")


MIGRATIONS = {1: _create_v1, 2: _add_baseline_v2, 3: _add_reported_v3, 4: _add_repos_v4}
# What survives a rebuild, in groups copied whole or not at all (foreign keys hold within).
KEPT_ON_REBUILD = (("scans", "clones", "fragments"), ("baselines", "baseline_clones"))


class Store:
    """An open index database."""

    def __init__(self, path: Path, timeout: float = 30.0, force: bool = False) -> None:
        """Open (or create) the index; `force` allows adding it to another application's file."""
        self.path = path
        if path.is_dir():
            raise StoreError(f"{path} is a folder; --db needs a file path")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot make the folder of the index {path}: {exc.strerror}") from exc
        try:
            self.conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise store_error(exc, path) from exc
        try:
            _refuse_foreign(self.conn, path, force)
            self.conn.execute("PRAGMA foreign_keys = ON")
            if self.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self.conn.execute("PRAGMA journal_mode = WAL")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise store_error(exc, path) from exc
        except BaseException:
            self.conn.close()
            raise

    def verify(self) -> None:
        """SQLite's quick_check of every page; DamagedIndexError when it fails.

        About 40 ms for a 40 MB index: run before a scan writes, so nothing is
        written into a damaged file.
        """
        problems = [row[0] for row in self._query("PRAGMA quick_check(3)")]
        if problems != ["ok"]:
            raise DamagedIndexError(f"the index {self.path} is damaged ({problems[0]})")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        found = sqlite.migrate(self.conn, "engine", SCHEMA_VERSION, MIGRATIONS)
        if found > SCHEMA_VERSION:
            raise StoreError(f"{self.path} was written by a newer CodeBot (schema {found}); "
                             "upgrade CodeBot or use another --db")

    def transaction(self) -> _Transaction:
        """`with store.transaction():` — BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error."""
        return _Transaction(self)

    def known_files(self) -> dict[str, KnownFile]:
        rows = self._query("SELECT path, id, size, mtime_ns, hash, status, fingerprint_key, "
                           "lines, tokens, language, error FROM files")
        return {row[0]: KnownFile(*row[1:]) for row in rows}

    def fingerprint_blob(self, file_id: int) -> bytes | None:
        """The stored fingerprints of a file, packed (decode with `columns_of`); read one
        file at a time as the corpus is built, so only the decoded corpus is held."""
        row = self._query("SELECT data FROM fingerprints WHERE file_id = ?", [file_id]).fetchone()
        return None if row is None else row[0]

    def stored_columns(self, files: Iterable[tuple[str, int]]) -> Iterator[tuple[str, Columns]]:
        """Each (name, file id) given, as (name, its stored columns), read and decoded one
        at a time; files without fingerprints are left out."""
        for name, file_id in files:
            if (blob := self.fingerprint_blob(file_id)) is not None:
                yield name, self.columns_of(blob)

    def columns_of(self, blob: bytes) -> Columns:
        """One stored blob, decoded. A blob that does not decode means the file was
        damaged: DamagedIndexError."""
        try:
            return unpack_columns(blob)
        except (ValueError, EOFError, TypeError) as exc:
            raise DamagedIndexError(f"the index {self.path} is damaged (stored "
                                    f"fingerprints do not decode: {exc})") from exc

    def last_scan(self, root: str) -> LastScan | None:
        """The root's newest scan, with the clone keys of its newest *reported* scan (the
        one new clones are judged against)."""
        row = self._query("SELECT id, settings, file_hashes FROM scans WHERE root = ? "
                          "ORDER BY id DESC LIMIT 1", [root]).fetchone()
        if row is None:
            return None
        keys = frozenset(k for (k,) in self._query(
            "SELECT key FROM clones WHERE scan_id = (SELECT max(id) FROM scans "
            "WHERE root = ? AND reported = 1)", [root]))
        return LastScan(row[0], row[1], row[2], keys)

    def mark_reported(self, scan_id: int) -> None:
        """The scan's report and verdict went out: its clones are no longer new."""
        with self.transaction():
            self.conn.execute("UPDATE scans SET reported = 1 WHERE id = ?", [scan_id])

    def clones_of_scan(self, scan_id: int) -> list[KeyedClone]:
        """The clones stored for a scan, each with its content key."""
        fragments: dict[int, list[Fragment]] = {}
        for clone_row, path, start, end in self._query(
                "SELECT f.clone_row, f.path, f.start_line, f.end_line FROM fragments f "
                "JOIN clones c ON c.id = f.clone_row WHERE c.scan_id = ? "
                "ORDER BY f.clone_row, f.position", [scan_id]):
            fragments.setdefault(clone_row, []).append(Fragment(path, start, end))
        result = []
        for row_id, clone_id, key, kind, similarity, lines, tokens, suggestion in self._query(
                "SELECT id, clone_id, key, kind, similarity, lines, tokens, suggestion "
                "FROM clones WHERE scan_id = ? ORDER BY id", [scan_id]):
            result.append(KeyedClone(Clone(clone_id, kind, similarity, lines, tokens,
                                           tuple(fragments.get(row_id, ())), suggestion), key))
        return result

    def save(self, record: ScanRecord) -> int:
        """Write one scan's files, fingerprints, stats and clones in one transaction; returns
        the scan's id. Fingerprints come from the results' blobs and, when the record names
        one, from the scan's staging file (see `staging`), copied inside SQLite."""
        if record.staged is None:
            return self._save(record)
        self._query("ATTACH DATABASE ? AS staged", [str(record.staged)])  # not in a transaction
        try:
            return self._save(record)
        finally:
            self._query("DETACH DATABASE staged")

    def _save(self, record: ScanRecord) -> int:
        now = datetime.now(timezone.utc).isoformat()
        fingerprint_key = record.settings["fingerprint_key"]
        stats = record.stats
        with self.transaction():
            db = self.conn
            db.executemany(
                "INSERT INTO files (path, size, mtime_ns, hash, language, status, error, lines, "
                "tokens, fingerprint_key, seen_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, "
                "hash=excluded.hash, language=excluded.language, status=excluded.status, "
                "error=excluded.error, lines=excluded.lines, tokens=excluded.tokens, "
                "fingerprint_key=excluded.fingerprint_key, seen_at=excluded.seen_at",
                [(r.path, r.size, r.mtime_ns, r.content_hash, r.language, r.status, r.error,
                  r.lines, r.tokens, fingerprint_key, now) for r in record.results])
            ids = dict(db.execute("SELECT path, id FROM files WHERE seen_at = ?", [now]).fetchall())
            db.executemany("DELETE FROM fingerprints WHERE file_id = ?",
                           [(ids[r.path],) for r in record.results if not r.status.fingerprinted])
            db.executemany("INSERT OR REPLACE INTO fingerprints (file_id, data) VALUES (?, ?)",
                           [(ids[r.path], r.blob) for r in record.results if r.blob is not None])
            if record.staged is not None:
                db.execute("INSERT OR REPLACE INTO fingerprints (file_id, data) SELECT f.id, "
                           "s.data FROM staged.prints s JOIN files f ON f.path = s.path")
            db.executemany("UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
                           [(k.size, k.mtime_ns, k.id) for k in record.touched])
            db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in record.vanished])
            cursor = db.execute(
                "INSERT INTO scans (request_id, root, started_at, duration_s, settings, "
                "file_hashes, files, lines, tokens, duplicated_lines, duplication_pct, "
                "files_reused, files_parsed, files_skipped, clone_count, new_clones, reported, "
                "repos) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [record.request_id, record.root, record.started_at.isoformat(), stats.duration_s,
                 json.dumps(record.settings, sort_keys=True), record.file_hashes, stats.files,
                 stats.lines, stats.tokens, stats.duplicated_lines, stats.duplication_pct,
                 stats.files_reused, stats.files_parsed, stats.files_skipped,
                 len(record.clones), len(record.new_keys), int(record.reported),
                 json.dumps(repos.dump(record.repos)) if record.repos else None])
            scan_id = cursor.lastrowid
            if record.clones_of is None:
                self._insert_clones(scan_id, record)
            else:
                self._copy_clones(scan_id, record.clones_of, record.new_keys)
            self._prune_old_clones(record.root)
        return scan_id

    def _insert_clones(self, scan_id: int, record: ScanRecord) -> None:
        # Row ids given here, so clones and fragments go in two batched statements.
        db = self.conn
        first_row = db.execute("SELECT coalesce(max(id), 0) + 1 FROM clones").fetchone()[0]
        db.executemany(
            "INSERT INTO clones (id, scan_id, clone_id, key, kind, similarity, lines, tokens, "
            "suggestion, is_new) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(first_row + n, scan_id, clone.id, key, clone.kind, clone.similarity, clone.lines,
              clone.tokens, clone.suggestion, int(key in record.new_keys))
             for n, (clone, key) in enumerate(record.clones)])
        db.executemany(
            "INSERT INTO fragments VALUES (?,?,?,?,?)",
            [(first_row + n, i, f.path, f.start_line, f.end_line)
             for n, (clone, _) in enumerate(record.clones) for i, f in enumerate(clone.fragments)])

    def _copy_clones(self, scan_id: int, source: int, new_keys: frozenset[str]) -> None:
        """The clones of scan `source` again, for scan `scan_id`: copied inside SQLite (an
        unchanged rescan's clones, thousands of rows, without a round trip through Python)."""
        db = self.conn
        first_row = db.execute("SELECT coalesce(max(id), 0) + 1 FROM clones").fetchone()[0]
        # A scan's clone rows are numbered consecutively, so one offset moves them all.
        offset = first_row - (db.execute("SELECT coalesce(min(id), 0) FROM clones "
                                         "WHERE scan_id = ?", [source]).fetchone()[0])
        db.execute(
            "INSERT INTO clones (id, scan_id, clone_id, key, kind, similarity, lines, tokens, "
            "suggestion, is_new) SELECT id + ?, ?, clone_id, key, kind, similarity, lines, "
            "tokens, suggestion, 0 FROM clones WHERE scan_id = ?", [offset, scan_id, source])
        db.execute("INSERT INTO fragments SELECT f.clone_row + ?, f.position, f.path, "
                   "f.start_line, f.end_line FROM fragments f JOIN clones c "
                   "ON c.id = f.clone_row WHERE c.scan_id = ?", [offset, source])
        db.executemany("UPDATE clones SET is_new = 1 WHERE scan_id = ? AND key = ?",
                       [(scan_id, key) for key in new_keys])

    def has_files_under(self, root: str) -> bool:
        """Whether the index holds any file of the tree at `root`."""
        return self._query("SELECT 1 FROM files WHERE path >= ? AND path < ? LIMIT 1",
                           _under(root)).fetchone() is not None

    def has_stale_fingerprints(self, root: str, fingerprint_key: str) -> bool:
        """Whether a fingerprinted file under `root` was read with other settings."""
        return self._query(
            "SELECT 1 FROM files WHERE fingerprint_key != ? AND status IN (?, ?) "
            "AND path >= ? AND path < ? LIMIT 1",
            [fingerprint_key, FileStatus.PARSED, FileStatus.TOKENS, *_under(root)]
        ).fetchone() is not None

    def save_baseline(self, root: str, accepted: dict[str, tuple[str, ...]]) -> None:
        """Replace the root's baseline with `accepted`: clone key -> its fragments' paths."""
        with self.transaction():
            self.conn.execute("DELETE FROM baseline_clones WHERE root = ?", [root])
            self.conn.execute("INSERT OR REPLACE INTO baselines VALUES (?, ?)",
                              [root, datetime.now(timezone.utc).isoformat()])
            self.conn.executemany("INSERT INTO baseline_clones VALUES (?,?,?)",
                                  [(root, key, json.dumps(list(paths)))
                                   for key, paths in accepted.items()])

    def baseline(self, root: str) -> dict[str, tuple[str, ...]] | None:
        """The root's baseline (clone key -> paths), or None when none was recorded."""
        if self._query("SELECT 1 FROM baselines WHERE root = ?", [root]).fetchone() is None:
            return None
        return {key: tuple(json.loads(paths)) for key, paths in self._query(
            "SELECT key, paths FROM baseline_clones WHERE root = ? ORDER BY key", [root])}

    def cached_corpus(self, root: str, state: str) -> bytes | None:
        """The corpus snapshot of `root` if it was taken in exactly this `state`."""
        row = self._query("SELECT data FROM corpus_cache WHERE root = ? AND state = ?",
                          [root, state]).fetchone()
        return row[0] if row else None

    def save_cached_corpus(self, root: str, state: str, data: bytes) -> None:
        """Keep one corpus snapshot per root, replacing an older one."""
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO corpus_cache VALUES (?, ?, ?)",
                              [root, state, data])

    def _prune_old_clones(self, root: str) -> None:
        old = [r for (r,) in self.conn.execute(
            "SELECT id FROM scans WHERE root = ? ORDER BY id DESC LIMIT -1 OFFSET ?",
            [root, KEEP_CLONES_OF_SCANS])]
        for scan_id in old:
            self.conn.execute("DELETE FROM fragments WHERE clone_row IN "
                            "(SELECT id FROM clones WHERE scan_id = ?)", [scan_id])
            self.conn.execute("DELETE FROM clones WHERE scan_id = ?", [scan_id])

    def _query(self, sql: str, params: list[Any] | None = None) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params or [])
        except sqlite3.DatabaseError as exc:
            raise store_error(exc, self.path) from exc


class _Transaction:
    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> None:
        try:
            self.store.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as exc:
            raise store_error(exc, self.store.path) from exc

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        if kind is None:
            try:
                self.store.conn.execute("COMMIT")
                return
            except sqlite3.DatabaseError as error:
                self._rollback()
                raise store_error(error, self.store.path) from error
        self._rollback()
        if isinstance(exc, sqlite3.DatabaseError):
            raise store_error(exc, self.store.path) from exc

    def _rollback(self) -> None:
        try:
            if self.store.conn.in_transaction:
                self.store.conn.execute("ROLLBACK")
        except sqlite3.DatabaseError:
            pass  # the error being raised says more; SQLite rolls back on close anyway


def _under(root: str) -> list[str]:
    """The bounds of the paths under the folder `root`, for a range query."""
    return [f"{root}{os.sep}", f"{root}{chr(ord(os.sep) + 1)}"]


def _refuse_foreign(conn: sqlite3.Connection, path: Path, force: bool) -> None:
    """Never write into a file that is not SQLite, nor (unless forced) into another
    application's database."""
    try:
        foreign = sqlite.foreign_tables(conn)
    except sqlite3.DatabaseError as exc:
        if sqlite.fault_of(exc) is sqlite.Fault.NOT_A_DATABASE:
            raise CorruptStoreError(
                f"{path} is not a CodeBot index (not an SQLite database); it was left "
                "untouched. Move it away or pass another --db.") from exc
        raise
    if foreign and not force:
        raise ForeignIndexError(
            f"{path} is another application's SQLite database ({foreign} tables, none of "
            "them CodeBot's); it was left untouched. Pass another --db, or --force to add "
            "CodeBot's tables to it.")


@contextmanager
def scan_lock(db_path: Path, timeout: float) -> Iterator[None]:
    """Hold the index's scan lock (`PATH.lock`, an advisory flock, never the database file
    itself) for a whole scan; wait up to `timeout` s, then StoreLockedError."""
    import fcntl

    lock_path = Path(f"{db_path}.lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock_path, "a+b")
    except OSError as exc:
        raise StoreError(f"cannot open the index's lock {lock_path}: {exc.strerror}") from exc
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreLockedError(
                        f"the index {db_path} is locked by another scan; try again when it "
                        "has finished (or raise CODEBOT_LOCK_TIMEOUT)") from None
                time.sleep(0.05)
        yield
    finally:
        handle.close()  # releases the flock


class Rebuilt(NamedTuple):
    """A damaged index set aside and a new one started, with what of it was kept."""

    damaged: Path
    kept: list[str]
    lost: list[str]


def rebuild(path: Path, timeout: float = 30.0) -> Rebuilt:
    """Set the damaged index at `path` aside and start a new one there holding whatever of
    its baseline, scan history and metrics still reads; the next scan refills the cache."""
    import metrics.store

    damaged = set_aside(path)
    metrics.store.Store(path, busy_timeout=timeout).close()  # the metrics tables, empty
    with Store(path, timeout) as store:
        metric_tables = [(name,) for (name,) in store.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'metric%'")]
        kept, lost = carry_over(damaged, store.conn, [*KEPT_ON_REBUILD, *metric_tables])
    return Rebuilt(damaged, kept, lost)


def set_aside(path: Path) -> Path:
    """Move a damaged index and its WAL files to `PATH.damaged-<UTC time>`; return it."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            os.replace(source, f"{target}{suffix}")
    return target


def carry_over(damaged: Path, fresh: sqlite3.Connection,
               groups: Iterable[tuple[str, ...]]) -> tuple[list[str], list[str]]:
    """Copy each group of tables that still reads from `damaged` into `fresh` (which has
    the same tables, empty); a group copies whole or not at all. Returns (kept, lost)."""
    kept: list[str] = []
    lost: list[str] = []
    fresh.execute("ATTACH DATABASE ? AS damaged", [str(damaged)])
    try:
        for group in groups:
            try:
                fresh.execute("BEGIN IMMEDIATE")
                for table in group:
                    _copy_table(fresh, table)
                fresh.execute("COMMIT")
                kept.extend(group)
            except sqlite3.DatabaseError:
                if fresh.in_transaction:
                    fresh.execute("ROLLBACK")
                lost.extend(group)
    finally:
        fresh.execute("DETACH DATABASE damaged")
    return kept, lost


def _copy_table(conn: sqlite3.Connection, table: str) -> None:
    """Copy the rows of `damaged.table` into `main.table`, by the columns they share."""
    def columns(schema: str) -> list[str]:
        return [row[1] for row in conn.execute(f"PRAGMA {schema}.table_info({table})")]

    shared = [c for c in columns("main") if c in set(columns("damaged"))]
    if not shared:
        raise sqlite3.DatabaseError(f"{table} is missing")
    names = ", ".join(f'"{c}"' for c in shared)
    conn.execute(f'INSERT INTO main."{table}" ({names}) SELECT {names} FROM damaged."{table}"')


def store_error(exc: sqlite3.DatabaseError, path: Path) -> StoreError:
    """The engine's error for a failed SQLite call on the index at `path`."""
    fault = sqlite.fault_of(exc)
    if fault is sqlite.Fault.LOCKED:
        return StoreLockedError(f"the index {path} is locked by another scan; "
                                "try again when it has finished")
    if fault is sqlite.Fault.NOT_A_DATABASE:
        return CorruptStoreError(f"{path} is not a CodeBot index ({exc}); it was left "
                                 "untouched. Move it away or pass another --db.")
    if fault is sqlite.Fault.DAMAGED:
        return DamagedIndexError(f"the index {path} is damaged ({exc})")
    return StoreError(f"the index {path} cannot be used: {exc}")
