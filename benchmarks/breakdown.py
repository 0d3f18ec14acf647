"""Where a cold scan's time goes: the engine's stages timed one by one, in one process.

    python -m benchmarks.breakdown ROOT [--out FILE.json]

(``python -m benchmarks.stdlib_scan`` runs it on its copy of the standard library.)

Each stage is called through the engine's public functions, serially in this
process, over every file of ``ROOT``, so the figures add up and stay valid as the
engine's insides change: start-up (``python -c pass``), imports (``import
engine.cli`` in a fresh interpreter),
discover, read + hash, parse (``ast``), tokens, units (the statement walk),
unit hashing (the xxh3 calls, timed by wrapping the engine's ``hash64``), near
signatures (token codes and MinHash), corpus (pack, unpack, load), match,
near-miss matching and verification, suggestions (the rest of ``detect``), and
store (``Store.save`` inside a real in-process ``scan``). For each: wall and CPU
seconds. The cyclic garbage collector is off while files are fingerprinted, as in
the scan's pool workers. A stage that fails says "n/a" and why instead of stopping the rest.

Besides, a real scan as a whole process with 2 workers and ``--progress`` gives
the wall time of its phases (reading, matching, storing), and ``python -X
importtime`` gives the import costs of an unchanged rescan (``import_costs``).
"""
from __future__ import annotations

import argparse
import gc
import ast
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
import tokenize
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parent.parent
STAGES = ("start-up", "imports", "discover", "read + hash", "parse", "tokens", "units", "unit hashing",
          "near signatures", "corpus", "match", "near matching + verification", "suggestions",
          "store")
_PHASE_LINE = re.compile(r"^codebot: (.+?): done in ([0-9.]+)s$")
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


class Stage(NamedTuple):
    """One stage's cost; ``error`` says why it could not be measured (then the figures are 0)."""

    name: str
    wall_s: float
    cpu_s: float
    calls: int = 0
    error: str = ""


class ImportCost(NamedTuple):
    """A top-level package's import cost: the summed self time of its modules."""

    package: str
    self_ms: float
    modules: int


class Breakdown(NamedTuple):
    """Everything ``breakdown`` measures on one tree."""

    files: int
    lines: int
    stages: tuple[Stage, ...]
    phases: dict[str, float]  # a real 2-worker scan's phase wall times (from --progress)
    phase_wall_s: float  # that scan's whole-process wall time
    serial_scan_s: float  # an in-process scan(jobs=1): its wall time
    imports_total_ms: float  # -X importtime total of an unchanged rescan (0 when not measured)
    import_costs: tuple[ImportCost, ...]


class _Clock:
    """Accumulates wall and CPU per stage name."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    @contextmanager
    def time(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] += time.perf_counter() - wall
            self.cpu[name] += time.process_time() - cpu
            self.calls[name] += 1

    def wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` timed under ``name`` on every call (for monkeypatching a stage in)."""
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.wall[name] += time.perf_counter() - wall
                self.cpu[name] += time.process_time() - cpu
                self.calls[name] += 1
        return timed


@contextmanager
def _patched(module: Any, name: str, value: Any) -> Iterator[None]:
    """``module.name`` replaced for the duration (the benchmark's own timers, never kept)."""
    missing = object()
    old = getattr(module, name, missing)
    if old is missing:
        yield  # the engine no longer has it: the stage is then folded into its caller
        return
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


class _Overhead(NamedTuple):
    """What one timed call costs beyond the call itself: outside the interval it records
    (charged to the caller) and inside it (charged to the timed stage)."""

    outside_wall: float
    outside_cpu: float
    inside_wall: float
    inside_cpu: float

    def outside(self, calls: int) -> tuple[float, float]:
        return self.outside_wall * calls, self.outside_cpu * calls

    def inside(self, calls: int) -> tuple[float, float]:
        return self.inside_wall * calls, self.inside_cpu * calls


