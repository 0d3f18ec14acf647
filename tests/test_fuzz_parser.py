"""Property-based fuzzing of the per-file parser path and of `check`.

Real sources (fixtures/ and standard-library modules, a Python 2 grammar test
among them) are cut and mutated the ways `benchmarks.fuzz_parser` mutates them
(lines deleted, duplicated, swapped; random and NUL bytes; truncation; CRLF,
CR, tabs; byte-order marks, coding comments, re-encodings; stray clauses and
brackets; deep nesting, long elif chains, long expressions), and token soup is
generated from scratch. Whatever the bytes, `fingerprint_file` (what a scan's
pool and `check` call per file) returns a result with a documented status and
sound prints, never an exception; `check` exits 0, 1 or 2.

Deterministic (derandomized, no example database) and about half a minute in
all; run alone with `pytest -m fuzz`. The long run is
`python -m benchmarks.fuzz_parser`.
"""
from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.fuzz_parser import (
    MUTATIONS, Mutation, contract_violations, elif_chain, long_expression, mutate, nested,
)
from engine.cli import main as cli_main
from engine.config import Settings
from engine.fingerprint import fingerprint_file
from engine.python_units import NoisePolicy
from engine.records import FileStatus
from tests.conftest import FIXTURES, run_cli

pytestmark = pytest.mark.fuzz

STDLIB = Path(os.path.dirname(os.__file__))
_STDLIB_SEEDS = ("textwrap.py", "colorsys.py", "bisect.py", "fnmatch.py", "shlex.py", "abc.py",
                 "json/decoder.py", "contextlib.py", "tabnanny.py",
                 "lib2to3/tests/data/py2_test_grammar.py", "lib2to3/tests/data/bom.py",
                 "lib2to3/tests/data/crlf.py", "lib2to3/tests/data/different_encoding.py",
                 "test/encoded_modules/module_koi8_r.py", "test/test_patma.py")
SEEDS = tuple(p.read_bytes() for p in [*sorted(FIXTURES.rglob("*.py")),
                                      *(STDLIB / name for name in _STDLIB_SEEDS)]
              if p.is_file())
MAX_SIZE = Settings().max_file_size

