"""Tests of the benchmark corpus: mutations of real functions, injection, and the recall scorer."""

from __future__ import annotations

import ast
import difflib
import random
import shutil
from pathlib import Path

import pytest

from benchmarks.corpus import (
    Injection,
    Manifest,
    Span,
    build_corpus,
    default_source,
    find_candidates,
    load_manifest,
    load_source,
    save_manifest,
)
from benchmarks.mutations import (
    CLONE_TYPES,
    code_lines_of_snippet,
    edit_lines,
    mutate,
    normalized_tokens,
    parse_snippet,
    relayout_checked,
    rename,
)
from benchmarks.scoring import found_ids, is_found, real_clones, recall
from benchmarks.tools import Clone, Fragment

STDLIB = default_source()
MODULES = ("shutil.py", "textwrap.py", "gzip.py", "csv.py", "configparser.py", "difflib.py")


def _real_functions(per_module: int = 2) -> list[tuple[str, bool]]:
    """A few real functions and methods of the standard library, as (text, is_method)."""
    found = []
    for module in MODULES:
        source = load_source(STDLIB, module)
        assert source is not None, module
        lines = source.text.split("\n")
        cands = find_candidates(source)
        picks = [c for c in cands if c.class_name is None][:1] + [c for c in cands if c.class_name][: per_module - 1]
        assert picks, f"{module}: no function to sample"
        for cand in picks:
            found.append(("\n".join(lines[cand.start - 1: cand.end]) + "\n", cand.class_name is not None))
    # The tests below loop over the sample: it holds plain functions and methods.
    assert {method for _, method in found} == {False, True}
    return found


FUNCTIONS = _real_functions()


@pytest.mark.parametrize("kind", CLONE_TYPES)
def test_every_mutation_parses(kind: str) -> None:
    """Each clone type of each sampled real function is one function that parses."""
    for index, (text, method) in enumerate(FUNCTIONS):
        for indent in ("", "    "):
            mutant = mutate(text, kind, random.Random(index), base_indent=indent, method=method)
            func, _ = parse_snippet(mutant.text)
            assert func.name == mutant.name
            assert mutant.text.startswith(indent) and not mutant.text.startswith(indent + " ")


def test_type1_keeps_tokens_and_changes_layout() -> None:
    """Type-1 keeps the token sequence (names and literals intact) but not the layout."""
    for index, (text, method) in enumerate(FUNCTIONS):
        mutant = mutate(text, "T1", random.Random(index), base_indent="", method=method)
        assert normalized_tokens(mutant.text) == normalized_tokens(text)
        assert mutant.text.splitlines() != [line[len(text) - len(text.lstrip()):] for line in text.splitlines()]
        assert mutant.renames == {} and mutant.edits == 0


def test_relayout_changes_lines_or_spacing() -> None:
    """A relayout changes the physical lines of most functions, not only their indentation."""
    changed = 0
    for index, (text, _) in enumerate(FUNCTIONS):
        result = relayout_checked(text, random.Random(index), "")
        original = [line.strip() for line in text.splitlines()]
        changed += [line.strip() for line in result.splitlines()] != original
    assert changed >= len(FUNCTIONS) - 1


def test_type2_renames_consistently() -> None:
    """Type-2 maps every renamed name or literal to one new spelling, the same everywhere."""
    for index, (text, method) in enumerate(FUNCTIONS):
        mutant = mutate(text, "T2", random.Random(index), base_indent="", method=method)
        before, after = normalized_tokens(text), normalized_tokens(mutant.text)
        assert len(before) == len(after)
        forward: dict[str, str] = {}
        backward: dict[str, str] = {}
        for (kind_a, old), (kind_b, new) in zip(before, after):
            assert kind_a == kind_b
            if old != new:
                assert forward.setdefault(old, new) == new, f"{old} renamed two ways"
                assert backward.setdefault(new, old) == old, f"{new} stands for two names"
        func, _ = parse_snippet(text)
        assert func.name in forward, "the function name is renamed"
        params = [a.arg for a in func.args.args if a.arg not in ("self", "cls")]
        assert all(p in forward for p in params), "every parameter is renamed"
        assert "self" not in forward
        assert set(forward) <= set(mutant.renames)