def _wrapper_overhead(probe: int = 50_000) -> _Overhead:
    """Calibrate ``_Clock.wrap`` on a call that does nothing."""
    clock = _Clock()
    empty = clock.wrap("x", lambda data: 0)
    bare = lambda data: 0  # noqa: E731 - the same call, untimed
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(probe):
        bare(b"")
    base_wall, base_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(probe):
        empty(b"")
    all_wall, all_cpu = time.perf_counter() - wall - base_wall, time.process_time() - cpu - base_cpu
    inside_wall, inside_cpu = clock.wall["x"], clock.cpu["x"]
    return _Overhead(max(0.0, all_wall - inside_wall) / probe, max(0.0, all_cpu - inside_cpu) / probe,
                     inside_wall / probe, inside_cpu / probe)


def _decode(data: bytes) -> str:
    encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
    return data.decode(encoding)


def _fingerprint_stages(paths: Sequence[str], clock: _Clock) -> tuple[list[tuple[str, Any]], int]:
    """Read, hash, parse, tokenize and fingerprint each file, stage by stage; the packed
    columns of every file that parses, and the lines read."""
    from engine import python_units
    from engine.config import Settings
    from engine.near_sign import parameters

    parameters()  # numpy loaded, untimed: a scan's pool parent does this before forking
    policy = Settings().noise_policy

    def timer(stage: str, name: str) -> Any:  # None when the engine no longer has it
        found = getattr(python_units, name, None)
        return None if found is None else clock.wrap(stage, found)
    # As in the scan's pool workers: no cyclic garbage collection while trees are built
    # (with it, every pass walks the growing heap: parse and tokens cost half again).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _timed_files(paths, clock, policy, timer)
    finally:
        if gc_was_enabled:
            gc.enable()


def _timed_files(paths: Sequence[str], clock: _Clock, policy: Any, timer: Callable[[str, str], Any]
                 ) -> tuple[list[tuple[str, Any]], int]:
    from engine import python_units
    from engine.fingerprint import content_hash, pack, unpack_columns
    from engine.normalize import token_stream

    packed: list[tuple[str, Any]] = []
    lines = 0
    with _patched(python_units, "hash64", timer("unit hashing", "hash64")), \
            _patched(python_units, "token_codes", timer("near signatures", "token_codes")), \
            _patched(python_units, "signatures", timer("near signatures", "signatures")):
        for path in paths:
            with clock.time("read + hash"):
                with open(path, "rb") as handle:
                    data = handle.read()
                content_hash(data)
            lines += data.count(b"\n")
            try:
                with clock.time("parse"):
                    text = _decode(data)
                    source = text.encode("utf-8")
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        tree = ast.parse(text)
            except (SyntaxError, ValueError, UnicodeError, LookupError, RecursionError):
                continue  # the engine compares these token by token; not a stage of its own
            with clock.time("tokens"):
                stream = token_stream(source)
            with clock.time("units"):
                prints = python_units.python_fingerprints(source, tree, policy, stream)
            del tree
            with clock.time("corpus"):
                packed.append((path, unpack_columns(pack(prints))))
    return packed, lines


def _stage(clock: _Clock, name: str, error: str = "") -> Stage:
    return Stage(name, clock.wall.get(name, 0.0), clock.cpu.get(name, 0.0),
                 clock.calls.get(name, 0), error)


def _net(outer: Stage, inner: Sequence[Stage], overhead: tuple[float, float]) -> Stage:
    """``outer`` without the time of stages timed inside it and the timers' own cost."""
    wall = outer.wall_s - sum(s.wall_s for s in inner) - overhead[0]
    cpu = outer.cpu_s - sum(s.cpu_s for s in inner) - overhead[1]
    return outer._replace(wall_s=max(0.0, wall), cpu_s=max(0.0, cpu))


def _detect_stages(packed: list[tuple[str, Any]], root: Path, clock: _Clock) -> list[Stage]:
    """Corpus, match, near and suggestions: ``detect`` on one worker with its two
    matchers wrapped in timers; suggestions are the rest of it."""
    from engine import detect as detect_module
    from engine.config import Settings
    from engine.discover import relative_path
    from engine.match import Corpus

    settings = Settings(jobs=1)
    with clock.time("corpus"):
        corpus = Corpus.of_files((relative_path(p, root), columns) for p, columns in packed)
    with _patched(detect_module, "clone_groups", clock.wrap("match", detect_module.clone_groups)), \
            _patched(detect_module, "near_groups",
                     clock.wrap("near matching + verification", detect_module.near_groups)):
        with clock.time("detect"):
            detect_module.detect(corpus, settings, root)
    inner = [_stage(clock, "match"), _stage(clock, "near matching + verification")]
    suggestions = _net(_stage(clock, "detect"), inner, (0.0, 0.0))._replace(name="suggestions")
    return [_stage(clock, "corpus"), *inner, suggestions]


