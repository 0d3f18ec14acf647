"""Tests of the natural-clone benchmark: truth from two release trees, bands, the found rule, the pins and the cache."""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

import benchmarks.drift as drift
from benchmarks.corpus_b import PINS as CORPUS_B_PINS
from benchmarks.drift import (
    BELOW,
    HELDOUT_LIBRARIES,
    LIBRARIES,
    Library,
    MIN_YEARS_APART,
    Pair,
    Unit,
    band_of,
    file_units,
    is_found,
    normalized_tokens,
    pairs_of,
    parse_args,
    release_units,
    render_markdown,
    render_misses,
    results_json,
    score,
    set_files,
    truth,
    years_apart,
)
from benchmarks.pypi import Pin, PinError, cached_path, extract_package, fetch
from benchmarks.tools import Clone, Fragment, ToolRun

BODY = """\
    total = 0
    for item in items:
        if item > limit:
            total += item
        else:
            total -= 1
    return total
"""

OLD = {
    "pkg/__init__.py": "",
    "pkg/util.py": f'''\
def helper(items, limit):
    """Sum the big ones.

    A docstring of several lines
    that must not count as code.
    """
{BODY}

def short(items, limit):
    """Five code lines only, whatever the docstring says.

    One
    Two
    Three
    """
    total = 0
    for item in items:
        total += item
    return total


def moved(items, limit):
{BODY}
''',
    "pkg/core.py": f'''\
class Outer:
    class Inner:
        def run(self, items, limit):
            # a comment, not code
{textwrap.indent(BODY, "        ")}

def run(items, limit):
    def nested(items, limit):
{textwrap.indent(BODY, "    ")}
{BODY}
''',
}

NEW = {
    "pkg/__init__.py": "",
    "pkg/util.py": f'''\
def helper(items, limit):
    """Sum the big ones (reworded docstring)."""
    # a new comment, and the same tokens
{BODY}

def short(items, limit):
    total = 0
    for item in items:
        total += item
    return total
''',
    "pkg/other.py": f'''\
def moved(items, limit):
{BODY}
''',
    "pkg/core.py": f'''\
class Outer:
    class Inner:
        def run(self, values, cap):
{textwrap.indent(BODY.replace("items", "values").replace("limit", "cap"), "        ")}

    def run(self, items, limit):
{textwrap.indent(BODY, "    ")}
''',
}


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Two tiny releases of one library, side by side as the benchmark lays them out."""
    root = tmp_path / "tree"
    _write(root / "lib-1.0", OLD)
    _write(root / "lib-2.0", NEW)
    return root


def _pin(version: str, released: str, sha256: str = "0" * 64, url: str = "http://127.0.0.1:9/lib.whl") -> Pin:
    return Pin("lib", version, released, sha256, url)


LIB = Library("lib", "pkg", _pin("1.0", "2020-01-01"), _pin("2.0", "2023-01-01"))


def _pair(old_code: range, new_code: range) -> Pair:
    old = Unit("pkg.mod.f", "lib-1.0/pkg/mod.py", old_code.start, old_code.stop - 1, tuple(old_code), ())
    new = Unit("pkg.mod.f", "lib-2.0/pkg/mod.py", new_code.start, new_code.stop - 1, tuple(new_code), ())
    return Pair("lib", "pkg.mod.f", old, new, "identical", 1.0)


# ---------------------------------------------------------------- truth


def test_qualified_names_follow_modules_and_enclosing_classes(tree: Path) -> None:
    """Units are named module + classes + name; nested functions are part of their outer function."""
    old = release_units(tree, "lib-1.0")
    assert set(old) == {"pkg.util.helper", "pkg.util.short", "pkg.util.moved", "pkg.core.Outer.Inner.run", "pkg.core.run"}
    assert old["pkg.core.Outer.Inner.run"].path == "lib-1.0/pkg/core.py"


def test_pairs_need_the_same_qualified_name_and_six_code_lines(tree: Path) -> None:
    """A moved function, a function that became a method, and a 5-code-line function are not pairs."""
    pairs = truth([LIB], tree)
    assert {p.qualname for p in pairs} == {"pkg.util.helper", "pkg.core.Outer.Inner.run"}


def test_docstrings_and_comments_are_not_code_lines(tree: Path) -> None:
    """helper has 8 code lines in both releases whatever its docstring and comments, and the same tokens."""
    pairs = {p.qualname: p for p in truth([LIB], tree)}
    helper = pairs["pkg.util.helper"]
    assert len(helper.old.code) == len(helper.new.code) == 8
    assert helper.old.code[0] == 1 and helper.old.code[1] == 7  # the def line, then the body after the docstring
    assert helper.band == "identical"
    assert pairs["pkg.core.Outer.Inner.run"].band == "renamed"


def test_second_definition_of_a_name_gets_a_number() -> None:
    """A property's getter and setter are two units, the setter numbered #2."""
    source = "class A:\n    @property\n    def x(self):\n        return 1\n    @x.setter\n    def x(self, v):\n        pass\n"
    assert [u.qualname for u in file_units(source, "m", "m.py")] == ["m.A.x", "m.A.x#2"]


