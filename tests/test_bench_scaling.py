"""The scaling benchmark's generated trees: renamed and edited copies of real code that
still parse, and the huge file (small sizes here; the benchmark makes them big)."""
from __future__ import annotations

import ast
import random
import re

from benchmarks.scaling import changeable_tokens, file_copies, huge_file, rewrite

SAMPLE = '''"""A module."""
import os


@decorator(1)
def total(values, start=0):
    result = start
    for value in values:
        if value > 0 and value != 3:
            result = result + value - 1
        elif value <= -2 or value == 7:
            result -= len(f"{value!r:>4}")
    return result


class Box:
    def __init__(self, size):
        self.size = size

    def bigger(self, other):
        return self.size >= other.size + 1 and os.sep == "/"
'''


def _copies(data: bytes, copies=(1, 2, 3)) -> dict[int, bytes]:
    return {copy: content for copy, content, _ in file_copies(data, "pkg/mod.py", copies)}


def test_copies_differ_from_the_original_and_parse():
    copies = _copies(SAMPLE.encode())
    assert copies[1] == SAMPLE.encode()
    for copy in (2, 3):
        assert copies[copy] != SAMPLE.encode()
        ast.parse(copies[copy])
    assert copies[2] != copies[3]


def test_names_are_renamed_consistently():
    tokens = changeable_tokens(SAMPLE)
    renamed = rewrite(SAMPLE, tokens, 2, random.Random(0), edit_probability=0.0).text
    assert "def total_c2(values_c2, start_c2=0):" in renamed
    assert "self.size_c2 = size_c2" in renamed and "len(" in renamed and "__init__" in renamed
    assert re.sub(r"_c2\b", "", renamed) == SAMPLE  # every name, every place, one spelling


def test_some_operators_are_swapped():
    tokens = changeable_tokens(SAMPLE)
    edited = rewrite(SAMPLE, tokens, 2, random.Random(1), edit_probability=1.0)
    assert edited.edited_lines == 4  # the lines with a comparison, +, -, and or or
    assert ast.dump(ast.parse(edited.text)) != ast.dump(ast.parse(
        rewrite(SAMPLE, tokens, 2, random.Random(1), edit_probability=0.0).text))
    ast.parse(edited.text)


def test_copies_are_deterministic():
    assert _copies(SAMPLE.encode()) == _copies(SAMPLE.encode())


def test_a_file_that_does_not_parse_is_copied_as_it_is():
    broken = b"def f(:\n    return 1\n"
    assert set(_copies(broken).values()) == {broken}


def test_the_huge_file_parses_and_has_the_size_asked(tmp_path):
    (tmp_path / "a.py").write_text(SAMPLE)
    (tmp_path / "b.py").write_text("x = 1\n\n\ndef g(a):\n    return a * 2\n")
    text = huge_file(tmp_path, 20_000)
    ast.parse(text)
    size = len(text.encode())
    assert 20_000 <= size < 20_000 + len(SAMPLE)
    assert "def total_c2(" in text  # later passes over the sources are renamed copies
    assert huge_file(tmp_path, 20_000) == text