def test_rename_keeps_lines() -> None:
    """Renaming rewrites in place: the line count stays, so later line edits know where they are."""
    text, method = FUNCTIONS[0]
    renamed, mapping = rename(text, random.Random(0), method=method)
    assert renamed.count("\n") == text.count("\n")
    assert mapping


@pytest.mark.parametrize(("fraction", "low", "high"), [(0.10, 0.05, 0.2), (0.30, 0.2, 0.4)])
def test_type3_edits_about_the_intended_fraction(fraction: float, low: float, high: float) -> None:
    """Type-3 inserts, deletes or changes about the intended share of code lines."""
    edited = total = 0
    for index, (text, _) in enumerate(FUNCTIONS):
        result, edits = edit_lines(text, fraction, random.Random(index))
        parse_snippet(result)
        n_code = len(code_lines_of_snippet(text))
        matcher = difflib.SequenceMatcher(None, text.splitlines(), result.splitlines(), autojunk=False)
        changed = sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal")
        assert changed == edits
        edited += edits
        total += n_code
    assert low <= edited / total <= high


def test_unknown_kind_is_refused() -> None:
    """An unknown clone type is a clear error."""
    with pytest.raises(ValueError, match="unknown clone type"):
        mutate(FUNCTIONS[0][0], "T4", random.Random(0))


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    """Eight copies injected into a corpus of six real stdlib modules."""
    base = tmp_path_factory.mktemp("corpus")
    source = base / "src"
    (source / "pkg").mkdir(parents=True)
    (source / "test").mkdir()
    for module in MODULES:
        shutil.copyfile(STDLIB / module, source / "pkg" / module)
    (source / "test" / "test_x.py").write_text("def test_x():\n    assert True\n")
    manifest = build_corpus(source, base / "work", copies=8, seed=3)
    return source, manifest


def test_corpus_leaves_out_tests(small_corpus: tuple[Path, Manifest]) -> None:
    """Test folders are not copied into the corpus."""
    _, manifest = small_corpus
    assert manifest.files == len(MODULES)
    assert not (Path(manifest.root) / "test").exists()


def test_manifest_points_at_the_original(small_corpus: tuple[Path, Manifest]) -> None:
    """Each original span holds exactly the function's source lines, moved only by injections above it."""
    source, manifest = small_corpus
    assert len(manifest.injections) == 8
    for inj in manifest.injections:
        now = (Path(manifest.root) / inj.original.path).read_text().split("\n")[inj.original.start - 1: inj.original.end]
        text = "\n".join(now) + "\n"
        func, _ = parse_snippet(text)
        assert text in (source / inj.original.path).read_text()
        assert func.end_lineno - (1 if text[:1] == " " else 0) == len(now)


def test_manifest_points_at_the_copy(small_corpus: tuple[Path, Manifest]) -> None:
    """Each copy span is exactly one whole function of the expected type, and the code lines are inside."""
    _, manifest = small_corpus
    assert {inj.kind for inj in manifest.injections} == set(CLONE_TYPES)
    for inj in manifest.injections:
        root = Path(manifest.root)
        copy = "\n".join((root / inj.copy.path).read_text().split("\n")[inj.copy.start - 1: inj.copy.end]) + "\n"
        original = "\n".join((root / inj.original.path).read_text().split("\n")[inj.original.start - 1: inj.original.end]) + "\n"
        parse_snippet(copy)
        assert inj.copy.path != inj.original.path
        assert inj.copy_code[0] == inj.copy.start and inj.copy_code[-1] == inj.copy.end
        assert all(inj.original.start <= n <= inj.original.end for n in inj.original_code)
        if inj.kind == "T1":
            assert normalized_tokens(copy) == normalized_tokens(original)
        elif inj.kind == "T2":
            assert len(normalized_tokens(copy)) == len(normalized_tokens(original))
        else:
            assert inj.edits >= 1


def test_injected_files_still_parse(small_corpus: tuple[Path, Manifest]) -> None:
    """Every file that received a copy still parses."""
    _, manifest = small_corpus
    receivers = {inj.copy.path for inj in manifest.injections}
    assert receivers
    for path in receivers:
        ast.parse((Path(manifest.root) / path).read_text())


