"""Tests for engine.near: the alignment, and near-miss classes over real code."""
import ast
import random
import textwrap

import numpy as np

from engine.near import candidate_pairs, lcs_length, similarity
from engine.near_sign import NUM_PERM, parameters
from engine.python_units import NoisePolicy, python_fingerprints
from harness import assert_clones

ORIGINAL = """
def total(lines, country, coupon=None):
    subtotal = 0
    for line in lines:
        if line.quantity <= 0:
            raise ValueError(line.sku)
        subtotal += line.price * line.quantity
    if coupon is not None and coupon.applies_to(subtotal):
        subtotal -= min(coupon.amount, subtotal)
    rate = RATES.get(country, 0)
    return subtotal + round(subtotal * rate, 2)
"""
EDITED = """
def credit(entries, region, promo=None, fee=0):
    amount = 0
    for entry in entries:
        if entry.quantity <= 0:
            raise ValueError(entry.sku)
        if entry.cancelled:
            continue
        amount += entry.price * entry.quantity
    if promo is not None and promo.applies_to(amount):
        amount -= min(promo.amount, amount)
    log.debug("before tax: %s", amount)
    rate = RATES.get(region, 0)
    return amount + round(amount * rate, 2) + fee
"""


NEAR = {"min_lines": 5, "min_tokens": 35}


def test_lcs_length_agrees_with_dynamic_programming():
    """The bit-parallel LCS equals the textbook table on random strings."""
    rng = random.Random(3)
    for _ in range(200):
        a = bytes(rng.choice(b"abcd") for _ in range(rng.randint(0, 40)))
        b = bytes(rng.choice(b"abcd") for _ in range(rng.randint(0, 40)))
        table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i, x in enumerate(a):
            for j, y in enumerate(b):
                table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1],
                                                                           table[i + 1][j])
        assert lcs_length(a, b) == table[-1][-1]
    assert similarity(b"abc", b"abc") == 1.0 and similarity(b"", b"abc") == 0.0


def test_an_edited_renamed_copy_is_a_near_clone():
    """Renamed names plus inserted and changed statements: one near class."""
    (clone,) = assert_clones({"a.py": ORIGINAL, "b.py": EDITED},
                             [("near", [("a.py", 2, 11), ("b.py", 2, 14)])], threshold=0.8, **NEAR)
    assert 0.8 <= clone.similarity < 1


def test_unrelated_functions_of_one_shape_are_not():
    """Different logic in the same statement shapes stays below the threshold."""
    other = """
    def render(rows, width, title=None):
        out = []
        for row in rows:
            if not row:
                continue
            out.append(str(row).ljust(width))
        if title:
            out.insert(0, title.center(width))
        return "\\n".join(out)
    """
    assert_clones({"a.py": ORIGINAL, "b.py": other}, [], threshold=0.85, **NEAR)


def test_a_function_and_one_nested_in_it_are_never_one_class():
    """An outer function is not a copy of the function it contains."""
    nested = "def outer(lines, country, coupon=None):\n" + textwrap.indent(ORIGINAL, "    ") + \
        "\n    return total(lines, country, coupon)\n"
    # Only the inner function (lines 3-12) pairs with the edited copy; `outer` is in no class.
    assert_clones({"a.py": nested, "b.py": EDITED},
                  [("near", [("a.py", 3, 12), ("b.py", 2, 14)])], threshold=0.8, **NEAR)


def test_signatures_made_per_file_meet_in_one_lsh_bucket():
    """The signing side (`near_sign`, in each file's parse) and the matching side
    (`near`'s LSH) agree: a function and its edited copy, signed apart, are candidates."""
    signed = []
    for code in (ORIGINAL, EDITED):
        source = textwrap.dedent(code).encode()
        prints = python_fingerprints(source, ast.parse(source), NoisePolicy())
        assert len(prints.near) == 1 and len(prints.signatures) == NUM_PERM * 4
        signed.append(prints.signatures)
    bands, rows = parameters()[:2]
    assert bands * rows <= NUM_PERM
    sigs = np.frombuffer(b"".join(signed), dtype=np.uint32).reshape(2, NUM_PERM)
    assert candidate_pairs(sigs, np.ones(2, dtype=bool)).tolist() == [[0, 1]]


def test_the_kept_lsh_layout_and_permutations_are_datasketchs():
    """The constants stand in for a half-second import: they must be what datasketch's
    public API gives for the same threshold, size and seed."""
    from datasketch import MinHash, MinHashLSH

    from engine.near_sign import BANDS, LSH_THRESHOLD, ROWS

    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    assert (lsh.b, lsh.r) == (BANDS, ROWS)
    perm_a, perm_b = MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32").permutations
    params = parameters()
    assert (params.bands, params.rows) == (BANDS, ROWS)
    assert np.array_equal(params.perm_a, np.asarray(perm_a, dtype=np.uint32))
    assert np.array_equal(params.perm_b, np.asarray(perm_b, dtype=np.uint32))
