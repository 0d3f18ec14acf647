"""Tests for .pre-commit-hooks.yaml: the real pre-commit framework running codebot-duplicates.

A copy of this checkout (with uncommitted work) is committed into a temporary
hook repository; a temporary project uses it from its .pre-commit-config.yaml
and `git commit` runs the hook. pre-commit builds the hook's virtualenv with
pip; it sees the packages of the base interpreter (system site packages, no
build isolation) and fetches from the package index only what is missing
there — nothing on a developer machine, the dependencies on a fresh CI one.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES

CHECKOUT = Path(__file__).resolve().parent.parent
HOOK_FILES = ("engine", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")
ENV = {
    "VIRTUALENV_SYSTEM_SITE_PACKAGES": "1", "PIP_NO_BUILD_ISOLATION": "0",
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "PRE_COMMIT_COLOR": "never",
}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory) -> tuple[dict[str, str], Path, str]:
    """A committed copy of this checkout as a hook repository, and a PRE_COMMIT_HOME for all tests."""
    base = tmp_path_factory.mktemp("hook")
    env = {**os.environ, **ENV, "PRE_COMMIT_HOME": str(base / "cache"), "HOME": str(base)}
    env.pop("CODEBOT_DB", None)
    repo = base / "codebot"
    repo.mkdir()
    for name in HOOK_FILES:
        source = CHECKOUT / name
        if source.is_dir():
            shutil.copytree(source, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, repo / name)
    git("init", "-q", cwd=repo, env=env)
    git("add", "-A", cwd=repo, env=env)
    git("commit", "-q", "-m", "hook", cwd=repo, env=env)
    rev = git("rev-parse", "HEAD", cwd=repo, env=env).stdout.strip()
    return env, repo, rev


@pytest.fixture
def project(hook_env, tmp_path) -> tuple[Path, dict[str, str]]:
    """A git repository holding the shop fixture, with the hook installed from the config."""
    env, repo, rev = hook_env
    root = tmp_path / "project"
    shutil.copytree(FIXTURES / "shop", root)
    (root / ".gitignore").write_text(".codebot/\n")
    (root / ".pre-commit-config.yaml").write_text(
        f"repos:\n-   repo: {repo}\n    rev: {rev}\n    hooks:\n    -   id: codebot-duplicates\n")
    git("init", "-q", cwd=root, env=env)
    git("add", "-A", cwd=root, env=env)
    git("commit", "-q", "-m", "start", cwd=root, env=env)
    installed = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=root, env=env,
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return root, env


def commit(root: Path, env: dict[str, str], *paths: str) -> subprocess.CompletedProcess:
    git("add", *paths, cwd=root, env=env)
    done = git("commit", "-m", "change", cwd=root, env=env)
    done.stdout += done.stderr
    return done


def test_staged_copy_of_a_function_fails_the_commit_naming_both_places(project):
    """Copying an existing class into a new file is stopped, and both places are named."""
    root, env = project
    (root / "catalog" / "couriers.py").write_text((root / "shipping" / "carriers.py").read_text())
    done = commit(root, env, "catalog/couriers.py")
    assert done.returncode != 0, done.stdout
    assert "codebot duplicated code" in done.stdout and "Failed" in done.stdout
    assert "catalog/couriers.py" in done.stdout and "shipping/carriers.py" in done.stdout
    assert git("log", "--oneline", cwd=root, env=env).stdout.count("\n") == 1


def test_unrelated_change_passes(project):
    """A staged file without copies commits."""
    root, env = project
    search = root / "catalog" / "search.py"
    search.write_text(search.read_text() + "\n\ndef unrelated(x):\n    return x * 2\n")
    done = commit(root, env, "catalog/search.py")
    assert done.returncode == 0, done.stdout
    assert "codebot duplicated code" in done.stdout and "Passed" in done.stdout


def test_clone_in_the_baseline_passes(project):
    """A copy accepted with `scan --update-baseline` commits along with the baseline file."""
    root, env = project
    (root / "catalog" / "couriers.py").write_text((root / "shipping" / "carriers.py").read_text())
    accepted = subprocess.run([sys.executable, "-m", "engine", "scan", ".", "--update-baseline",
                               "-q"], cwd=root, env={**env, "PYTHONPATH": str(CHECKOUT)},
                              capture_output=True, text=True, timeout=300)
    assert accepted.returncode == 0, accepted.stderr
    done = commit(root, env, "catalog/couriers.py", ".codebot-baseline.json")
    assert done.returncode == 0, done.stdout


def test_suppressed_region_passes(project):
    """A copy between ignore-start and ignore-end commits."""
    root, env = project
    copy = (root / "shipping" / "carriers.py").read_text()
    (root / "catalog" / "couriers.py").write_text(
        "# codebot: ignore-start\n" + copy + "# codebot: ignore-end\n")
    done = commit(root, env, "catalog/couriers.py")
    assert done.returncode == 0, done.stdout