# Generous per-example deadline: hypothesis reports an input that keeps
# taking longer than this; no test asserts a wall time of its own.
FUZZ = settings(deadline=timedelta(seconds=5), derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@st.composite
def windows(draw: st.DrawFn) -> bytes:
    """A whole seed file or a run of its lines."""
    source = draw(st.sampled_from(SEEDS))
    lines = source.splitlines(keepends=True)
    if len(source) < 8_000 and draw(st.booleans()):
        return source
    first = draw(st.integers(0, max(len(lines) - 1, 0)))
    return b"".join(lines[first:first + draw(st.integers(1, 150))])


mutations = st.builds(Mutation, kind=st.sampled_from(sorted(MUTATIONS)),
                      at=st.integers(0, 1 << 20), size=st.integers(0, 4000),
                      payload=st.binary(min_size=1, max_size=16))


@st.composite
def mutated_sources(draw: st.DrawFn) -> bytes:
    return mutate(draw(windows()), draw(st.lists(mutations, min_size=1, max_size=4)))


_SOUP = ("def", "class", "if", "elif", "else", "for", "while", "try", "except", "finally",
         "with", "match", "case", "lambda", "return", "yield", "async", "await", "import",
         "from", "print", "x", "y", "f", "@", "(", ")", "[", "]", "{", "}", ":", ",", ".",
         "=", "+", "-", "*", "**", "->", ":=", "\\", "'", '"', '"""', "'''", "#", "0", "1.5e",
         "0x", "b'", "f'{", "}'", ";", " ", "    ", "\t", "\n", "\r\n", "\r", "\x0c", "\x00",
         "é", "\u2028", "\ufeff", "\udcff")


@st.composite
def token_soup(draw: st.DrawFn) -> bytes:
    """Python-looking text from scratch, any encoding mishap included."""
    text = "".join(draw(st.lists(st.sampled_from(_SOUP), max_size=300)))
    return text.encode("utf-8", "surrogateescape" if draw(st.booleans()) else "replace")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "input.py"


def _fingerprint_and_check(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    result = fingerprint_file(str(path), "python", "", MAX_SIZE, NoisePolicy())
    assert contract_violations(result, data) == []
    return result.status


@settings(FUZZ, max_examples=400)
@given(data=mutated_sources())
def test_mutated_real_sources_get_a_documented_result(scratch, data):
    _fingerprint_and_check(scratch, data)


@settings(FUZZ, max_examples=200)
@given(data=token_soup())
def test_generated_token_soup_gets_a_documented_result(scratch, data):
    _fingerprint_and_check(scratch, data)


@settings(FUZZ, max_examples=30)
@given(kind=st.sampled_from(["elif", "nest", "expression"]), size=st.integers(1, 6000),
       form=st.integers(0, 20))
def test_extreme_structure_is_fingerprinted_or_falls_back(scratch, kind, size, form):
    """Long elif chains, nesting past the parser's limits, expressions thousands deep:
    statement units when `ast` builds a tree, token units when it cannot."""
    if kind == "elif":
        data = elif_chain(size)
    elif kind == "nest":
        data = nested(1 + size % 140, [b"if x:", b"for i in y:", b"with a:", b"try:"][form % 4],
                      [b"pass\n"])
    else:
        data = long_expression(form, size * 5)
    assert _fingerprint_and_check(scratch, data) in (FileStatus.PARSED, FileStatus.TOKENS)


@pytest.mark.parametrize("cookie, body", [
    (b"utf-7", b'x = "+2AA-"\n'),             # decodes to a lone surrogate
    (b"unicode_escape", b'x = "\\ud800"\n'),  # the same by an escape
    (b"undefined", b"x = 1\n"),               # a codec that refuses everything
    (b"punycode", b"x = 1\n"),                # raises a bare UnicodeError
])
def test_a_coding_cookie_that_cannot_give_text_is_undecodable(scratch, cookie, body):
    """Such files are reported as undecodable, like any other bad encoding."""
    assert _fingerprint_and_check(scratch, b"# coding: " + cookie + b"\n" + body) == "undecodable"


def test_a_long_elif_chain_parses_and_a_deeper_one_falls_back(scratch):
    """2,000 branches are walked as statements; 5,000 are past what `ast` builds, and
    the file is compared token by token with the reason given."""
    assert _fingerprint_and_check(scratch, elif_chain(2000)) == FileStatus.PARSED
    assert _fingerprint_and_check(scratch, elif_chain(5000)) == FileStatus.TOKENS
    result = fingerprint_file(str(scratch), "python", "", MAX_SIZE, NoisePolicy())
    assert "recursion" in result.error


@pytest.fixture(scope="module")
def repository(tmp_path_factory) -> tuple[Path, Path]:
    """A small repository with an index already built, and the file the examples rewrite."""
    root = tmp_path_factory.mktemp("repo")
    (root / "pyproject.toml").write_text("[project]\nname = 'fuzzed'\n")
    for source in sorted(FIXTURES.joinpath("shop").rglob("*.py"))[:4]:
        (root / source.name).write_bytes(source.read_bytes())
    target = root / "fuzzed.py"
    target.write_bytes(b"x = 1\n")
    db = root / ".codebot" / "index.db"
    assert cli_main(["check", str(target), "--db", str(db), "-q"]) in (0, 1)
    return target, db


@settings(FUZZ, max_examples=12)
@given(data=st.one_of(mutated_sources(), token_soup()))
def test_check_exits_with_a_documented_code(repository, data):
    """`check` in-process on a mutated file: 0 or 1 (the gate), or 2 (bad input);
    a crash would raise here instead of returning."""
    target, db = repository
    target.write_bytes(data)
    assert cli_main(["check", str(target), "--db", str(db), "-q"]) in (0, 1, 2)


def test_scan_of_hostile_files_succeeds_and_reports_them(tmp_path):
    """The issue's files end to end, in a subprocess: a 500-branch elif chain is
    fingerprinted, nesting past the parser's limit and broken encodings are
    reported, lines ending at a lone CR are counted as the units count them,
    and the scan exits 0 (1 would mean the gate failed)."""
    files = {
        "dispatch.py": elif_chain(500),
        "deep.py": nested(150, b"with a as b:", [b"pass\n"]),
        "seven.py": b'# coding: utf-7\nx = "+2AA-"\n',
        "late_nul.py": b"x = 1\n" * 2000 + b"y = '\0'\n",
        "crlf.py": elif_chain(300).replace(b"\n", b"\r\n"),
        "old_mac.py": elif_chain(40).replace(b"\n", b"\r"),  # lines end at a lone CR
        "old_mac_copy.py": elif_chain(40, b"route").replace(b"\n", b"\r"),
        "paged.c": b"int g(int a) {\x0c  return a + 1;\x0c}\n" * 40,  # form feeds end no line
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    done = run_cli("scan", tmp_path, "--db", tmp_path / "i.db", "--format", "json", "-q")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    stats = report["stats"]
    assert stats["files"] + stats["files_skipped"] == len(files)
    assert stats["files_skipped"] == 1  # the utf-7 file
    assert 0 < stats["duplication_pct"] <= 100
    assert {"old_mac.py", "old_mac_copy.py"} in [{f["path"] for f in clone["fragments"]}
                                                for clone in report["clones"]]
