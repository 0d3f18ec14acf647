"""Shared test helpers: fixture trees copied to a temp folder, the CLI run for real, and
golden files (rewritten only with `pytest --update-golden`)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the golden files (fixtures/*.golden.*) from the current "
                          "output instead of comparing with them")


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """`golden(path, text)` asserts that `text` is the recorded golden file; with
    --update-golden it records `text` first. Without the option a mismatch fails."""
    update = request.config.getoption("--update-golden")

    def check(path: Path, text: str) -> None:
        if update:
            path.write_text(text)
        assert text == path.read_text(), \
            f"{path.name} differs from this output; if the change is intended, run pytest --update-golden"

    return check


@pytest.fixture
def clock():
    """A metrics clock the test moves by hand: no sleeping."""
    from metrics.clock import ManualClock

    return ManualClock()


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A copy of fixtures/shop, a small tree with known clones, safe to edit."""
    target = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", target)
    return target


def run_cli(*args: str | Path, env: dict[str, str] | None = None,
            cwd: Path | None = None, module: str = "engine") -> subprocess.CompletedProcess:
    """Run `python -m engine ...` in a subprocess and capture its output."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("CODEBOT_DB", None) if env is None or "CODEBOT_DB" not in env else None
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=300)
