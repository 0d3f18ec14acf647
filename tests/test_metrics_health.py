"""Tests of /healthz and /readyz: the real `metrics serve` on a free port of 127.0.0.1, asked with urllib."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import metrics
from metrics.cli import LazyRuntime
from metrics.clock import SystemClock
from metrics.exposition import serve
from metrics.health import MIN_FREE_BYTES, disk_check, readiness, scan_age_check
from metrics.settings import MetricsSettings

ROOT = Path(__file__).resolve().parents[1]


def get(url: str) -> tuple[int, str]:
    """Status and body of a GET, 503 included."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@contextmanager
def served(db: Path) -> Iterator[str]:
    """`python -m metrics serve --port 0 --db DB` as a process; yields its base URL, stops it with Ctrl-C."""
    env = {k: v for k, v in os.environ.items() if k not in ("SENTRY_DSN", "CODEBOT_DB")}
    server = subprocess.Popen([sys.executable, "-m", "metrics", "serve", "--port", "0", "--db", str(db)],
                              cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        assert line.startswith("serving http://127.0.0.1:"), line
        yield line.split()[1].removesuffix("/metrics")
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0
        server.stderr.close()


@pytest.fixture
def db(tmp_path) -> Path:
    """A store with one request and a scan recorded just now."""
    path = tmp_path / "index.db"
    metrics.configure(path, clock=SystemClock(), background=False, notifiers=[])
    with metrics.track_request("scan"):
        pass
    metrics.record_scan(files=4, duplication_pct=1.5, new_clones=0, duration_s=0.2, root="/repo")
    metrics.shutdown()
    return path


def test_served_health_and_readiness_answer_json(db):
    """/healthz says the process is up; /readyz checks the database, the last scan's age and the disk."""
    with served(db) as base:
        status, body = get(base + "/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, body = get(base + "/readyz")
        ready = json.loads(body)
        assert status == 200 and ready["status"] == "ready"
        assert ready["checks"]["database"]["state"] == "ok" and ready["checks"]["database"]["ms"] < 1000
        assert ready["checks"]["last_scan"]["state"] == "ok" and 0 <= ready["checks"]["last_scan"]["age_s"] < 300
        assert ready["checks"]["disk"]["free_bytes"] > 0
        status, body = get(base + "/metrics")
        assert status == 200 and "codebot_requests_total" in body


@pytest.mark.parametrize("damage", ["folder", "garbage"])
def test_a_store_that_is_a_folder_or_damaged_makes_readyz_503(tmp_path, damage):
    """The server still starts: /healthz is 200, while /readyz and /metrics answer 503 saying why."""
    path = tmp_path / "index.db"
    if damage == "folder":
        path.mkdir()
    else:
        path.write_bytes(b"this is not SQLite " * 100)
    with served(path) as base:
        assert get(base + "/healthz")[0] == 200
        status, body = get(base + "/readyz")
        ready = json.loads(body)
        assert status == 503 and ready["status"] == "not_ready"
        assert ready["checks"]["database"]["state"] == "fail"
        assert ("folder" if damage == "folder" else "does not answer") in ready["checks"]["database"]["detail"]
        status, body = get(base + "/metrics")
        assert status == 503 and "metrics store unavailable" in body
    if damage == "garbage":
        assert path.read_bytes() == b"this is not SQLite " * 100  # probed read-only, left as it was


def test_readiness_recovers_once_the_store_opens(tmp_path, db):
    """A server started before its store exists answers 503, then 200 once the file is there, without restart."""
    later = tmp_path / "later.db"
    server, _ = serve(LazyRuntime(later, MetricsSettings()), 0, db_path=later)
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        assert get(base + "/readyz")[0] == 503 and get(base + "/metrics")[0] == 503
        assert not later.exists()  # asking never creates the store
        later.write_bytes(db.read_bytes())
        assert get(base + "/readyz")[0] == 200
        status, body = get(base + "/metrics")
        assert status == 200 and "codebot_scan_files" in body
    finally:
        server.shutdown()
        server.server_close()
        metrics.shutdown()


def test_readiness_of_a_file_changed_after_start(db):
    """Readiness looks at the file as it is now: replaced by garbage, it is 503 at once."""
    assert readiness(db)[0] == 200
    db.write_bytes(b"\0" * 4096)
    for suffix in ("-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    status, body = readiness(db)
    assert status == 503 and body["checks"]["database"]["state"] == "fail"


def test_scan_age_and_disk_states():
    """An old or missing scan only warns; too little free disk fails, under 10% warns."""
    assert scan_age_check(None, 100.0).state == "warn"
    assert scan_age_check(90.0, 100.0).state == "ok"
    assert scan_age_check(0.0, 8 * 86400.0).state == "warn"
    assert disk_check(MIN_FREE_BYTES - 1, 10**12).state == "fail"
    assert disk_check(5 * 10**10, 10**12).state == "warn"
    assert disk_check(5 * 10**11, 10**12).state == "ok"
