"""Refactor a Python clone: read it from the index, plan the edits (`engine.extract`), make
them with libcst (`engine.rewrite`), and show them as a unified diff or apply them.

    python -m engine refactor CLONE_ID [--diff | --apply] [--into MODULE] [--name NAME]

The pure part (`refactoring`) takes the clone and the text of its files and returns
the changed texts; reading the index and the files, checking that they are still
what the index saw, writing and re-scanning are the edges (`load`, `apply`). Diffs
are only ever computed here, when asked for: never in a scan.
"""
from __future__ import annotations

import ast
import difflib
import json
import sqlite3
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.atomic import write_atomically
from engine.copies import Source, locate
from engine.discover import language_of
from engine.exceptions import RefactorRefusedError, StaleIndexError, StoreError, UsageError
from engine.extract import plan
from engine.fingerprint import content_hash
from engine.normalize import tokens
from engine.queries import Index
from engine.records import Clone, ScanResult
from engine.rewrite import rewrite

SIDE_WIDTH = 60  # characters of each column of a side-by-side comparison


@dataclass(frozen=True)
class FileChange:
    """One file a refactoring changes: its path (relative to the scanned root), before and after."""

    path: str
    before: str
    after: str


@dataclass(frozen=True)
class Refactoring:
    """A clone's refactoring: what it does in words and the files it changes."""

    clone: Clone
    summary: str
    changes: tuple[FileChange, ...]

    @property
    def diff(self) -> str:
        return unified_diff(self.changes)


@dataclass(frozen=True)
class Loaded:
    """A clone read from the index, with the scanned root and its files as they are now."""

    clone: Clone
    root: Path
    sources: dict[str, Source]


def refactoring(clone: Clone, sources: dict[str, Source], into: str | None = None,
                name: str | None = None) -> Refactoring:
    """The refactoring of a clone whose files are `sources` (by path); RefactorRefusedError
    with the reason when no refactoring keeps the behaviour."""
    try:
        made = plan(sources, clone, into, name)
    except SyntaxError as exc:
        raise RefactorRefusedError(f"a file of the clone does not parse: {exc}") from exc
    changes = []
    for path, edits in sorted(made.edits.items()):
        before = sources[path].text
        after = rewrite(before, edits)
        try:
            ast.parse(after)
        except SyntaxError as exc:  # a plan the rewriter cannot carry out: never written
            raise RefactorRefusedError(f"the refactored {path} would not parse ({exc.msg}, line "
                                       f"{exc.lineno}); nothing was changed") from exc
        if after != before:
            changes.append(FileChange(path, before, after))
    return Refactoring(clone, made.summary, tuple(changes))


def unified_diff(changes: Iterable[FileChange]) -> str:
    """The changes as one unified diff that `git apply` (and `patch -p1`) take, run from the root."""
    out: list[str] = []
    for change in changes:
        for line in _file_diff(change):
            out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


# Context lines tried per hunk: `git apply` looks for a hunk's old lines anywhere in the file,
# so where they occur twice (a third copy of a method) more context makes the place unique,
# and a diff applied a second time is refused instead of changing the other copy.
_CONTEXTS = (3, 6, 12, 25, 50)


def _file_diff(change: FileChange) -> list[str]:
    before = change.before.splitlines(keepends=True)
    after = change.after.splitlines(keepends=True)
    lines: list[str] = []
    for context in _CONTEXTS:
        lines = list(difflib.unified_diff(before, after, f"a/{change.path}", f"b/{change.path}",
                                          n=context))
        if _hunks_unique(lines, change.before):
            break
    return lines


def _hunks_unique(diff: list[str], before: str) -> bool:
    """Whether the old lines of every hunk occur once in the original text."""
    hunks: list[list[str]] = []
    for line in diff[2:]:
        if line.startswith("@@"):
            hunks.append([])
        elif hunks and line[:1] in (" ", "-"):
            hunks[-1].append(line[1:])
    return all(before.count("".join(old)) == 1 for old in hunks if old)


