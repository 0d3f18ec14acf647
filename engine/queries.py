"""Read-only questions about the index for the chat bot: latest scan, pages of clones, one clone, the trend.

Only plain SELECTs over the tables `engine.store` writes; the connection is
opened with `PRAGMA query_only` so nothing here can change the index. Each
thread gets its own connection (the bot reads from worker threads), and a
database without a `scans` table is an index nobody has scanned into yet.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import NamedTuple

from engine.exceptions import StoreError
from engine.records import Clone, Fragment, Repo
from engine.repos import load as load_repos, repo_of
from engine.store import store_error

# A page is one screen of a chat message; asking for more is a bug in the caller.
MAX_PAGE = 100
# Rankings kept (scan, path prefix, repository); each is a list of row ids, 100,000 of them ~ 1 MB.
RANKING_CACHE = 16


class ScanInfo(NamedTuple):
    """One stored scan: where, when, and its headline figures."""

    id: int
    root: str
    started_at: str
    duration_s: float
    files: int
    lines: int
    duplicated_lines: int
    duplication_pct: float
    clone_count: int
    new_clones: int
    request_id: str | None
    repos: tuple[Repo, ...] = ()  # of a scan of named repositories (`scan --repo`)


class ClonePage(NamedTuple):
    """A slice of one scan's clones, largest first, with how many match in all."""

    scan: ScanInfo
    clones: tuple[Clone, ...]
    offset: int
    total: int
    prefix: str
    repo: str = ""  # only the clones with a fragment in this repository ('' for all)


def _scan_info(row: tuple) -> ScanInfo:  # type: ignore[type-arg]
    """A stored scan's row as a ScanInfo (its repositories decoded, if any)."""
    stored = row[len(ScanInfo._fields) - 1] if len(row) == len(ScanInfo._fields) else None
    try:
        named = load_repos(json.loads(stored)) if stored else ()
    except (ValueError, TypeError):
        named = ()  # unreadable: shown as a scan of plain paths
    return ScanInfo(*row[:len(ScanInfo._fields) - 1], named)


class TrendPoint(NamedTuple):
    """The duplication of one scan of a root."""

    scan_id: int
    started_at: str
    duplication_pct: float
    clone_count: int


_SCAN_COLUMNS = ("id, root, started_at, duration_s, files, lines, duplicated_lines, "
                 "duplication_pct, clone_count, new_clones, request_id")


