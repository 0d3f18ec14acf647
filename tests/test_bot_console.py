"""The `python -m bot` command line: console mode through a real subprocess, and the missing-token exit."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def run_bot(*args: str, stdin: str = "", env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    base = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run([sys.executable, "-m", "bot", *args], input=stdin, capture_output=True,
                          text=True, env={**base, **(env or {})}, cwd=cwd, timeout=60)


def test_console_answers_piped_commands_as_plain_text(tmp_path):
    """Piped commands run as the configured admin: a scan, duplicates, usage answers; exit 0 at EOF."""
    shutil.copytree(FIXTURES / "shop", tmp_path / "shop")
    (tmp_path / "conf").mkdir()
    shutil.copy(FIXTURES / "bot" / "bot.toml", tmp_path / "conf" / "bot.toml")
    (tmp_path / "conf" / "bot.toml").write_text(
        (tmp_path / "conf" / "bot.toml").read_text().replace('"../shop"', f'"{tmp_path / "shop"}"'))
    session = (FIXTURES / "bot" / "console-session.txt").read_text()
    result = run_bot("--console", "--db", str(tmp_path / "index.db"), "--config",
                     str(tmp_path / "conf" / "bot.toml"), stdin=session)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Your role: admin" in out and "Scan finished" in out
    assert "Duplicates under billing/" in out and "billing/invoice.py:10–21" in out
    assert "usage: /silence <alert_id|rule> <duration>" in out
    assert "usage: /triage <request_id|clone_id>" in out
    assert "CodeBot status" in out
    assert "<b>" not in out and "&lt;" not in out


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
