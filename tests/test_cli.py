"""Tests for engine.cli: the scan command's exit codes, outputs and bad input."""
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from conftest import run_cli


def scans_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM scans").fetchone()[0]


def test_json_output_is_pure_json_on_stdout(shop, tmp_path):
    """--format json prints only the report; exit 0."""
    done = run_cli("scan", shop, "--format", "json", "--db", tmp_path / "i.db")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["version"] == 1 and report["root"] == str(shop)
    assert set(report["stats"]) == {"files", "lines", "tokens", "duplicated_lines",
                                    "duplication_pct", "duration_s", "files_reused",
                                    "files_parsed", "files_skipped"}
    assert set(report["clones"][0]) == {"id", "kind", "similarity", "lines", "tokens",
                                        "fragments", "suggestion"}


def test_text_report_shows_locations_and_snippets(shop, tmp_path):
    """The text report names each place and shows a snippet."""
    done = run_cli("scan", shop, "--db", tmp_path / "i.db")
    assert "billing/refund.py:7-21" in done.stdout and "| " in done.stdout
    assert done.stdout.splitlines()[0].startswith("3 clones in 10 files")


def test_output_file_gets_the_report(shop, tmp_path):
    """--output writes the report to a file and nothing to stdout."""
    out = tmp_path / "out" / "report.json"
    done = run_cli("scan", shop, "--format", "json", "--output", out, "--db", tmp_path / "i.db")
    assert done.returncode == 0 and done.stdout == ""
    assert json.loads(out.read_text())["stats"]["files"] == 10


def test_default_index_lives_under_the_root_and_env_overrides(shop, tmp_path):
    """Without --db the index is ROOT/.codebot/index.db; CODEBOT_DB moves it."""
    assert run_cli("scan", shop, "-q").returncode == 0
    assert (shop / ".codebot" / "index.db").exists()
    env_db = tmp_path / "env.db"
    assert run_cli("scan", shop, "-q", env={"CODEBOT_DB": str(env_db)}).returncode == 0
    assert env_db.exists()


def test_missing_path_exits_2_and_the_failure_can_be_triaged(tmp_path):
    """A path that does not exist is bad usage, recorded under a request id that triage explains."""
    db = tmp_path / "i.db"
    done = run_cli("scan", tmp_path / "nope", "--db", db)
    assert done.returncode == 2 and "does not exist" in done.stderr
    request_id = re.search(r"req-[0-9a-f]{12}", done.stderr).group(0)
    triage = run_cli("triage", request_id, "--db", db, "--format", "json", module="metrics")
    report = json.loads(triage.stdout)
    assert report["found"] and report["metrics"][0]["status"] == "error"
    assert "does not exist" in report["metrics"][0]["error_message"]
    with sqlite3.connect(db) as conn:  # no scan was written: the engine's tables are not even made
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'scans'").fetchall()


def test_json_report_carries_the_request_id_and_the_scan_is_recorded(shop, tmp_path):
    """Each scan runs as a tracked request; its figures go to the metrics tables."""
    db = tmp_path / "i.db"
    report = json.loads(run_cli("scan", shop, "--format", "json", "--db", db).stdout)
    assert re.fullmatch(r"req-[0-9a-f]{12}", report["request_id"])
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT request_id FROM scans").fetchone()
        assert row[0] == report["request_id"]
        assert conn.execute("SELECT count(*) FROM metric_scans").fetchone()[0] == 1


def test_bad_option_value_exits_2(shop, tmp_path):
    """An out-of-range option names the option."""
    done = run_cli("scan", shop, "--min-lines", "1", "--db", tmp_path / "i.db")
    assert done.returncode == 2 and "min_lines" in done.stderr


def test_bad_pyproject_setting_exits_2_naming_the_key(shop, tmp_path):
    """[tool.codebot] is validated; the message names the bad key."""
    (shop / "pyproject.toml").write_text("[tool.codebot]\nmin-tokens = 'many'\n")
    done = run_cli("scan", shop, "--db", tmp_path / "i.db")
    assert done.returncode == 2 and "min_tokens" in done.stderr
    (shop / "pyproject.toml").write_text("[tool.codebot]\nmin_tokenz = 3\n")
    done = run_cli("scan", shop, "--db", tmp_path / "i.db")
    assert done.returncode == 2 and "min_tokenz" in done.stderr


