"""Shared test helpers: fixture trees copied to a temp folder, and the CLI run for real."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


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
