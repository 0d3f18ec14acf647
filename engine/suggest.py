"""How to remove a clone: which names and literals differ, and the function to extract."""
from __future__ import annotations

import re
from typing import NamedTuple

from engine.near import similarity as near_similarity
from engine.normalize import is_identifier, is_literal, tokens

_DEF_RE = re.compile(r"^\s*(?:@.*\n\s*)*(?:async\s+)?(?:def|class)\s+(\w+)", re.MULTILINE)


# A suggestion names a few parameters; pairing them needs only the start of the copies.
_PAIRING_TOKENS = 400
_DOC_QUOTES = (b'"""', b"'''")


class Difference(NamedTuple):
    """The tokens that differ between two copies, by kind."""

    names: tuple[tuple[str, str], ...]
    literals: tuple[tuple[str, str], ...]
    similarity: float


def code_tokens(text: str) -> list[bytes]:
    """A copy's tokens as `differences` compares them: docstrings left out."""
    source = text.encode()
    found = tokens(source)
    if any(quotes in source for quotes in _DOC_QUOTES):  # most copies have none to drop
        found = [t for t in found if t[-3:] not in _DOC_QUOTES]
    return found


def differences(a: list[bytes], b: list[bytes], measure: bool = True) -> Difference:
    """Token-by-token comparison of two copies' `code_tokens`.

    Copies of one length (exact and renamed ones) align token by token; edited
    copies are compared by the longest common subsequence of their tokens
    (skipped when `measure` is False: the caller has a similarity already), and
    their differing names and literals are paired by the tokens around them.
    """
    if not a or not b:
        return Difference((), (), 0.0)
    if len(a) == len(b):
        pairs = [(x, y) for x, y in zip(a, b) if x != y]
        similarity = 1 - len(pairs) / len(a)
    else:
        pairs = _paired_by_context(a[:_PAIRING_TOKENS], b[:_PAIRING_TOKENS])
        similarity = _token_similarity(a, b) if measure else 0.0
    names: dict[tuple[str, str], None] = {}
    literals: dict[tuple[str, str], None] = {}
    for x, y in dict.fromkeys(pairs):  # a pair is judged once, however often it recurs
        if is_identifier(x) and is_identifier(y):
            names[(x.decode(errors="replace"), y.decode(errors="replace"))] = None
        elif is_literal(x) or is_literal(y):
            literals[(x.decode(errors="replace"), y.decode(errors="replace"))] = None
    return Difference(tuple(names), tuple(literals), round(similarity, 3))


def _paired_by_context(a: list[bytes], b: list[bytes]) -> list[tuple[bytes, bytes]]:
    """Pair the names and literals found in only one copy by the tokens around them:
    a renamed variable keeps its neighbours, an inserted one has none in common."""
    in_a, in_b = set(a), set(b)
    only_a = [t for t in dict.fromkeys(a) if t not in in_b]
    only_b = [t for t in dict.fromkeys(b) if t not in in_a]

    def contexts(side: list[bytes], only: set[bytes]) -> dict[bytes, set[tuple[bytes, bytes]]]:
        found: dict[bytes, set[tuple[bytes, bytes]]] = {}
        padded = [b"", *(b"?" if t in only else t for t in side), b""]
        for i, token in enumerate(side):
            if token in only:
                found.setdefault(token, set()).add((padded[i], padded[i + 2]))
        return found

    around_a, around_b = contexts(a, set(only_a)), contexts(b, set(only_b))
    pairs, used = [], set()
    for x in only_a:
        kind = is_identifier(x)
        best, best_score = None, 0
        for y in only_b:
            if y not in used and is_identifier(y) == kind:
                score = len(around_a[x] & around_b[y])
                if score > best_score:
                    best, best_score = y, score
        if best is not None:
            used.add(best)
            pairs.append((x, best))
    return pairs


def _token_similarity(a: list[bytes], b: list[bytes]) -> float:
    """2·LCS / (len a + len b) over tokens, each token coded as one byte."""
    codes: dict[bytes, int] = {}
    coded = [bytes(codes.setdefault(t, len(codes) % 255) for t in side) for side in (a, b)]
    return near_similarity(*coded)


def _masked(literals: list[tuple[str, str]], texts: list[str]) -> list[tuple[str, str]]:
    """The differing literals as a suggestion shows them. Suggestions are stored and sent
    to chats, so a secret of the code (bound to a name like `password`, or shaped like a
    key) is masked."""
    if not literals:
        return literals
    from metrics.sanitize import binds_secret, mask_code, mask_literal  # loaded when needed

    def shown(literal: str) -> str:
        bound = any(binds_secret(text, literal) for text in texts)
        return mask_literal(literal) if bound else mask_code(literal)

    return [(shown(a), shown(b)) for a, b in literals]


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
    # Each copy tokenized once: a class of 25 copies compares the first with 24 others.
    first, *others = map(code_tokens, texts)
    diffs = [differences(first, other, measure=aligned is None) for other in others]
    similarity = min(d.similarity for d in diffs) if aligned is None else aligned
    names = dict.fromkeys(pair for d in diffs for pair in d.names)
    literals = dict.fromkeys(pair for d in diffs for pair in d.literals)
    names = {pair: None for pair in names if pair[0] != name}  # the copies' own names differ anyway
    params = [a for a, _ in names][:4] + [f"value{i + 1}" for i in range(min(len(literals), 4))]
    shown = list(names)[:4] + _masked(list(literals)[:4], texts)
    differing = [f"{a}/{b}" for a, b in shown]
    what = ", ".join(differing) if differing else "layout only"
    if kind == "near":
        return (f"Near-identical code in {copies} places ({similarity:.0%} alike): extract the "
                f"common part into `{name}({', '.join(params)})` and keep the edited statements "
                f"at the call sites; differs in {what}; saves about {saved // 2} lines.", similarity)
    return (f"Same code with other names or values in {copies} places: extract "
            f"`{name}({', '.join(params)})` with parameters for {what}; saves about {saved} lines.",
            similarity)
