"""Wall time and peak memory of one command, measured from a fresh wrapper process.

``measure(cmd)`` starts ``python -m benchmarks.measure`` which runs the command
and reports, as one JSON line: the wall time of the command alone, the largest
RSS of any process of its tree (``getrusage(RUSAGE_CHILDREN).ru_maxrss``, exact
but per process) and the largest sampled sum of RSS over the whole tree (every
``SAMPLE_S``, so it sees worker pools, but may miss a short peak). The peak is
the larger of the two. CPU is the user + system time of the whole tree
(``RUSAGE_CHILDREN``: every descendant that was waited for, as pool workers are). A fresh wrapper per command matters: ``RUSAGE_CHILDREN``
keeps the maximum of every child ever waited for.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

SAMPLE_S = 0.05
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


class Measurement(NamedTuple):
    """What one run of a command cost, and how it ended."""

    wall_s: float
    peak_rss_kib: int
    max_process_rss_kib: int
    tree_rss_kib: int
    returncode: int
    cpu_s: float = 0.0  # user + system of the process tree

    @property
    def peak_mib(self) -> float:
        return self.peak_rss_kib / 1024


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(c) for c in handle.read().split())
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE_KIB
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0


def tree_rss_kib(pid: int) -> int:
    """The summed RSS of a process and all its descendants, now."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += _rss_kib(current)
        todo.extend(_children(current))
    return total


def wait_sampling(proc: subprocess.Popen, sample: Callable[[], None], start: float,
                  every: float = SAMPLE_S) -> tuple[int, float]:
    """Wait for ``proc``, calling ``sample()`` every ``every`` s meanwhile (in a thread);
    its return code and the wall time since ``start`` (perf_counter)."""
    done = threading.Event()

    def sampling() -> None:
        while not done.is_set():
            sample()
            done.wait(every)

    sampler = threading.Thread(target=sampling, daemon=True)
    sampler.start()
    returncode = proc.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    return returncode, wall


def run_measured(cmd: Sequence[str], *, cwd: str | None, stdout: str | None, stderr: str | None) -> Measurement:
    """Run ``cmd`` in this process's care and measure it (call from a fresh process)."""
    peak = 0
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL)

    def sample() -> None:
        nonlocal peak
        peak = max(peak, tree_rss_kib(proc.pid))

    returncode, wall = wait_sampling(proc, sample, start)
    for handle in (out, err):
        if hasattr(handle, "close"):
            handle.close()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    max_rss = usage.ru_maxrss  # KiB on Linux
    return Measurement(wall, max(max_rss, peak), max_rss, peak, returncode, usage.ru_utime + usage.ru_stime)


def measure(
    cmd: Sequence[str],
    *,
    cwd: Path | str | None = None,
    stdout: Path | str | None = None,
    stderr: Path | str | None = None,
) -> Measurement:
    """Run ``cmd`` under a fresh wrapper process; its output goes to the given files."""
    wrapper = [sys.executable, "-m", "benchmarks.measure"]
    for flag, value in (("--cwd", cwd), ("--stdout", stdout), ("--stderr", stderr)):
        if value is not None:
            wrapper += [flag, str(value)]
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([*wrapper, "--", *cmd], capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the measuring wrapper failed: {done.stderr.strip()}")
    return Measurement(**json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: Sequence[str] | None = None) -> int:
    """Wrapper entry: run the command after ``--`` and print its measurement as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.measure", description=__doc__)
    parser.add_argument("--cwd")
    parser.add_argument("--stdout")
    parser.add_argument("--stderr")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        parser.error("give the command to measure after --")
    result = run_measured(cmd, cwd=args.cwd, stdout=args.stdout, stderr=args.stderr)
    print(json.dumps(result._asdict()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
