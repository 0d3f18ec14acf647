"""Matching's partitioned steps (`engine.cluster.Spread`): the seed buckets split by
renamed hash, the LSH buckets by (band, bucket key) and the pairs to verify in runs give
the very clones, in the same order, as one partition does. Here the partitions run in
this process, so the partitioning itself is what is tested; `test_cluster` runs them on
Dask workers."""
from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from engine.cluster import IN_PROCESS, Spread
from engine.config import Settings
from engine.detect import detect
from engine.discover import language_of
from engine.fingerprint import fingerprint_file, unpack_columns
from engine.match import Corpus, clone_groups
from engine.near import candidate_pairs, eligible_units

from conftest import FIXTURES

STDLIB = Path(sysconfig.get_paths()["stdlib"])
PACKAGES = ("json", "email", "asyncio", "unittest", "http", "xml")


def _corpus(files: list[Path], root: Path, settings: Settings) -> Corpus:
    corpus = Corpus()
    for file in files:
        result = fingerprint_file(str(file), language_of(file.name), "", settings.max_file_size,
                                  settings.noise_policy)
        if result.blob:
            corpus.add_file(str(file.relative_to(root)), *unpack_columns(result.blob))
    return corpus


@pytest.fixture(scope="module")
def stdlib_corpus() -> Corpus:
    files = sorted(path for package in PACKAGES for path in (STDLIB / package).rglob("*.py"))
    return _corpus(files, STDLIB, Settings(jobs=1))


class Recording:
    """A Spread of `parts` partitions run here, counting the payloads of each step."""

    def __init__(self, parts: int) -> None:
        self.calls: dict[str, int] = {}
        self.spread = Spread(self.run, parts)

    def run(self, function, payloads):
        payloads = list(payloads)
        self.calls[function.__name__] = self.calls.get(function.__name__, 0) + len(payloads)
        return IN_PROCESS.run(function, payloads)


@pytest.mark.parametrize("parts", [2, 7])
def test_partitioned_matching_reports_the_same_clones_in_the_same_order(stdlib_corpus, parts):
    settings = Settings(jobs=1)
    whole = detect(stdlib_corpus, settings, STDLIB)
    recording = Recording(parts)
    split = detect(stdlib_corpus, settings, STDLIB, spread=recording.spread)
    assert len(whole) > 100
    assert {clone.kind for clone, _ in whole} == {"exact", "renamed", "near"}
    assert split == whole
    # Every step was really cut into partitions.
    assert recording.calls == {"partition_runs": parts, "bucket_pairs": parts,
                               "pair_similarities": parts}


def test_each_partition_step_alone_matches_one_partition(stdlib_corpus):
    """The runs and the LSH candidate pairs, step by step (not only the end result)."""
    settings = Settings(jobs=1)
    spread = Spread(IN_PROCESS.run, 5)
    assert clone_groups(stdlib_corpus, settings.min_lines, settings.min_tokens,
                        spread=spread) == clone_groups(stdlib_corpus, settings.min_lines,
                                                       settings.min_tokens)
    units = eligible_units(stdlib_corpus, settings.min_lines, settings.min_tokens)
    whole = candidate_pairs(units.sigs, units.eligible)
    assert len(whole) > 1000
    assert candidate_pairs(units.sigs, units.eligible, spread=spread).tolist() == whole.tolist()


@pytest.mark.parametrize("tree", sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()))
def test_the_fixture_trees_give_the_same_clones_partitioned(tree):
    root = FIXTURES / tree
    files = sorted(p for p in root.rglob("*") if p.is_file() and language_of(p.name))
    settings = Settings(jobs=1)
    corpus = _corpus(files, root, settings)
    assert detect(corpus, settings, root, spread=Spread(IN_PROCESS.run, 3)) \
        == detect(corpus, settings, root)


def test_an_empty_corpus_has_nothing_to_partition():
    assert detect(Corpus(), Settings(jobs=1), STDLIB, spread=Spread(IN_PROCESS.run, 4)) == []
