"""What a new user meets first: check's repository, typos, settings that change what is
read, report modes, another application's database, two scans at once, progress."""
import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_cli
from engine.config import Settings
from engine.exceptions import ForeignIndexError
from engine.scan import scan
from engine.store import Store


@pytest.fixture
def repo(shop: Path) -> Path:
    """The shop tree as a repository (a pyproject.toml marks its root)."""
    (shop / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    return shop


def test_check_takes_its_repository_from_the_files_not_the_working_directory(repo, tmp_path):
    """Run from a parent folder, check indexes and reports the files' repository only."""
    parent = repo.parent
    (parent / "elsewhere").mkdir()
    (parent / "elsewhere" / "big.py").write_text("def lone():\n    return 1\n")
    copy = repo / "catalog" / "couriers.py"
    copy.write_text((repo / "shipping" / "carriers.py").read_text())
    done = run_cli("check", "shop/catalog/couriers.py", "--format", "json", cwd=parent)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["root"] == str(repo)
    assert {f["path"] for c in report["clones"] for f in c["fragments"]} == {
        "catalog/couriers.py", "shipping/carriers.py"}
    assert (repo / ".codebot" / "index.db").exists()
    assert not (parent / ".codebot").exists()


def test_check_from_a_folder_with_another_index_still_checks(repo, tmp_path):
    """The working directory's own index is not used for another repository's file."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text("[project]\nname = 'other'\n")
    assert run_cli("scan", ".", "-q", cwd=other).returncode == 0
    copy = repo / "catalog" / "couriers.py"
    copy.write_text((repo / "shipping" / "carriers.py").read_text())
    done = run_cli("check", copy, cwd=other)
    assert done.returncode == 1 and "excluded" not in done.stderr


def test_check_of_files_from_two_repositories_is_a_usage_error(repo, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / ".git").mkdir()
    (other / "a.py").write_text("x = 1\n")
    done = run_cli("check", repo / "catalog" / "search.py", other / "a.py")
    assert done.returncode == 2 and "more than one repository" in done.stderr


def test_check_of_a_path_that_never_existed_is_a_usage_error(repo):
    """A typo is exit 2, not a passing gate."""
    assert run_cli("scan", repo, "-q").returncode == 0
    done = run_cli("check", "nothere.py", cwd=repo)
    assert done.returncode == 2 and "no such file" in done.stderr


def test_check_of_a_deleted_indexed_file_is_a_deletion(repo):
    """A file the index knows and the work tree deleted is skipped, not an error."""
    assert run_cli("scan", repo, "-q").returncode == 0
    (repo / "catalog" / "search.py").unlink()
    done = run_cli("check", "catalog/search.py", cwd=repo)
    assert done.returncode == 0 and "catalog/search.py: deleted" in done.stdout


def test_raising_max_file_size_reads_a_file_skipped_before(repo, tmp_path):
    """A setting that decides what is read takes effect on the next scan, mtime unchanged."""
    big = repo / "catalog" / "bulk.py"
    big.write_text((repo / "shipping" / "carriers.py").read_text() * 3)
    db = tmp_path / "i.db"
    size = big.stat().st_size
    small = scan([repo], Settings(jobs=1, max_file_size=size - 1), db)
    assert any(s.path == "catalog/bulk.py" and s.reason.startswith("too_large")
               for s in small.skipped)
    large = scan([repo], Settings(jobs=1, max_file_size=size + 1), db)
    assert not any(s.path == "catalog/bulk.py" for s in large.skipped)
    assert any(f.path == "catalog/bulk.py" for c in large.clones for f in c.fragments)


def test_reports_and_baseline_keep_the_umask_mode(repo, tmp_path):
    """Not 0600: a CI artifact or served report is readable by others."""
    old = os.umask(0o022)
    try:
        out = tmp_path / "report.html"
        done = run_cli("scan", repo, "--format", "html", "--output", out, "--update-baseline",
                       "--db", tmp_path / "i.db", "-q")
        assert done.returncode == 0, done.stderr
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert stat.S_IMODE((repo / ".codebot-baseline.json").stat().st_mode) == 0o644
    out.chmod(0o640)
    run_cli("scan", repo, "--format", "html", "--output", out, "--db", tmp_path / "i.db", "-q")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


def _foreign_db(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    return path.read_bytes()


def test_another_applications_database_is_refused_and_left_as_it_was(repo, tmp_path):
    db = tmp_path / "app.db"
    before = _foreign_db(db)
    done = run_cli("scan", repo, "--db", db)
    assert done.returncode == 2 and "another application's SQLite database" in done.stderr
    assert db.read_bytes() == before
    with sqlite3.connect(db) as conn:
        assert [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
                ] == ["invoices"]
    with pytest.raises(ForeignIndexError):
        Store(db)


def test_force_adds_the_index_to_another_applications_database(repo, tmp_path):
    db = tmp_path / "app.db"
    _foreign_db(db)
    done = run_cli("scan", repo, "--db", db, "--force", "-q")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT total FROM invoices").fetchone() == (9.5,)
        assert conn.execute("SELECT count(*) FROM scans").fetchone()[0] == 1
    assert run_cli("scan", repo, "--db", db, "-q").returncode == 0  # now it is CodeBot's too


def test_a_second_scan_waits_for_the_first_and_reuses_its_work(repo, tmp_path):
    """Two scans of one tree on one index: only the first fingerprints anything."""
    for n in range(80):  # enough files to be worth waiting for
        (repo / f"gen_{n}.py").write_text(
            "".join(f"def f{n}_{k}(a, b):\n    x = a + {k}\n    return x * b - {n}\n\n"
                    for k in range(40)))
    db = tmp_path / "i.db"
    command = [sys.executable, "-m", "engine", "scan", str(repo), "--db", str(db),
               "--format", "json"]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    second = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reports = [json.loads(p.communicate(timeout=300)[0]) for p in (first, second)]
    parsed = sorted(r["stats"]["files_parsed"] for r in reports)
    assert parsed[0] == 0 and parsed[1] > 80


def test_progress_prints_a_line_per_phase_when_asked_or_in_ci(repo, tmp_path):
    """Not a terminal: silent by default, one plain line per phase with --progress or CI."""
    quiet = run_cli("scan", repo, "--db", tmp_path / "a.db", env={"CI": ""})
    assert "codebot:" not in quiet.stderr
    for flag, env in ((["--progress"], None), ([], {"CI": "true"})):
        done = run_cli("scan", repo, "--db", tmp_path / f"{bool(env)}.db", *flag,
                       env=env or {"CI": ""})
        lines = done.stderr.splitlines()
        assert "codebot: reading and fingerprinting 10 files" in lines
        for phase in ("reading and fingerprinting", "matching clones", "storing the index"):
            assert any(line.startswith(f"codebot: {phase}: done in ") for line in lines)


def test_counts_read_as_english(repo, tmp_path):
    """'1 new clone' and 'skipped 1 file', not '1 new clones' and 'skipped 1 files'."""
    db = tmp_path / "i.db"
    run_cli("scan", repo, "--db", db, "-q")
    (repo / "catalog" / "couriers.py").write_text((repo / "shipping" / "carriers.py").read_text())
    (repo / "blob.py").write_bytes(b"\0\1\2")
    done = run_cli("scan", repo, "--db", db, "--fail-on-new")
    assert "gate failed: 1 new clone\n" in done.stderr
    assert "skipped 1 file:" in done.stdout