def test_normalized_tokens_drop_layout_comments_docstrings_and_quote_style() -> None:
    """Reformatting, comments, a docstring and quote style leave the normalized tokens unchanged."""
    a = ['def f(x):', '    """Doc."""', "    return g(x, 'a')  # why"]
    b = ["def f(x):", "    # note", "    return g(", "        x,", '        "a")']
    assert normalized_tokens(a, 1, 3) == normalized_tokens(b, 1, 5)
    assert normalized_tokens(a, 1, 3) == ("def", "f", "(", "x", ")", ":", "return", "g", "(", "x", ",", "'a'", ")")


# ---------------------------------------------------------------- bands


def test_bands_by_identity_shape_and_similarity() -> None:
    """Equal tokens are identical, equal shapes renamed, the rest banded by 2*LCS/(len a + len b)."""
    assert band_of(["a", "+", "1"], ["a", "+", "1"]) == ("identical", 1.0)
    assert band_of(["a", "+", "1"], ["b", "+", "2"])[0] == "renamed"
    plus = ["+"] * 100
    assert band_of(plus, ["+"] * 90 + ["-"] * 10) == ("0.90+", 0.9)
    assert band_of(plus, ["+"] * 80 + ["-"] * 20) == ("0.75-0.90", 0.8)
    assert band_of(plus, ["+"] * 60 + ["-"] * 40) == ("0.60-0.75", 0.6)
    assert band_of(plus, ["+"] * 50 + ["-"] * 50)[0] == BELOW


def test_a_renamed_keyword_is_not_a_rename() -> None:
    """Keywords and operators stay themselves in the shape: `and` for `or` is an edit."""
    assert band_of(["a", "and", "b"], ["a", "or", "b"])[0] != "renamed"


# ---------------------------------------------------------------- found


def test_found_needs_seventy_percent_of_both_sides() -> None:
    """7 of 10 code lines on both sides is found; 6 of 10 on one side is not."""
    pair = _pair(range(11, 21), range(31, 41))
    enough = Clone((Fragment("lib-1.0/pkg/mod.py", 11, 17), Fragment("lib-2.0/pkg/mod.py", 34, 40)))
    short = Clone((Fragment("lib-1.0/pkg/mod.py", 11, 16), Fragment("lib-2.0/pkg/mod.py", 31, 40)))
    assert is_found(pair, [enough])
    assert not is_found(pair, [short])


def test_a_whole_file_fragment_counts() -> None:
    """A clone of the whole file covers the function inside it."""
    pair = _pair(range(11, 21), range(31, 41))
    whole = Clone((Fragment("lib-1.0/pkg/mod.py", 1, 500), Fragment("lib-2.0/pkg/mod.py", 1, 480)))
    assert is_found(pair, [whole])


def test_a_pair_split_across_two_clones_is_not_found() -> None:
    """One clone must hold both sides: old in one clone and new in another is a miss."""
    pair = _pair(range(11, 21), range(31, 41))
    first = Clone((Fragment("lib-1.0/pkg/mod.py", 11, 20), Fragment("lib-1.0/pkg/x.py", 1, 10)))
    second = Clone((Fragment("lib-2.0/pkg/mod.py", 31, 40), Fragment("lib-1.0/pkg/x.py", 1, 10)))
    assert not is_found(pair, [first, second])


def test_score_and_table_from_a_run(tree: Path) -> None:
    """A run that reports the identical pair only gets recall 1 on identical and 0 on renamed, in the table too."""
    pairs = truth([LIB], tree)
    helper = next(p for p in pairs if p.band == "identical")
    clone = Clone((Fragment(helper.old.path, helper.old.start, helper.old.end),
                   Fragment(helper.new.path, helper.new.start, helper.new.end)))
    scored = score(ToolRun("codebot", (clone,), 1.5, 100.0, 0), pairs)
    assert scored.recall["identical"] == (1, 1) and scored.recall["renamed"] == (0, 1)
    assert [p.qualname for p in scored.missed] == ["pkg.core.Outer.Inner.run"]
    table = render_markdown(results_json([LIB], pairs, [scored], tree))
    assert "| CodeBot | 1.00 | 0.00 | - | - | - | 1 | 1.5 | 100 |" in table
    assert "| lib | 1.0 (2020-01) | 2.0 (2023-01) | 1 | 1 | 0 | 0 | 0 | 0 |" in table


