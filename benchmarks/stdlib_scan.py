"""Speed and memory on the standard library: CodeBot cold, unchanged and one-file rescans beside jscpd.

    python -m benchmarks.stdlib_scan [--source DIR] [--no-tests] [--out DIR]

Copies the ``.py`` files of the interpreter's standard library as shipped (with
its test suites and test data, without site-packages: about 1,800 files and
860k lines on 3.11, as in issue 2) into a scratch folder, then measures, each
in a fresh process:

1. CodeBot cold scan (a new index);
2. CodeBot rescan, nothing changed;
3. CodeBot rescan after touching one file (new mtime, same content);
4. CodeBot rescan after editing one file (a comment line appended);
5. jscpd 5.3.2 with its strongest Python options, on the same files.

Prints a Markdown table of wall time and peak memory (RSS of the process tree)
and writes it to ``--out``/stdlib_scan.md. Targets (issue 2): cold scan at most
2x jscpd's wall time, unchanged rescan under 0.5 s, peak memory under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from benchmarks.corpus import copy_corpus, default_source
from benchmarks.tools import ToolRun, run_codebot, run_jscpd, scratch_dir

DEFAULT_OUT = Path(__file__).resolve().parent / "out"
EDITED_FILE = "json/__init__.py"  # small, stable across versions, clone-free


class Row(NamedTuple):
    """One measured scenario."""

    scenario: str
    run: ToolRun
    detail: str


def _codebot_detail(report: Path) -> str:
    try:
        stats = json.loads(report.read_text())["stats"]
    except (OSError, ValueError, KeyError):
        return ""
    return f"parsed {stats.get('files_parsed')}, reused {stats.get('files_reused')}, engine {stats.get('duration_s')} s"


def measure_all(root: Path, work: Path, *, with_jscpd: bool = True) -> list[Row]:
    """Run the five scenarios on ``root`` (which is modified: one file touched, one edited)."""
    db = work / "stdlib-index.db"
    report = work / "codebot.json"
    rows = []
    run = run_codebot(root, work, db=db)
    rows.append(Row("CodeBot cold scan", run, _codebot_detail(report)))
    run = run_codebot(root, work, db=db)
    rows.append(Row("CodeBot rescan, unchanged", run, _codebot_detail(report)))
    edited = root / EDITED_FILE if (root / EDITED_FILE).exists() else sorted(root.rglob("*.py"))[0]
    os.utime(edited)
    run = run_codebot(root, work, db=db)
    rows.append(Row("CodeBot rescan, one file touched", run, _codebot_detail(report)))
    with edited.open("a", encoding="utf-8") as handle:
        handle.write("\n# edited by benchmarks.stdlib_scan\n")
    run = run_codebot(root, work, db=db)
    rows.append(Row("CodeBot rescan, one file edited", run, _codebot_detail(report)))
    if with_jscpd:
        run = run_jscpd(root, work, strong=True)
        rows.append(Row("jscpd 5.3.2 (strongest options)", run, ""))
    return rows


def table(rows: Sequence[Row]) -> str:
    """The scenarios as a Markdown table."""
    out = ["| Scenario | Wall s | Peak MiB | Clones | Notes |", "|---|---|---|---|---|"]
    for row in rows:
        run = row.run
        note = row.detail or ""
        if run.error:
            note = f"failed: {run.error[:200]}".replace("|", "/").replace("\n", " ")
        out.append(f"| {row.scenario} | {run.wall_s:.2f} | {run.peak_mib:.0f} | {len(run.clones)} | {note} |")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Copy the stdlib, run the scenarios, print the table; 0 when every run succeeded."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stdlib_scan", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source", type=Path, default=None, help="a tree to scan instead of the stdlib")
    parser.add_argument("--no-tests", action="store_true", help="leave the stdlib's test suites out")
    parser.add_argument("--no-jscpd", action="store_true", help="measure CodeBot only")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the table goes (default benchmarks/out)")
    args = parser.parse_args(argv)
    source = args.source or default_source()
    if not source.is_dir():
        parser.error(f"{source} is not a directory")
    work = scratch_dir("codebot-stdlib-")
    try:
        root = work / "stdlib"
        files = copy_corpus(source, root, tests=not args.no_tests, test_data=not args.no_tests)
        lines = sum(1 for rel in files for _ in (root / rel).open("rb"))
        rows = measure_all(root, work, with_jscpd=not args.no_jscpd)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    header = f"{source}: {len(files)} files, {lines} lines; {os.cpu_count()} CPUs.\n\n"
    text = header + table(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "stdlib_scan.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if all(not row.run.error for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
