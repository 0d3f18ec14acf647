"""Fresh fingerprints wait on disk between reading and saving (`engine.staging`): the
index takes them only with the scan, a failed scan leaves it as it was, and no scratch
file outlives a scan."""
import sqlite3
from pathlib import Path

import pytest

from conftest import run_cli
from engine.config import Settings
from engine.exceptions import StoreError
from engine.fingerprint import fingerprint_file, unpack_columns
from engine.scan import scan
from engine.store import Store


def _scratch(db: Path) -> Path:
    return db.with_name(db.name + "-staging")


def _prints(db: Path) -> dict[tuple[str, str], bytes]:
    """(path, language) -> stored fingerprints."""
    with sqlite3.connect(db) as conn:
        return {(path, language): data for path, language, data in conn.execute(
            "SELECT f.path, f.language, p.data FROM fingerprints p "
            "JOIN files f ON f.id = p.file_id")}


def _scan_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM scans").fetchone()[0]


def test_fingerprints_wait_on_disk_and_reach_the_index_with_the_scan(shop, tmp_path):
    db = tmp_path / "index.db"
    seen_while_matching = []

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "matching" and done == 0:
            seen_while_matching.append((_scratch(db).exists(), len(_prints(db))))

    result = scan([shop], Settings(), db, progress=progress)
    assert seen_while_matching == [(True, 0)]  # staged, the index not yet written
    assert not _scratch(db).exists()
    stored = _prints(db)
    assert len(stored) == result.stats.files
    settings = Settings()
    for (path, language), blob in stored.items():  # what a fresh read gives
        fresh = fingerprint_file(path, language, "", settings.max_file_size,
                                 settings.noise_policy)
        assert unpack_columns(blob) == unpack_columns(fresh.blob)
    again = scan([shop], Settings(), db)
    assert again.stats.files_parsed == 0 and again.clones == result.clones


def test_a_scan_that_fails_after_reading_keeps_the_previous_scan(shop, tmp_path, monkeypatch):
    db = tmp_path / "index.db"
    scan([shop], Settings(), db)
    before, scans = _prints(db), _scan_count(db)
    changed = next(shop.rglob("*.py"))
    changed.write_text(changed.read_text() + "\n\ndef added():\n    return 1\n")

    def failing(*args, **kwargs):
        raise RuntimeError("matching failed")

    monkeypatch.setattr("engine.detect.detect", failing)
    with pytest.raises(RuntimeError, match="matching failed"):
        scan([shop], Settings(), db)
    assert _prints(db) == before and _scan_count(db) == scans
    assert not _scratch(db).exists()


def test_a_killed_scans_scratch_file_is_replaced(shop, tmp_path):
    db = tmp_path / "index.db"
    _scratch(db).write_bytes(b"left by a scan killed mid-read" * 100)
    result = scan([shop], Settings(), db)
    assert result.clones and len(_prints(db)) == result.stats.files
    assert not _scratch(db).exists()


def test_an_unusable_scratch_file_is_a_clear_error_and_loses_nothing(shop, tmp_path):
    db = tmp_path / "index.db"
    scan([shop], Settings(), db)
    before, scans = _prints(db), _scan_count(db)
    _scratch(db).mkdir()  # nothing can be written there
    for path in shop.rglob("*.py"):
        path.write_text(path.read_text() + "\n")
    with pytest.raises(StoreError, match="cannot keep fingerprints in .*index.db-staging"):
        scan([shop], Settings(), db)
    done = run_cli("scan", shop, "--db", db, "-q")
    assert done.returncode == 2 and "cannot keep fingerprints" in done.stderr
    assert _prints(db) == before and _scan_count(db) == scans
    with Store(db) as store:
        store.verify()
