"""Fault injection on a real index (`pytest -m faults` runs these alone).

kill -9 of a scan's process group and of its main process only, a scan at the
same time as `check` and `python -m metrics status`, Ctrl-C before and after
the save, damaged pages and fingerprint blobs, a read-only database and
folder. The long run of the same faults is `python -m benchmarks.faults`.
"""
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import faults
from conftest import FIXTURES, run_cli

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, set[tuple], float]:
    """A tree big enough for the process pool, its clones on a fresh index, and the
    cold scan's wall time (kills land anywhere within it)."""
    work = tmp_path_factory.mktemp("faults")
    tree = faults.make_tree(work / "tree", files=64)
    started = time.monotonic()
    code, out, err = faults.scan_json(tree, work / "fresh.db")
    assert code == 0, err
    return tree, faults.clone_set(out), time.monotonic() - started


@pytest.mark.parametrize("whole_group", [True, False], ids=["group", "main-only"])
def test_kill_9_leaves_a_sound_index_and_no_process(corpus, tmp_path, whole_group):
    """SIGKILL at random moments (fixed seed): no orphan, integrity ok, and the next scan
    gives the clones a fresh index gives."""
    tree, fresh, cold = corpus
    tally = faults.Tally()
    rng = random.Random(7)
    for _ in range(2):
        faults.kill_round(tree, tmp_path / "i.db", rng, tally, fresh, whole_group, cold)
    assert tally.rounds == 2 and not tally.problems, tally.problems


def test_scan_at_once_with_check_and_metrics_keeps_the_index_sound(corpus, tmp_path):
    """Scans after edits while checks and metrics reads run: integrity ok, exits 0/1/2."""
    tree, _, _ = corpus
    work = tmp_path / "tree"
    shutil.copytree(tree, work)
    db = tmp_path / "i.db"
    assert faults.scan_json(work, db)[0] == 0
    tally = faults.Tally()
    rng = random.Random(3)
    for _ in range(2):
        faults.concurrent_round(work, db, rng, tally)
    assert tally.rounds == 2 and not tally.problems, tally.problems


def _big_report_tree(root: Path, corpus_tree: Path) -> Path:
    """The corpus with its library copied twice: a report far bigger than a pipe holds."""
    shutil.copytree(corpus_tree, root)
    shutil.copytree(root / "lib", root / "lib_copy")
    return root


