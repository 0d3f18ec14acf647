"""Tests of split B: the second mutation model, its pinned corpus and the held-out report (offline, fast)."""

from __future__ import annotations

import random
import re
import shutil
import textwrap
import zipfile
from pathlib import Path

import libcst as cst
import pytest

from benchmarks.corpus import build_corpus, default_source, find_candidates, load_source
from benchmarks.corpus_b import PINS, CorpusError, Pin, extract_wheel, fetch_wheel
from benchmarks.pypi import sha256_of
from benchmarks.heldout import Copy, by_operator, recording_mutator, render_markdown
from benchmarks.mutations import code_lines_of_snippet
from benchmarks.mutations_b import (
    LEVELS,
    STRUCTURAL_SHARE,
    change_literals,
    from_format,
    from_fstring,
    from_percent,
    function_text,
    mutate_b,
    negate,
    op_add_guard,
    op_add_logging,
    op_annotations,
    op_extract_variable,
    op_format_swap,
    op_inline_variable,
    op_invert_if,
    op_keyword_order,
    op_loop_to_comprehension,
    op_reorder,
    parse_function,
    rename,
    to_format,
    to_fstring,
    to_percent,
    tokens_without_docstrings,
)

STDLIB = default_source()
MODULES = ("shutil.py", "textwrap.py", "csv.py", "difflib.py", "argparse.py", "configparser.py")


def _stdlib_functions(limit: int = 24) -> list[tuple[str, bool]]:
    """Real functions and methods of the standard library (not corpus B: the tests stay offline)."""
    found = []
    for module in MODULES:
        source = load_source(STDLIB, module)
        lines = source.text.split("\n")
        for cand in find_candidates(source)[:4]:
            found.append(("\n".join(lines[cand.start - 1: cand.end]) + "\n", cand.class_name is not None))
    return found[:limit]


FUNCTIONS = _stdlib_functions()


def _run(code: str, name: str, *args, env: dict | None = None):
    """Call function ``name`` defined by ``code`` (a real execution: the rewrites must keep behaviour)."""
    scope = dict(env or {})
    exec(compile(code, "<test>", "exec"), scope)  # noqa: S102 - our own test snippets
    return scope[name](*args)


def _func(code: str) -> cst.FunctionDef:
    return parse_function(textwrap.dedent(code))[0]


def _text(func: cst.FunctionDef) -> str:
    return function_text(func, "    ")


def _rewrites(op, code: str, seed: int = 1) -> list[str]:
    return [_text(f) for f in op(_func(code), random.Random(seed))]


# ---------------------------------------------------------------- structural operators


LOOP = '''
def squares(values, limit):
    """Squares below a limit."""
    result = []
    for value in values:
        if value < limit:
            result.append(value * value)
    total = len(result)
    return result, total
'''


def test_loop_becomes_an_equivalent_comprehension() -> None:
    """The accumulating loop turns into one comprehension with the same element, target, iterable and test."""
    (out,) = _rewrites(op_loop_to_comprehension, LOOP)
    assert "result = [value * value for value in values if value < limit]" in out
    assert "for value in values:" not in out.replace("[value * value for value in values", "")
    for args in (([1, 5, 3, 9], 6), ([], 1), ([2, 2], 3)):
        assert _run(out, "squares", *args) == _run(LOOP, "squares", *args)


def test_dict_and_set_loops_become_comprehensions() -> None:
    code = '''
    def index(items):
        seen = set()
        for item in items:
            seen.add(item.lower())
        table = {}
        for pos, item in enumerate(items):
            table[item] = pos
        return seen, table
    '''
    outs = _rewrites(op_loop_to_comprehension, code)
    assert any("seen = {item.lower() for item in items}" in o for o in outs)
    assert any("table = {item: pos for pos, item in enumerate(items)}" in o for o in outs)
    for out in outs:
        assert _run(out, "index", ["A", "b", "a"]) == _run(textwrap.dedent(code), "index", ["A", "b", "a"])


def test_a_loop_reading_its_accumulator_is_left_alone() -> None:
    code = '''
    def unique(items):
        out = []
        for item in items:
            if item not in out:
                out.append(item)
        return out
    '''
    assert _rewrites(op_loop_to_comprehension, code) == []


BRANCHES = '''
def classify(x, y):
    if x == y:
        label = "same"
        extra = 1
    else:
        label = "different"
        extra = 2
    return label, extra
'''


