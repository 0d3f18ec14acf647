"""Tests for engine.baseline: accepting clones, the committed file, and the gates that use it."""
import json
import sqlite3
from pathlib import Path

import pytest

from conftest import run_cli
from engine import baseline
from engine.check import check
from engine.config import Settings
from engine.exceptions import UsageError
from engine.records import Clone, Fragment
from engine.scan import scan
from engine.store import SCHEMA_VERSION, Store

SETTINGS = Settings(jobs=1)


def clone(*paths: str) -> Clone:
    return Clone("c1", "exact", 1.0, 6, 60, tuple(Fragment(p, 1, 6) for p in paths), "")


def carrier_copy(shop: Path) -> Path:
    target = shop / "catalog" / "couriers.py"
    target.write_text((shop / "shipping" / "carriers.py").read_text())
    return target


def test_file_text_is_sorted_and_round_trips():
    """The file lists keys in order with the fragments' paths, and reads back the same."""
    accepted = baseline.accepted_of([(clone("b.py", "a.py"), "ff"), (clone("c.py", "a.py"), "0a")])
    text = baseline.dumps(accepted)
    assert list(json.loads(text)["clones"]) == ["0a", "ff"]
    assert json.loads(text)["clones"]["ff"] == ["a.py", "b.py"]
    assert baseline.loads(text, "x") == accepted


def test_a_further_copy_of_an_accepted_clone_is_new():
    """The key alone is not enough: a clone with more fragments than recorded is new."""
    accepted = baseline.accepted_of([(clone("a.py", "b.py"), "k")])
    assert baseline.is_accepted(clone("a.py", "b.py"), "k", accepted)
    assert not baseline.is_accepted(clone("a.py", "b.py", "c.py"), "k", accepted)
    assert not baseline.is_accepted(clone("a.py", "b.py"), "other", accepted)


def test_bad_file_is_a_usage_error_saying_how_to_fix_it():
    """A file that is not a baseline names the fix."""
    with pytest.raises(UsageError, match="update-baseline"):
        baseline.loads('{"version": 7, "clones": {}}', ".codebot-baseline.json")


def test_update_baseline_writes_index_and_file_and_fail_on_new_passes(shop, tmp_path):
    """After --update-baseline the same clones pass --fail-on-new, on a fresh index too."""
    db = tmp_path / "i.db"
    recorded = run_cli("scan", shop, "--update-baseline", "--db", db, "-q")
    assert recorded.returncode == 0, recorded.stderr
    saved = json.loads((shop / baseline.BASELINE_FILE).read_text())
    assert len(saved["clones"]) >= 3
    with Store(db) as store:
        assert set(store.baseline(str(shop))) == set(saved["clones"])
    assert run_cli("scan", shop, "--fail-on-new", "--db", tmp_path / "fresh.db", "-q"
                   ).returncode == 0
    carrier_copy(shop)
    gated = run_cli("scan", shop, "--fail-on-new", "--db", db, "-q")
    assert gated.returncode == 1 and "1 new clone\n" in gated.stderr


def test_check_passes_accepted_clones_and_fails_new_ones(shop, tmp_path):
    """check skips what the baseline accepts and reports the rest."""
    (shop / "pyproject.toml").write_text("")
    db = tmp_path / "i.db"
    scan([shop], SETTINGS, db, update_baseline=True)
    assert check([shop / "web" / "cart.js"], SETTINGS, shop, db).report.clones == ()
    copy = carrier_copy(shop)
    assert len(check([copy], SETTINGS, shop, db).report.clones) == 1


def test_committed_file_wins_over_the_index(shop, tmp_path):
    """An emptied committed baseline makes every clone new again."""
    db = tmp_path / "i.db"
    scan([shop], SETTINGS, db, update_baseline=True)
    (shop / baseline.BASELINE_FILE).write_text(baseline.dumps({}))
    result = scan([shop], SETTINGS, db)
    assert result.clones and result.new_clone_ids == {c.id for c in result.clones}


def test_version_1_index_is_migrated(tmp_path):
    """An index of schema 1 gains the baseline tables on open."""
    db = tmp_path / "old.db"
    with Store(db) as store:
        store.conn.execute("DROP TABLE baseline_clones")
        store.conn.execute("DROP TABLE baselines")
        store.conn.execute("DROP TABLE corpus_cache")
        store.conn.execute("ALTER TABLE scans DROP COLUMN reported")
        store.conn.execute("ALTER TABLE scans DROP COLUMN repos")
        store.conn.execute("UPDATE schema_versions SET version = 1")
    with Store(db) as store:
        assert store.baseline("/x") is None
        store.save_baseline("/x", {"k": ("a.py", "b.py")})
        assert store.baseline("/x") == {"k": ("a.py", "b.py")}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version FROM schema_versions").fetchone()[0] == SCHEMA_VERSION
