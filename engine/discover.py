"""Find the source files under the given paths.

Honours every .gitignore on the way down (pathspec's gitimport rules), the
default excludes (version control, virtualenvs, node_modules, build and cache
folders) and `--exclude` patterns; follows directory symlinks once (a loop is
cut where a directory is seen again).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pathspec

from engine.exceptions import UsageError
from engine.records import SourceFile

DEFAULT_EXCLUDES = (
    ".git/", ".hg/", ".svn/", ".codebot/", ".venv/", "venv/", ".env/", "env/", "virtualenv/",
    "node_modules/", "__pycache__/", "build/", "dist/", ".tox/", ".nox/", ".eggs/", "*.egg-info/",
    ".mypy_cache/", ".pytest_cache/", ".ruff_cache/", ".cache/", "site-packages/", ".idea/",
    ".vscode/", "target/", "vendor/",
)

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
    return LANGUAGES.get(os.path.splitext(path)[1].lower())


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
    exclude = pathspec.GitIgnoreSpec.from_lines([*DEFAULT_EXCLUDES, *excludes])
    found: dict[str, SourceFile] = {}
    for path in paths:
        if path.is_file():
            candidates: Iterator[tuple[Path, os.stat_result]] = _single(path)
        else:
            candidates = _walk(path, root, exclude)
        for file, stat in candidates:
            language = language_of(file.name)
            if language is None or (languages and language not in languages):
                continue
            rel = _relative(file, root)
            found[rel] = SourceFile(file, rel, language, stat.st_size, stat.st_mtime_ns)
    return [found[rel] for rel in sorted(found)]


def _single(path: Path) -> Iterator[tuple[Path, os.stat_result]]:
    yield path.absolute(), path.stat()


def _relative(file: Path, root: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.as_posix()


def _walk(top: Path, root: Path, exclude: pathspec.PathSpec
          ) -> Iterator[tuple[Path, os.stat_result]]:
    seen_dirs: set[tuple[int, int]] = set()
    # Each entry: a folder, and the .gitignore specs in force there with the
    # folder each is relative to.
    stack: list[tuple[Path, list[tuple[Path, pathspec.PathSpec]]]] = [
        (top.absolute(), _ignores_above(top.absolute(), root))]
    while stack:
        folder, ignores = stack.pop()
        try:
            stat = folder.stat()
        except OSError:
            continue
        if (stat.st_dev, stat.st_ino) in seen_dirs:
            continue  # a symlink loop, or the same folder by two names
        seen_dirs.add((stat.st_dev, stat.st_ino))
        ignores = ignores + _gitignore(folder)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            rel = entry.name + ("/" if is_dir else "")
            if exclude.match_file(rel) or _ignored(path, is_dir, ignores):
                continue
            if is_dir:
                stack.append((path, ignores))
            elif entry.is_file():
                try:
                    yield path, entry.stat()
                except OSError:
                    continue  # a dangling symlink


def _gitignore(folder: Path) -> list[tuple[Path, pathspec.PathSpec]]:
    try:
        lines = (folder / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [(folder, pathspec.GitIgnoreSpec.from_lines(lines))]


def _ignores_above(top: Path, root: Path) -> list[tuple[Path, pathspec.PathSpec]]:
    """The .gitignore files between the report root and the folder the walk starts at."""
    specs: list[tuple[Path, pathspec.PathSpec]] = []
    if top != root and top.is_relative_to(root):
        for parent in reversed(top.relative_to(root).parents):
            specs += _gitignore(root / parent)
    return specs


def _ignored(path: Path, is_dir: bool, ignores: list[tuple[Path, pathspec.PathSpec]]) -> bool:
    for base, spec in ignores:
        rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(rel):
            return True
    return False
