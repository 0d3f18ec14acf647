"""Speed and memory on the standard library: where a cold scan's time goes, and CodeBot's
commands as whole processes beside jscpd.

    python -m benchmarks.stdlib_scan [--runs N] [--no-jscpd] [--no-breakdown]
        [--compare-clones REF.json] [--save-clones] [--source DIR] [--out DIR]

Copies the ``.py`` files of the interpreter's standard library as shipped (with
its test suites and test data, without site-packages: about 1,800 files and
860k lines on 3.11) into a scratch folder, then:

1. the cost breakdown (``benchmarks.breakdown``): every stage of a cold scan,
   serially in one process, wall and CPU;
2. whole processes, each ``--runs`` times (median; default 3), measured by
   ``benchmarks.measure`` (wall, CPU of the process tree, peak RSS of the
   largest process and of the whole tree): the cold scan alternating with jscpd
   5.3.2's strongest Python options; rescans unchanged, after touching one
   file, after editing one; ``check`` of one changed file against the index,
   run from the index's root (once first, which makes the index's lookup);
3. ``python -X importtime`` of an unchanged rescan: the costliest imports;
4. the cold scan's clone set against a reference (``--compare-clones``, by
   default ``benchmarks/results/stdlib_clones.json``): identical, or how many
   clones were added and removed — a speed change must not change what is found.
   ``--save-clones`` makes this run's set the reference.

Writes ``stdlib_scan.json``, ``stdlib_scan.md`` and ``breakdown.json`` to
``--out`` (default ``benchmarks/results``); ``python -m benchmarks.report``
then renders the README's tables from them. Targets are in ``benchmarks.report``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks import breakdown, report
from benchmarks.corpus import copy_corpus, default_source
from benchmarks.measure import Measurement, measure
from benchmarks.tools import REPO, ToolError, jscpd_binary, JSCPD_STRONG, scratch_dir

RESULTS = Path(__file__).resolve().parent / "results"
REFERENCE = RESULTS / "stdlib_clones.json"
EDITED_FILE = "json/__init__.py"  # small, stable across versions, clone-free
CHECKED_FILE = "json/encoder.py"  # the file `check` is given, changed before each run


class Figure(NamedTuple):
    """One whole-process scenario: the median of its runs (``error`` when it failed)."""

    name: str
    wall_s: float
    cpu_s: float
    max_process_mib: float
    tree_mib: float
    runs: int
    clones: int | None = None
    error: str = ""


class Command(NamedTuple):
    """A command to measure, where it runs and where its output goes."""

    argv: tuple[str, ...]
    cwd: Path
    stdout: Path
    stderr: Path


def codebot(root: Path, db: Path, work: Path, *args: str) -> Command:
    """``python -m engine ARGS`` run from ``root`` (``-P``: the scanned tree, a copy of
    the stdlib, must not shadow the modules CodeBot imports)."""
    return Command((sys.executable, "-P", "-m", "engine", *args, "--db", str(db), "--quiet",
                    "--format", "json"), root, work / "codebot.json", work / "codebot.stderr")


def scan_command(root: Path, db: Path, work: Path, *extra: str) -> Command:
    return codebot(root, db, work, "scan", str(root), *extra)


def check_command(root: Path, db: Path, work: Path, rel: str) -> Command:
    return codebot(root, db, work, "check", rel)


def run(command: Command) -> Measurement:
    """One measured run of a command."""
    return measure(command.argv, cwd=command.cwd, stdout=command.stdout, stderr=command.stderr)


def clone_count(report_path: Path) -> int | None:
    """How many clones a JSON report holds (CodeBot's or jscpd's), or None."""
    try:
        data = json.loads(report_path.read_text())
    except (OSError, ValueError):
        return None
    return len(data["clones"]) if "clones" in data else len(data.get("duplicates", []))


def figure(name: str, runs: Sequence[Measurement], clones: int | None = None,
           ok: Callable[[Measurement], bool] = lambda m: m.returncode == 0, stderr: Path | None = None,
           ) -> Figure:
    """The median of each measured quantity; a failed run makes the figure an error."""
    failed = [m for m in runs if not ok(m)]
    if failed or not runs:
        tail = stderr.read_text(errors="replace").strip()[-200:] if stderr and stderr.exists() else ""
        code = failed[0].returncode if failed else "none"
        return Figure(name, 0, 0, 0, 0, len(runs), None, f"exit {code}: {tail}".replace("\n", " "))
    return Figure(name, report.median([m.wall_s for m in runs]), report.median([m.cpu_s for m in runs]),
                  report.median([m.max_process_rss_kib / 1024 for m in runs]),
                  report.median([m.tree_rss_kib / 1024 for m in runs]), len(runs), clones)


def repeat(times: int, before: Callable[[int], None], command: Command) -> list[Measurement]:
    """``before(i)`` then one measured run, ``times`` times."""
    found = []
    for i in range(times):
        before(i)
        found.append(run(command))
    return found


def fresh_index(db: Path) -> None:
    """Remove an index and its SQLite side files."""
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)


def whole_process(root: Path, work: Path, runs: int, with_jscpd: bool) -> tuple[list[Figure], Path]:
    """Every whole-process scenario; also the report of the first cold scan (for its clone set)."""
    db = root / ".codebot" / "index.db"
    db.parent.mkdir(exist_ok=True)
    scan = scan_command(root, db, work)
    first_report = work / "cold-report.json"
    colds: list[Measurement] = []
    jscpds: list[Measurement] = []
    jscpd = _jscpd_command(root, work) if with_jscpd else None
    for i in range(runs):
        fresh_index(db)
        colds.append(run(scan))
        if i == 0:
            shutil.copyfile(scan.stdout, first_report)
        if jscpd is not None:
            shutil.rmtree(work / "jscpd-report", ignore_errors=True)
            jscpds.append(run(jscpd))
    figures = [figure("CodeBot cold scan", colds, clone_count(scan.stdout), stderr=scan.stderr)]
    if jscpd is not None:
        figures.append(figure("jscpd 5.3.2 strongest options", jscpds,
                              clone_count(work / "jscpd-report" / "jscpd-report.json"),
                              stderr=jscpd.stderr))
    figures.append(figure("CodeBot rescan, unchanged", repeat(runs, lambda i: None, scan),
                          clone_count(scan.stdout), stderr=scan.stderr))
    edited = root / EDITED_FILE
    figures.append(figure("CodeBot rescan, one file touched",
                          repeat(runs, lambda i: os.utime(edited), scan), clone_count(scan.stdout),
                          stderr=scan.stderr))

    def edit(i: int) -> None:
        with edited.open("a", encoding="utf-8") as handle:
            handle.write(f"\n# edited by benchmarks.stdlib_scan, run {i}\n")
    figures.append(figure("CodeBot rescan, one file edited", repeat(runs, edit, scan),
                          clone_count(scan.stdout), stderr=scan.stderr))
    figures += _checks(root, db, work, runs)
    return figures, first_report


def _checks(root: Path, db: Path, work: Path, runs: int) -> list[Figure]:
    """``check`` of one changed file from the index's root: the first run (which takes the
    lookup), then ``runs`` more. Exit 1 (clones found) counts as success."""
    checked = root / CHECKED_FILE
    original = checked.read_text(encoding="utf-8")
    command = check_command(root, db, work, CHECKED_FILE)

    def change(i: int) -> None:  # one function added: what a commit does
        checked.write_text(original + f"\n\ndef _benchmark_helper_{i}(value):\n"
                           f"    return [value] * {i + 2}\n", encoding="utf-8")
    ok = lambda m: m.returncode in (0, 1)  # noqa: E731
    first = figure("check of one changed file, first (makes the lookup)",
                   repeat(1, change, command), clone_count(command.stdout), ok, command.stderr)
    rest = figure("check of one changed file", repeat(runs, change, command),
                  clone_count(command.stdout), ok, command.stderr)
    checked.write_text(original, encoding="utf-8")
    return [first, rest]


def _jscpd_command(root: Path, work: Path) -> Command | None:
    try:
        binary = jscpd_binary()
    except ToolError as exc:
        print(f"stdlib_scan: jscpd left out: {exc}", file=sys.stderr)
        return None
    return Command((str(binary), "--format", "python", *JSCPD_STRONG, "--reporters", "json",
                    "--output", str(work / "jscpd-report"), "--silent", "--no-tips", "."),
                   root, work / "jscpd.stdout", work / "jscpd.stderr")


def import_costs(root: Path, work: Path) -> tuple[float, list[dict[str, Any]]]:
    """``-X importtime`` of an unchanged rescan (the index must be current)."""
    db = root / ".codebot" / "index.db"
    scan = scan_command(root, db, work)
    argv = (scan.argv[0], "-X", "importtime", *scan.argv[1:])
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False)
    total, costs = breakdown.import_costs(done.stderr)
    return total, [c._asdict() for c in costs]


# ---------------------------------------------------------------- clone sets


def clone_set(report_path: Path) -> list[str]:
    """A report's clones as sorted lines: kind, then each fragment as path:start-end."""
    data = json.loads(report_path.read_text())
    return sorted(
        " ".join([clone["kind"], *sorted(f"{f['path']}:{f['start_line']}-{f['end_line']}"
                                         for f in clone["fragments"])])
        for clone in data["clones"])