def _scans(db: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT id, reported FROM scans ORDER BY id").fetchall()


def test_ctrl_c_after_the_save_says_so_and_the_gate_still_fails(corpus, tmp_path):
    """Ctrl-C after the save, while the (large) report is made or blocks on an unread pipe:
    the message says the scan was saved unreported, which is so, and the next
    --fail-on-new still fails on the clones it never reported."""
    tree = _big_report_tree(tmp_path / "tree", corpus[0])
    db = tmp_path / "i.db"
    proc = subprocess.Popen([sys.executable, "-m", "engine", "scan", str(tree), "--db", str(db),
                             "--format", "html", "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # stdout is not read: the report blocks
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (db.exists() and _saved(db)):
        time.sleep(0.05)
    assert _scans(db) and _scans(db)[-1][1] == 0
    proc.send_signal(signal.SIGINT)  # while the report is made, or written to the unread pipe
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert b"interrupted after the scan was saved, before its report was out" in err
    assert _scans(db)[-1][1] == 0
    gate = run_cli("scan", tree, "--db", db, "--fail-on-new", "-q")
    assert gate.returncode == 1 and "new clone" in gate.stderr


def _saved(db: Path) -> bool:
    try:
        return bool(_scans(db))
    except sqlite3.OperationalError:
        return False  # the schema is still being made


def test_ctrl_c_before_the_save_keeps_the_previous_scan(corpus, tmp_path):
    """Ctrl-C while fingerprinting: the message says the index keeps the previous scan, which
    is true (no new scan row), and the next --fail-on-new fails on the new clone."""
    tree, _, _ = corpus
    work = tmp_path / "tree"
    shutil.copytree(tree, work)
    db = tmp_path / "i.db"
    assert run_cli("scan", work, "--db", db, "-q").returncode == 0
    before = _scans(db)
    (work / "couriers.py").write_text((work / "shipping" / "carriers.py").read_text())
    for path in (work / "lib").glob("*.py"):
        path.write_text(path.read_text() + "\n")  # every file to read again: a long scan
    proc = faults.engine("scan", work, "--db", db, "--progress")
    line = proc.stderr.readline()  # the reading phase has started
    assert "reading" in line
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "the index keeps the previous scan" in err
    assert _scans(db) == before
    gate = run_cli("scan", work, "--db", db, "--fail-on-new", "-q")
    assert gate.returncode == 1


@pytest.fixture
def indexed(shop: Path, tmp_path: Path) -> tuple[Path, Path, set[tuple]]:
    """The shop tree scanned once, with its clones."""
    db = tmp_path / "index.db"
    code, out, err = faults.scan_json(shop, db)
    assert code == 0, err
    return shop, db, faults.clone_set(out)


def test_damaged_pages_are_set_aside_and_the_index_rebuilt(indexed):
    """Garbage over pages past the header: one line says so, the file is moved aside, the
    scan gives the same clones, and the new index is sound."""
    shop, db, clones = indexed
    data = bytearray(db.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, 2 * page):
        data[start:start + page] = os.urandom(page)
    db.write_bytes(bytes(data))
    for leftover in db.parent.glob("index.db-*"):
        leftover.unlink()
    (shop / "catalog" / "search.py").write_text((shop / "catalog" / "search.py").read_text()
                                               + "\n")
    code, out, err = faults.scan_json(shop, db)
    assert code == 0, err
    assert "damaged" in err and "moved it to index.db.damaged-" in err and "Traceback" not in err
    assert faults.clone_set(out) == clones
    assert list(db.parent.glob("index.db.damaged-*"))
    assert faults.integrity(db) == "ok"


def test_damaged_fingerprint_blobs_are_healed(indexed):
    """Blobs that no longer decode: healed in one line, not a traceback on every scan."""
    shop, db, clones = indexed
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE fingerprints SET data = x'e3ff00112233'")
    (shop / "catalog" / "search.py").write_text((shop / "catalog" / "search.py").read_text()
                                               + "\n")
    code, out, err = faults.scan_json(shop, db)
    assert code == 0 and "fingerprints do not decode" in err, err
    assert faults.clone_set(out) == clones
    code, out, err = faults.scan_json(shop, db)
    assert code == 0 and "damaged" not in err


def test_check_on_damaged_blobs_heals_and_still_gates(indexed):
    shop, db, _ = indexed
    (shop / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE fingerprints SET data = x'00'")
        conn.execute("DELETE FROM corpus_cache")
    copy = shop / "catalog" / "couriers.py"
    copy.write_text((shop / "shipping" / "carriers.py").read_text())
    done = run_cli("check", copy, "--db", db)
    assert done.returncode == 1 and "damaged" in done.stderr and "Traceback" not in done.stderr


def test_metrics_history_and_baseline_survive_a_rebuild(indexed):
    """What is not a cache of the work tree is carried over when it still reads."""
    shop, db, _ = indexed
    assert run_cli("scan", shop, "--db", db, "--update-baseline", "-q").returncode == 0
    (shop / ".codebot-baseline.json").unlink()  # only the index's copy is left
    with sqlite3.connect(db) as conn:
        requests = conn.execute("SELECT count(*) FROM metric_rows").fetchone()[0]
        conn.execute("UPDATE fingerprints SET data = x'00'")
    (shop / "catalog" / "search.py").write_text((shop / "catalog" / "search.py").read_text()
                                               + "\n")
    gate = run_cli("scan", shop, "--db", db, "--fail-on-new", "-q")
    assert gate.returncode == 0 and "damaged" in gate.stderr, gate.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM metric_rows").fetchone()[0] > requests
        assert conn.execute("SELECT count(*) FROM baseline_clones").fetchone()[0] >= 3


def test_metrics_status_on_a_damaged_index_is_a_clear_error(indexed):
    shop, db, _ = indexed
    data = bytearray(db.read_bytes())
    data[4096:len(data)] = os.urandom(len(data) - 4096)
    db.write_bytes(bytes(data))
    for leftover in db.parent.glob("index.db-*"):
        leftover.unlink()
    done = run_cli("status", "--db", db, module="metrics")
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr


def _without_root_file_rights() -> None:
    """In the child before exec: drop the capabilities that let root ignore file modes
    (CAP_DAC_OVERRIDE, CAP_FOWNER) from the bounding set, so exec'd root obeys them."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 3):
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "cannot drop a capability")


def _as_unprivileged() -> dict:
    return {"preexec_fn": _without_root_file_rights} if os.geteuid() == 0 else {}


@pytest.mark.parametrize("what", ["database", "folder"])
def test_a_read_only_index_is_exit_2_and_unchanged(shop, tmp_path, what):
    """A database (or its folder) the user cannot write: a clear error, the file as it was."""
    db_dir = tmp_path / "index"
    db_dir.mkdir()
    db = db_dir / "index.db"
    assert run_cli("scan", shop, "--db", db, "-q").returncode == 0
    if what == "database":
        db.chmod(0o444)
    else:
        db_dir.chmod(0o555)
    before = db.read_bytes()
    (shop / "catalog" / "couriers.py").write_text((shop / "shipping" / "carriers.py").read_text())
    try:
        done = subprocess.run([sys.executable, "-m", "engine", "scan", str(shop), "--db", str(db)],
                              capture_output=True, text=True, timeout=120, **_as_unprivileged())
    finally:
        db_dir.chmod(0o755)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "codebot: error:" in done.stderr and "Traceback" not in done.stderr
    assert db.read_bytes() == before
