"""The one-line suggestions: parameters only for what really differs, names read from the code."""
from __future__ import annotations

import json
import re
import textwrap

from engine.suggest import suggestion
from tests.conftest import FIXTURES

COMPUTE = """
def {name}({items}: list[{T}], {rate}: float) -> {T}:
    {subtotal} = 0
    for {item} in {items}:
        {subtotal} += {item}.price * {item}.count
    return {subtotal} * (1 + {rate})
"""


def copy(**names: str) -> str:
    return textwrap.dedent(COMPUTE).format(**names)


def test_a_consistent_rename_and_a_type_variable_are_no_parameters():
    """Two copies of one function with every local renamed and another type variable."""
    a = copy(name="computeTotals", items="items", T="T", rate="taxRate", subtotal="subtotal", item="i")
    b = copy(name="compute_sum", items="rows", T="U", rate="rate", subtotal="total", item="r")
    text, _ = suggestion("renamed", [a, b], 5)
    assert "`computeTotals`" in text and "(" not in text.split("`")[1]
    assert "consistent rename" in text
    for name in ("items", "taxRate", "subtotal", "T", "shared_block"):
        assert f"{name}," not in text and f"({name}" not in text


def test_differing_literals_are_named_from_their_place():
    """`timeout=5` against `timeout=9`: the parameter is `timeout`, never value1."""
    a = "def fetch(url):\n    r = get(url, timeout=5)\n    return r.json()\n"
    b = "def fetch(url):\n    r = get(url, timeout=9)\n    return r.json()\n"
    text, _ = suggestion("renamed", [a, b], 3)
    assert "`fetch(timeout)`" in text and "5/9" in text


def test_a_run_that_is_no_definition_is_named_from_its_calls():
    a = "total = 0\nfor x in xs:\n    total += scale(x, 2)\n"
    b = "total = 0\nfor x in xs:\n    total += scale(x, 3)\n"
    text, _ = suggestion("renamed", [a, b], 3)
    assert "`scale_steps(" in text and "shared_block" not in text


def test_a_near_miss_says_its_statements_were_edited():
    a = "def f(a):\n    b = a + 1\n    return b\n"
    b = "def f(a):\n    b = a + 1\n    print(b)\n    return b\n"
    text, _ = suggestion("near", [a, b], 3, aligned=0.85)
    assert "edited statements" in text and "layout only" not in text


def test_no_placeholder_names_in_the_shop_report():
    """The golden report of fixtures/shop names no shared_block and no valueN parameter."""
    clones = json.loads((FIXTURES / "shop.golden.json").read_text())["clones"]
    assert clones
    for clone in clones:
        assert "shared_block" not in clone["suggestion"]
        assert not re.search(r"\bvalue\d\b", clone["suggestion"]), clone["suggestion"]


def test_a_name_that_pairs_with_several_others_is_one_parameter():
    """`f` called where the copies call `g` in one place and `h` in another: one parameter `f`."""
    one = "def run(x):\n    a = f(x)\n    b = f(a)\n    log(a, b)\n    return a + b\n"
    two = "def run(x):\n    a = g(x)\n    b = h(a)\n    log(a, b)\n    return a + b\n"
    text, _ = suggestion("renamed", [one, two], 5)
    assert "`run(f)`" in text
