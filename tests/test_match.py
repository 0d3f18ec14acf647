"""Tests for engine.match: runs of units grouped into clone classes."""
import ast
import textwrap

from engine.fingerprint import pack, unpack_columns
from engine.match import Corpus, clone_groups, fragments_of
from engine.python_units import NoisePolicy, python_fingerprints

BODY = """
    total = 0
    for item in items:
        if item.count <= 0:
            raise ValueError(item.name)
        total += item.price * item.count
    if total > limit:
        total = limit
    return round(total, 2)
"""


def corpus_of(**files: str) -> Corpus:
    corpus = Corpus()
    for name, code in files.items():
        source = textwrap.dedent(code).encode()
        prints = python_fingerprints(source, ast.parse(source), NoisePolicy())
        corpus.add_file(f"{name}.py", *unpack_columns(pack(prints)))
    return corpus


def groups_of(corpus: Corpus, min_lines: int = 6, min_tokens: int = 30):
    return [(g.exact, fragments_of(corpus, g)) for g in clone_groups(corpus, min_lines, min_tokens)]


def test_whole_function_copies_form_one_class_of_three():
    """Three copies of a function are one class, not three pairs."""
    code = "def f(items, limit):" + BODY
    found = groups_of(corpus_of(a=code, b=code, c=code))
    assert len(found) == 1
    exact, fragments = found[0]
    assert exact and [f.path for f in fragments] == ["a.py", "b.py", "c.py"]
    assert all((f.start_line, f.end_line) == (1, 9) for f in fragments)


def test_a_renamed_copy_is_found_and_is_not_exact():
    """Renamed names and constants: one renamed class."""
    renamed = BODY.replace("total", "acc").replace("item", "row").replace("2)", "3)")
    found = groups_of(corpus_of(a="def f(items, limit):" + BODY, b="def g(rows, cap):" + renamed))
    assert len(found) == 1 and found[0][0] is False


def test_a_run_inside_bigger_functions_stops_at_the_block_edges():
    """A copied run of statements is reported as whole statements of one body."""
    one = "def f(items, limit):\n    log.info('start')" + BODY
    two = "def g(items, limit):\n    other(1, 2)\n    count = 0" + BODY
    (exact, fragments), = groups_of(corpus_of(a=one, b=two))
    assert [(f.start_line, f.end_line) for f in fragments] == [(3, 10), (4, 11)]


def test_nested_matches_are_not_reported_again():
    """Matching classes yield one clone, not one more per matching method."""
    cls = "class K:\n    def f(self, items, limit):" + textwrap.indent(BODY, "    ") + \
        "\n    def g(self):\n        return 1\n"
    found = groups_of(corpus_of(a=cls, b=cls))
    assert len(found) == 1
    assert [(f.start_line, f.end_line) for f in found[0][1]] == [(1, 13), (1, 13)]


def test_copies_inside_one_fragment_of_a_bigger_clone_are_still_reported():
    """Two copied methods of one class are a clone even when the class is copied too."""
    cls = "class K:\n    def f(self, items, limit):" + textwrap.indent(BODY, "    ") + \
        "\n    def g(self, items, cap):" + textwrap.indent(BODY.replace("limit", "cap"), "    ")
    found = groups_of(corpus_of(a=cls, b=cls))
    assert len(found) == 2
    assert sorted(len(fragments) for _, fragments in found) == [2, 4]


def test_small_and_noise_only_runs_are_not_reported():
    """Below min_lines / min_tokens, and boilerplate, nothing is reported."""
    small = "def f(a):\n    b = a + 1\n    return b * 2\n"
    init = "class P:\n    def __init__(self, a, b, c, d, e, f):\n" + "".join(
        f"        self.{n} = {n}\n" for n in "abcdef")
    assert groups_of(corpus_of(a=small, b=small)) == []
    assert groups_of(corpus_of(a=init, b=init.replace("P", "Q")), min_tokens=5) == []


def test_copies_in_one_block_do_not_overlap():
    """A repeated pattern in one body gives non-overlapping fragments."""
    body = "".join(f"x{i} = compute(x{i - 1}, {i}) + offset\n" for i in range(1, 4))
    code = body + "y = 1\n" + body
    for _, fragments in groups_of(corpus_of(a=code), min_lines=3, min_tokens=10):
        assert fragments[0].end_line < fragments[1].start_line