def test_pairs_of_skips_names_in_one_release_only() -> None:
    """A name in the old release only pairs with nothing."""
    unit = Unit("m.f", "a/m.py", 1, 8, tuple(range(1, 9)), ("x",))
    assert pairs_of("lib", {"m.f": unit, "m.g": unit._replace(qualname="m.g")}, {"m.f": unit})[0].qualname == "m.f"
    assert len(pairs_of("lib", {"m.f": unit}, {"m.g": unit})) == 0


# ---------------------------------------------------------------- pins and cache


def test_every_library_is_pinned_twice_two_years_apart() -> None:
    """At least 6 libraries, each two releases with version, upload date and sha256, two years apart or more."""
    assert len(LIBRARIES) >= 6
    assert len({lib.project for lib in LIBRARIES}) == len(LIBRARIES)
    for lib in LIBRARIES:
        for pin in (lib.old, lib.new):
            assert pin.project == lib.project and pin.version
            assert re.fullmatch(r"[0-9a-f]{64}", pin.sha256), pin
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", pin.released), pin
            assert pin.url.startswith("https://") and pin.version in pin.filename
            assert pin.filename.endswith("-none-any.whl"), "pure-Python wheels only"
        assert years_apart(lib.old, lib.new) >= MIN_YEARS_APART, lib.project


def test_the_cache_refuses_a_file_whose_sha256_differs(tmp_path: Path) -> None:
    """A cached file with other bytes than pinned is refused, not replaced or used."""
    pin = _pin("1.0", "2020-01-01", sha256=hashlib.sha256(b"the real wheel").hexdigest())
    cached_path(pin, tmp_path).write_bytes(b"something else")
    with pytest.raises(PinError, match="sha256"):
        fetch(pin, tmp_path)


def test_the_cache_serves_a_matching_file_without_network(tmp_path: Path) -> None:
    """A cached file with the pinned sha256 is returned as is (the pin's URL is unreachable)."""
    pin = _pin("1.0", "2020-01-01", sha256=hashlib.sha256(b"the real wheel").hexdigest())
    cached_path(pin, tmp_path).write_bytes(b"the real wheel")
    assert fetch(pin, tmp_path) == cached_path(pin, tmp_path)


def test_offline_and_not_cached_says_where_to_put_the_file(tmp_path: Path) -> None:
    """A download that cannot connect is a PinError naming the file and the cache folder."""
    pin = _pin("1.0", "2020-01-01")
    with pytest.raises(PinError, match="offline, put lib.whl"):
        fetch(pin, tmp_path / "cache")
    assert not list((tmp_path / "cache").iterdir())


def test_extract_keeps_the_package_python_files_without_tests(tmp_path: Path) -> None:
    """From a wheel and from an sdist, only the package's .py files outside test folders are written."""
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zipped:
        for name in ("pkg/__init__.py", "pkg/sub/a.py", "pkg/tests/test_a.py", "pkg/data.txt", "other/b.py",
                     "pkg-1.0.dist-info/METADATA"):
            zipped.writestr(name, "x = 1\n")
    written = extract_package(wheel, "pkg", tmp_path / "w")
    assert [p.relative_to(tmp_path / "w").as_posix() for p in written] == ["pkg/__init__.py", "pkg/sub/a.py"]
    sdist = tmp_path / "pkg-1.0.tar.gz"
    source = tmp_path / "a.py"
    source.write_text("x = 1\n")
    with tarfile.open(sdist, "w:gz") as tarred:
        for name in ("pkg-1.0/src/pkg/a.py", "pkg-1.0/tests/test_a.py", "pkg-1.0/setup.py"):
            tarred.add(source, arcname=name)
    written = extract_package(sdist, "pkg", tmp_path / "s")
    assert [p.relative_to(tmp_path / "s").as_posix() for p in written] == ["pkg/a.py"]


def test_misses_list_each_missed_pair_with_what_changed(tree: Path) -> None:
    """The misses file names the missed pair under its band, with its spans and the changed lines."""
    pairs = truth([LIB], tree)
    scored = score(ToolRun("codebot", (), 1.0, 1.0, 0), pairs)
    text = render_misses(scored, (), tree)
    renamed = text[text.index("## renamed"):text.index("## 0.90+")]
    assert "`pkg.core.Outer.Inner.run` (lib)" in renamed and "lib-1.0/pkg/core.py:3-" in renamed
    assert "-def run(self, items, limit):" in renamed and "+def run(self, values, cap):" in renamed


