"""The `python -m bot` command line: console mode through a real subprocess, and the missing-token exit."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run_bot(*args: str, stdin: str = "", env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True,
                          text=True, env={**base, **(env or {})}, cwd=cwd, timeout=60)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """fixtures/bot/console-session.txt piped into `python -m bot --console` with the sample configuration."""
    tmp_path = tmp_path_factory.mktemp("console")
    shutil.copytree(FIXTURES / "shop", tmp_path / "shop")
    (tmp_path / "conf").mkdir()
    shutil.copy(FIXTURES / "bot" / "bot.toml", tmp_path / "conf" / "bot.toml")
    (tmp_path / "conf" / "bot.toml").write_text(
        (tmp_path / "conf" / "bot.toml").read_text().replace('"../shop"', f'"{tmp_path / "shop"}"'))
    script = (FIXTURES / "bot" / "console-session.txt").read_text()
    return run_bot("--console", "--db", str(tmp_path / "index.db"), "--config",
                   str(tmp_path / "conf" / "bot.toml"), stdin=script)


def test_console_answers_piped_commands_as_plain_text(session):
    """Piped commands run as the configured admin: a scan, duplicates, usage answers; exit 0 at EOF."""
    assert session.returncode == 0, session.stderr
    out = session.stdout
    assert "Your role: admin" in out and "Scan finished" in out
    assert "Duplicates — scan #1" in out and "billing/invoice.py:10–21" in out
    assert "usage: /silence <alert_id|rule> <duration>" in out
    assert "usage: /triage <request_id|clone_id>" in out
    assert "CodeBot status" in out
    assert "<b>" not in out and "&lt;" not in out


def test_console_presses_buttons_by_number(session):
    """Buttons are printed numbered; /press N pages (the message is edited) and opens a clone's code;
    a press before any buttons, or of a button not there, gets a usage line."""
    out = session.stdout
    assert "no answer with buttons yet" in out
    assert "buttons: [1] Code 1  [2] Next ▶  (/press N)" in out
    after_next = out.split("buttons: [1] Code 1  [2] Next ▶", 1)[1]
    assert "Showing 2–2 of 3" in after_next
    assert "buttons: [1] Code 2  [2] ◀ Prev  [3] Next ▶" in after_next
    assert "web/checkout.js:2–13" in after_next and "function checkoutTotal(" in after_next
    assert after_next.count("usage: /press N, where N is 1..3") == 2


def test_missing_token_exits_2_saying_how_to_set_it(tmp_path):
    """Without TELEGRAM_BOT_TOKEN and without --console the bot refuses to start, naming the variable."""
    result = run_bot("--db", str(tmp_path / "index.db"))
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "--console" in result.stderr


def test_bad_configuration_exits_2_naming_the_key(tmp_path):
    """A wrong value in the TOML file is reported with its key, exit code 2."""
    (tmp_path / "bot.toml").write_text('admins = ["not a number"]\n')
    result = run_bot("--console", "--config", str(tmp_path / "bot.toml"), "--db", str(tmp_path / "i.db"))
    assert result.returncode == 2
    assert "admins" in result.stderr


def test_webhook_mode_answers_an_update_posted_to_it(tmp_path):
    """--webhook registers itself with the Bot API and answers an update POSTed to its port."""
    import json
    import os
    import signal
    import socket
    import time
    import urllib.request

    from bot.testing import FakeBotApi

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with FakeBotApi() as api:
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token,
               "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "--webhook", f"http://127.0.0.1:{port}", "--listen",
             "127.0.0.1", "--port", str(port), "--api-url", api.base_url, "--db",
             str(tmp_path / "index.db"), "--config", str(FIXTURES / "bot" / "bot.toml")],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            api.wait_for(lambda: api.sent("setWebhook"), timeout=30)
            update = {"update_id": 1, "message": {
                "message_id": 1, "date": int(time.time()),
                "chat": {"id": 101, "type": "private"},
                "from": {"id": 101, "is_bot": False, "first_name": "admin"},
                "text": "/help", "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
            path = api.token.split(":")[0]
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/{path}", data=json.dumps(update).encode(),
                headers={"Content-Type": "application/json"})
            for _ in range(50):  # the server may still be starting
                try:
                    urllib.request.urlopen(request, timeout=5).close()
                    break
                except OSError:
                    time.sleep(0.1)
            answer = api.wait_for(lambda: api.sent("sendMessage"), timeout=30)
            assert answer
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        webhook = api.sent("setWebhook")[0]
        assert webhook.params["url"] == f"http://127.0.0.1:{port}/{path}"