def side_by_side(clone: Clone, sources: dict[str, Source], width: int = SIDE_WIDTH) -> str:
    """The first two copies line by line in two columns, `|` where lines differ; the tokens
    that differ are wrapped in [ ]."""
    a, b = (sources[f.path].lines[f.start_line - 1:f.end_line] for f in clone.fragments[:2])
    first, second = clone.fragments[:2]
    out = [f"{_cell(f'{first.path}:{first.start_line}-{first.end_line}', width)}   "
           f"{second.path}:{second.start_line}-{second.end_line}"]
    matcher = difflib.SequenceMatcher(None, [_key(x) for x in a], [_key(y) for y in b], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        left, right = a[i1:i2], b[j1:j2]
        for n in range(max(len(left), len(right))):
            x = left[n] if n < len(left) else ""
            y = right[n] if n < len(right) else ""
            if op != "equal":
                x, y = _marked(x, y)
            mark = " " if op == "equal" else "|" if x and y else "<" if x else ">"
            out.append(f"{_cell(x, width)} {mark} {y.rstrip()}")
    return "\n".join(out) + "\n"


def _key(line: str) -> tuple[bytes, ...]:
    """A line as its tokens: layout and comments do not make lines differ."""
    return tuple(tokens(line.encode()))


def _marked(x: str, y: str) -> tuple[str, str]:
    """Two lines with the tokens that differ between them in [ ]."""
    tx, ty = tokens(x.encode()), tokens(y.encode())
    matcher = difflib.SequenceMatcher(None, tx, ty, autojunk=False)
    left, right = [], []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        part_x = b" ".join(tx[i1:i2]).decode(errors="replace")
        part_y = b" ".join(ty[j1:j2]).decode(errors="replace")
        if op == "equal":
            left.append(part_x)
            right.append(part_y)
            continue
        if part_x:
            left.append(f"[{part_x}]")
        if part_y:
            right.append(f"[{part_y}]")
    indent = " " * (len(x) - len(x.lstrip()))
    return (indent + " ".join(left) if x.strip() else "",
            " " * (len(y) - len(y.lstrip())) + " ".join(right) if y.strip() else "")


def _cell(text: str, width: int) -> str:
    text = text.rstrip().replace("\t", "    ")
    return text[:width - 1] + "…" if len(text) > width else text.ljust(width)


def near_miss_note(clone: Clone, sources: dict[str, Source]) -> str:
    """For a near-miss clone: what differs between its first two copies, side by side."""
    return f"what differs ({clone.similarity:.0%} alike):\n{side_by_side(clone, sources)}"


# -- the edges: the index, the files, git -------------------------------------------------------


def load(db: Path, clone_id: str) -> Loaded:
    """The clone `clone_id` of the index at `db`, and its files as they are on disk: a
    UsageError for an unknown id or a clone not in Python, StaleIndexError for a file
    that changed since the scan."""
    index = Index(db)
    try:
        found = index.clone(clone_id)
    finally:
        index.close()
    if found is None:
        raise UsageError(f"no clone {clone_id} in the index {db}; `python -m engine scan` lists "
                         "the clones with their ids")
    clone, scan = found
    other = [f.path for f in clone.fragments if language_of(f.path) != "python"]
    if other:
        raise UsageError(f"clone {clone_id} is not Python code ({other[0]}); only Python clones "
                         "can be refactored")
    root = Path(scan.root)
    hashes = _stored_hashes(db, [str(root / f.path) for f in clone.fragments])
    sources = {}
    for path in dict.fromkeys(f.path for f in clone.fragments):
        sources[path] = _read(root, path, hashes.get(str(root / path)), clone_id)
    return Loaded(clone, root, sources)


def _stored_hashes(db: Path, paths: Sequence[str]) -> dict[str, str]:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            marks = ", ".join("?" * len(paths))
            return dict(conn.execute(f"SELECT path, hash FROM files WHERE path IN ({marks})",
                                     list(paths)).fetchall())
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot read the index {db}: {exc}") from exc


def _read(root: Path, path: str, stored_hash: str | None, clone_id: str) -> Source:
    """One file of the clone, checked against the hash the index stored for it."""
    try:
        data = (root / path).read_bytes()
    except OSError as exc:
        raise StaleIndexError(f"{path} of clone {clone_id} cannot be read ({exc.strerror}); "
                              "scan again") from exc
    if stored_hash is None or content_hash(data) != stored_hash:
        raise StaleIndexError(f"{path} changed since the scan that found clone {clone_id}; scan "
                              "again and refactor the clone by its new id")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path} is not UTF-8 text; it cannot be refactored") from exc
    return Source(path, module_name(root, path), text)


