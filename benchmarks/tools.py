"""Runners for the compared tools: each scans a tree and returns clone classes, wall time and peak memory.

Every runner turns its tool's own report into the same records: a ``Clone`` is
a clone class, two or more ``Fragment``s (path relative to the scanned root,
1-based inclusive lines). jscpd reports pairs, symilar groups of equal blocks,
CodeBot clone classes (SPEC.md §1 JSON report).

- ``codebot``: ``python -m engine scan ROOT --format json --quiet --db TMP``.
- ``jscpd``: jscpd 5.3.2 with its defaults for Python (``--format python``).
- ``jscpd-strong``: its strongest Python options: ``--mode weak
  --ignore-identifiers --ignore-literals --max-gap-lines 6 -k 30``.
- ``symilar``: pylint's symilar with pylint's ``duplicate-code`` defaults
  (4 lines; comments, docstrings, imports and signatures ignored).

jscpd is installed on first use with ``npm i -E jscpd@5.3.2`` into
``benchmarks/.tools/`` (gitignored).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from benchmarks.measure import Measurement, measure

REPO = Path(__file__).resolve().parent.parent
TOOLS_DIR = Path(__file__).resolve().parent / ".tools"
JSCPD_VERSION = "5.3.2"
JSCPD_STRONG = ("--mode", "weak", "--ignore-identifiers", "--ignore-literals", "--max-gap-lines", "6", "-k", "30")
SYMILAR_OPTIONS = ("-d", "4", "--ignore-comments", "--ignore-docstrings", "--ignore-imports", "--ignore-signatures")
ALL_TOOLS = ("codebot", "jscpd", "jscpd-strong", "symilar")


class Fragment(NamedTuple):
    """One copy of a clone: path relative to the scanned root, 1-based inclusive lines."""

    path: str
    start: int
    end: int


class Clone(NamedTuple):
    """A clone class: fragments that are copies of each other, and the tool's name for its kind."""

    fragments: tuple[Fragment, ...]
    kind: str = ""


class ToolRun(NamedTuple):
    """The outcome of one tool on one tree."""

    tool: str
    clones: tuple[Clone, ...]
    wall_s: float
    peak_mib: float
    returncode: int
    error: str = ""  # why the run gave no usable report, if it did not


class ToolError(RuntimeError):
    """A tool could not be installed or run; the message says what to do."""


# ---------------------------------------------------------------- installing jscpd


def jscpd_binary(tools_dir: Path = TOOLS_DIR) -> Path:
    """The jscpd 5.3.2 launcher, installed with npm into ``tools_dir`` on first use."""
    binary = tools_dir / "node_modules" / ".bin" / "jscpd"
    if binary.exists() and _jscpd_version(binary) == JSCPD_VERSION:
        return binary
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError("npm is not on PATH: install Node.js to compare with jscpd, or leave jscpd out of --tools")
    tools_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "i", "-E", f"jscpd@{JSCPD_VERSION}", "--no-audit", "--no-fund"],
        cwd=tools_dir, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0 or not binary.exists():
        raise ToolError(f"npm could not install jscpd@{JSCPD_VERSION}: {done.stderr.strip()[-500:]}")
    return binary


def _jscpd_version(binary: Path) -> str:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip().rpartition(" ")[2]


# ---------------------------------------------------------------- report parsers


def _relative(path: str, root: Path) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(root.resolve())
        except ValueError:
            pass
    text = candidate.as_posix()
    return text[2:] if text.startswith("./") else text


def parse_codebot(report: str, root: Path) -> tuple[Clone, ...]:
    """Clone classes from CodeBot's JSON report (SPEC.md §1)."""
    data = json.loads(report)
    return tuple(
        Clone(
            tuple(Fragment(_relative(f["path"], root), int(f["start_line"]), int(f["end_line"])) for f in clone["fragments"]),
            clone.get("kind", ""),
        )
        for clone in data["clones"]
    )


def parse_jscpd(report: str, root: Path) -> tuple[Clone, ...]:
    """Clone pairs from jscpd's ``jscpd-report.json``."""
    data = json.loads(report)
    clones = []
    for dup in data.get("duplicates", []):
        pair = tuple(
            Fragment(_relative(dup[side]["name"], root), int(dup[side]["start"]), int(dup[side]["end"]))
            for side in ("firstFile", "secondFile")
        )
        clones.append(Clone(pair, dup.get("kind", "")))
    return tuple(clones)


_SYMILAR_HEAD = re.compile(r"^(\d+) similar lines in (\d+) files$")
_SYMILAR_FRAGMENT = re.compile(r"^==(.+):\[(\d+):(\d+)\]$")


