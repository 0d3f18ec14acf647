"""Fuzzing the per-file parser path with mutated real Python: no input may crash it.

    python -m benchmarks.fuzz_parser [--inputs N] [--jobs J] [--seed S]
                                     [--max-seconds T] [--out FILE] [--replay I]

Seeds are the ``.py`` files of ``fixtures/`` and of the interpreter's standard
library, its test suites and their deliberately broken files included. Each
input is a window of a seed file with one to four mutations (lines deleted,
duplicated, swapped, joined or re-indented; random bytes, NUL bytes,
truncation; CRLF or CR line ends, tabs; byte-order marks, coding comments and
re-encodings; unbalanced brackets and stray clauses; deep nesting, long elif
chains, long expressions) and goes through
``engine.fingerprint.fingerprint_file``, the function a scan's pool and
``check`` call for each file. Counted: inputs tried, crashes (an exception
escaping, or a result that breaks the file-result contract, see
``contract_violations``) and the slowest input.

Before fuzzing, the inputs that used to cost the most are timed once each at
the size limit (``Settings().max_file_size``): a file of short top-level
statements with one syntax error (the partial parser once re-parsed each piece
behind a prefix as long as the file so far), a long run of decorators (once
checked from its start at each line), long elif chains, nesting past the
parser's limits. Each must finish in under ``WORST_CASE_LIMIT_S``.

Input ``i`` is made from ``random.Random(f"{seed}:{i}")`` and the seed files
alone, so ``--replay I`` writes input I again for a look. Results go to
benchmarks/results/fuzz_parser.json; the exit code is 1 when a crash was found
or a worst case ran over its limit. Nothing here asserts a time in a test.
"""
from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from engine.config import Settings
from engine.fingerprint import fingerprint_file, unpack_columns
from engine.python_units import NoisePolicy
from engine.records import FileResult, FileStatus

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "fuzz_parser.json"
DEFAULT_INPUTS = 1_000_000
WORST_CASE_LIMIT_S = 10.0
STATUSES = frozenset(status for status in FileStatus if status is not FileStatus.UNCHANGED)
# Seeds larger than this are cut into windows only: a whole 300 KB test module
# per input would make a million inputs a day's work.
_WHOLE_SEED_BYTES = 20_000
_MAX_WINDOW_LINES = 120
_CHUNK = 500  # inputs per pool task
_KEPT_CRASHES = 20


class Mutation(NamedTuple):
    """One edit: what kind, where (`at`, taken modulo the size), how much (`size`),
    and bytes to insert where the kind takes any."""

    kind: str
    at: int
    size: int
    payload: bytes = b""


# --- mutations: pure, total functions of (data, mutation) ------------------------------------