def module_name(root: Path, path: str) -> str:
    """The dotted name a file is imported by: its folders up to the last one with an
    `__init__.py` above it, then its own name (a package's `__init__.py` is the package)."""
    file = root / path
    parts = [] if file.name == "__init__.py" else [file.stem]
    folder = file.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts) or file.parent.name


def check_locate(loaded: Loaded) -> None:
    """Each fragment is a run of whole statements (refused with where, if not)."""
    for fragment in loaded.clone.fragments:
        locate(loaded.sources[fragment.path], fragment)


def uncommitted(root: Path, paths: Sequence[str]) -> list[str]:
    """Which of the files have changes git has not committed ([] outside a git work tree)."""
    try:
        done = subprocess.run(["git", "status", "--porcelain", "--", *paths], cwd=root,
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    return [line[3:] for line in done.stdout.splitlines() if line.strip()]


def write(root: Path, made: Refactoring, force: bool = False) -> list[Path]:
    """Write the changed files, each atomically; refused for files with uncommitted changes
    unless `force` (the refactoring could not be told apart from them)."""
    paths = [c.path for c in made.changes]
    dirty = uncommitted(root, paths) if not force else []
    if dirty:
        raise UsageError(f"uncommitted changes in {', '.join(dirty)}; commit or stash them first "
                         "(or --force)")
    for change in made.changes:  # every text parsed before the first write (`refactoring`)
        if (root / change.path).read_text(encoding="utf-8") != change.before:
            raise StaleIndexError(f"{change.path} changed while the refactoring was made; nothing "
                                  "more was written")
        write_atomically(root / change.path, change.after)
    return [root / p for p in paths]


def rescan(root: Path, db: Path, lock_timeout: float = 30.0) -> ScanResult:
    """Scan the root again with the detection settings of its last scan (only the changed
    files are read again), so the index stays true to the work tree."""
    from engine.config import load_settings
    from engine.scan import scan

    return scan([root], load_settings(root, _stored_settings(db, root)), db,
                lock_timeout=lock_timeout)


def _stored_settings(db: Path, root: Path) -> dict[str, object]:
    """min_lines, min_tokens and threshold of the root's last scan (from its settings key)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT settings FROM scans WHERE root = ? ORDER BY id DESC LIMIT 1",
                               [str(root)]).fetchone()
        finally:
            conn.close()
        key = json.loads(row[0]).get("key", "") if row else ""
        detection, _ = json.JSONDecoder().raw_decode(key) if key.startswith("{") else ({}, 0)
    except (sqlite3.DatabaseError, ValueError, AttributeError):
        return {}
    return {k: v for k, v in detection.items() if k in ("min_lines", "min_tokens", "threshold")}


def refactor_top(result: ScanResult, top: int) -> dict[str, Refactoring | str]:
    """The refactorings of the first `top` Python clones of a report (`--diffs N`), or why
    each has none; the files are read as they are now, each once."""
    sources: dict[str, Source] = {}
    found: dict[str, Refactoring | str] = {}
    python = [c for c in result.clones
              if all(language_of(f.path) == "python" for f in c.fragments)]
    for clone in python[:max(top, 0)]:
        try:
            for path in {f.path for f in clone.fragments} - sources.keys():
                text = (result.root / path).read_text(encoding="utf-8")
                sources[path] = Source(path, module_name(result.root, path), text)
            found[clone.id] = refactoring(clone, sources)
        except RefactorRefusedError as exc:
            found[clone.id] = str(exc)
        except (OSError, UnicodeDecodeError) as exc:
            found[clone.id] = f"a file of the clone cannot be read ({exc})"
    return found
