"""A cold scan on the local process pool beside the same scan on a Dask LocalCluster, at
1x, 3x and 10x the standard library, and the costs behind an estimate for far bigger trees.

    python -m benchmarks.cluster_scaling [--sizes 1,3,10] [--runs 3] [--workers 2] [--out DIR]

The trees are ``benchmarks.scaling``'s: copy 1 is the standard library as shipped,
copies 2..n renamed and edited. For each size, ``--runs`` times, alternating:

* ``python -m engine scan DIR --db X -q --format json`` (the local pool) and the same
  with ``--cluster local --workers N``, each as a whole process on a fresh index
  (start-up included). Per run: wall; CPU of the whole process tree (user + system of
  the scan and every process it started and waited for: the pool's or the cluster's);
  peak RSS, sampled with psutil every ``SAMPLE_S``: of the scan's own process (the
  client), of the largest other process (a pool or cluster worker, the nanny's
  process), and of the whole tree summed; whether the two reports hold the same clone
  set (the JSON without ``request_id`` and ``stats.duration_s``).
* one in-process ``engine.scan.scan`` on a LocalCluster, its phases timed by the progress
  callback: reading (discovery, reading and fingerprinting), matching and storing, each
  wall and the client's CPU; the workers' compute seconds per kind of task (Dask's task
  stream); and the index's size on disk.

Medians over the runs; the ratio cluster wall / local wall. ``benchmarks.report.
render_cluster_scaling`` turns the result into a table and a worked estimate for 250
million lines on 64 cores. Writes ``cluster_scaling.json`` and ``cluster_scaling.md``
to ``--out`` (default ``benchmarks/results``). Scratch space as ``benchmarks.scaling``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks import report
from benchmarks.corpus import copy_corpus, default_source
from benchmarks.measure import wait_sampling
from benchmarks.scaling import add_copies, scratch_for, size_options, sizes_of
from benchmarks.stdlib_scan import Command, fresh_index, scan_command
from benchmarks.tools import REPO

RESULTS = Path(__file__).resolve().parent / "results"
SAMPLE_S = 0.1
MODES = ("local", "cluster")


class Run(NamedTuple):
    """One whole-process scan: what it cost, and its report's clone set (None: failed)."""

    wall_s: float
    cpu_s: float
    client_peak_mib: float  # the scan's own process
    largest_other_mib: float  # the largest process it started (a worker)
    tree_peak_mib: float  # the whole tree, summed, at its largest sample
    returncode: int
    error: str = ""


def _rss_by_process(pid: int) -> tuple[int, dict[int, int]]:
    """RSS in bytes of process ``pid`` and of each of its descendants, now."""
    import psutil

    try:
        root = psutil.Process(pid)
        own = root.memory_info().rss
        children = root.children(recursive=True)
    except psutil.Error:
        return 0, {}
    others = {}
    for child in children:
        try:
            others[child.pid] = child.memory_info().rss
        except psutil.Error:
            pass
    return own, others


def run_tree(command: Command, env: Mapping[str, str] | None = None) -> Run:
    """Run ``command`` and measure its whole process tree (``Run``). CPU is the change in
    this process's RUSAGE_CHILDREN: the scan and what it waited for."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peaks = {"client": 0, "other": 0, "tree": 0}
    with open(command.stdout, "wb") as out, open(command.stderr, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command.argv, cwd=command.cwd, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, env=env)

        def sample() -> None:
            own, others = _rss_by_process(proc.pid)
            peaks["client"] = max(peaks["client"], own)
            peaks["other"] = max(peaks["other"], *others.values(), 0)
            peaks["tree"] = max(peaks["tree"], own + sum(others.values()))

        returncode, wall = wait_sampling(proc, sample, start, SAMPLE_S)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    error = "" if returncode in (0, 1) else \
        f"exit {returncode}: {Path(command.stderr).read_text(errors='replace')[-200:]}"
    mib = 1024 * 1024
    return Run(wall, cpu, peaks["client"] / mib, peaks["other"] / mib, peaks["tree"] / mib,
               returncode, error.replace("\n", " "))


def clone_set(report_path: Path) -> Any:
    """A JSON report without what changes from run to run (None when it does not read)."""
    try:
        data = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    data.pop("request_id", None)
    data.get("stats", {}).pop("duration_s", None)
    return data


def count_code_lines(root: Path) -> int:
    """Lines of code under ``root``'s ``.py`` files: not blank, not only a comment
    (docstrings count: they are statements)."""
    total = 0
    for path in root.rglob("*.py"):
        with open(path, "rb") as handle:
            total += sum(1 for line in handle if (text := line.strip()) and
                         not text.startswith(b"#"))
    return total


def largest_class(report_data: Mapping[str, Any] | None) -> int:
    """The most fragments one clone class has: the biggest group matching must hold at once."""
    if not report_data:
        return 0
    return max((len(c["fragments"]) for c in report_data.get("clones", [])), default=0)


def summarize(runs: Sequence[Run]) -> dict[str, Any]:
    """The median of each figure over the runs that succeeded, and the runs' errors."""
    good = [r for r in runs if not r.error]
    out: dict[str, Any] = {"runs": len(runs), "errors": [r.error for r in runs if r.error]}
    for field in ("wall_s", "cpu_s", "client_peak_mib", "largest_other_mib", "tree_peak_mib"):
        out[field] = report.median([getattr(r, field) for r in good]) if good else None
    return out


def ratio(cluster: float | None, local: float | None) -> float | None:
    return cluster / local if cluster is not None and local else None