def parse_symilar(report: str) -> tuple[Clone, ...]:
    """Clone classes from symilar's text report.

    Each block is a ``N similar lines in K files`` line, then one
    ``==path:[start:end]`` line per copy, with 0-based start and exclusive end.
    """
    clones: list[Clone] = []
    current: list[Fragment] | None = None
    for line in report.splitlines():
        if _SYMILAR_HEAD.match(line):
            if current:
                clones.append(Clone(tuple(current), "exact"))
            current = []
            continue
        match = _SYMILAR_FRAGMENT.match(line)
        if match and current is not None:
            path, start, end = match.groups()
            current.append(Fragment(_relative(path, Path(".")), int(start) + 1, int(end)))
        elif current:
            clones.append(Clone(tuple(current), "exact"))
            current = None
    if current:
        clones.append(Clone(tuple(current), "exact"))
    return tuple(c for c in clones if len(c.fragments) >= 2)


# ---------------------------------------------------------------- runners


def _python_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py") if p.is_file())


def _finish(tool: str, measured: Measurement, parse: Callable[[], tuple[Clone, ...]], stderr: Path) -> ToolRun:
    try:
        clones = parse()
        error = ""
    except (OSError, ValueError, KeyError, TypeError) as exc:
        clones = ()
        tail = stderr.read_text(errors="replace").strip()[-800:] if stderr.exists() else ""
        error = f"{type(exc).__name__}: {exc}; exit {measured.returncode}; {tail}"
    return ToolRun(tool, clones, measured.wall_s, measured.peak_mib, measured.returncode, error)


def run_codebot(root: Path, work: Path, *, db: Path | None = None, extra: Sequence[str] = ()) -> ToolRun:
    """CodeBot's scan of ``root``: cold, on a fresh index, unless an existing ``db`` is given."""
    if db is None:
        db = work / "codebot-index.db"
        for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
            stale.unlink(missing_ok=True)
    out, err = work / "codebot.json", work / "codebot.stderr"
    cmd = [sys.executable, "-m", "engine", "scan", str(root), "--format", "json", "--quiet", "--db", str(db), *extra]
    measured = measure(cmd, cwd=REPO, stdout=out, stderr=err)
    return _finish("codebot", measured, lambda: parse_codebot(out.read_text(), root), err)


def run_jscpd(root: Path, work: Path, *, strong: bool = False, tools_dir: Path = TOOLS_DIR) -> ToolRun:
    """jscpd 5.3.2 on ``root``: default options, or its strongest Python options."""
    name = "jscpd-strong" if strong else "jscpd"
    report_dir = work.resolve() / f"{name}-report"  # jscpd runs in `root`: no relative path
    if report_dir.exists():
        shutil.rmtree(report_dir)
    err = work / f"{name}.stderr"
    options = JSCPD_STRONG if strong else ()
    cmd = [
        str(jscpd_binary(tools_dir)), "--format", "python", *options,
        "--reporters", "json", "--output", str(report_dir), "--silent", "--no-tips", ".",
    ]
    measured = measure(cmd, cwd=root, stdout=work / f"{name}.stdout", stderr=err)
    return _finish(name, measured, lambda: parse_jscpd((report_dir / "jscpd-report.json").read_text(), root), err)


def run_symilar(root: Path, work: Path) -> ToolRun:
    """pylint's symilar on every ``.py`` file of ``root``, with pylint's duplicate-code defaults."""
    out, err = work / "symilar.txt", work / "symilar.stderr"
    # -P: the scanned tree must not shadow the modules symilar itself imports (it runs in ``root``).
    cmd = [sys.executable, "-P", "-m", "pylint.checkers.symilar", *SYMILAR_OPTIONS, *_python_files(root)]
    measured = measure(cmd, cwd=root, stdout=out, stderr=err)
    return _finish("symilar", measured, lambda: parse_symilar(out.read_text(errors="replace")), err)


def tool_names(text: str) -> list[str]:
    """The tools of a comma-separated ``--tools`` value (an argparse type: an unknown tool
    is a usage error that names the known ones)."""
    tools = [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in tools if t not in ALL_TOOLS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown tool(s) {', '.join(unknown)}; choose from {', '.join(ALL_TOOLS)}")
    return tools


def add_tools_option(parser: argparse.ArgumentParser) -> None:
    """The ``--tools`` option every side-by-side benchmark takes (default: all)."""
    parser.add_argument("--tools", type=tool_names, default=list(ALL_TOOLS),
                        help=f"comma-separated, from {','.join(ALL_TOOLS)}")


def run_tool(tool: str, root: Path, work: Path) -> ToolRun:
    """Run one tool by name (see ``ALL_TOOLS``); a tool that cannot run gives a ToolRun with an error."""
    work.mkdir(parents=True, exist_ok=True)
    try:
        if tool == "codebot":
            return run_codebot(root, work)
        if tool in ("jscpd", "jscpd-strong"):
            return run_jscpd(root, work, strong=tool == "jscpd-strong")
        if tool == "symilar":
            return run_symilar(root, work)
    except (ToolError, RuntimeError, OSError) as exc:
        return ToolRun(tool, (), 0.0, 0.0, -1, str(exc))
    raise ValueError(f"unknown tool {tool!r}; choose from {', '.join(ALL_TOOLS)}")


def scratch_dir(prefix: str = "codebot-bench-") -> Path:
    """A fresh temporary directory for a run's reports and indexes."""
    return Path(tempfile.mkdtemp(prefix=prefix))
