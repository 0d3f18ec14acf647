"""Many repositories in one index: `scan --repo NAME=PATH` (repeatable) or `--repos FILE.toml`.

The repositories are scanned as one tree, rooted at their common folder, so a copy
between two of them is found like any other; each repository is remembered as a
folder relative to that root (`Repo`), stored with the scan. A fragment belongs to
the repository whose folder holds its file (`repo_of`); a clone with fragments in two
or more repositories is a cross-repository clone, listed first (`cross_repo_first`).
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Iterable, Sequence

from engine.exceptions import UsageError
from engine.records import Clone, Fragment, Repo, RepoSpec

_NAME = re.compile(r"[A-Za-z0-9._-]+")


def parse_repo_option(text: str, base: Path) -> RepoSpec:
    """One `--repo NAME=PATH`, the path taken relative to `base` (the working folder)."""
    name, sep, path = text.partition("=")
    if not sep or not path:
        raise UsageError(f"--repo {text!r}: expected NAME=PATH, e.g. --repo billing=../billing")
    return RepoSpec(name, base / path, f"--repo {text}")


def load_repos_file(path: Path) -> list[RepoSpec]:
    """The `[[repo]] name = ... path = ...` entries of a TOML file, paths relative to it."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read the repository list {path}: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML: {exc}") from exc
    entries = data.get("repo")
    if not isinstance(entries, list) or not entries:
        raise UsageError(f'{path}: expected a list of [[repo]] tables with name = "..." and '
                         'path = "..."')
    specs = []
    for number, entry in enumerate(entries, 1):
        where = f"{path}: repo {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) \
                or not isinstance(entry.get("path"), str) or not entry["path"]:
            raise UsageError(f'{where}: needs name = "..." and path = "..." (strings)')
        unknown = sorted(set(entry) - {"name", "path"})
        if unknown:
            raise UsageError(f"{where}: unknown key {', '.join(unknown)} (name and path only)")
        specs.append(RepoSpec(entry["name"], path.parent / entry["path"], where))
    return specs


def validate(specs: Sequence[RepoSpec]) -> list[RepoSpec]:
    """The repositories, checked: valid unique names, existing folders, none inside another.
    Paths come back absolute and normalised."""
    seen: dict[str, str] = {}
    checked = []
    for spec in specs:
        if not _NAME.fullmatch(spec.name):
            raise UsageError(f"{spec.origin}: repository name {spec.name!r} must be letters, "
                             "digits, '.', '_' or '-'")
        if spec.name in seen:
            raise UsageError(f"{spec.origin}: repository name {spec.name!r} is given twice "
                             f"(also in {seen[spec.name]})")
        seen[spec.name] = spec.origin
        path = Path(os.path.abspath(spec.path))
        if not path.is_dir():
            what = "is not a folder" if path.exists() else "does not exist"
            raise UsageError(f"{spec.origin}: path {spec.path} {what}")
        checked.append(spec._replace(path=path))
    for outer in checked:
        for inner in checked:
            if inner is not outer and inner.path.is_relative_to(outer.path):
                raise UsageError(f"repository {inner.name!r} ({inner.path}) is inside "
                                 f"(or is) repository {outer.name!r} ({outer.path}); give each "
                                 "folder once")
    return checked


def relative_repos(specs: Iterable[RepoSpec], root: Path) -> tuple[Repo, ...]:
    """The repositories as folders relative to the scan root ("" when it is the root)."""
    return tuple(Repo(s.name, "" if s.path == root else s.path.relative_to(root).as_posix())
                 for s in specs)


def repo_of(path: str, repos: Sequence[Repo]) -> str | None:
    """The name of the repository holding a file (its path relative to the root), or None."""
    for repo in repos:
        if not repo.path or path == repo.path or path.startswith(repo.path + "/"):
            return repo.name
    return None


def repos_of(clone: Clone, repos: Sequence[Repo]) -> list[str]:
    """The repositories a clone's fragments lie in, by name, sorted."""
    return sorted({name for f in clone.fragments
                   if (name := repo_of(f.path, repos)) is not None})


def place(fragment: Fragment, repos: Sequence[Repo]) -> str:
    """`path:start-end`, after `[repo] ` when the scan named repositories: a fragment's
    place as the text, Markdown and HTML reports show it."""
    name = repo_of(fragment.path, repos) if repos else None
    where = f"{fragment.path}:{fragment.start_line}-{fragment.end_line}"
    return f"[{name}] {where}" if name else where


def cross_repo_first(clones: Sequence[Clone], repos: Sequence[Repo]) -> tuple[Clone, ...]:
    """The clones with those spanning two or more repositories first; otherwise in order."""
    if len(repos) < 2:
        return tuple(clones)
    return tuple(sorted(clones, key=lambda c: len(repos_of(c, repos)) < 2))


def dump(repos: Sequence[Repo]) -> list[list[str]]:
    """The repositories as the index stores them (JSON: a list of [name, path])."""
    return [[r.name, r.path] for r in repos]


def load(stored: object) -> tuple[Repo, ...]:
    """The repositories of a stored scan; () for a scan without them or a damaged value."""
    if not isinstance(stored, list):
        return ()
    return tuple(Repo(item[0], item[1]) for item in stored
                 if isinstance(item, list) and len(item) == 2
                 and all(isinstance(part, str) for part in item))
