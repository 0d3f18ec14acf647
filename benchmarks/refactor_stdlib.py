"""Refactorings on the standard library: how many exact and renamed clones of whole functions
and methods get a diff, and whether every diff applies, parses and applies only once.

    python -m benchmarks.refactor_stdlib [--source DIR] [--limit N] [--out DIR]

Copies the standard library as `benchmarks.stdlib_scan` does (test suites and test
data included), scans it, and for every exact or renamed Python clone whose copies
are whole functions or methods asks for its refactoring. Every diff produced is then
checked in a git work tree holding the copy: `git apply --check` on the pristine tree,
`git apply`, each changed file parses, and a second `git apply` of the same diff is
refused and leaves the tree as the first left it. The tree is reset after each.

Writes ``refactor_stdlib.json`` to ``--out`` (default ``benchmarks/results``): the
counts, the fraction with a diff (target 0.70), the checks, the refusal reasons
(grouped), and the time to make a diff (median, p95).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks.corpus import copy_corpus, default_source
from benchmarks.tools import scratch_dir
from engine.config import load_settings
from engine.copies import Source, locate
from engine.exceptions import RefactorRefusedError
from engine.records import Clone
from engine.refactor import Refactoring, module_name, refactoring
from engine.scan import scan

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_FRACTION = 0.70
_GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
            "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


class Checked(NamedTuple):
    """What became of one diff in the git work tree."""

    applies: bool
    parses: bool
    second_apply_refused: bool
    unchanged_by_second: bool
    error: str = ""


def whole_definitions(clone: Clone, sources: dict[str, Source]) -> bool:
    """Whether every copy of the clone is one or more whole functions or methods."""
    try:
        sites = [locate(sources[f.path], f) for f in clone.fragments]
    except (RefactorRefusedError, SyntaxError, ValueError):
        return False
    return all(isinstance(s.owner, (ast.Module, ast.ClassDef))
               and all(isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef)) for x in s.statements)
               for s in sites)


def reason_group(reason: str) -> str:
    """A refusal reason with its places, names and numbers taken out, to count alike ones together."""
    return re.sub(r"`[^`]*`|\S+\.py:\d+(-\d+)?|@\S+|line \d+|\d+", "…", reason)[:110]


def git(tree: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=tree, input=stdin, text=True, capture_output=True,
                          env={**os.environ, **_GIT_ENV}, timeout=120)


def check_diff(tree: Path, made: Refactoring) -> Checked:
    """Apply the diff in the work tree, parse the result, try it again; reset the tree."""
    diff = made.diff
    try:
        if git(tree, "apply", "--check", "-", stdin=diff).returncode != 0:
            return Checked(False, False, False, False, git(tree, "apply", "--check", "-", stdin=diff).stderr[:200])
        git(tree, "apply", "-", stdin=diff)
        after = {c.path: (tree / c.path).read_bytes() for c in made.changes}
        parses = True
        for path, data in after.items():
            try:
                ast.parse(data)
            except SyntaxError:
                parses = False
        second = git(tree, "apply", "-", stdin=diff)
        unchanged = all((tree / p).read_bytes() == data for p, data in after.items())
        return Checked(True, parses, second.returncode != 0, unchanged)
    finally:
        git(tree, "checkout", "-q", "--", ".")


def run(source: Path, limit: int | None) -> dict[str, Any]:
    work = scratch_dir("codebot-refactor-")
    os.environ.pop("CODEBOT_DB", None)
    try:
        root = work / "stdlib"
        files = copy_corpus(source, root, tests=True, test_data=True)
        print(f"scanning {len(files)} files ...", flush=True)
        result = scan([root], load_settings(root, {}), work / "index.db")
        for args in (("init", "-q"), ("add", "-A"), ("commit", "-q", "-m", "stdlib")):
            git(root, *args)
        return measure(root, result.clones, len(files), limit)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(root: Path, clones: Sequence[Clone], files: int, limit: int | None) -> dict[str, Any]:
    """Try every exact and renamed clone of whole definitions; check each diff produced."""
    cache: dict[str, Source] = {}

    def source(path: str) -> Source:
        if path not in cache:
            cache[path] = Source(path, module_name(root, path),
                                 (root / path).read_text(encoding="utf-8", errors="replace"))
        return cache[path]

    considered = refused = 0
    reasons: Counter[str] = Counter()
    checks: list[Checked] = []
    seconds: list[float] = []
    failures: list[str] = []
    candidates = [c for c in clones if c.kind in ("exact", "renamed")
                  and all(f.path.endswith(".py") for f in c.fragments)]
    for clone in candidates:
        sources = {f.path: source(f.path) for f in clone.fragments}
        if not whole_definitions(clone, sources):
            continue
        considered += 1
        if limit is not None and considered > limit:
            considered -= 1
            break
        started = time.perf_counter()
        try:
            made = refactoring(clone, sources)
        except RefactorRefusedError as exc:
            refused += 1
            reasons[reason_group(str(exc))] += 1
            continue
        finally:
            seconds.append(time.perf_counter() - started)
        checked = check_diff(root, made)
        checks.append(checked)
        if not (checked.applies and checked.parses and checked.second_apply_refused
                and checked.unchanged_by_second):
            failures.append(f"{clone.id} {' '.join(f'{f.path}:{f.start_line}-{f.end_line}' for f in clone.fragments)}"
                            f" {checked}")
        if len(checks) % 50 == 0:
            print(f"  {len(checks)} diffs checked", flush=True)
    produced = len(checks)
    return {
        "date": date.today().isoformat(), "python": platform.python_version(),
        "source": {"path": "stdlib", "files": files},
        "clones": {"exact_and_renamed": len(candidates), "whole_definitions": considered},
        "diffs": produced, "refused": refused,
        "fraction_with_diff": round(produced / considered, 4) if considered else 0.0,
        "target_fraction": TARGET_FRACTION,
        "apply": sum(c.applies for c in checks), "parse": sum(c.parses for c in checks),
        "second_apply_refused": sum(c.second_apply_refused for c in checks),
        "unchanged_by_second_apply": sum(c.unchanged_by_second for c in checks),
        "failures": failures[:20],
        "seconds_per_clone": {"median": round(statistics.median(seconds), 4) if seconds else 0.0,
                              "p95": round(sorted(seconds)[int(0.95 * (len(seconds) - 1))], 4)
                              if seconds else 0.0},
        "refusals": [{"reason": r, "clones": n} for r, n in reasons.most_common(15)],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, help="a Python tree instead of the standard library")
    parser.add_argument("--limit", type=int, help="stop after N clones of whole definitions")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    args = parser.parse_args(argv)
    source = args.source or default_source()
    results = run(source, args.limit)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "refactor_stdlib.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps({k: v for k, v in results.items() if k not in ("refusals", "failures")}, indent=2))
    ok = results["fraction_with_diff"] >= TARGET_FRACTION and results["apply"] == results["parse"] \
        == results["diffs"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