def stage_times(root: Path, db: Path, workers: int) -> dict[str, Any]:
    """A cold in-process scan on a LocalCluster of ``workers``, timed at the phase
    boundaries its progress callback gives (reading, matching, storing: wall, and CPU of
    this process, the client, whose LocalCluster scheduler runs in it too), with the
    compute seconds the workers spent on each kind of task (Dask's task stream: the
    fingerprint batches, the matching partitions, the suggestion batches)."""
    from distributed import get_task_stream

    from engine.cluster import cluster_spec, connected
    from engine.config import load_settings
    from engine.scan import scan

    marks: dict[str, tuple[float, float]] = {}

    def clocks() -> tuple[float, float]:
        return time.perf_counter(), time.process_time()

    def progress(phase: str, done: int, total: int) -> None:
        key = f"{phase}:{'end' if done == total and total else 'start'}"
        marks.setdefault(f"{phase}:start", clocks())
        marks[key] = clocks()

    fresh_index(db)
    settings = load_settings(root, {"jobs": workers})
    with connected(cluster_spec("local", workers)) as cluster:
        client = cluster.client()  # started before the clock: start-up is not a phase
        start = clocks()
        with get_task_stream(client) as stream:
            scan([root], settings, db, progress=progress, cluster=cluster)
        end = clocks()
    reading_end = marks.get("matching:start", end)
    return {
        "reading_s": reading_end[0] - start[0],
        "reading_client_cpu_s": reading_end[1] - start[1],
        "matching_s": marks["matching:end"][0] - marks["matching:start"][0],
        "matching_client_cpu_s": marks["matching:end"][1] - marks["matching:start"][1],
        "storing_s": marks["storing:end"][0] - marks["storing:start"][0],
        "total_s": end[0] - start[0],
        "worker_compute_s": task_seconds(stream.data),
        "index_mib": sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 2 ** 20,
    }


def task_seconds(stream: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Compute seconds per kind of task (the key's name before its first '-')."""
    seconds: dict[str, float] = {}
    for task in stream:
        name = str(task["key"]).split("-")[0]
        spent = sum(part["stop"] - part["start"] for part in task["startstops"]
                    if part["action"] == "compute")
        seconds[name] = seconds.get(name, 0.0) + spent
    return {name: round(value, 3) for name, value in sorted(seconds.items())}


def measure_size(root: Path, work: Path, runs: int, workers: int) -> dict[str, Any]:
    """Local and cluster cold scans, alternating, ``runs`` times; then the staged scan."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    db = work / "index.db"
    extra = {"local": (), "cluster": ("--cluster", "local", "--workers", str(workers))}
    measured: dict[str, list[Run]] = {mode: [] for mode in MODES}
    identical: list[bool] = []
    reports: dict[str, Any] = {}
    for number in range(runs):
        for mode in MODES:
            fresh_index(db)
            command = scan_command(root, db, work, *extra[mode])._replace(
                stdout=work / f"{mode}.json", stderr=work / f"{mode}.stderr")
            measured[mode].append(run_tree(command, env))
            reports[mode] = clone_set(work / f"{mode}.json")
            print(f"  run {number + 1} {mode}: {measured[mode][-1].wall_s:.2f} s wall, "
                  f"{measured[mode][-1].cpu_s:.2f} s CPU {measured[mode][-1].error}", flush=True)
        identical.append(reports["local"] is not None and reports["local"] == reports["cluster"])
    fresh_index(db)
    local_report = reports["local"] or {}
    stats = local_report.get("stats", {})
    row = {mode: summarize(measured[mode]) for mode in MODES}
    return {
        **row,
        "identical": all(identical) and bool(identical),
        "ratio_wall": ratio(row["cluster"]["wall_s"], row["local"]["wall_s"]),
        "code_lines": count_code_lines(root),
        "engine_lines": stats.get("lines"),
        "files_scanned": stats.get("files"),
        "clones": len(local_report.get("clones", [])),
        "largest_class": largest_class(local_report),
        "stages": stage_times(root, db, workers),
    }


def machine(workers: int) -> dict[str, Any]:
    """The facts the figures depend on."""
    try:
        import dask
        import distributed
        versions = {"dask": dask.__version__, "distributed": distributed.__version__}
    except ImportError:
        versions = {"dask": None, "distributed": None}
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "workers": workers, **versions}


def main(argv: Sequence[str] | None = None) -> int:
    """Build each size, measure it, write the results; 0 when every run succeeded and the
    two scans agreed."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster_scaling",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size_options(parser, RESULTS)
    parser.add_argument("--runs", type=int, default=3, help="cold scans of each kind per size")
    parser.add_argument("--workers", type=int, default=2,
                        help="pool jobs and --cluster local workers")
    args = parser.parse_args(argv)
    sizes, source = sizes_of(args.sizes), args.source or default_source()
    work = scratch_for("cluster-scaling", sizes)
    rows, lines, written = [], 0, 0
    try:
        original = work / "original"
        files = copy_corpus(source, original, tests=True, test_data=True)
        root = work / "tree"
        for factor in sizes:
            added, _ = add_copies(original, root, range(written + 1, factor + 1))
            lines, written = lines + added, factor
            print(f"{factor}x: {len(files) * factor} files, {lines} lines; measuring ...",
                  flush=True)
            row = measure_size(root, work, args.runs, args.workers)
            rows.append({"factor": factor, "files": len(files) * factor, "lines": lines, **row})
    finally:
        shutil.rmtree(work, ignore_errors=True)
    data = {"date": date.today().isoformat(), "runs": args.runs, **machine(args.workers),
            "sizes": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cluster_scaling.json").write_text(json.dumps(data, indent=1) + "\n",
                                                   encoding="utf-8")
    text = report.render_cluster_scaling(data)
    (args.out / "cluster_scaling.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    failed = [e for r in rows for mode in MODES for e in r[mode]["errors"]]
    return 1 if failed or not all(r["identical"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