def compare_clones(current: Sequence[str], reference: Sequence[str]) -> tuple[list[str], list[str]]:
    """The clones added and removed relative to the reference."""
    now, then = set(current), set(reference)
    return sorted(now - then), sorted(then - now)


def clone_verdict(added: Sequence[str], removed: Sequence[str]) -> str:
    if not added and not removed:
        return "identical"
    return f"{len(added)} added, {len(removed)} removed"


def _compare(first_report: Path, reference: Path | None, save: bool, source: dict[str, Any]
             ) -> dict[str, Any] | None:
    """Compare the cold scan's clones with the reference (and save them as it, if asked)."""
    current = clone_set(first_report)
    result = None
    if reference is not None and reference.exists():
        ref = json.loads(reference.read_text())
        added, removed = compare_clones(current, ref["clones"])
        verdict = clone_verdict(added, removed)
        if ref.get("source") != source:
            verdict += f" (the reference is of another tree: {ref.get('source')})"
        result = {"reference": _shown(reference), "verdict": verdict,
                  "added": added[:20], "removed": removed[:20]}
        print(f"clone set against {reference}: {verdict}")
        for line in added[:10]:
            print(f"  + {line}")
        for line in removed[:10]:
            print(f"  - {line}")
    if save:
        target = reference or REFERENCE
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps({"source": source, "clones": current}, indent=0) + "\n")
        print(f"clone set saved as the reference: {target} ({len(current)} clones)")
    return result