# ---------------------------------------------------------------- the held-out set


def _project(name: str) -> str:
    """A PyPI project name compared as PyPI does: case and -/_/. alike."""
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_heldout_set_is_pinned_like_the_tuned_one() -> None:
    """5-6 held-out libraries, each two pure-Python wheels with version, date and sha256, two years apart."""
    assert 5 <= len(HELDOUT_LIBRARIES) <= 6
    assert len({lib.project for lib in HELDOUT_LIBRARIES}) == len(HELDOUT_LIBRARIES)
    for lib in HELDOUT_LIBRARIES:
        for pin in (lib.old, lib.new):
            assert pin.project == lib.project and pin.version
            assert re.fullmatch(r"[0-9a-f]{64}", pin.sha256), pin
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", pin.released), pin
            assert pin.url.startswith("https://files.pythonhosted.org/packages/") and pin.version in pin.filename
            assert pin.filename.endswith("-none-any.whl"), "pure-Python wheels only"
        assert years_apart(lib.old, lib.new) >= MIN_YEARS_APART, lib.project


def test_the_heldout_set_shares_no_project_with_the_tuned_set_or_split_b() -> None:
    """Held out means unseen: no tuned drift library, no split-B corpus project, no shared import package."""
    heldout = {_project(lib.project) for lib in HELDOUT_LIBRARIES}
    assert not heldout & {_project(lib.project) for lib in LIBRARIES}
    assert not heldout & {_project(pin.project) for pin in CORPUS_B_PINS}
    packages = {lib.package for lib in HELDOUT_LIBRARIES}
    assert not packages & {lib.package for lib in LIBRARIES}
    assert not packages & {p for pin in CORPUS_B_PINS for p in pin.packages}


def test_the_tuned_set_keeps_its_default_and_file_names() -> None:
    """Without --set the tuned libraries run and write drift.json, as before the held-out set existed."""
    assert parse_args([]).library_set == "tuned"
    assert drift.LIBRARY_SETS["tuned"] == LIBRARIES
    assert drift.LIBRARY_SETS["all"] == LIBRARIES + HELDOUT_LIBRARIES
    assert set_files("tuned") == ("drift-tree", "drift-work", "drift")
    assert set_files("heldout").misses("jscpd") == "drift-heldout-misses-jscpd.md"


def test_set_heldout_runs_the_heldout_libraries_into_their_own_files(tmp_path: Path, monkeypatch) -> None:
    """--set heldout lays out and scores the held-out libraries only, and writes drift-heldout.* and
    drift-heldout-misses-<tool>.md, never the tuned set's files (no download: the tree is not built)."""
    built: list[tuple[tuple[Library, ...], Path]] = []
    monkeypatch.setattr(drift, "build_tree", lambda libs, tree, cache: built.append((tuple(libs), tree)))
    monkeypatch.setattr(drift, "run_tool", lambda tool, root, work: ToolRun(tool, (), 0.1, 1.0, 0))
    out, results = tmp_path / "out", tmp_path / "results"
    assert drift.main(["--set", "heldout", "--tools", "jscpd", "--out", str(out), "--results", str(results)]) == 0
    assert built == [(HELDOUT_LIBRARIES, out / "drift-heldout-tree")]
    assert sorted(p.name for p in results.iterdir()) == ["drift-heldout.json", "drift-heldout.md"]
    assert (out / "drift-heldout-misses-jscpd.md").exists() and not (out / "drift-misses-jscpd.md").exists()
    data = json.loads((results / "drift-heldout.json").read_text())
    assert data["set"] == "heldout"
    assert [lib["project"] for lib in data["libraries"]] == [lib.project for lib in HELDOUT_LIBRARIES]
    assert (results / "drift-heldout.md").read_text().startswith("Held-out set")


def test_render_markdown_reads_a_tuned_results_file_written_before_sets(tree: Path) -> None:
    """A results file without "set" renders as the tuned one (no label); a held-out one says so."""
    pairs = truth([LIB], tree)
    scored = score(ToolRun("codebot", (), 1.0, 1.0, 0), pairs)
    results = results_json([LIB], pairs, [scored], tree)
    del results["set"]
    assert render_markdown(results).startswith("1 libraries")
    assert render_markdown({**results, "set": "heldout"}).startswith("Held-out set (libraries apart from the tuned set): 1 libraries")