def test_manifest_round_trips(small_corpus: tuple[Path, Manifest], tmp_path: Path) -> None:
    """A saved manifest loads back equal."""
    _, manifest = small_corpus
    save_manifest(manifest, tmp_path / "manifest.json")
    assert load_manifest(tmp_path / "manifest.json") == manifest


def test_same_seed_same_corpus(small_corpus: tuple[Path, Manifest], tmp_path: Path) -> None:
    """The same source, seed and count give the same manifest."""
    source, manifest = small_corpus
    again = build_corpus(source, tmp_path / "again", copies=8, seed=3)
    assert again.injections == manifest.injections


# ---------------------------------------------------------------- scorer

INJ = Injection(
    id=0,
    kind="T2",
    original=Span("a.py", 10, 29),
    copy=Span("b.py", 100, 119),
    original_code=tuple(range(10, 30)),
    copy_code=tuple(range(100, 120)),
    edits=0,
    as_method=False,
)
MANIFEST = Manifest("/x", 1, 2, 500, (INJ,))


def test_scorer_counts_a_covered_copy() -> None:
    """A clone covering 70% or more of both the original and the copy finds the copy."""
    clone = Clone((Fragment("a.py", 12, 29), Fragment("b.py", 100, 113)))
    assert is_found(INJ, [clone])
    assert recall(MANIFEST, [clone])["T2"].ratio == 1.0
    assert found_ids(MANIFEST, [clone]) == {0}


def test_scorer_rejects_a_partial_copy() -> None:
    """A clone covering only half of the copy, or split over two clones, does not count."""
    half = Clone((Fragment("a.py", 10, 29), Fragment("b.py", 100, 109)))
    first = Clone((Fragment("a.py", 10, 19), Fragment("b.py", 100, 109)))
    second = Clone((Fragment("a.py", 20, 29), Fragment("b.py", 110, 119)))
    assert not is_found(INJ, [half])
    assert not is_found(INJ, [first, second])
    assert recall(MANIFEST, [half, first, second])["T2"].found == 0


def test_scorer_needs_two_fragments() -> None:
    """One fragment cannot stand for both the original and the copy; a wrong file does not count."""
    wrong_file = Clone((Fragment("a.py", 10, 29), Fragment("c.py", 100, 119)))
    assert not is_found(INJ, [wrong_file])


def test_real_clones_skip_injected_copies() -> None:
    """Clones touching an injected copy are left out of the precision sample."""
    touching = Clone((Fragment("a.py", 1, 5), Fragment("b.py", 118, 125)))
    real = Clone((Fragment("a.py", 1, 5), Fragment("b.py", 1, 5)))
    assert real_clones([touching, real], MANIFEST) == [real]


def test_a_method_and_a_function_copied_to_the_end_of_one_class_file_both_fit(tmp_path: Path) -> None:
    """A file whose last statement is a class may get a method copy (at the class's end)
    and a function copy (at the file's end) after the same line: the method goes first."""
    from benchmarks.corpus import Candidate, _inject, _Placement
    from benchmarks.mutations import Mutant

    text = "class Cursor:\n    def back(self):\n        return self.x - 1\n"
    original = Candidate("cursor.py", 2, 3, "back", "Cursor", 2)
    function = _Placement(0, original, Mutant("T1", "def back_copy(self):\n    return self.x - 1", "back_copy", {}, 0),
                          "cursor.py", 3, False)
    method = _Placement(1, original, Mutant("T1", "    def back_again(self):\n        return self.x - 1",
                                            "back_again", {}, 0), "cursor.py", 3, True)
    (tmp_path / "cursor.py").write_text(text)
    injections = _inject(tmp_path, {"cursor.py": text}, [function, method])
    written = (tmp_path / "cursor.py").read_text()
    tree = ast.parse(written)
    assert [type(node).__name__ for node in tree.body] == ["ClassDef", "FunctionDef"]
    assert [m.name for m in tree.body[0].body] == ["back", "back_again"]
    spans = {i.id: (i.copy.start, i.copy.end) for i in injections}
    lines = written.split("\n")
    assert lines[spans[0][0] - 1].startswith("def back_copy")
    assert lines[spans[1][0] - 1].startswith("    def back_again")