def _shown(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- entry


def main(argv: Sequence[str] | None = None) -> int:
    """Copy the stdlib, measure, write the results; 0 when every run succeeded."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.stdlib_scan", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, default=None, help="a tree to scan instead of the stdlib")
    parser.add_argument("--runs", type=int, default=3, help="runs per whole-process scenario (median)")
    parser.add_argument("--no-jscpd", action="store_true", help="measure CodeBot only")
    parser.add_argument("--no-breakdown", action="store_true", help="whole processes only")
    parser.add_argument("--compare-clones", type=Path, default=REFERENCE, metavar="REF.json",
                        help="the reference clone set (default benchmarks/results/stdlib_clones.json)")
    parser.add_argument("--save-clones", action="store_true",
                        help="make this run's cold-scan clone set the reference")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where results go")
    args = parser.parse_args(argv)
    source = args.source or default_source()
    if not source.is_dir():
        parser.error(f"{source} is not a directory")
    work = scratch_dir("codebot-stdlib-")
    os.environ.pop("CODEBOT_DB", None)
    try:
        root = work / "stdlib"
        files = copy_corpus(source, root, tests=True, test_data=True)
        lines = sum((root / rel).read_bytes().count(b"\n") for rel in files)
        tree = {"path": "stdlib" if args.source is None else str(source),
                "python": platform.python_version(), "files": len(files), "lines": lines}
        split = None
        if not args.no_breakdown:
            print(f"breakdown of a cold scan of {len(files)} files, one process ...", flush=True)
            split = breakdown.breakdown(root)
        print(f"whole processes, {args.runs} runs each ...", flush=True)
        figures, first_report = whole_process(root, work, args.runs, not args.no_jscpd)
        total_ms, costs = import_costs(root, work)
        compared = _compare(first_report, args.compare_clones, args.save_clones, tree)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if split is not None:
        split = split._replace(imports_total_ms=total_ms, import_costs=tuple(
            breakdown.ImportCost(**c) for c in costs))
    data = {
        "date": date.today().isoformat(), "python": platform.python_version(),
        "cpus": os.cpu_count(), "files": len(files), "lines": lines, "runs": args.runs,
        "scenarios": [f._asdict() for f in figures], "clone_set": compared,
        "imports_total_ms": total_ms, "import_costs": costs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "stdlib_scan.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    text = report.render_speed(data)
    if split is not None:
        (args.out / "breakdown.json").write_text(
            json.dumps(breakdown.to_json(split), indent=1) + "\n", encoding="utf-8")
        text = report.render_breakdown(breakdown.to_json(split)) + "\n\n" + text
    (args.out / "stdlib_scan.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if all(not f.error for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
