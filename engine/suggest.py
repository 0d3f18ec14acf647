"""How to remove a clone: which names and literals differ, and the function to extract."""
from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import NamedTuple

from engine.normalize import is_identifier, is_literal, tokens

_DEF_RE = re.compile(r"^\s*(?:@.*\n\s*)*(?:async\s+)?(?:def|class)\s+(\w+)", re.MULTILINE)


_DOC_QUOTES = (b'"""', b"'''")


class Difference(NamedTuple):
    """The tokens that differ between two copies, by kind."""

    names: tuple[tuple[str, str], ...]
    literals: tuple[tuple[str, str], ...]
    similarity: float


def differences(first: str, other: str) -> Difference:
    """Token-by-token comparison of two copies (renamed copies align one to one)."""
    a, b = tokens(first.encode()), tokens(other.encode())
    if not a or not b:
        return Difference((), (), 0.0)
    if len(a) == len(b):
        pairs = list(zip(a, b))
        same = sum(x == y for x, y in pairs)
    else:  # docstrings or edited statements: align first
        matcher = SequenceMatcher(None, a, b, autojunk=False)
        same = sum(block.size for block in matcher.get_matching_blocks())
        pairs = [pair for op, i1, i2, j1, j2 in matcher.get_opcodes()
                 if op == "replace" and i2 - i1 == j2 - j1
                 for pair in zip(a[i1:i2], b[j1:j2])]
    names: dict[tuple[str, str], None] = {}
    literals: dict[tuple[str, str], None] = {}
    for x, y in pairs:
        if x == y or x[-3:] in _DOC_QUOTES or y[-3:] in _DOC_QUOTES:
            continue  # docstrings differ freely; they are not parameters
        if is_identifier(x) and is_identifier(y):
            names[(x.decode(errors="replace"), y.decode(errors="replace"))] = None
        elif is_literal(x) or is_literal(y):
            literals[(x.decode(errors="replace"), y.decode(errors="replace"))] = None
    return Difference(tuple(names), tuple(literals), round(same / max(len(a), len(b)), 3))


def suggestion(kind: str, texts: list[str], lines: int,
               aligned: float | None = None) -> tuple[str, float]:
    """A one-paragraph refactoring proposal and the similarity of the copies
    (`aligned`, when given, is the detector's own similarity for near-misses)."""
    copies = len(texts)
    saved = max(0, (copies - 1) * lines - copies)
    match = _DEF_RE.match(texts[0])
    name = match.group(1) if match else "shared_block"
    if kind == "exact":
        return (f"Identical code in {copies} places: keep one `{name}` and call it from the "
                f"others; saves about {saved} lines.", 1.0)
    diffs = [differences(texts[0], other) for other in texts[1:]]
    similarity = min(d.similarity for d in diffs) if aligned is None else aligned
    names = dict.fromkeys(pair for d in diffs for pair in d.names)
    literals = dict.fromkeys(pair for d in diffs for pair in d.literals)
    names = {pair: None for pair in names if pair[0] != name}  # the copies' own names differ anyway
    params = [a for a, _ in names][:4] + [f"value{i + 1}" for i in range(min(len(literals), 4))]
    differing = [f"{a}/{b}" for a, b in list(names)[:4]] + [f"{a}/{b}" for a, b in list(literals)[:4]]
    what = ", ".join(differing) if differing else "layout only"
    if kind == "near":
        return (f"Near-identical code in {copies} places ({similarity:.0%} alike): extract the "
                f"common part into `{name}({', '.join(params)})` and keep the edited statements "
                f"at the call sites; differs in {what}; saves about {saved // 2} lines.", similarity)
    return (f"Same code with other names or values in {copies} places: extract "
            f"`{name}({', '.join(params)})` with parameters for {what}; saves about {saved} lines.",
            similarity)
