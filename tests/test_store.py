"""Tests for engine.store: schema, migrations, corrupt and locked databases."""
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine.exceptions import CorruptStoreError, StoreError, StoreLockedError
from engine.store import SCHEMA_VERSION, Store


def test_a_new_store_has_the_schema_and_wal(tmp_path):
    """Opening creates the tables, records the version and turns WAL on."""
    with Store(tmp_path / "i.db") as store:
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master")}
        assert {"files", "fingerprints", "scans", "clones", "fragments"} <= tables
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("SELECT version FROM schema_versions WHERE component='engine'"
                                  ).fetchone()[0] == SCHEMA_VERSION


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    """A corrupt index gives a clear error; its bytes are not changed."""
    path = tmp_path / "i.db"
    path.write_bytes(b"this is not a database" * 10)
    with pytest.raises(CorruptStoreError, match="not a CodeBot index"):
        Store(path)
    assert path.read_bytes() == b"this is not a database" * 10


def test_a_damaged_sqlite_file_is_refused(tmp_path):
    """A truncated SQLite file with a valid header is reported as damaged."""
    path = tmp_path / "i.db"
    with Store(path):
        pass
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * (len(data) - 100))
    with pytest.raises(StoreError):
        with Store(path) as store:
            store.known_files()


def test_a_newer_schema_is_refused(tmp_path):
    """An index written by a newer CodeBot is not downgraded."""
    path = tmp_path / "i.db"
    with Store(path) as store:
        store.conn.execute("UPDATE schema_versions SET version = 99 WHERE component='engine'")
    with pytest.raises(StoreError, match="newer CodeBot"):
        Store(path)


def test_a_held_write_lock_times_out_with_a_clear_error(tmp_path):
    """While another connection writes, a transaction waits, then says it is locked."""
    path = tmp_path / "i.db"
    with Store(path):
        pass
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with Store(path, timeout=0.2) as store:
            with pytest.raises(StoreLockedError, match="locked by another scan"):
                with store.transaction():
                    pass
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_opening_the_index_keeps_the_locks_this_process_holds(tmp_path):
    """Opening the index must not drop the POSIX locks of another connection of this process
    to the same file (closing any other descriptor of it would): otherwise a second process
    takes the file for unused, checkpoints and deletes the WAL under that connection."""
    path = tmp_path / "i.db"
    Store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)  # as the metrics connection is
    holder.execute("SELECT count(*) FROM files").fetchone()
    assert Path(f"{path}-wal").exists()
    Store(path).close()
    other = subprocess.run([sys.executable, "-c", "import sqlite3, sys; c = sqlite3.connect("
                            "sys.argv[1]); c.execute('SELECT 1 FROM files').fetchall(); c.close()",
                            str(path)], capture_output=True, text=True, timeout=60)
    assert other.returncode == 0, other.stderr
    assert Path(f"{path}-wal").exists(), "another process deleted the WAL of an open connection"
    holder.close()
