"""Whether copies of one shape share their content: the test a renamed or near clone
passes before it is reported.

The detectors compare shapes (names and literals abstracted), so two fragments that
call different things in the same pattern look alike (`tokenizer.consume(); _parse_extras()`
beside `tokenizer.consume(); _parse_marker_op()`). A renamed or edited copy keeps the
APIs of its original: a rename touches locals, not the attributes and functions it uses.
"""
from __future__ import annotations

import keyword
import re
from collections import Counter
from collections.abc import Sequence
from itertools import combinations

from rapidfuzz.distance import Indel

from engine.normalize import SEP, abstract_literals, abstract_unqualified_names, rename

# A renamed copy uses the same APIs: at least this share of the smaller side's called
# names and attributes in common ...
_SHARED_NAMES = 0.5
_MIN_NAMES = 3  # ... unless a side has fewer than this: too little to judge by
# An edited copy differs from its original by inserted, deleted and changed statements;
# tokens that align in shape but name other attributes are another function written in the
# same pattern. At most this much of a near pair's similarity may rest on them.
MAX_API_DRIFT = 0.06

_KEYWORDS = frozenset(k.encode() for k in keyword.kwlist)  # `return (`, `if (`
_USED_NAME_RE = re.compile(
    rb"\x00\.\x00([A-Za-z_\x80-\xff][\w\x80-\xff]*)"  # an attribute
    rb"|(?<!\x00def)(?<!\x00class)\x00([A-Za-z_\x80-\xff][\w\x80-\xff]*)(?=\x00\()")  # a call


def used_names(copy_tokens: list[bytes]) -> set[bytes]:
    """The attribute and called names of a fragment's tokens (not the names it defines)."""
    joined = SEP + SEP.join(copy_tokens) + SEP
    return {attribute or called for attribute, called in _USED_NAME_RE.findall(joined)} - _KEYWORDS


def _shares_names(first: set[bytes], other: set[bytes]) -> bool:
    smaller = min(len(first), len(other))
    return smaller < _MIN_NAMES or len(first & other) >= _SHARED_NAMES * smaller


def copies_in_content(copies: list[list[bytes]], edited: bool) -> tuple[int, ...]:
    """The positions of the copies (their `code_tokens`) that are a copy of another one in
    content, not only in shape: at least _SHARED_NAMES of the smaller side's called names
    and attributes in common (or too few to judge by), and for `edited` (near-miss) copies
    an API drift (see `api_drift`) of at most MAX_API_DRIFT. A clone keeps these (two at
    least, or none)."""
    # Copies alike in both are compared once: a class can hold thousands of renamed copies.
    keys = [(frozenset(used_names(copy)), tuple(api_form(copy)) if edited else ())
            for copy in copies]
    counts = Counter(keys)
    agreeing = {key for key, count in counts.items() if count > 1}
    for first, other in combinations(counts, 2):
        if _shares_names(first[0], other[0]) and (
                not edited or api_drift(first[1], other[1]) <= MAX_API_DRIFT):
            agreeing.update((first, other))
    return tuple(i for i, key in enumerate(keys) if key in agreeing)


def api_drift(first: Sequence[bytes], other: Sequence[bytes]) -> float:
    """How much more alike two copies (their `api_form`) are in shape than with their
    attributes kept: about the share of tokens that align in shape but name different
    attributes. Inserted and deleted statements lower both alike, so they do not count."""
    return Indel.normalized_similarity(_shape(first), _shape(other)) \
        - Indel.normalized_similarity(first, other)


def _shape(api: Sequence[bytes]) -> list[bytes]:
    return rename(SEP.join(api)).split(SEP)


def api_form(copy_tokens: list[bytes]) -> list[bytes]:
    """A copy's tokens with literals and names abstracted but its attributes kept:
    `self.items.append(x)` -> `v . items . append ( v )`. Every other name is abstracted:
    a rename touches locals and parameters, and sometimes a local that is called
    (`setter = obj.__setattr__; setter("a", a)`)."""
    framed = SEP + SEP.join(copy_tokens) + SEP
    return abstract_literals(abstract_unqualified_names(framed))[1:-1].split(SEP)
