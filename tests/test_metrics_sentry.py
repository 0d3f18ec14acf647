"""Tests of metrics.sentry: failed requests reach a stand-in Sentry on 127.0.0.1 through the real sentry-sdk."""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import metrics
from metrics import sentry
from metrics.clock import ManualClock, SystemClock
from metrics.testing import configured

sentry_sdk = pytest.importorskip("sentry_sdk")

ROOT = Path(__file__).resolve().parents[1]
SECRETS = ("hunter2-very-secret", "ghp_" + "a1B2" * 9, "alice@example.com", "sk_live_" + "Zx9" * 8)


class StandIn(ThreadingHTTPServer):
    """Receives envelopes as Sentry's ingest endpoint would and keeps their decompressed bodies."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[bytes] = []
        self.paths: list[str] = []
        self.arrived = threading.Condition()

    def envelopes(self, count: int = 1, timeout: float = 15.0) -> list[bytes]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.bodies) >= count, timeout)
            return list(self.bodies)


class _Handler(BaseHTTPRequestHandler):
    server: StandIn

    def do_POST(self) -> None:  # noqa: N802 - the http.server name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with self.server.arrived:
            self.server.paths.append(self.path)
            self.server.bodies.append(body)
            self.server.arrived.notify_all()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def events_in(body: bytes) -> list[dict]:
    """The event items of one envelope (header line, then item header and payload lines)."""
    lines = body.split(b"\n")
    found = []
    for header, payload in zip(lines[1::2], lines[2::2]):
        if json.loads(header).get("type") == "event":
            found.append(json.loads(payload))
    return found


@pytest.fixture
def stand_in(monkeypatch) -> Iterator[StandIn]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = StandIn()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dsn(stand_in) -> Iterator[str]:
    """Sentry started in this process against the stand-in; stopped (and inactive) afterwards."""
    value = f"http://publickey@127.0.0.1:{stand_in.server_port}/1"
    warnings = io.StringIO()
    assert sentry.setup({"SENTRY_DSN": value}, warnings) and warnings.getvalue() == ""
    try:
        yield value
    finally:
        sentry_sdk.get_client().close(timeout=2)
        sentry_sdk.get_global_scope().set_client(None)  # inactive again, as in a process without Sentry


def fail_with_secrets(clock: ManualClock | None = None) -> tuple[str, str]:
    """A scan whose nested parse fails, with secrets in metadata, events and the message; returns both ids."""
    with pytest.raises(RuntimeError):
        with metrics.track_request("scan", metadata={"root": "/repo", "api_key": SECRETS[3]}) as outer:
            metrics.log_event("scan.reading", files=3, note=f"password={SECRETS[0]}")
            if clock:
                clock.advance(0.2)
            with metrics.track_request("scan.parse") as inner:
                metrics.log_event("parse.retry", owner=SECRETS[2])
                raise RuntimeError(f"token {SECRETS[1]} was refused for {SECRETS[2]}")
    return outer.request_id, inner.request_id


def test_a_failed_request_reaches_sentry_tagged_with_breadcrumbs_and_no_secret(tmp_path, stand_in, dsn):
    """One event per failed request: request id tag, the event trail as breadcrumbs, nothing secret in it."""
    clock = ManualClock()
    with configured(tmp_path / "index.db", clock) as runtime:
        with metrics.track_request("scan"):
            pass
        loop = sentry.ForwardLoop(runtime.read_store, io.StringIO())
        loop.begin()
        outer, inner = fail_with_secrets(clock)
        assert loop.step() == [outer]
        assert loop.step() == []  # sent once
    sentry.flush()
    (body,) = stand_in.envelopes()
    assert stand_in.paths == ["/api/1/envelope/"]
    for secret in SECRETS:
        assert secret.encode() not in body
    (event,) = events_in(body)
    assert event["tags"]["request_id"] == outer and event["tags"]["failed_request_id"] == inner
    assert event["tags"]["operation"] == "scan"
    assert event["exception"]["values"][0]["type"] == "RuntimeError"
    assert "[REDACTED" in event["exception"]["values"][0]["value"]
    crumbs = event["breadcrumbs"]["values"]
    assert [c["category"] for c in crumbs] == [
        "request.started", "scan.reading", "request.started", "parse.retry", "request.failed", "request.failed"]
    assert [c["data"]["request_id"] for c in crumbs][2:5] == [inner] * 3
    assert crumbs[-1]["level"] == "error" and crumbs[1]["data"]["note"].startswith("password=[REDACTED")


def test_the_sdk_scrubs_anything_else_it_sends(stand_in, dsn):
    """before_send sanitizes the whole event, so even an event built elsewhere carries no secret."""
    # The token's value is no hex: the envelope carries the release (a commit hash), which
    # may hold any short hex string.
    sentry_sdk.capture_event({"message": f"login with password={SECRETS[0]}",
                              "extra": {"token": "qwxyz-token"}})
    sentry.flush()
    (body,) = stand_in.envelopes()
    assert SECRETS[0].encode() not in body and b"qwxyz" not in body and b"[REDACTED" in body


def test_serve_forwards_failures_stored_by_another_process(tmp_path, stand_in):
    """`python -m metrics serve` with SENTRY_DSN sends a failure another process stores after it started."""
    db = tmp_path / "index.db"
    metrics.configure(db, clock=SystemClock(), background=False, notifiers=[])
    fail_with_secrets()  # stored before the server starts: not sent
    metrics.shutdown()
    env = {**os.environ, "SENTRY_DSN": f"http://publickey@127.0.0.1:{stand_in.server_port}/1"}
    server = subprocess.Popen([sys.executable, "-m", "metrics", "serve", "--port", "0", "--db", str(db)],
                              cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr.readline().startswith("serving http://")
        metrics.configure(db, clock=SystemClock(), background=False, notifiers=[])
        outer, _ = fail_with_secrets()
        metrics.shutdown()
        deadline = time.monotonic() + 20
        while not stand_in.bodies and time.monotonic() < deadline:
            stand_in.envelopes(timeout=0.5)
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=15) == 0
        server.stderr.close()
    events = [event for body in stand_in.bodies for event in events_in(body)]
    assert [event["tags"]["request_id"] for event in events] == [outer]


def test_without_a_dsn_nothing_starts(monkeypatch):
    """No SENTRY_DSN: setup does nothing, says nothing, and imports nothing."""
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # an import would now fail loudly
    warnings = io.StringIO()
    assert sentry.setup({}, warnings) is False and sentry.setup({"SENTRY_DSN": " "}, warnings) is False
    assert warnings.getvalue() == ""


def test_a_dsn_without_sentry_sdk_is_one_warning_line(monkeypatch):
    """SENTRY_DSN set but sentry-sdk missing: one line on the warning stream, no DSN echoed, no forwarding."""
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)
    warnings = io.StringIO()
    assert sentry.setup({"SENTRY_DSN": "http://publickey@127.0.0.1:9/1"}, warnings) is False
    text = warnings.getvalue()
    assert text.count("\n") == 1 and "sentry-sdk is not installed" in text and "publickey" not in text


def test_a_malformed_dsn_is_one_warning_line():
    """A DSN sentry-sdk refuses is reported without its text, and nothing is started."""
    warnings = io.StringIO()
    assert sentry.setup({"SENTRY_DSN": "not a dsn secretpart"}, warnings) is False
    text = warnings.getvalue()
    assert text.count("\n") == 1 and "not usable" in text and "secretpart" not in text
    assert not sentry_sdk.get_client().is_active()


def test_an_engine_command_that_fails_sends_its_own_error(tmp_path, stand_in):
    """With SENTRY_DSN set, `python -m engine` forwards its own failure as it exits (no server
    needed): the request id it printed is the event's tag, its events are the breadcrumbs."""
    env = {**os.environ, "SENTRY_DSN": f"http://publickey@127.0.0.1:{stand_in.server_port}/1"}
    env.pop("CODEBOT_DB", None)
    done = subprocess.run([sys.executable, "-m", "engine", "scan", str(tmp_path / "missing"),
                           "--db", str(tmp_path / "index.db")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "path does not exist" in done.stderr
    request_id = done.stderr.split("codebot: request ")[1].split(";")[0]
    stand_in.envelopes(timeout=15)
    events = [event for body in stand_in.bodies for event in events_in(body)]
    assert [event["tags"]["request_id"] for event in events] == [request_id]
    assert events[0]["exception"]["values"][0]["type"] == "UsageError"
    assert any(c["category"] == "scan.started" for c in events[0]["breadcrumbs"]["values"])


def test_a_successful_engine_command_sends_nothing(shop, tmp_path, stand_in):
    env = {**os.environ, "SENTRY_DSN": f"http://publickey@127.0.0.1:{stand_in.server_port}/1"}
    done = subprocess.run([sys.executable, "-m", "engine", "scan", str(shop), "--db",
                           str(tmp_path / "index.db"), "-q"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert stand_in.envelopes(timeout=1) == []