def _split(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _delete_lines(data: bytes, m: Mutation) -> bytes:
    lines = _split(data)
    if not lines:
        return data
    i = m.at % len(lines)
    return b"".join(lines[:i] + lines[i + 1 + m.size % 4:])


def _duplicate_lines(data: bytes, m: Mutation) -> bytes:
    lines = _split(data)
    if not lines:
        return data
    i = m.at % len(lines)
    chunk = lines[i:i + 1 + m.size % 8]
    j = m.size % (len(lines) + 1)
    return b"".join(lines[:j] + chunk + lines[j:])


def _swap_lines(data: bytes, m: Mutation) -> bytes:
    lines = _split(data)
    if len(lines) < 2:
        return data
    i, j = m.at % len(lines), m.size % len(lines)
    lines[i], lines[j] = lines[j], lines[i]
    return b"".join(lines)


def _edit_one_line(data: bytes, m: Mutation, edit: Callable[[bytes], bytes]) -> bytes:
    """`edit` applied to the line the mutation points at."""
    lines = _split(data)
    if not lines:
        return data
    i = m.at % len(lines)
    lines[i] = edit(lines[i])
    return b"".join(lines)


def _join_lines(data: bytes, m: Mutation) -> bytes:
    return _edit_one_line(data, m, lambda line: line.rstrip(b"\r\n"))


def _reindent(data: bytes, m: Mutation) -> bytes:
    return _edit_one_line(data, m, lambda line: b" " * (m.size % 9)
                          + (line.lstrip(b" \t") if m.size % 2 else line))


def _tabs(data: bytes, m: Mutation) -> bytes:
    """Leading spaces to tabs on a run of lines: mixed indentation, a TabError."""
    lines = _split(data)
    if not lines:
        return data
    i = m.at % len(lines)
    for k in range(i, min(len(lines), i + 1 + m.size % 50)):
        body = lines[k].lstrip(b" ")
        lines[k] = b"\t" * ((len(lines[k]) - len(body)) // 4) + body
    return b"".join(lines)


def _line_ends(data: bytes, m: Mutation) -> bytes:
    choice = m.size % 3
    if choice == 0:
        return data.replace(b"\n", b"\r\n")
    if choice == 1:
        return data.replace(b"\n", b"\r")
    cut = m.at % (len(data) + 1)  # mixed: the rest of the file in CRLF
    return data[:cut] + data[cut:].replace(b"\n", b"\r\n")


def _insert_bytes(data: bytes, m: Mutation) -> bytes:
    i = m.at % (len(data) + 1)
    return data[:i] + m.payload + data[i:]


def _overwrite_bytes(data: bytes, m: Mutation) -> bytes:
    i = m.at % (len(data) + 1)
    return data[:i] + m.payload + data[i + len(m.payload):]


def _nul(data: bytes, m: Mutation) -> bytes:
    i = m.at % (len(data) + 1)
    return data[:i] + b"\0" * (1 + m.size % 3) + data[i:]


def _truncate(data: bytes, m: Mutation) -> bytes:
    return data[:m.at % (len(data) + 1)]


_CODECS = (b"latin-1", b"utf-16", b"utf-7", b"undefined", b"punycode", b"unicode_escape",
           b"raw_unicode_escape", b"idna", b"utf-32", b"cp037", b"rot13", b"hex", b"no-such-codec",
           b"utf-8", b"ascii", b"shift_jis", b"euc_kr", b"koi8-r")


def _encoding(data: bytes, m: Mutation) -> bytes:
    """Byte-order marks, coding comments (true, false, unknown or not text codecs) and
    re-encodings."""
    text = data.decode("utf-8", "replace")
    choice = m.size % 8
    if choice == 0:
        return b"\xef\xbb\xbf" + data
    if choice == 1:
        return b"# -*- coding: latin-1 -*-\n" + text.encode("latin-1", "replace")
    if choice == 2:
        return text.encode("utf-16")
    if choice == 3:
        return text.encode("cp1252", "replace")  # no cookie: not UTF-8 where not ASCII
    if choice == 4:
        return b"\xef\xbb\xbf# coding: latin-1\n" + data  # a BOM and a cookie that disagree
    if choice == 5:
        return b"#!/usr/bin/env python\n# vim: set fileencoding=" + _CODECS[m.at % len(_CODECS)] \
            + b" :\n" + data
    codec = _CODECS[m.at % len(_CODECS)]
    return b"# coding: " + codec + b"\n" + data


_STRAYS = (b"else:\n", b"elif x:\n", b"except:\n", b"finally:\n", b"case 1:\n", b"@decorator\n",
           b"@\n", b"    return\n", b")\n", b"]\n", b"}\n", b"<<<<<<< HEAD\n", b"=======\n",
           b">>>>>>> branch\n", b"print 'x'\n", b"exec 'code'\n", b"async def f():\n",
           b"match x:\n", b"def f(:\n", b"class\n", b"if True:\n", b"\tpass\n", b"(\n", b"[\n",
           b"{\n", b'"""\n', b"'''\n", b"\\\n", b"f'{\n", b"x = (\n", b"lambda: (yield)\n",
           b"# coding: latin-1\n", b"\x0c\n", b"type X = int\n", b"def f[T](x: T): pass\n",
           b"try:\n", b"with (open(a) as b, open(c) as d):\n", b"from __future__ import braces\n",
           b"global x\n", b"nonlocal x\n", b"return\n", b"yield\n", b"await x\n", b"0x\n",
           b"1_000_\n", b"'\\N{NO SUCH NAME}'\n", b"b'\xc3\xa9'\n", b"\xe2\x80\xa8\n", b"\xc2\x85\n")


def _stray_line(data: bytes, m: Mutation) -> bytes:
    """A line that continues, opens or closes something, at column 0 or indented."""
    lines = _split(data)
    i = m.at % (len(lines) + 1)
    stray = _STRAYS[m.size % len(_STRAYS)]
    return b"".join(lines[:i] + [b" " * (4 * (m.size // len(_STRAYS) % 3)) + stray] + lines[i:])


_OPENERS = (b"if x:", b"for i in y:", b"while x:", b"with a as b:", b"def f():", b"class C:",
            b"try:", b"async def g():", b"else:")


def nested(depth: int, opener: bytes, body: Sequence[bytes]) -> bytes:
    """`body` inside `depth` compound statements, each opened with `opener`
    (a `try:` is closed with `finally: pass` at each level)."""
    head = [b"    " * k + opener + b"\n" for k in range(depth)]
    inner = [b"    " * depth + line.lstrip(b" \t") for line in body] or [b"    " * depth + b"pass\n"]
    tail = [b"    " * k + b"finally:\n" + b"    " * (k + 1) + b"pass\n"
            for k in reversed(range(depth))] if opener == b"try:" else []
    return b"".join(head + inner + tail)


def _nest(data: bytes, m: Mutation) -> bytes:
    """A run of lines wrapped in up to 130 levels: past the parser's 100."""
    lines = _split(data)
    i = m.at % (len(lines) + 1)
    chunk = [line if line.endswith(b"\n") else line + b"\n" for line in lines[i:i + 1 + m.size % 5]]
    opener = _OPENERS[m.size % len(_OPENERS)]
    return b"".join(lines[:i]) + nested(1 + m.size % 130, opener, chunk) + b"".join(lines[i + len(chunk):])


def elif_chain(branches: int, name: bytes = b"dispatch") -> bytes:
    """A generated dispatch function: one `if` and `branches - 1` `elif`s."""
    cases = b"".join(b"    %s kind == %d:\n        return handle_%d(kind)\n"
                     % (b"if" if k == 0 else b"elif", k, k) for k in range(branches))
    return b"def " + name + b"(kind):\n" + (cases or b"    pass\n") + b"    return None\n"


def _elif_chain(data: bytes, m: Mutation) -> bytes:
    lines = _split(data)
    i = m.at % (len(lines) + 1)
    return b"".join(lines[:i]) + elif_chain(1 + m.size % 4000) + b"".join(lines[i:])


def long_expression(kind: int, n: int) -> bytes:
    """One line whose expression nests `n` deep (or is `n` long)."""
    forms = (
        lambda: b"x = " + b" + ".join([b"a"] * n),
        lambda: b"x = " + b"(" * n + b"1" + b")" * n,
        lambda: b"x = " + b"[" * n + b"]" * n,
        lambda: b"x = " + b"-" * n + b"1",
        lambda: b"x = " + b"not " * n + b"y",
        lambda: b"x = f" + b"()" * n,
        lambda: b"x = a" + b".b" * n,
        lambda: b"x = " + b"lambda: " * n + b"0",
        lambda: b"x = " + b"'s' " * n,
        lambda: b"x = {" + b", ".join(b"%d: %d" % (k, k) for k in range(n)) + b"}",
    )
    return forms[kind % len(forms)]() + b"\n"


def _long_expression(data: bytes, m: Mutation) -> bytes:
    lines = _split(data)
    i = m.at % (len(lines) + 1)
    n = 1 + m.size % 5000 if m.size % 7 else 1 + m.size % 40000
    return b"".join(lines[:i]) + long_expression(m.size, n) + b"".join(lines[i:])


MUTATIONS: dict[str, Callable[[bytes, Mutation], bytes]] = {
    "delete_lines": _delete_lines, "duplicate_lines": _duplicate_lines, "swap_lines": _swap_lines,
    "join_lines": _join_lines, "reindent": _reindent, "tabs": _tabs, "line_ends": _line_ends,
    "insert_bytes": _insert_bytes, "overwrite_bytes": _overwrite_bytes, "nul": _nul,
    "truncate": _truncate, "encoding": _encoding, "stray_line": _stray_line, "nest": _nest,
    "elif_chain": _elif_chain, "long_expression": _long_expression,
}
# How often each kind is drawn in the long run: the heavy structural ones
# (seconds for thousands of branches) are rare there and common in the tests.
WEIGHTS = {"delete_lines": 10, "duplicate_lines": 10, "swap_lines": 10, "join_lines": 6,
           "reindent": 8, "tabs": 4, "line_ends": 4, "insert_bytes": 10, "overwrite_bytes": 8,
           "nul": 2, "truncate": 6, "encoding": 4, "stray_line": 12, "nest": 3,
           "elif_chain": 0.02, "long_expression": 0.3}


def mutate(data: bytes, mutations: Sequence[Mutation]) -> bytes:
    """`data` with each mutation applied in turn."""
    for m in mutations:
        data = MUTATIONS[m.kind](data, m)
    return data


# --- the contract every file result keeps ---------------------------------------------------


def contract_violations(result: FileResult, data: bytes) -> list[str]:
    """How a file result breaks what the pipeline relies on (empty when it does not):
    a known status, prints exactly when fingerprinted, and prints whose units lie
    within the file's lines as the result counts them (or duplication could pass
    100%), whose blocks tile the units with parents first, and whose near-miss
    functions point inside the units and tokens."""
    problems = []
    if result.status not in STATUSES:
        problems.append(f"unknown status {result.status!r}")
    if (result.blob is not None) != result.status.fingerprinted:
        problems.append(f"status {result.status} with{'out' * (result.blob is None)} prints")
    if result.lines < 0 or result.tokens < 0:
        problems.append("negative lines or tokens")
    if result.blob is not None:
        problems += _prints_violations(result.blob, result.lines)
    return problems


def _prints_violations(blob: bytes, lines: int) -> list[str]:
    columns = unpack_columns(blob)
    starts, ends, _, _, weights, tokens, noise, _ = columns.units
    count = len(starts)
    problems = []
    for start, end, weight, token_count, is_noise in zip(starts, ends, weights, tokens, noise):
        if not 1 <= start <= end <= lines:
            problems.append(f"unit lines {start}-{end} outside 1-{lines}")
        if weight < 0 or token_count < 0 or (is_noise and (weight or token_count)):
            problems.append(f"unit {start}-{end} weighs {weight} lines, {token_count} tokens")
    covered = 0
    for index, (parent, first, size) in enumerate(zip(*columns.blocks)):
        if first != covered or size < 0 or not -1 <= parent < max(first, 0):
            problems.append(f"block {index} ({parent}, {first}, {size}) out of order")
        covered = first + size
    if covered != count:
        problems.append(f"blocks cover {covered} of {count} units")
    for unit, token_first, token_stop, sub_first, sub_stop in zip(*columns.near):
        if not (0 <= unit < count and 0 <= token_first <= token_stop <= len(columns.codes)
                and unit < sub_first <= sub_stop <= count):
            problems.append(f"near unit {unit} out of range")
    return problems[:5]


# --- one input ------------------------------------------------------------------------------


class Outcome(NamedTuple):
    """What one input did: its status, how long it took, and any crash."""

    status: str
    seconds: float
    crash: str  # "" when none: else the exception (last frames) or the contract broken


def run_one(path: Path, data: bytes, max_size: int) -> Outcome:
    """Write `data` to `path` and fingerprint it as a scan does."""
    path.write_bytes(data)
    clock = time.perf_counter()
    try:
        result = fingerprint_file(str(path), "python", "", max_size, NoisePolicy())
    except Exception:  # the point of the exercise: anything escaping is a finding
        return Outcome("crash", time.perf_counter() - clock,
                       "".join(traceback.format_exc(limit=-4).splitlines(keepends=True)[-12:]))
    seconds = time.perf_counter() - clock
    problems = contract_violations(result, data)
    return Outcome(result.status, seconds, "; ".join(problems))


def make_input(seeds: Sequence[bytes], seed: int, number: int) -> tuple[bytes, list[Mutation]]:
    """Input `number`: a window of a seed file and the mutations applied to it."""
    rng = random.Random(f"{seed}:{number}")
    source = seeds[rng.randrange(len(seeds))]
    data = source if len(source) <= _WHOLE_SEED_BYTES and rng.random() < 0.05 else _window(rng, source)
    kinds, weights = zip(*WEIGHTS.items())
    mutations = [Mutation(kind, rng.randrange(1 << 20), rng.randrange(1 << 16), _payload(rng))
                 for kind in rng.choices(kinds, weights, k=rng.choice((1, 1, 2, 3, 4)))]
    return mutate(data, mutations), mutations


_SYNTAX = b"()[]{}:;,.=+-*/%@<>!&|^~\\'\"#\n\t \r0123456789_abcdefxyzABC"


def _payload(rng: random.Random) -> bytes:
    """A few bytes: mostly Python's punctuation and name characters (so most
    inputs still decode and reach the parser), sometimes any bytes at all."""
    size = rng.choice((1, 1, 2, 4, 16))
    if rng.random() < 0.25:
        return rng.randbytes(size)
    return bytes(rng.choices(_SYNTAX, k=size))


def _window(rng: random.Random, source: bytes) -> bytes:
    lines = _split(source)
    if not lines:
        return source
    first = rng.randrange(len(lines))
    return b"".join(lines[first:first + rng.randint(1, _MAX_WINDOW_LINES)])


def seed_files(stdlib: Path | None = None) -> list[Path]:
    """fixtures/ and the standard library (tests and broken test data included), sorted."""
    stdlib = stdlib or Path(os.path.dirname(os.__file__))
    found = sorted(ROOT.joinpath("fixtures").rglob("*.py"))
    found += sorted(p for p in stdlib.rglob("*.py")
                    if "site-packages" not in p.parts and "__pycache__" not in p.parts)
    return [p for p in found if p.is_file() and not p.is_symlink()]


# --- the pool -------------------------------------------------------------------------------


class Tally(NamedTuple):
    """A chunk of inputs' figures, summed by the parent."""

    tried: int
    crashes: list[dict]
    slowest: dict
    statuses: Counter
    seconds: float


_SEEDS: list[bytes] = []
_SCRATCH: list[Path] = []


def _start_worker(seeds: list[bytes], scratch: str) -> None:
    _SEEDS[:] = seeds
    _SCRATCH[:] = [Path(tempfile.mkdtemp(prefix="fuzz-", dir=scratch)) / "input.py"]
    # Imports done lazily on the first function (datasketch) must not count as an input's time.
    run_one(_SCRATCH[0], b"def warm(a):\n    return [a + b for b in range(a) if b % 3 == 0]\n",
            Settings().max_file_size)


def run_chunk(job: tuple[int, int, int, int]) -> Tally:
    """Inputs [first, stop) of run `seed`."""
    seed, first, stop, max_size = job
    crashes, statuses, spent = [], Counter(), 0.0
    slowest = {"seconds": 0.0}
    for number in range(first, stop):
        data, mutations = make_input(_SEEDS, seed, number)
        outcome = run_one(_SCRATCH[0], data, max_size)
        statuses[outcome.status] += 1
        spent += outcome.seconds
        if outcome.seconds > slowest["seconds"]:
            slowest = {"seconds": round(outcome.seconds, 4), "input": number, "bytes": len(data),
                       "status": outcome.status, "mutations": [m.kind for m in mutations]}
        if outcome.crash:
            crashes.append({"input": number, "mutations": [m.kind for m in mutations],
                            "status": outcome.status, "what": outcome.crash})
    return Tally(stop - first, crashes, slowest, statuses, spent)


def fuzz(seeds: list[bytes], inputs: int, jobs: int, seed: int, max_seconds: float | None,
         max_size: int, report: Callable[[str], None]) -> dict:
    """Run inputs 0..inputs-1 over `jobs` processes, or as many as fit in `max_seconds`."""
    jobs_list = [(seed, first, min(first + _CHUNK, inputs), max_size)
                 for first in range(0, inputs, _CHUNK)]
    tried, crashes, statuses, spent = 0, [], Counter(), 0.0
    slowest: dict = {"seconds": 0.0}
    clock = time.perf_counter()
    stopped_early = False
    scratch = tempfile.mkdtemp(prefix="codebot-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else "spawn")
    try:
        with context.Pool(jobs, _start_worker, (seeds, scratch), maxtasksperchild=200) as pool:
            for tally in _bounded(pool.imap_unordered(run_chunk, jobs_list), clock, max_seconds):
                tried += tally.tried
                crashes += tally.crashes
                statuses += tally.statuses
                spent += tally.seconds
                if tally.slowest["seconds"] > slowest["seconds"]:
                    slowest = tally.slowest
                if tried % 20_000 < _CHUNK:
                    report(f"{tried:,} inputs, {len(crashes)} crashes, "
                           f"{time.perf_counter() - clock:,.0f} s")
            stopped_early = tried < inputs
            pool.terminate()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"inputs_tried": tried, "inputs_asked": inputs, "stopped_by_time_budget": stopped_early,
            "crashes_found": len(crashes), "crashes": crashes[:_KEPT_CRASHES],
            "seconds": round(time.perf_counter() - clock, 1),
            "cpu_seconds_in_parser": round(spent, 1),
            "mean_input_ms": round(1000 * spent / tried, 3) if tried else None,
            "slowest_input": slowest, "statuses": dict(statuses.most_common())}


def _bounded(tallies: Iterator[Tally], clock: float, max_seconds: float | None) -> Iterator[Tally]:
    """The tallies until the time budget is spent (chunks under way are dropped)."""
    for tally in tallies:
        yield tally
        if max_seconds is not None and time.perf_counter() - clock > max_seconds:
            return


# --- worst cases at the size limit ----------------------------------------------------------


def worst_cases(max_size: int, stdlib_text: bytes) -> list[tuple[str, bytes]]:
    """Files at (or near) the size limit that used to take the longest, by name."""
    short = b"".join(b"a%d = %d\n" % (k % 10, k % 10) for k in range(max_size // 6))[:max_size - 20]
    short = short[:short.rindex(b"\n") + 1]
    middle = short.index(b"\n", len(short) // 2) + 1
    joined = stdlib_text[:max_size - 40]
    joined = joined[:joined.rindex(b"\ndef ") + 1]
    cut = joined.index(b"\ndef ", len(joined) // 2) + 1
    py2 = b"".join(b"def f%d(x):\n    print 'x', x\n    return x\n\ny%d = f%d(%d)\n" % (k, k, k, k)
                   for k in range(max_size // 60))
    return [
        ("short statements, one syntax error", short[:middle] + b'print "x"\n' + short[middle:]),
        ("standard library modules joined, parsable", joined),
        ("standard library modules joined, one syntax error",
         joined[:cut] + b'print "x"\n' + joined[cut:]),
        ("Python 2 module, every function unparsable", py2[:max_size]),
        ("elif chain of 2,900 branches (parses)", elif_chain(2900)),
        ("elif chain of 5,000 branches (past the parser's depth)", elif_chain(5000)),
        ("99 nested with blocks (parses)", nested(99, b"with a as b:", [b"pass\n"])),
        ("150 nested try blocks (past the parser's 100)", nested(150, b"try:", [b"pass\n"])),
        ("decorators only, a run of 90,000 lines", b"@decorator\n" * (max_size // 11)),
        ("one expression of 100,000 terms", long_expression(0, 100_000)),
        ("one expression 50,000 unary operators deep", long_expression(3, 50_000)),
    ]


def time_worst_cases(cases: list[tuple[str, bytes]], max_size: int,
                     report: Callable[[str], None]) -> list[dict]:
    """Each case once, in this process: wall seconds (what the limit is about) and CPU
    seconds (what other work on a shared machine does not inflate)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="codebot-worst-") as scratch:
        path = Path(scratch) / "input.py"
        for name, data in cases:
            cpu = time.process_time()
            outcome = run_one(path, data, max_size)
            cpu = time.process_time() - cpu
            rows.append({"case": name, "bytes": len(data), "status": outcome.status,
                         "seconds": round(outcome.seconds, 2), "cpu_seconds": round(cpu, 2),
                         "within_limit": outcome.seconds < WORST_CASE_LIMIT_S,
                         "crash": outcome.crash})
            report(f"{name}: {len(data):,} bytes, {outcome.status}, {outcome.seconds:.2f} s "
                   f"({cpu:.2f} s CPU)")
    return rows


def _stdlib_text() -> bytes:
    """Big real modules joined, for the size-limit cases."""
    stdlib = Path(os.path.dirname(os.__file__))
    wanted = ("typing.py", "inspect.py", "argparse.py", "pathlib.py", "dataclasses.py", "enum.py",
              "functools.py", "subprocess.py", "tarfile.py", "zipfile.py", "threading.py",
              "shutil.py", "doctest.py", "pydoc.py", "mailbox.py", "configparser.py")
    return b"\n".join((stdlib / name).read_bytes() for name in wanted if (stdlib / name).is_file())


# --- command line ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fuzz_parser",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=DEFAULT_INPUTS)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="stop starting new inputs after this long (the count tried is recorded)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--replay", type=int, metavar="I",
                        help="write input I of --seed to stdout and exit")
    parser.add_argument("--no-worst-cases", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    files = seed_files()
    seeds = [p.read_bytes() for p in files]
    if args.replay is not None:
        data, mutations = make_input(seeds, args.seed, args.replay)
        report(f"input {args.replay}: {[m.kind for m in mutations]}")
        sys.stdout.buffer.write(data)
        return 0
    max_size = Settings().max_file_size
    rows = [] if args.no_worst_cases else time_worst_cases(
        worst_cases(max_size, _stdlib_text()), max_size, report)
    figures = fuzz(seeds, args.inputs, args.jobs, args.seed, args.max_seconds, max_size, report)
    result = {
        "what": "engine.fingerprint.fingerprint_file on mutated real Python sources",
        **figures, "seed": args.seed, "jobs": args.jobs, "seed_files": len(files),
        "date": datetime.date.today().isoformat(),
        "python": platform.python_version(), "platform": platform.platform(),
        "worst_case_limit_s": WORST_CASE_LIMIT_S, "worst_cases": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    report(f"{figures['inputs_tried']:,} inputs, {figures['crashes_found']} crashes, slowest "
           f"{figures['slowest_input']['seconds']} s; written to {args.out}")
    failed = figures["crashes_found"] or any(not r["within_limit"] or r["crash"] for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
