"""Tests of metrics.cli: every command on a real store, JSON contracts and exit codes."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

import metrics
from metrics.cli import build_parser, main
from metrics.clock import SystemClock

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path) -> Path:
    """A store with some successes, one failed scan and a firing alert, filled through the public API."""
    path = tmp_path / "index.db"
    metrics.configure(path, clock=SystemClock(), background=False, notifiers=[])
    for _ in range(5):
        with metrics.track_request("bot.status", user_id=1):
            pass
    with pytest.raises(FileNotFoundError):
        with metrics.track_request("scan"):
            raise FileNotFoundError(2, "No such file or directory", "/missing")
    metrics.record_scan(files=10, duplication_pct=2.0, new_clones=0, duration_s=0.3, root="/repo")
    metrics.evaluate_alerts()
    metrics.shutdown()
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def failed_request_id(db: Path) -> str:
    code, out, _ = run("errors", "--db", str(db), "--format", "json")
    return json.loads(out)[0]["last_request_id"]


def test_status_text_and_json(db):
    """status prints a per-operation table, and as JSON gives totals, operations, alerts and the last scan."""
    code, out, _ = run("status", "--db", str(db))
    assert code == 0 and "bot.status" in out and "Open alerts: 1" in out
    code, out, _ = run("status", "--db", str(db), "--format", "json", "--window", "15m")
    data = json.loads(out)
    assert code == 0 and data["total"]["count"] == 6 and data["total"]["errors"] == 1
    assert data["last_scan"]["files"] == 10 and data["alerts"][0]["rule"] == "scan_failures"


def test_errors_and_latency(db):
    """errors groups failures by fingerprint and latency lists percentiles per operation."""
    code, out, _ = run("errors", "--db", str(db), "--format", "json")
    assert code == 0 and json.loads(out)[0]["error_code"] == "ENOENT"
    code, out, _ = run("latency", "--db", str(db), "--format", "json")
    assert code == 0 and {row["operation"] for row in json.loads(out)} == {"bot.status", "scan"}


def test_triage_json_has_the_contract_keys(db):
    """triage --format json returns the documented keys for a failed request."""
    request_id = failed_request_id(db)
    code, out, _ = run("triage", request_id, "--db", str(db), "--format", "json")
    report = json.loads(out)
    assert code == 0
    assert set(report) == {"request_id", "found", "metrics", "timeline", "root_cause", "related", "alerts", "suggestions"}
    assert report["found"] and report["root_cause"]["error_type"] == "FileNotFoundError"
    code, out, _ = run("triage", request_id, "--db", str(db))
    assert "Root cause: FileNotFoundError [ENOENT]" in out


def test_alerts_silence_and_export(db):
    """alerts lists the open alert, silence stores a silence, and export prints parsable metrics."""
    code, out, _ = run("alerts", "--db", str(db))
    assert code == 0 and "scan_failures:scan" in out
    code, out, _ = run("silence", "scan_failures", "2h", "--db", str(db), "--reason", "known outage")
    assert code == 0 and out.startswith("Silenced scan_failures until")
    code, out, _ = run("alerts", "--db", str(db), "--format", "json")
    assert json.loads(out)["silences"][0]["rule"] == "scan_failures"
    code, out, _ = run("export", "--db", str(db))
    names = {f.name for f in text_string_to_metric_families(out)}
    assert code == 0 and {"codebot_requests", "codebot_request_latency_seconds"} <= names


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["triage", "not-an-id"], "is not a request id"),
        (["status", "--window", "forever"], "invalid duration"),
        (["status", "--format", "xml"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
        (["silence", "no_such_rule", "1h"], "unknown alert rule"),
        (["serve"], "--port"),
    ],
)
def test_bad_usage_exits_2_with_a_message(db, argv, message):
    """Bad arguments exit with 2 and say what is wrong on stderr, printing nothing on stdout."""
    code, out, err = run(*argv, "--db", str(db))
    assert code == 2 and message in err and out == ""


def test_missing_or_corrupt_store_exits_2(tmp_path):
    """A store that does not exist or is not SQLite is reported, not created or crashed on."""
    code, _, err = run("status", "--db", str(tmp_path / "none.db"))
    assert code == 2 and "no metrics store" in err and not (tmp_path / "none.db").exists()
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 200)
    code, _, err = run("status", "--db", str(bad))
    assert code == 2 and "not a usable SQLite database" in err


def test_every_command_documents_an_example():
    """Each subcommand's description carries an example invocation."""
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    for name, sub in commands.choices.items():
        assert "Example: python -m metrics " + name in (sub.description or ""), name


def test_module_entry_point_and_serve(db):
    """`python -m metrics` runs as a process, and serve answers scrapes on 127.0.0.1 until stopped."""
    env = {**os.environ, "CODEBOT_DB": str(db)}
    done = subprocess.run([sys.executable, "-m", "metrics", "status"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "bot.status" in done.stdout
    server = subprocess.Popen([sys.executable, "-m", "metrics", "serve", "--port", "0"], cwd=ROOT, env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        url = line.split()[1]
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read().decode()
        assert "codebot_requests_total" in body
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=10)
        server.stderr.close()


def test_triage_of_an_unknown_id_exits_1_with_the_message_on_stderr(db):
    """A well-formed request id that is not stored is a failed lookup: exit 1, said on stderr."""
    code, out, err = run("triage", "req-000000000000", "--db", str(db))
    assert code == 1 and out == ""
    assert err.startswith("req-000000000000: not found") and "No metrics or events are stored" in err
    code, out, err = run("triage", "req-000000000000", "--db", str(db), "--format", "json")
    assert code == 1 and json.loads(out)["found"] is False and "not found" in err


def test_triage_not_found_exit_code_of_the_process(db):
    """`python -m metrics triage req-000000000000` as a process exits 1, printing nothing on stdout."""
    env = {**os.environ, "CODEBOT_DB": str(db)}
    done = subprocess.run([sys.executable, "-m", "metrics", "triage", "req-000000000000"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stdout == "" and "not found" in done.stderr


def test_silencing_an_unknown_alert_id_exits_1(db):
    """The other id lookup, silence <alert id>, also exits 1 when the id is not stored; a bad rule name stays 2."""
    code, out, err = run("silence", "9999", "1h", "--db", str(db))
    assert code == 1 and out == "" and "no alert with id 9999" in err
    code, _, err = run("silence", "no_such_rule", "1h", "--db", str(db))
    assert code == 2 and "unknown alert rule" in err


def test_grafana_dashboard_written_to_a_file_is_the_printed_json(tmp_path):
    """grafana-dashboard needs no store, prints the dashboard, and --output writes the same bytes every time."""
    from metrics.grafana import dashboard_json

    code, out, _ = run("grafana-dashboard")
    assert code == 0 and out == dashboard_json() and json.loads(out)["uid"] == "codebot-overview"
    target = tmp_path / "dashboard.json"
    assert run("grafana-dashboard", "--output", str(target))[0] == 0
    first = target.read_bytes()
    assert run("grafana-dashboard", "--output", str(target))[0] == 0
    assert target.read_bytes() == first == out.encode()
    assert [p.name for p in tmp_path.iterdir()] == ["dashboard.json"]  # no temporary file left behind


def test_grafana_dashboard_to_an_unwritable_place_exits_2(tmp_path):
    """A folder that does not exist is a clear error, with nothing written."""
    code, out, err = run("grafana-dashboard", "--output", str(tmp_path / "missing" / "d.json"))
    assert code == 2 and out == "" and "cannot write" in err
    assert not (tmp_path / "missing").exists()
