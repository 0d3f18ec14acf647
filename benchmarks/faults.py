"""Fault injection on a real index: kill -9, concurrent commands, damaged files.

`python -m benchmarks.faults [--rounds N] [--seed S]` runs N rounds of each
fault against a generated tree and writes benchmarks/results/faults.json:

- concurrent: a scan (after editing files) at the same time as `check` and
  `python -m metrics status` on the same index; the index must pass
  `PRAGMA integrity_check`, and every command end with a documented code;
- kill-group / kill-main: a cold scan killed with SIGKILL at a random moment,
  the whole process group or the main process only (as the OOM killer does);
  no process of the scan may be left, the index must pass integrity_check,
  and the next scan must give the clones a fresh index gives.

tests/test_faults.py runs a few rounds of each in the test suite.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "faults.json"
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DOCUMENTED_EXITS = {0, 1, 2}


def make_tree(root: Path, files: int = 120) -> Path:
    """The shop fixture plus `files` stdlib modules (sorted, so the same on every run)."""
    shutil.copytree(FIXTURES / "shop", root)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    modules = sorted(p for p in stdlib.glob("*.py") if 4_000 < p.stat().st_size < 60_000)
    (root / "lib").mkdir()
    for module in modules[:files]:
        shutil.copy(module, root / "lib" / module.name)
    return root


def engine(*args: str | Path, **popen: object) -> subprocess.Popen:
    """`python -m engine ...` as its own process group, so a kill can take all of it; the
    report goes nowhere unless asked for (an unread pipe would block the process)."""
    popen = {"stdout": subprocess.DEVNULL, **popen}
    return subprocess.Popen([sys.executable, "-m", "engine", *map(str, args)],
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            **popen)  # type: ignore[call-overload]


def integrity(db: Path) -> str:
    """SQLite's full integrity check of the index ("ok" when sound). Opened as any next
    command would open it: a killed writer's WAL is recovered first, which writes."""
    conn = sqlite3.connect(db)
    try:
        return "; ".join(row[0] for row in conn.execute("PRAGMA integrity_check(5)"))
    except sqlite3.DatabaseError as exc:
        return f"cannot be checked: {exc}"
    finally:
        conn.close()


def clone_set(report: str) -> set[tuple]:
    """The clones of a JSON report, as comparable values (ids and timings aside)."""
    return {(c["kind"], tuple((f["path"], f["start_line"], f["end_line"])
                              for f in c["fragments"])) for c in json.loads(report)["clones"]}


def scan_json(tree: Path, db: Path) -> tuple[int, str, str]:
    done = engine("scan", tree, "--db", db, "--format", "json", "-q", stdout=subprocess.PIPE)
    out, err = done.communicate(timeout=600)
    return done.returncode, out, err


def group_is_gone(pgid: int, wait: float = 3.0) -> bool:
    """Whether every process of the group has ended (within `wait` seconds)."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def edit(tree: Path, rng: random.Random, count: int) -> None:
    """Change `count` library files: a line appended, so they are read and parsed again."""
    files = sorted((tree / "lib").glob("*.py"))
    for path in rng.sample(files, min(count, len(files))):
        with path.open("a") as handle:
            handle.write(f"\n_edited_{rng.randrange(10**9)} = {rng.random()!r}\n")


@dataclass
class Tally:
    """What the rounds of one fault found."""

    rounds: int = 0
    corrupt: int = 0
    undocumented_exits: int = 0
    orphans: int = 0
    differs_from_fresh: int = 0
    problems: list[str] = field(default_factory=list)

    def failed(self, kind: str, detail: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        self.problems.append(detail[:300])


def concurrent_round(tree: Path, db: Path, rng: random.Random, tally: Tally) -> None:
    """A scan after edits while `check` and a metrics read run one after another on the
    same index until the scan ends."""
    edit(tree, rng, 20)
    names = sorted(p.name for p in (tree / "lib").glob("*.py"))
    scan = engine("scan", tree, "--db", db, "-q")
    others: list[subprocess.Popen] = []
    tally.rounds += 1
    while scan.poll() is None or not others:
        checked = tree / "lib" / rng.choice(names)
        others.append(engine("check", checked, "--db", db, "-q", cwd=tree))
        others.append(subprocess.Popen(
            [sys.executable, "-m", "metrics", "status", "--db", str(db)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
        for proc in others[-2:]:
            _finish(proc, tally)
    _finish(scan, tally)
    state = integrity(db)
    if state != "ok":
        tally.failed("corrupt", state)


def _finish(proc: subprocess.Popen, tally: Tally) -> None:
    """Wait for a command; an exit code outside 0/1/2, or a traceback, is a failure."""
    _, err = proc.communicate(timeout=600)
    if proc.returncode not in DOCUMENTED_EXITS or "Traceback" in err:
        tally.failed("undocumented_exits", f"{proc.args[2:4]} exit {proc.returncode}: {err}")


def kill_round(tree: Path, db: Path, rng: random.Random, tally: Tally, fresh: set[tuple],
               whole_group: bool, longest: float) -> None:
    """A scan killed with SIGKILL at a random moment; then the index must be sound and the
    next scan must give what a fresh index gives."""
    db.unlink(missing_ok=True)
    for leftover in db.parent.glob(f"{db.name}-*"):
        leftover.unlink()
    proc = engine("scan", tree, "--db", db, "-q")
    time.sleep(rng.uniform(0.05, longest))
    try:
        if whole_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.kill()
    except ProcessLookupError:
        pass
    proc.communicate(timeout=60)
    tally.rounds += 1
    if not group_is_gone(proc.pid):
        tally.failed("orphans", f"processes of scan {proc.pid} outlived it")
        os.killpg(proc.pid, signal.SIGKILL)
    if db.exists():
        state = integrity(db)
        if state != "ok":
            tally.failed("corrupt", state)
            return
    code, out, err = scan_json(tree, db)
    if code != 0:
        tally.failed("undocumented_exits", f"rescan after kill exit {code}: {err}")
    elif clone_set(out) != fresh:
        tally.failed("differs_from_fresh", "rescan after a kill differs from a fresh scan")


def run(rounds: int, seed: int, workdir: Path) -> dict[str, Tally]:
    """`rounds` rounds of each fault; returns the tallies by fault."""
    rng = random.Random(seed)
    tree = make_tree(workdir / "tree")
    db = workdir / "index.db"
    started = time.monotonic()
    code, out, err = scan_json(tree, workdir / "fresh.db")
    if code != 0:
        raise RuntimeError(f"the reference scan failed: {err}")
    cold = time.monotonic() - started
    fresh = clone_set(out)
    tallies = {name: Tally() for name in ("concurrent", "kill-group", "kill-main")}
    for _ in range(rounds):
        kill_round(tree, db, rng, tallies["kill-group"], fresh, True, cold)
        kill_round(tree, db, rng, tallies["kill-main"], fresh, False, cold)
    for _ in range(rounds):
        concurrent_round(tree, db, rng, tallies["concurrent"])
    return tallies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as work:
        tallies = run(args.rounds, args.seed, Path(work))
    result = {
        "rounds_per_fault": args.rounds, "seed": args.seed,
        "seconds": round(time.monotonic() - started, 1),
        "python": sys.version.split()[0], "date": time.strftime("%Y-%m-%d"),
        "faults": {name: asdict(tally) for name, tally in tallies.items()},
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["faults"], indent=2))
    return 0 if all(t.rounds and not t.problems for t in tallies.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
