"""Recall on injected copies: the comparison benchmark's corpus, on its fixed seed.

The standard library (without its tests) is copied, 200 of its functions are
copied again with Type-1, Type-2, Type-3 light and heavy mutations into other
files (see benchmarks/corpus.py), and the engine must find them at the targets
of the issue. `python -m benchmarks.compare` runs the same corpus against the
other tools.
"""
from pathlib import Path

import pytest

from benchmarks.corpus import build_corpus, default_source
from benchmarks.scoring import recall
from benchmarks.tools import Clone, Fragment
from engine.config import Settings
from engine.scan import scan

TARGETS = {"T1": 0.98, "T2": 0.95, "T3-light": 0.90, "T3-heavy": 0.70}


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    """The standard library with 200 mutated copies injected (seed 1, as the benchmark)."""
    return build_corpus(default_source(), tmp_path_factory.mktemp("corpus"), copies=200, seed=1)


def test_recall_meets_the_targets_on_a_fixed_seed(injected, tmp_path):
    """Every clone type is found at least as often as the issue asks."""
    result = scan([Path(injected.root)], Settings(jobs=2), tmp_path / "i.db")
    clones = [Clone(tuple(Fragment(f.path, f.start_line, f.end_line) for f in c.fragments), c.kind)
              for c in result.clones]
    found = recall(injected, clones)
    for kind, target in TARGETS.items():
        assert found[kind].ratio >= target, (kind, found[kind])