def test_pyproject_settings_are_used(shop, tmp_path):
    """A higher min_lines from pyproject.toml drops the small clones."""
    (shop / "pyproject.toml").write_text("[tool.codebot]\nmin_lines = 11\n")
    report = json.loads(run_cli("scan", shop, "--format", "json", "--db", tmp_path / "i.db").stdout)
    assert all(c["lines"] >= 11 for c in report["clones"]) and report["clones"]


def test_corrupt_database_exits_2_and_is_kept(shop, tmp_path):
    """A non-SQLite index file is reported and left as it was."""
    db = tmp_path / "i.db"
    db.write_bytes(b"garbage" * 100)
    done = run_cli("scan", shop, "--db", db)
    assert done.returncode == 2 and "not a CodeBot index" in done.stderr
    assert db.read_bytes() == b"garbage" * 100


def test_fail_on_new_gates_only_new_clones(shop, tmp_path):
    """--fail-on-new fails while clones are new, passes once they are known."""
    db = tmp_path / "i.db"
    first = run_cli("scan", shop, "--fail-on-new", "--db", db, "-q")
    assert first.returncode == 1 and "new clones" in first.stderr
    assert run_cli("scan", shop, "--fail-on-new", "--db", db, "-q").returncode == 0


def test_max_duplication_gate(shop, tmp_path):
    """Over the limit exits 1; under it exits 0."""
    db = tmp_path / "i.db"
    assert run_cli("scan", shop, "--max-duplication", "5", "--db", db, "-q").returncode == 1
    assert run_cli("scan", shop, "--max-duplication", "90", "--db", db, "-q").returncode == 0


def test_locked_database_fails_clearly_and_keeps_the_first_results(shop, tmp_path):
    """A writer holding the lock past the timeout makes the second scan exit 2."""
    db = tmp_path / "i.db"
    assert run_cli("scan", shop, "--db", db, "-q").returncode == 0
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        done = run_cli("scan", shop, "--db", db, env={"CODEBOT_LOCK_TIMEOUT": "0.3"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 2 and "locked by another scan" in done.stderr
    assert scans_in(db) == 1


def test_two_scans_at_once_both_finish(shop, tmp_path):
    """Concurrent scans on one index: the second waits; both results are stored."""
    db = tmp_path / "i.db"
    args = [sys.executable, "-m", "engine", "scan", str(shop), "--db", str(db), "-q"]
    first, second = subprocess.Popen(args), subprocess.Popen(args)
    assert first.wait(120) == 0 and second.wait(120) == 0
    assert scans_in(db) == 2


def big_tree(root: Path, files: int) -> None:
    template = (Path(__file__).parent.parent / "fixtures" / "shop" / "shipping" / "rates.py").read_text()
    for i in range(files):
        folder = root / f"pkg{i % 20}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"mod{i}.py").write_text(template.replace("shipping_cost", f"cost_{i}") * 12)


def test_ctrl_c_mid_scan_keeps_the_previous_results(shop, tmp_path):
    """An interrupted scan exits 130 and the index still holds the last good scan."""
    db = tmp_path / "i.db"
    assert run_cli("scan", shop, "--db", db, "-q").returncode == 0
    with sqlite3.connect(db) as conn:
        before = conn.execute("SELECT count(*) FROM clones").fetchone()[0]
    big_tree(shop / "more", 1500)
    process = subprocess.Popen([sys.executable, "-m", "engine", "scan", str(shop), "--db",
                                str(db), "--jobs", "1", "-q"], stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, "the scan finished before it could be interrupted"
    assert "interrupted" in stderr
    assert scans_in(db) == 1
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM clones").fetchone()[0] == before
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_console_script_help_has_an_example():
    """`scan --help` documents the command with an example."""
    done = run_cli("scan", "--help")
    assert done.returncode == 0 and "example:" in done.stdout


def test_metrics_tables_in_pyproject_are_left_to_the_metrics_package(shop, tmp_path):
    """[tool.codebot.alerts.*] next to engine settings is not an unknown engine key."""
    (shop / "pyproject.toml").write_text(
        "[tool.codebot]\nmin_lines = 5\n\n[tool.codebot.alerts.error_rate]\nwarning = 0.2\n")
    assert run_cli("scan", shop, "-q", "--db", tmp_path / "i.db").returncode == 0


def test_unknown_language_exits_2(shop, tmp_path):
    """--lang names a language CodeBot reads, or the scan says which ones exist."""
    done = run_cli("scan", shop, "--lang", "cobol", "--db", tmp_path / "i.db")
    assert done.returncode == 2 and "unknown language cobol" in done.stderr
