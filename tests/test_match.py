"""Tests for engine.match: runs of units grouped into clone classes.

Each case goes through the real engine (`harness.assert_clones`: fingerprint every
file, then `engine.detect.detect`) and states the whole set of classes it reports.
"""
import textwrap

from harness import assert_clones

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
SIZES = {"min_lines": 6, "min_tokens": 30}


def test_whole_function_copies_form_one_class_of_three():
    """Three copies of a function are one exact class, not three pairs."""
    code = "def f(items, limit):" + BODY
    assert_clones({"a.py": code, "b.py": code, "c.py": code},
                  [("exact", [("a.py", 1, 9), ("b.py", 1, 9), ("c.py", 1, 9)])], **SIZES)


def test_a_renamed_copy_is_found_and_is_not_exact():
    """Renamed names and constants: one renamed class."""
    renamed = BODY.replace("total", "acc").replace("item", "row").replace("2)", "3)")
    assert_clones({"a.py": "def f(items, limit):" + BODY, "b.py": "def g(rows, cap):" + renamed},
                  [("renamed", [("a.py", 1, 9), ("b.py", 1, 9)])], **SIZES)


def test_a_run_inside_bigger_functions_stops_at_the_block_edges():
    """A copied run of statements is reported as whole statements of one body.

    When the functions around it are a near-miss class, that class covers the run:
    one class over those regions, not a second one inside it.
    """
    one = "def f(items, limit):\n    log.info('start')" + BODY
    two = "def g(items, limit):\n    other(1, 2)\n    count = 0" + BODY
    assert_clones({"a.py": one, "b.py": two},
                  [("near", [("a.py", 1, 10), ("b.py", 1, 11)])], **SIZES)
    three = "def g(items, limit):\n    other(1, 2)\n    count = helper(items) + limit * 3\n" \
        "    for row in count:\n        emit(row, 'x', 'y')\n        flush(row)\n" + BODY
    assert_clones({"a.py": one, "b.py": three},
                  [("exact", [("a.py", 3, 10), ("b.py", 8, 15)])], **SIZES)


def test_nested_matches_are_not_reported_again():
    """Matching classes yield one clone, not one more per matching method."""
    cls = "class K:\n    def f(self, items, limit):" + textwrap.indent(BODY, "    ") + \
        "\n    def g(self):\n        return 1\n"
    assert_clones({"a.py": cls, "b.py": cls}, [("exact", [("a.py", 1, 13), ("b.py", 1, 13)])],
                  **SIZES)


def test_copies_inside_one_fragment_of_a_bigger_clone_are_still_reported():
    """Two copied methods of one class are a clone even when the class is copied too."""
    cls = "class K:\n    def f(self, items, limit):" + textwrap.indent(BODY, "    ") + \
        "\n    def g(self, items, cap):" + textwrap.indent(BODY.replace("limit", "cap"), "    ")
    assert_clones({"a.py": cls, "b.py": cls},
                  [("exact", [("a.py", 1, 20), ("b.py", 1, 20)]),
                   ("renamed", [("a.py", 2, 10), ("a.py", 12, 20),
                                ("b.py", 2, 10), ("b.py", 12, 20)])], **SIZES)


def test_small_and_noise_only_runs_are_not_reported():
    """Below min_lines / min_tokens, and boilerplate, nothing is reported."""
    small = "def f(a):\n    b = a + 1\n    return b * 2\n"
    init = "class P:\n    def __init__(self, a, b, c, d, e, f):\n" + "".join(
        f"        self.{n} = {n}\n" for n in "abcdef")
    assert_clones({"a.py": small, "b.py": small}, [], **SIZES)
    assert_clones({"a.py": init, "b.py": init.replace("P", "Q")}, [], min_lines=6, min_tokens=5)
    # The same boilerplate is reported once its noise kind is turned back on.
    assert_clones({"a.py": init, "b.py": init.replace("P", "Q")},
                  [("renamed", [("a.py", 1, 8), ("b.py", 1, 8)])], min_lines=6, min_tokens=5,
                  report_boilerplate=True)


def test_copies_in_one_block_do_not_overlap():
    """A repeated pattern in one body gives non-overlapping fragments."""
    body = "".join(f"x{i} = compute(x{i - 1}, {i}) + offset\n" for i in range(1, 4))
    code = body + "y = 1\n" + body
    assert_clones({"a.py": code}, [("exact", [("a.py", 1, 3), ("a.py", 5, 7)])],
                  min_lines=3, min_tokens=10)
    # Seven equal statements: runs shifted by one or two statements match too
    # (lines 2-4 and 3-5, ...); the class keeps only fragments that do not overlap.
    repeated = "def f(value, offset):\n" + "    value = step(value) + offset\n" * 7 + \
        "    return value\n"
    (clone,) = assert_clones({"a.py": repeated}, [("exact", [("a.py", 2, 4), ("a.py", 5, 7)])],
                             min_lines=3, min_tokens=10)
    first, second = clone.fragments
    assert first.end_line < second.start_line
