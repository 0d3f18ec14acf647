"""What every store on the shared SQLite index needs, in one place: its default path,
the check against another application's database, versioned migrations per component,
and what SQLite's errors mean.

The engine's index and the metrics tables live in one file; each component keeps
its own tables and its own row in `schema_versions`, and raises its own errors,
but they read the file and its errors the same way.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Mapping
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite_utils

Migration = Callable[["sqlite_utils.Database"], None]


class Fault(Enum):
    """What a failed SQLite call says about the file."""

    LOCKED = "locked"  # another connection holds the lock past the busy timeout
    NOT_A_DATABASE = "not a database"  # not SQLite at all (or encrypted): leave it alone
    DAMAGED = "damaged"  # SQLite, with damage inside
    OTHER = "other"


def default_db_path(root: Path | None = None) -> Path:
    """The index: $CODEBOT_DB, else ROOT/.codebot/index.db (ROOT: the current directory)."""
    configured = os.environ.get("CODEBOT_DB")
    if configured:
        return Path(configured)
    return (root if root is not None else Path(".")) / ".codebot" / "index.db"


def fault_of(exc: sqlite3.Error) -> Fault:
    """Classify a SQLite error by its message (SQLite's own wording)."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return Fault.LOCKED
    if "not a database" in text or "encrypted" in text:
        return Fault.NOT_A_DATABASE
    if "malformed" in text or "corrupt" in text:
        return Fault.DAMAGED
    return Fault.OTHER


def foreign_tables(conn: sqlite3.Connection) -> int:
    """How many tables of another application the file holds: its table count when it
    has tables but no `schema_versions`, else 0. Read through SQLite (any other
    descriptor of the file would drop this process's locks on it when closed)."""
    tables = {name for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    return len(tables) if tables and "schema_versions" not in tables else 0


def schema_version(conn: sqlite3.Connection, component: str) -> int:
    """The component's recorded schema version (0 when none)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_versions "
                 "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_versions WHERE component = ?",
                       (component,)).fetchone()
    return row[0] if row else 0


def migrate(conn: sqlite3.Connection, component: str, target: int,
            steps: Mapping[int, Migration]) -> int:
    """Bring the component's tables up to version `target`, each step `steps[n]` once, in
    one IMMEDIATE transaction; checked first without the lock, so opening an up-to-date
    file never waits for a writer. Returns the version found, which may be newer than
    `target`: the caller refuses to go on then (nothing is changed)."""
    found = schema_version(conn, component)
    if found >= target:
        return found
    import sqlite_utils  # only needed to build the schema; it is slow to import

    conn.execute("BEGIN IMMEDIATE")
    try:
        found = schema_version(conn, component)  # again, under the lock: another may have
        if found < target:
            db = sqlite_utils.Database(conn)
            for step in range(found + 1, target + 1):
                steps[step](db)
            conn.execute("INSERT INTO schema_versions (component, version) VALUES (?, ?) "
                         "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
                         (component, target))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found
