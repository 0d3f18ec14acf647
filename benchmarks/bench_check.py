"""Benchmarks of `check`: one changed file against an index of the whole standard library.

Target (issue 4): well under a second for one file against a stdlib-sized
index (about 1,800 files, 860k lines). The copied stdlib and its index are
built once per session (a cold scan, tens of seconds) under a temp folder;
the first check after a scan also makes the index's lookup, so it runs once before timing.

    python -m pytest benchmarks/bench_check.py
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks.corpus import copy_corpus, default_source
from engine.check import check
from engine.config import Settings
from engine.scan import scan

SETTINGS = Settings()
TARGET_S = 1.0
CLEAN_FILE = "json/__init__.py"      # a small, stable module already in the index
COPIED_FROM = "email/utils.py"       # a module whose functions a new file copies


@pytest.fixture(scope="module")
def stdlib_index(tmp_path_factory) -> tuple[Path, Path]:
    """The standard library (with its tests) copied and indexed once, as a repository root."""
    root = tmp_path_factory.mktemp("stdlib") / "repo"
    copy_corpus(default_source(), root, tests=True, test_data=True)
    (root / ".codebot").mkdir()
    db = root / ".codebot" / "index.db"
    scan([root], SETTINGS, db)
    check([root / CLEAN_FILE], SETTINGS, root, db)  # makes the lookup
    yield root, db
    shutil.rmtree(root, ignore_errors=True)


def test_check_one_clean_file(benchmark, stdlib_index):
    """One unchanged file against the stdlib index."""
    root, db = stdlib_index
    result = benchmark.pedantic(check, args=([root / CLEAN_FILE], SETTINGS, root, db),
                                rounds=5, iterations=1)
    benchmark.extra_info["clones"] = len(result.report.clones)  # its own near copies (dump/dumps)
    benchmark.extra_info["target_s"] = TARGET_S  # reported beside the median, not asserted


def test_check_one_new_file_with_a_copy(benchmark, stdlib_index):
    """A new file copying a module's code: found, in the same time."""
    root, db = stdlib_index
    copy = root / "email" / "copied_utils.py"
    copy.write_text((root / COPIED_FROM).read_text())
    try:
        result = benchmark.pedantic(check, args=([copy], SETTINGS, root, db),
                                    rounds=5, iterations=1)
    finally:
        copy.unlink()
    assert any("email/copied_utils.py" in {f.path for f in c.fragments}
               for c in result.report.clones)
    benchmark.extra_info["target_s"] = TARGET_S  # reported beside the median, not asserted