def test_if_else_inversion_negates_the_test_and_keeps_both_branches() -> None:
    (out,) = _rewrites(op_invert_if, BRANCHES)
    lines = [line.strip() for line in out.splitlines()]
    assert "if x != y:" in lines
    assert lines.index('label = "different"') < lines.index("else:") < lines.index('label = "same"')
    for args in ((1, 1), (1, 2)):
        assert _run(out, "classify", *args) == _run(BRANCHES, "classify", *args)


@pytest.mark.parametrize(("test", "negated"), [
    ("not ready", "ready"), ("a < b", "a >= b"), ("x is None", "x is not None"), ("k in d", "k not in d"),
    ("a and b", "not (a and b)"), ("check(x)", "not check(x)"), ("a < b < c", "not a < b < c"),
])
def test_negate(test: str, negated: str) -> None:
    assert _text_of(negate(cst.parse_expression(test))) == negated


def _text_of(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


INDEPENDENT = '''
def setup(a, b):
    first = a + 1
    second = b * 2
    third = first + second
    log(third)
    return third
'''


def test_reordering_swaps_only_independent_statements() -> None:
    outs = _rewrites(op_reorder, INDEPENDENT)
    assert outs, "first and second are independent"
    for out in outs:
        lines = [line.strip() for line in out.splitlines()]
        assert lines.index("first = a + 1") < lines.index("third = first + second")
        assert lines.index("second = b * 2") < lines.index("third = first + second")
        assert lines.index("third = first + second") < lines.index("log(third)")
        assert _run(out, "setup", 3, 4, env={"log": lambda v: None}) == 12


def test_extracting_a_variable_keeps_the_value() -> None:
    code = '''
    def total(a, b):
        return scale(a) + offset(b) * 2
    '''
    outs = _rewrites(op_extract_variable, code)
    assert len(outs) >= 3  # scale(a), offset(b), offset(b) * 2, the whole sum
    env = {"scale": lambda v: v * 10, "offset": lambda v: v - 1}
    for out in outs:
        body = [line.strip() for line in out.splitlines()[1:]]
        assert len(body) == 2 and re.match(r"\w+ = ", body[0])
        assert _run(out, "total", 3, 5, env=env) == 38


def test_extraction_never_hoists_a_short_circuited_operand() -> None:
    code = '''
    def pick(a):
        return a and expensive(a)
    '''
    assert all("expensive" not in o.splitlines()[1] for o in _rewrites(op_extract_variable, code))


def test_inlining_a_single_use_variable() -> None:
    code = '''
    def area(w, h):
        margin = w * 2
        return margin + h
    '''
    (out,) = _rewrites(op_inline_variable, code)
    assert "margin" not in out and "return (w * 2) + h" in out
    assert _run(out, "area", 3, 4) == 10


def test_inlining_skips_variables_used_twice() -> None:
    code = '''
    def area(w, h):
        margin = w * 2
        return margin + h + margin
    '''
    assert _rewrites(op_inline_variable, code) == []


def test_logging_and_guard_lines_are_added() -> None:
    code = '''
    def walk(nodes, depth):
        """Walk."""
        out = 0
        for node in nodes:
            out += node
        return out
    '''
    logged = _rewrites(op_add_logging, code)[0]
    assert re.search(r"(logger|log|_LOG|logging\.getLogger\(__name__\))\.\w+\(|print\(", logged)
    assert logged.splitlines()[1].strip() == '"""Walk."""'  # the docstring stays first
    guards = _rewrites(op_add_guard, code)
    assert any("is None" in g or "assert" in g or "if not" in g for g in guards)
    assert any("continue" in g for g in guards)  # a guard in the loop
    for out in [logged, *guards]:
        compile(out, "<t>", "exec")


def test_annotations_are_added_and_removed() -> None:
    plain = '''
    def pad(text, width=8, fill=" "):
        count = 0
        return text.rjust(width, fill), count
    '''
    outs = _rewrites(op_annotations, plain)
    signature = next(o for o in outs if "->" in o)
    assert signature.splitlines()[0] == 'def pad(text: str, width: int = 8, fill: str = " ") -> Any:' or (
        "text:" in signature and "width: int = 8" in signature and ") ->" in signature)
    assert any("count: int = 0" in o for o in outs)
    typed = '''
    def pad(text: str, width: int = 8) -> str:
        total: int = len(text)
        return text.rjust(width + total)
    '''
    outs = _rewrites(op_annotations, typed)
    assert any(o.splitlines()[0] == "def pad(text, width=8):" for o in outs)
    assert any("total = len(text)" in o for o in outs)


# ---------------------------------------------------------------- surface (T2) operators


@pytest.mark.parametrize("source", [
    '"%s has %d items (%.2f%%), %r" % (name, count, ratio, name)',
    '"%-6s|%5d|%+.1f" % (name, count, ratio)',
    '"{} = {!r:>8} / {:05d}".format(name, name, count)',
    '"{0}-{1}-{0}".format(name, count)',
    '"{key}: {n:.3f}".format(key=name, n=ratio)',
    'f"{name!r}: {count:5d} {ratio:.1%} {{braces}}"',
    "f'{name} said \"hi\" {count}'",
])
def test_format_swaps_render_the_same_string(source: str) -> None:
    """Every form a template can be rendered in gives the same string as the original expression."""
    env = {"name": "abc", "count": 42, "ratio": 0.125}
    node = cst.parse_expression(source)
    parse = {cst.BinaryOperation: from_percent, cst.Call: from_format, cst.FormattedString: from_fstring}[type(node)]
    pieces = parse(node)
    assert pieces is not None
    expected = eval(source, {}, env)  # noqa: S307 - a literal expression of this test
    rendered = [r for r in (render(pieces, '"') for render in (to_fstring, to_format, to_percent)) if r]
    assert len(rendered) >= 2
    for code in rendered:
        assert eval(code, {}, env) == expected, code  # noqa: S307


def test_format_swap_in_a_function_keeps_behaviour() -> None:
    code = '''
    def describe(name, count):
        head = "%s: %d" % (name, count)
        tail = "[{}]".format(name.upper())
        return head + f" {tail!r}"
    '''
    func = _func(code)
    for seed in range(6):
        swapped, done = op_format_swap(func, random.Random(seed))
        out = _text(swapped)
        assert all(d.startswith("format-swap:") for d in done)
        assert _run(out, "describe", "x", 3) == _run(textwrap.dedent(code), "describe", "x", 3)


def test_keyword_order_changes_only_the_order() -> None:
    code = '''
    def call(f, a):
        return f(a, x=1, y=a + 1, z="z", **{})
    '''
    func = _func(code)
    outs = {_text(op_keyword_order(func, random.Random(seed))[0]) for seed in range(8)}
    assert len(outs) >= 3  # some calls are left as they are, the others get another order
    for out in outs:
        assert out.splitlines()[1].startswith("    return f(a, ") and out.rstrip().endswith(", **{})")
        assert sorted(tokens_without_docstrings(out)) == sorted(tokens_without_docstrings(_text(func)))
        assert _run(out, "call", lambda *a, **k: (a, k), 5) == ((5,), {"x": 1, "y": 6, "z": "z"})


def test_renaming_and_literal_changes_keep_the_renamed_token_shape() -> None:
    """T2's promise: names and values change consistently, the shape (ID/LIT tokens) does not."""
    for number, (text, method) in enumerate(FUNCTIONS):
        func, unit = parse_function(text)
        before = function_text(func, unit)
        changed, _ = change_literals(func, random.Random(number))
        renamed, mapping = rename(changed, random.Random(number), method=method)
        after = function_text(renamed, unit)
        assert tokens_without_docstrings(after, abstract=True) == tokens_without_docstrings(before, abstract=True)
        assert renamed.name.value != func.name.value and mapping[func.name.value] == renamed.name.value
        compile(after, "<t>", "exec")


def test_renaming_is_consistent() -> None:
    code = '''
    def walk(tree, depth=0):
        total = depth
        for child in tree.children:
            total += walk(child, depth + 1)
        return total
    '''
    renamed, mapping = rename(_func(code), random.Random(2), method=False)
    out = _text(renamed)
    new = mapping["walk"]
    assert f"def {new}(" in out and f"+= {new}(" in out  # the recursive call follows
    assert f"in {mapping.get('tree', 'tree')}.children:" in out  # the attribute keeps its name

    class Node:
        def __init__(self, children=()):
            self.children = children

    tree = Node([Node([Node()]), Node()])
    assert _run(out, new, tree) == _run(textwrap.dedent(code), "walk", tree)


# ---------------------------------------------------------------- whole copies


def _flat(text: str) -> str:
    """A copy (indented or not) at column 0."""
    func, unit = parse_function(text)
    return function_text(func, unit)


def test_t1_keeps_the_token_sequence_without_docstrings() -> None:
    for number, (text, method) in enumerate(FUNCTIONS):
        mutant = mutate_b(text, "T1", random.Random(number), base_indent="    " * (number % 2), method=method)
        assert mutant.operators, "a T1 copy differs in layout, comments or docstring"
        assert tokens_without_docstrings(_flat(mutant.text)) == tokens_without_docstrings(_flat(text))
        assert mutant.edits == 0 and not mutant.renames


def test_t2_keeps_the_shape_unless_a_surface_rewrite_is_recorded() -> None:
    for number, (text, method) in enumerate(FUNCTIONS):
        mutant = mutate_b(text, "T2", random.Random(number), method=method)
        assert "rename" in mutant.operators and mutant.edits == 0
        if not any(op.startswith(("format-swap", "keyword-order")) for op in mutant.operators):
            assert tokens_without_docstrings(_flat(mutant.text), abstract=True) == \
                tokens_without_docstrings(_flat(text), abstract=True)


@pytest.mark.parametrize("kind", LEVELS)
def test_every_copy_parses_at_its_indentation_and_is_deterministic(kind: str) -> None:
    for number, (text, method) in enumerate(FUNCTIONS[::3]):
        indent = "    " if number % 2 else ""
        first = mutate_b(text, kind, random.Random(number), base_indent=indent, method=method)
        again = mutate_b(text, kind, random.Random(number), base_indent=indent, method=method)
        assert first == again
        assert first.text.startswith(indent + ("@" if text.lstrip().startswith("@") else "")) or indent == ""
        compile(("if 1:\n" + first.text) if indent else first.text, "<copy>", "exec")
        assert first.kind == kind and first.name.isidentifier()


@pytest.mark.parametrize("kind", ["T3-light", "T3-heavy"])
def test_structural_edit_fractions(kind: str) -> None:
    """Each copy touches its budget (max(1, round(share * n))) up to 5% more; the mean is near the share."""
    share = STRUCTURAL_SHARE[kind]
    fractions = []
    for number, (text, method) in enumerate(FUNCTIONS):
        mutant = mutate_b(text, kind, random.Random(number), method=method)
        n = len(code_lines_of_snippet(text))
        budget = max(1, round(share * n))
        assert budget <= mutant.edits <= budget + round(0.05 * n), (mutant.edits, n)
        assert any(op in mutant.operators for op in ("reorder-statements", "extract-variable", "inline-variable",
                   "invert-if-else", "loop-to-comprehension", "annotations", "add-logging", "add-guard"))
        fractions.append(mutant.edits / n)
    mean = sum(fractions) / len(fractions)
    assert share - 0.02 <= mean <= share + 0.05, mean


def test_build_corpus_takes_model_b_and_its_operators_are_recovered(tmp_path: Path) -> None:
    """``build_corpus(mutator=...)`` injects model B's copies; the recording mutator gives their operators."""
    source = tmp_path / "src"
    source.mkdir()
    for module in MODULES:
        shutil.copyfile(STDLIB / module, source / module)
    log: dict = {}
    manifest = build_corpus(source, tmp_path / "work", copies=8, seed=3, mutator=recording_mutator(log))
    assert [inj.kind for inj in manifest.injections] == list(LEVELS) * 2
    for inj in manifest.injections:
        lines = (Path(manifest.root) / inj.copy.path).read_text().split("\n")
        mutant = log["\n".join(lines[inj.copy.start - 1: inj.copy.end])]
        assert mutant.kind == inj.kind and mutant.operators
        assert (inj.edits > 0) == inj.kind.startswith("T3")


# ---------------------------------------------------------------- corpus B and the report


def test_pins_are_versioned_and_sha256_pinned() -> None:
    assert 6 <= len(PINS) <= 10
    for pin in PINS:
        assert re.fullmatch(r"\d+(\.\d+)+", pin.version), pin
        assert re.fullmatch(r"[0-9a-f]{64}", pin.sha256), pin
        assert pin.url.startswith("https://files.pythonhosted.org/") and pin.filename.endswith(".whl")
        assert pin.packages
    assert not {p.project for p in PINS} & {"click", "flask", "requests", "markdown", "itsdangerous",
                                            "marshmallow", "httpx", "tqdm", "pyyaml", "docutils"}


def _wheel(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr("pkg/__init__.py", "x = 1\n")
        zipped.writestr("pkg/sub/mod.py", "def f():\n    return 2\n")
        zipped.writestr("pkg/tests/test_mod.py", "def test(): pass\n")
        zipped.writestr("pkg/data.txt", "not python\n")
        zipped.writestr("pkg-1.0.dist-info/METADATA", "Name: pkg\n")
        zipped.writestr("other/mod.py", "y = 2\n")
    return path


def test_the_cache_refuses_a_wheel_whose_sha256_differs(tmp_path: Path) -> None:
    pin = Pin("pkg", "1.0", "0" * 64, "https://files.pythonhosted.org/packages/x/pkg-1.0-py3-none-any.whl", ("pkg",))
    (tmp_path / "wheels").mkdir()
    _wheel(tmp_path / "wheels" / pin.filename)
    with pytest.raises(CorpusError, match="sha256"):
        fetch_wheel(pin, tmp_path)
    assert (tmp_path / "wheels" / pin.filename).exists()  # refused, never replaced


def test_a_cached_wheel_with_the_pinned_sha256_is_used_offline(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path / "pkg-1.0-py3-none-any.whl")
    pin = Pin("pkg", "1.0", sha256_of(wheel), "https://invalid.invalid/pkg-1.0-py3-none-any.whl", ("pkg",))
    (tmp_path / "cache" / "wheels").mkdir(parents=True)
    shutil.copyfile(wheel, tmp_path / "cache" / "wheels" / pin.filename)
    assert fetch_wheel(pin, tmp_path / "cache") == tmp_path / "cache" / "wheels" / pin.filename
    written = extract_wheel(wheel, pin.packages, tmp_path / "src")
    assert [p.relative_to(tmp_path / "src").as_posix() for p in written] == ["pkg/__init__.py", "pkg/sub/mod.py"]


def test_offline_without_a_cached_wheel_says_where_to_put_it(tmp_path: Path) -> None:
    pin = Pin("pkg", "1.0", "1" * 64, (tmp_path / "nowhere" / "pkg-1.0-py3-none-any.whl").as_uri(), ("pkg",))
    with pytest.raises(CorpusError, match=r"offline, put pkg-1.0-py3-none-any.whl .* into"):
        fetch_wheel(pin, tmp_path / "cache")


def test_render_markdown_shows_recall_per_level_and_per_operator() -> None:
    from benchmarks.corpus import Injection, Span

    def copy(id_: int, kind: str, ops: tuple[str, ...]) -> Copy:
        span = Span("a.py", 1, 9)
        return Copy(Injection(id_, kind, span, span, (1,), (1,), 0, False), ops)

    copies = [copy(0, "T1", ("reindent",)), copy(1, "T2", ("rename", "format-swap:percent->fstring")),
              copy(2, "T3-light", ("add-guard", "rename")), copy(3, "T3-heavy", ("invert-if-else", "rename"))]
    per_op = by_operator(copies, frozenset({0, 1, 3}))
    assert per_op["rename"] == {"found": 1, "total": 1}  # over T2 copies only
    assert per_op["format-swap"] == {"found": 1, "total": 1}
    assert per_op["add-guard"] == {"found": 0, "total": 1}
    results = {
        "corpus": {"packages": [{"project": "rich", "version": "15.0.0"}], "files": 3, "lines": 1200,
                   "copies": 4, "seed": 1},
        "model": "benchmarks/mutations_b.py", "levels": {"T1": "layout"},
        "tools": [{"tool": "codebot", "clones": 7, "wall_s": 1.5, "peak_mib": 90.0, "returncode": 0, "error": "",
                   "recall": {"T1": {"found": 1, "total": 1, "ratio": 1.0}, "T3-light": {"found": 0, "total": 1, "ratio": 0.0}},
                   "by_operator": per_op},
                  {"tool": "jscpd", "clones": 0, "wall_s": 0.0, "peak_mib": 0.0, "returncode": -1, "error": "no npm",
                   "recall": {}, "by_operator": {}}],
    }
    text = render_markdown(results)
    assert "| codebot | 1.00 (1/1) | - | 0.00 (0/1) | - | 7 | 1.50 | 90 |" in text
    assert "| jscpd | - | - | - | - | - | - | - |" in text
    assert "| add-guard | T3 | 0.00 (0/1) | - |" in text
    assert "rich 15.0.0" in text and "1,200 lines" in text


def test_a_loop_after_other_statements_and_with_a_continue_guard_becomes_a_comprehension() -> None:
    code = '''
    def names(rows, prefix):
        found = []
        size = len(prefix)
        for row in rows:
            if row.startswith("#"):
                continue
            found.append(row[size:])
        return found
    '''
    (out,) = _rewrites(op_loop_to_comprehension, code)
    assert 'found = [row[size:] for row in rows if not row.startswith("#")]' in out
    assert out.index("size = len(prefix)") < out.index("found = [")
    rows = ["#x", "ab", "pc", "#"]
    assert _run(out, "names", rows, "a") == _run(textwrap.dedent(code), "names", rows, "a")
