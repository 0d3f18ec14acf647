"""Tests for engine.discover: .gitignore, default excludes, symlinks, languages."""
import os
from pathlib import Path

import pytest

from engine.discover import discover
from engine.exceptions import UsageError


def make(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def rels(root: Path, **options) -> list[str]:
    return [f.rel for f in discover([root], root, **options)]


def test_gitignore_rules_apply_at_every_level(tmp_path):
    """Root and nested .gitignore files both exclude, with negation."""
    make(tmp_path, "a.py", "gen/b.py", "pkg/c.py", "pkg/d_pb2.py", "pkg/keep_pb2.py")
    (tmp_path / ".gitignore").write_text("gen/\n")
    (tmp_path / "pkg" / ".gitignore").write_text("*_pb2.py\n!keep_pb2.py\n")
    assert rels(tmp_path) == ["a.py", "pkg/c.py", "pkg/keep_pb2.py"]


def test_default_excludes_skip_tooling_folders(tmp_path):
    """Virtualenvs, node_modules, caches and build output are not scanned."""
    make(tmp_path, "src/m.py", ".venv/lib/x.py", "node_modules/p/i.js", "build/lib/m.py",
         "__pycache__/m.py", ".git/hooks/h.py")
    assert rels(tmp_path) == ["src/m.py"]


def test_exclude_patterns_and_languages(tmp_path):
    """--exclude globs and --lang filters narrow the files."""
    make(tmp_path, "a.py", "tests/t.py", "web/x.js", "notes.txt")
    assert rels(tmp_path) == ["a.py", "tests/t.py", "web/x.js"]
    assert rels(tmp_path, excludes=["tests/"]) == ["a.py", "web/x.js"]
    assert rels(tmp_path, languages={"javascript"}) == ["web/x.js"]


def test_symlink_loops_are_cut(tmp_path):
    """A directory symlink pointing up the tree is walked once, not forever."""
    make(tmp_path, "pkg/a.py")
    os.symlink(tmp_path, tmp_path / "pkg" / "loop")
    assert rels(tmp_path) == ["pkg/a.py"]


def test_dangling_symlinks_are_skipped(tmp_path):
    """A link to nowhere is not an error."""
    make(tmp_path, "a.py")
    os.symlink(tmp_path / "missing.py", tmp_path / "gone.py")
    assert rels(tmp_path) == ["a.py"]


def test_missing_path_is_a_usage_error(tmp_path):
    """A path that does not exist says so."""
    with pytest.raises(UsageError, match="does not exist"):
        discover([tmp_path / "nope"], tmp_path)