class Index:
    """Read-only access to an index file; safe to share between threads."""

    def __init__(self, path: Path | str, timeout: float = 5.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()
        self._cache_lock = threading.Lock()
        self._ranking: OrderedDict[tuple[int, str, str], list[int]] = OrderedDict()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if not self.path.exists():
                raise StoreError(f"there is no index at {self.path} yet; run a scan first")
            try:
                conn = sqlite3.connect(str(self.path), timeout=self.timeout,
                                       check_same_thread=False)
                conn.execute("PRAGMA query_only = ON")
            except sqlite3.DatabaseError as exc:
                raise store_error(exc, self.path) from exc
            self._local.conn = conn
        return conn

    def _rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple]:  # type: ignore[type-arg]
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise store_error(exc, self.path) from exc

    def has_scans(self) -> bool:
        """Whether any scan was ever stored (False for a missing or metrics-only file)."""
        if not self.path.exists():
            return False
        return bool(self._rows("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'scans'"))

    def latest_scan(self, root: str | None = None) -> ScanInfo | None:
        """The newest scan of `root`, or of any root when None."""
        if not self.has_scans():
            return None
        if root is None:
            rows = self._rows(f"SELECT {self._scan_columns()} FROM scans ORDER BY id DESC LIMIT 1")
        else:
            rows = self._rows(f"SELECT {self._scan_columns()} FROM scans WHERE root = ? "
                              "ORDER BY id DESC LIMIT 1", (root,))
        return _scan_info(rows[0]) if rows else None

    def scan(self, scan_id: int) -> ScanInfo | None:
        """One scan by id."""
        if not self.has_scans():
            return None
        rows = self._rows(f"SELECT {self._scan_columns()} FROM scans WHERE id = ?", (scan_id,))
        return _scan_info(rows[0]) if rows else None

    def _scan_columns(self) -> str:
        """The columns of a ScanInfo; an index from before `--repo` has no `repos` column
        (this reader never migrates a file), and its scans have none."""
        names = {row[1] for row in self._rows("PRAGMA table_info(scans)")}
        return _SCAN_COLUMNS + (", repos" if "repos" in names else "")

    def clones_page(self, scan: ScanInfo, prefix: str = "", offset: int = 0,
                    limit: int = 5, repo: str = "") -> ClonePage:
        """Clones of a scan touching a path under `prefix` (and the repository `repo`, if
        given), largest first (lines, then tokens); in a scan of several repositories,
        those across repositories before all others."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"a page holds 1..{MAX_PAGE} clones, not {limit}")
        offset = max(0, offset)
        prefix = prefix.strip().lstrip("./") if prefix not in ("", ".", "./") else ""
        ranked = self._ranked(scan, prefix, repo)
        wanted = ranked[offset:offset + limit]
        rows = []
        if wanted:
            by_id = {row[0]: row for row in self._rows(
                f"SELECT id, clone_id, kind, similarity, lines, tokens, suggestion FROM clones "
                f"WHERE id IN ({', '.join('?' * len(wanted))})", tuple(wanted))}
            rows = [by_id[row_id] for row_id in wanted if row_id in by_id]
        total = len(ranked)
        fragments = self._fragments([row[0] for row in rows])
        clones = tuple(Clone(clone_id, kind, similarity, lines, tokens,
                             tuple(fragments.get(row_id, ())), suggestion)
                       for row_id, clone_id, kind, similarity, lines, tokens, suggestion in rows)
        return ClonePage(scan, clones, offset, total, prefix, repo)

    def _ranked(self, scan: ScanInfo, prefix: str, repo: str = "") -> list[int]:
        """Row ids of a scan's clones under a prefix, largest first; cached, as a stored scan never changes.

        Ranking 100,000 clones (or filtering their fragments by path) costs tens of
        milliseconds; paging through the same list again costs nothing.
        """
        scan_id, key = scan.id, (scan.id, prefix, repo)
        with self._cache_lock:
            if key in self._ranking:
                self._ranking.move_to_end(key)
                return self._ranking[key]
        if scan.repos:
            rows = self._ranked_by_repos(scan, prefix, repo)
        elif prefix:
            # A range on the path instead of LIKE: '%' and '_' in paths stay literal.
            rows = self._rows("SELECT id FROM clones WHERE scan_id = ? AND id IN (SELECT clone_row "
                              "FROM fragments WHERE path >= ? AND path < ?) "
                              "ORDER BY lines DESC, tokens DESC, id", (scan_id, prefix, prefix + "\U0010ffff"))
        else:
            rows = self._rows("SELECT id FROM clones WHERE scan_id = ? ORDER BY lines DESC, tokens DESC, id",
                              (scan_id,))
        ranked = [row_id for (row_id,) in rows]
        with self._cache_lock:
            self._ranking[key] = ranked
            while len(self._ranking) > RANKING_CACHE:
                self._ranking.popitem(last=False)
        return ranked

    def _ranked_by_repos(self, scan: ScanInfo, prefix: str, repo: str) -> list[tuple[int]]:
        """The ranking of a scan of named repositories: clones across two or more of them
        first, then by size; only those with a fragment in `repo` and under `prefix`."""
        spans: dict[int, tuple[int, int, set[str], list[str]]] = {}
        for row_id, lines, tokens, path in self._rows(
                "SELECT c.id, c.lines, c.tokens, f.path FROM clones c JOIN fragments f "
                "ON f.clone_row = c.id WHERE c.scan_id = ?", (scan.id,)):
            entry = spans.setdefault(row_id, (lines, tokens, set(), []))
            entry[2].add(repo_of(path, scan.repos) or "")
            entry[3].append(path)
        kept = [(len(names - {""}) < 2, -lines, -tokens, row_id)
                for row_id, (lines, tokens, names, paths) in spans.items()
                if (not repo or repo in names)
                and (not prefix or any(p.startswith(prefix) for p in paths))]
        return [(row_id,) for *_, row_id in sorted(kept)]

    def clone(self, clone_id: str) -> tuple[Clone, ScanInfo] | None:
        """A clone by its id, as the newest scan that holds it stored it."""
        if not self.has_scans():
            return None
        rows = self._rows(
            "SELECT id, scan_id, clone_id, kind, similarity, lines, tokens, suggestion "
            "FROM clones WHERE clone_id = ? ORDER BY scan_id DESC LIMIT 1", (clone_id,))
        if not rows:
            return None
        row_id, scan_id, cid, kind, similarity, lines, tokens, suggestion = rows[0]
        scan = self.scan(scan_id)
        if scan is None:
            return None
        fragments = self._fragments([row_id]).get(row_id, [])
        return Clone(cid, kind, similarity, lines, tokens, tuple(fragments), suggestion), scan

    def trend(self, root: str, limit: int = 10) -> list[TrendPoint]:
        """The duplication of the last `limit` scans of a root, oldest first."""
        if not self.has_scans():
            return []
        rows = self._rows("SELECT id, started_at, duplication_pct, clone_count FROM scans "
                          "WHERE root = ? ORDER BY id DESC LIMIT ?", (root, limit))
        return [TrendPoint(*row) for row in reversed(rows)]

    def _fragments(self, row_ids: list[int]) -> dict[int, list[Fragment]]:
        if not row_ids:
            return {}
        marks = ", ".join("?" * len(row_ids))
        found: dict[int, list[Fragment]] = {}
        for clone_row, path, start, end in self._rows(
                f"SELECT clone_row, path, start_line, end_line FROM fragments "
                f"WHERE clone_row IN ({marks}) ORDER BY clone_row, position", tuple(row_ids)):
            found.setdefault(clone_row, []).append(Fragment(path, start, end))
        return found

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


