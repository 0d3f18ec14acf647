"""Tests for .pre-commit-hooks.yaml: the real pre-commit framework running codebot-duplicates.

A copy of this checkout (with uncommitted work) is committed into a temporary
hook repository; a temporary project uses it from its .pre-commit-config.yaml
and `git commit` runs the hook. The hook repository holds what the
distribution is built from — the packages pyproject.toml's
[tool.setuptools.packages.find] declares, pyproject.toml, README.md and
.pre-commit-hooks.yaml — and nothing else, as a user's clone would.
pre-commit builds the hook's virtualenv as on any user's machine: no system
site packages, pip installs the hook and its dependencies from the configured
package index (once per module: PRE_COMMIT_HOME is shared), so the tests pass
or fail the same whether or not the base interpreter has the project installed.
"""
import ast
import json
import os
import shutil
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from conftest import FIXTURES

CHECKOUT = Path(__file__).resolve().parent.parent
HOOK_METADATA = ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml")
ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1", "PRE_COMMIT_COLOR": "never",
}
# Anything that would let the hook's env see packages from outside it.
LEAKS = ("CODEBOT_DB", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE",
         "VIRTUALENV_SYSTEM_SITE_PACKAGES", "PIP_NO_BUILD_ISOLATION", "PIP_USER")

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def declared_packages() -> list[str]:
    """The top-level package folders the distribution ships, relative to the checkout.

    Read from pyproject.toml's [tool.setuptools.packages.find] (where, include,
    exclude) as setuptools applies it, so the list cannot drift from what
    `pip install .` installs.
    """
    pyproject = tomllib.loads((CHECKOUT / "pyproject.toml").read_text())
    find = pyproject["tool"]["setuptools"]["packages"]["find"]
    include, exclude = find.get("include", ["*"]), find.get("exclude", [])
    found = []
    for where in find.get("where", ["."]):
        for folder in sorted((CHECKOUT / where).iterdir()):
            name = folder.name
            if (folder.is_dir() and name.isidentifier() and name != "__pycache__"
                    and any(fnmatch(name, pattern) for pattern in include)
                    and not any(fnmatch(name, pattern) for pattern in exclude)):
                found.append(str(folder.relative_to(CHECKOUT)))
    assert found, f"pyproject.toml declares no packages: {find}"
    return found


def git(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory) -> tuple[dict[str, str], Path, str]:
    """A committed copy of the distribution's files as a hook repository, and a PRE_COMMIT_HOME for all tests."""
    base = tmp_path_factory.mktemp("hook")
    env = {**os.environ, **ENV, "PRE_COMMIT_HOME": str(base / "cache"), "HOME": str(base)}
    for name in LEAKS:
        env.pop(name, None)
    repo = base / "codebot"
    repo.mkdir()
    for name in (*declared_packages(), *HOOK_METADATA):
        source, target = CHECKOUT / name, repo / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
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


def first_party_imports(root: Path) -> set[str]:
    """Top-level names of this checkout's own packages that the Python files under `root` import."""
    own = {path.name for path in CHECKOUT.iterdir()
           if path.is_dir() and path.name.isidentifier() and path.name != "__pycache__"}
    found = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found.update(name.split(".")[0] for name in names if name.split(".")[0] in own)
    return found


def test_hook_repository_holds_every_package_the_distribution_declares(hook_env):
    """The hook repository has each declared package, and every package its code imports."""
    env, repo, rev = hook_env
    committed = git("ls-tree", "-r", "--name-only", rev, cwd=repo, env=env).stdout.splitlines()
    packages = declared_packages()
    assert {"engine", "metrics", "bot"} <= set(packages), packages  # the derivation itself works
    for name in packages:
        assert any(path.startswith(f"{name}/") and path.endswith(".py") for path in committed), name
    assert set(HOOK_METADATA) <= set(committed), committed
    missing = first_party_imports(repo) - {name.split("/")[-1] for name in packages}
    assert not missing, f"the hook's code imports packages the hook repository lacks: {missing}"


def test_hook_env_has_its_own_packages_and_no_outside_ones(project, tmp_path):
    """The hook's virtualenv imports the declared packages from itself and sees no site packages of the base interpreter."""
    root, env = project
    installed = subprocess.run([sys.executable, "-m", "pre_commit", "install-hooks"], cwd=root,
                               env=env, capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    configs = list(Path(env["PRE_COMMIT_HOME"]).glob("repo*/py_env-*/pyvenv.cfg"))
    assert len(configs) == 1, configs
    settings = dict(line.split("=", 1) for line in configs[0].read_text().splitlines() if "=" in line)
    settings = {key.strip(): value.strip() for key, value in settings.items()}
    assert settings["include-system-site-packages"] == "false", settings
    python = next(path for path in (configs[0].parent / "bin" / "python",
                                    configs[0].parent / "Scripts" / "python.exe") if path.exists())
    packages = [name.split("/")[-1] for name in declared_packages()]
    probe = (
        "import importlib, json, site, sys\n"
        f"modules = [importlib.import_module(name) for name in {[*packages, 'libcst']!r}]\n"
        "print(json.dumps({'prefix': sys.prefix, 'base_prefix': sys.base_prefix,\n"
        "    'no_site': sys.flags.no_site, 'user_site': site.ENABLE_USER_SITE,\n"
        "    'site_packages': site.getsitepackages(), 'path': sys.path,\n"
        "    'files': [module.__file__ for module in modules]}))\n")
    # cwd: an empty folder, so nothing is imported from a checkout next to it.
    ran = subprocess.run([str(python), "-c", probe], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout)
    prefix = seen["prefix"]
    assert prefix != seen["base_prefix"] and seen["no_site"] == 0, seen
    assert seen["user_site"] is False, seen
    assert all(path.startswith(prefix) for path in seen["site_packages"]), seen
    outside = [path for path in seen["path"] if "-packages" in path and not path.startswith(prefix)]
    assert not outside, f"the hook env sees site packages from outside it: {outside}"
    assert all(path.startswith(prefix) for path in seen["files"]), seen["files"]