def _store_stage(root: Path) -> tuple[Stage, float]:
    """``Store.save`` as a real in-process scan (one worker) does it, timed by its progress
    callback; and that scan's whole wall time."""
    from engine.config import Settings
    from engine.scan import scan

    marks: dict[tuple[str, int], tuple[float, float]] = {}

    def progress(phase: str, done: int, total: int) -> None:
        if phase == "storing":
            marks.setdefault((phase, done), (time.perf_counter(), time.process_time()))

    with tempfile.TemporaryDirectory(prefix="codebot-breakdown-") as scratch:
        start = time.perf_counter()
        scan([root], Settings(jobs=1), Path(scratch) / "index.db", progress=progress)
        whole = time.perf_counter() - start
    begin, end = marks[("storing", 0)], marks[("storing", 1)]
    return Stage("store", end[0] - begin[0], end[1] - begin[1], 1), whole


def startup_stage(runs: int = 5) -> Stage:
    """A bare interpreter's start and exit (``python -c pass``), the best of a few runs:
    what every command pays before its first import."""
    best = Stage("start-up", float("inf"), 0.0, runs)
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        if wall < best.wall_s:
            best = best._replace(wall_s=wall, cpu_s=cpu)
    return best


def import_stage() -> Stage:
    """``import engine.cli`` in a fresh interpreter (the start-up every command pays)."""
    code = ("import time; w, c = time.perf_counter(), time.process_time(); import engine.cli; "
            "print(time.perf_counter() - w, time.process_time() - c)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          check=True)
    wall, cpu = map(float, done.stdout.split())
    return Stage("imports", wall, cpu, 1)


def import_costs(stderr: str, top: int = 10) -> tuple[float, tuple[ImportCost, ...]]:
    """The total and the ``top`` costliest top-level packages of a ``-X importtime`` log."""
    self_us: dict[str, int] = defaultdict(int)
    modules: dict[str, int] = defaultdict(int)
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match:
            package = match.group(4).split(".")[0]
            self_us[package] += int(match.group(1))
            modules[package] += 1
    ranked = sorted(self_us, key=lambda p: (-self_us[p], p))[:top]
    return (sum(self_us.values()) / 1000,
            tuple(ImportCost(p, self_us[p] / 1000, modules[p]) for p in ranked))


def progress_phases(stderr: str) -> dict[str, float]:
    """Phase name -> seconds, from a scan's ``--progress`` lines."""
    return {m.group(1): float(m.group(2)) for m in map(_PHASE_LINE.match, stderr.splitlines()) if m}


def real_scan_phases(root: Path, workers: int = 2) -> tuple[dict[str, float], float]:
    """A cold scan as a whole process with ``--progress``: its phases and its wall time."""
    with tempfile.TemporaryDirectory(prefix="codebot-phases-") as scratch:
        cmd = [sys.executable, "-m", "engine", "scan", str(root), "--db", f"{scratch}/index.db",
               "--jobs", str(workers), "--progress", "--format", "json", "--output",
               f"{scratch}/report.json"]
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"scan failed ({done.returncode}): {done.stderr.strip()[-300:]}")
    return progress_phases(done.stderr), wall


def _attempt(name: str, measure: Callable[[], Any], default: Any) -> tuple[Any, str]:
    """``measure()``, or ``default`` and the reason it failed (an engine change under us)."""
    try:
        return measure(), ""
    except Exception as exc:  # noqa: BLE001 - a broken stage is reported, never fatal
        print(f"breakdown: {name}: n/a ({type(exc).__name__}: {exc})", file=sys.stderr)
        return default, f"{type(exc).__name__}: {exc}"[:200]


