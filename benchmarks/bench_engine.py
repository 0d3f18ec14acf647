"""Engine benchmarks on real code: the standard library (without its tests), 734 files.

    python -m pytest benchmarks/bench_engine.py

One scenario per function: tokenizing, fingerprinting (parse + statement walk +
signatures), the LSH candidate search, a cold scan, an unchanged rescan and a
rescan with one file edited. Figures go in the README; nothing is asserted
about time.
"""
from __future__ import annotations

import ast
import gc
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks.corpus import copy_corpus, default_source
from engine.config import Settings
from engine.match import Corpus
from engine.near import candidate_pairs
from engine.near_sign import NUM_PERM
from engine.normalize import token_stream
from engine.python_units import NoisePolicy, python_fingerprints
from engine.scan import scan
from engine.store import Store


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """The standard library's own modules, copied once."""
    root = tmp_path_factory.mktemp("stdlib") / "lib"
    copy_corpus(default_source(), root)
    return root


@pytest.fixture(scope="module")
def sources(tree) -> list[bytes]:
    return [p.read_bytes() for p in sorted(tree.rglob("*.py"))]


@pytest.fixture(scope="module")
def indexed(tree, tmp_path_factory) -> Path:
    """An index of the tree, built once."""
    db = tmp_path_factory.mktemp("index") / "index.db"
    scan([tree], Settings(), db)
    return db


def test_tokenize(benchmark, sources):
    """One regex pass per file: tokens in exact and renamed form."""
    benchmark.pedantic(lambda: [token_stream(s) for s in sources], rounds=3, iterations=1)


def test_fingerprint(benchmark, sources):
    """ast parse plus statement units, near-miss signatures and codes, one core."""
    parsed = []
    for source in sources:
        try:
            parsed.append((source, ast.parse(source)))
        except SyntaxError:
            pass

    def run():
        gc.disable()
        try:
            return [python_fingerprints(s, t, NoisePolicy()) for s, t in parsed]
        finally:
            gc.enable()
    benchmark.pedantic(run, rounds=3, iterations=1)


def test_lsh_candidates(benchmark, indexed, tree):
    """Banded LSH over every function's MinHash signature, from the stored index."""
    with Store(indexed) as store:
        known = store.known_files()
        corpus = Corpus.of_files(store.stored_columns((path, row.id)
                                                      for path, row in sorted(known.items())))
    sigs = np.frombuffer(corpus.signatures, dtype=np.uint32).reshape(-1, NUM_PERM)
    eligible = np.ones(len(sigs), dtype=bool)
    pairs = benchmark.pedantic(candidate_pairs, args=(sigs, eligible), rounds=3, iterations=1)
    benchmark.extra_info["functions"] = len(sigs)
    benchmark.extra_info["candidate_pairs"] = len(pairs)


def test_cold_scan(benchmark, tree, tmp_path):
    """Everything from nothing: discover, fingerprint in the pool, detect, store."""
    counter = iter(range(100))
    benchmark.pedantic(lambda: scan([tree], Settings(), tmp_path / f"cold{next(counter)}.db"),
                       rounds=2, iterations=1)


def test_rescan_unchanged(benchmark, tree, indexed):
    """Nothing changed: stat every file, reuse the stored clones."""
    result = benchmark.pedantic(scan, args=([tree], Settings(), indexed), rounds=5, iterations=1)
    assert result.stats.files_parsed == 0


def test_rescan_one_file_edited(benchmark, tree, indexed, tmp_path):
    """One file edited: parse it, match everything again, keep unchanged suggestions."""
    target = tree / "textwrap.py"
    original = target.read_text()
    copy = tmp_path / "index.db"
    shutil.copy(indexed, copy)
    edits = iter(range(100))

    def edit_and_scan():
        target.write_text(original + f"\n\nEDITED_{next(edits)} = 1\n")
        return scan([tree], Settings(), copy)
    try:
        result = benchmark.pedantic(edit_and_scan, rounds=3, iterations=1)
    finally:
        target.write_text(original)
    assert result.stats.files_parsed == 1
