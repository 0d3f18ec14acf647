"""Find the source files under the given paths.

Honours every .gitignore on the way down (pathspec's gitignore rules), the
default excludes (version control, virtualenvs, node_modules, build and cache
folders) and `--exclude` patterns; follows directory symlinks once (a loop is
cut where a directory is seen again).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

import pathspec

from engine.exceptions import UsageError
from engine.records import SourceFile

# Folders never scanned (and `*.egg-info`): tooling, environments, build output.
_EXCLUDED_DIRS = frozenset({
    ".git", ".hg", ".svn", ".codebot", ".venv", "venv", ".env", "env", "virtualenv",
    "node_modules", "__pycache__", "build", "dist", ".tox", ".nox", ".eggs",
    ".mypy_cache", ".pytest_cache", ".ruff_cache", ".cache", "site-packages", ".idea",
    ".vscode", "target", "vendor",
})

# File endings to the pygments lexer name (or "python") that reads them.
LANGUAGES = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "jsx",
    ".ts": "typescript", ".tsx": "tsx", ".java": "java", ".kt": "kotlin", ".scala": "scala",
    ".go": "go", ".rs": "rust", ".c": "c", ".h": "c", ".cc": "cpp", ".cpp": "cpp",
    ".cxx": "cpp", ".hpp": "cpp", ".cs": "csharp", ".rb": "ruby", ".php": "php",
    ".swift": "swift", ".sh": "bash", ".bash": "bash", ".lua": "lua", ".pl": "perl",
    ".r": "r", ".dart": "dart", ".ex": "elixir", ".exs": "elixir", ".erl": "erlang",
    ".hs": "haskell", ".ml": "ocaml", ".clj": "clojure", ".sql": "sql", ".vue": "html",
}


def language_of(path: str) -> str | None:
    """The language a file is read as, from its ending; None for files we skip."""
    dot = path.rfind(".")
    return LANGUAGES.get(path[dot:].lower()) if dot > path.rfind("/") else None


def is_excluded(rel: str, excludes: Iterable[str] = ()) -> bool:
    """Whether a file (path relative to the root) lies in an excluded folder or matches
    an `--exclude` pattern — what discovery would have skipped."""
    folders = rel.split("/")[:-1]
    if any(f in _EXCLUDED_DIRS or f.endswith(".egg-info") for f in folders):
        return True
    patterns = tuple(excludes)
    return bool(patterns) and pathspec.GitIgnoreSpec.from_lines(patterns).match_file(rel)


def common_root(paths: list[Path]) -> Path:
    """The folder the report's paths are relative to."""
    resolved = [p if p.is_dir() else p.parent for p in paths]
    return Path(os.path.commonpath([str(p) for p in resolved]))


def discover(paths: list[Path], root: Path, languages: set[str] | None = None,
             excludes: list[str] | tuple[str, ...] = ()) -> list[SourceFile]:
    """Every source file under `paths`, sorted by path relative to `root`."""
    for path in paths:
        if not path.exists():
            raise UsageError(f"path does not exist: {path}")
    user_spec = pathspec.GitIgnoreSpec.from_lines(excludes) if excludes else None
    found: dict[str, SourceFile] = {}
    for path in paths:
        if path.is_file():
            candidates: Iterable[tuple[str, os.stat_result]] = [(str(path.absolute()), path.stat())]
        else:
            candidates = _walk(path.absolute(), root, user_spec)
        for file, stat in candidates:
            language = language_of(file)
            if language is None or (languages and language not in languages):
                continue
            rel = relative_path(file, root)
            found[rel] = SourceFile(Path(file), rel, language, stat.st_size, stat.st_mtime_ns)
    return [found[rel] for rel in sorted(found)]


def relative_path(file: str, root: Path) -> str:
    """A file's path as reports show it: relative to `root` with "/", else as it is."""
    prefix = str(root).rstrip(os.sep) + os.sep
    return file[len(prefix):].replace(os.sep, "/") if file.startswith(prefix) \
        else Path(file).as_posix()


def _walk(top: Path, root: Path, user_spec: pathspec.PathSpec | None
          ) -> Iterator[tuple[str, os.stat_result]]:
    """(path, stat) of each source file below `top`; plain strings, for speed."""
    seen_dirs: set[tuple[int, int]] = set()
    # Each entry: a folder, and the .gitignore specs in force there with the
    # folder each is relative to.
    stack: list[tuple[str, list[tuple[str, pathspec.PathSpec]]]] = [
        (str(top), _ignores_above(top, root))]
    while stack:
        folder, ignores = stack.pop()
        try:
            stat = os.stat(folder)
            entries = list(os.scandir(folder))
        except OSError:
            continue
        if (stat.st_dev, stat.st_ino) in seen_dirs:
            continue  # a symlink loop, or the same folder by two names
        seen_dirs.add((stat.st_dev, stat.st_ino))
        ignores = ignores + _gitignore(folder)
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir and (name in _EXCLUDED_DIRS or name.endswith(".egg-info")):
                continue
            if not is_dir and language_of(name) is None:
                continue  # not source: no need to stat or match it
            suffix = "/" if is_dir else ""
            if user_spec is not None and user_spec.match_file(relative_path(entry.path, root) + suffix):
                continue
            if ignores and _ignored(entry.path, suffix, ignores):
                continue
            if is_dir:
                stack.append((entry.path, ignores))
            else:
                try:
                    if entry.is_file():
                        yield entry.path, entry.stat()
                except OSError:
                    continue  # a dangling symlink, or gone since the listing


def _gitignore(folder: str) -> list[tuple[str, pathspec.PathSpec]]:
    try:
        with open(os.path.join(folder, ".gitignore"), encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return []
    return [(folder, pathspec.GitIgnoreSpec.from_lines(lines))]


def _ignores_above(top: Path, root: Path) -> list[tuple[str, pathspec.PathSpec]]:
    """The .gitignore files between the report root and the folder the walk starts at."""
    specs: list[tuple[str, pathspec.PathSpec]] = []
    if top != root and top.is_relative_to(root):
        for parent in reversed(top.relative_to(root).parents):
            specs += _gitignore(str(root / parent))
    return specs


def _ignored(path: str, suffix: str, ignores: list[tuple[str, pathspec.PathSpec]]) -> bool:
    for base, spec in ignores:
        if spec.match_file(path[len(base) + 1:] + suffix):
            return True
    return False