def breakdown(root: Path) -> Breakdown:
    """Measure every stage on ``root`` (see the module docstring)."""
    clock = _Clock()
    startup, error = _attempt("start-up", startup_stage, Stage("start-up", 0, 0))
    imports, error2 = _attempt("imports", import_stage, Stage("imports", 0, 0))
    stages = [startup._replace(error=error), imports._replace(error=error2)]
    from engine.discover import discover  # after the import stage: it is not timed here

    with clock.time("discover"):
        files = discover([root], root)
    paths = [str(f.path) for f in files if f.language == "python"]
    stages.append(_stage(clock, "discover"))
    (packed, lines), error = _attempt("fingerprint", lambda: _fingerprint_stages(paths, clock),
                                      ([], 0))
    # The timers' own cost: what they record goes out of the timed stage, what they add
    # around that out of the caller's (the statement walk's).
    overhead = _wrapper_overhead()
    hashing = _stage(clock, "unit hashing", error)
    signing = _stage(clock, "near signatures", error)
    calls = hashing.calls + signing.calls
    units = _net(_stage(clock, "units", error), [hashing, signing], overhead.outside(calls))
    hashing = _net(hashing, (), overhead.inside(hashing.calls))
    signing = _net(signing, (), overhead.inside(signing.calls))
    stages += [_stage(clock, n, error) for n in ("read + hash", "parse", "tokens")]
    stages += [units, hashing, signing]
    detected, error = _attempt("detect", lambda: _detect_stages(packed, root, clock), [])
    stages += detected or [Stage(n, 0, 0, 0, error) for n in
                           ("corpus", "match", "near matching + verification", "suggestions")]
    (store, serial), error = _attempt("store", lambda: _store_stage(root),
                                      (Stage("store", 0, 0), 0.0))
    stages.append(store._replace(error=error))
    (phases, phase_wall), _ = _attempt("real scan", lambda: real_scan_phases(root), ({}, 0.0))
    return Breakdown(len(paths), lines, tuple(stages), phases, phase_wall, serial, 0.0, ())


def to_json(result: Breakdown) -> dict[str, Any]:
    """A Breakdown as plain JSON data."""
    data = result._asdict()
    data["stages"] = [s._asdict() for s in result.stages]
    data["import_costs"] = [c._asdict() for c in result.import_costs]
    return data


def from_json(data: dict[str, Any]) -> Breakdown:
    """The inverse of ``to_json``."""
    return Breakdown(**{**data, "stages": tuple(Stage(**s) for s in data["stages"]),
                        "import_costs": tuple(ImportCost(**c) for c in data["import_costs"])})


def table(result: Breakdown) -> str:
    """The stages as a Markdown table, with each one's share of the measured total."""
    measured = [s for s in result.stages if not s.error]
    total_wall = sum(s.wall_s for s in measured) or 1.0
    rows = ["| Stage | Wall s | CPU s | Share |", "|---|---|---|---|"]
    for stage in result.stages:
        if stage.error:
            rows.append(f"| {stage.name} | n/a | n/a | {stage.error} |")
        else:
            rows.append(f"| {stage.name} | {stage.wall_s:.2f} | {stage.cpu_s:.2f} | "
                        f"{100 * stage.wall_s / total_wall:.0f}% |")
    rows.append(f"| **total, one process** | **{sum(s.wall_s for s in measured):.2f}** | "
                f"**{sum(s.cpu_s for s in measured):.2f}** | |")
    return "\n".join(rows)


def phases_line(result: Breakdown) -> str:
    """The real scan's phases in one sentence."""
    if not result.phases:
        return "The real scan's phases were not measured."
    parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.phases.items())
    return (f"A real cold scan as one command with 2 workers took {result.phase_wall_s:.1f} s "
            f"wall: {parts}.")


def imports_table(result: Breakdown) -> str:
    """The costliest packages imported by an unchanged rescan."""
    rows = ["| Package | Self ms | Modules |", "|---|---|---|"]
    rows += [f"| {c.package} | {c.self_ms:.1f} | {c.modules} |" for c in result.import_costs]
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure ``ROOT`` and print the table (and write JSON with ``--out``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.breakdown", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", type=Path)
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    result = breakdown(args.root.absolute())
    print(table(result))
    print(phases_line(result))
    if args.out:
        args.out.write_text(json.dumps(to_json(result), indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
