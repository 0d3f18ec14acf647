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


class _Names(NamedTuple):
    """What one copy's text says about its names: those it binds (a rename of them is no
    parameter) and those that only type it (annotations: never a parameter)."""

    bound: frozenset[str]
    typing: frozenset[str]


# Read with a few C-level regex calls, not a parse: a scan makes a suggestion for every clone.
_ASSIGNED_RE = re.compile(r"\b([A-Za-z_]\w*)\s*(?:[-+*/%&|^@]|//|\*\*|<<|>>)?=(?!=)")
_INTRODUCED_RE = re.compile(r"\b(?:for|as|def|class|import|global|nonlocal)\s+([A-Za-z_]\w*)")
_TUPLE_TARGET_RE = re.compile(r"\bfor\s+([\w\s,()]+?)\s+in\b")
_HEADER_RE = re.compile(r"\bdef\s+\w+\s*\((.*?)\)\s*(?:->\s*([^:]+))?:", re.DOTALL)
_PARAM_RE = re.compile(r"(?:^|,)\s*\**\s*([A-Za-z_]\w*)\s*(?::([^,=]*))?")
_IDENTIFIER_RE = re.compile(r"[A-Za-z_]\w*")


def _names_of(text: str) -> _Names:
    """The names a copy binds (assigned, looped over, defined, imported, its parameters) and
    the names that appear only in its parameter and return annotations."""
    bound = set(_ASSIGNED_RE.findall(text)) | set(_INTRODUCED_RE.findall(text))
    for targets in _TUPLE_TARGET_RE.findall(text):
        bound.update(_IDENTIFIER_RE.findall(targets))
    annotations = []
    for params, returns in _HEADER_RE.findall(text):
        for name, annotation in _PARAM_RE.findall(params):
            bound.add(name)
            annotations.append(annotation)
        annotations.append(returns)
    typed = set(_IDENTIFIER_RE.findall(" ".join(annotations)))
    if typed:  # a name that also appears in the code is no mere type
        code = _HEADER_RE.sub(" ", text)
        typed -= set(_IDENTIFIER_RE.findall(code))
    return _Names(frozenset(bound), frozenset(typed))


def _parameters(pairs: list[tuple[str, str]], texts: list[str]) -> list[tuple[str, str]]:
    """The differing names that stand for different values: not a consistent rename of names
    each copy binds itself, not a name that only types the code."""
    if not pairs:
        return pairs
    first, *others = map(_names_of, texts)
    bound_elsewhere = frozenset().union(*(n.bound for n in others))
    typing_names = first.typing.union(*(n.typing for n in others))
    return [(a, b) for a, b in pairs
            if not (a in first.bound and b in bound_elsewhere)
            and a not in typing_names and b not in typing_names]


_LITERAL_KINDS = (("\"", "text"), ("'", "text"), ("b'", "data"), ('b"', "data"))


def _literal_names(literals: list[tuple[str, str]], first: list[bytes]) -> list[str]:
    """A parameter name for each differing literal, read from the tokens before it in the first
    copy (`timeout=5` -> timeout, `mode == "r"` -> mode_value), else from its kind."""
    names: list[str] = []
    for literal, _ in literals:
        token = literal.encode()
        name = ""
        if token in first:
            at = first.index(token)
            before = [t.decode(errors="replace") for t in first[max(0, at - 2):at]]
            if len(before) == 2 and before[1] in ("=", ":") and before[0].isidentifier():
                name = before[0] if before[1] == "=" else f"{before[0]}_value"
            elif len(before) == 2 and before[1] in ("==", "!=", "<", ">", "<=", ">=", "in") \
                    and before[0].isidentifier():
                name = f"{before[0]}_value"
        if not name or keyword_like(name):
            lowered = literal.lower()
            name = next((kind for start, kind in _LITERAL_KINDS if lowered.startswith(start)),
                        "flag" if literal in ("True", "False") else "number")
        candidate, number = name, 2
        while candidate in names:
            candidate, number = f"{name}_{number}", number + 1
        names.append(candidate)
    return names


def keyword_like(name: str) -> bool:
    import keyword

    return keyword.iskeyword(name) or not name.isidentifier()


_CALL_RE = re.compile(r"([A-Za-z_]\w*)\s*\(")
_STATEMENT_ASSIGN_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(?!=)", re.MULTILINE)


def _derived_name(text: str) -> str:
    """A name for code that is no definition: its most frequent call, else its first assigned name."""
    calls = [c for c in _CALL_RE.findall(text) if c not in _PLAIN_CALLS and not keyword_like(c)]
    if calls:
        return f"{_snake(max(dict.fromkeys(calls), key=calls.count))}_steps"
    assigned = _STATEMENT_ASSIGN_RE.findall(text)
    return f"compute_{_snake(assigned[0])}" if assigned else "repeated_steps"


_PLAIN_CALLS = frozenset({"print", "len", "str", "int", "float", "list", "dict", "set", "tuple",
                          "isinstance", "range", "super", "self", "append", "get", "format"})


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower().strip("_") or "repeated"


def suggestion(kind: str, texts: list[str], lines: int,
               aligned: float | None = None,
               copy_tokens: list[list[bytes]] | None = None) -> tuple[str, float]:
    """A one-paragraph refactoring proposal and the similarity of the copies
    (`aligned`, when given, is the detector's own similarity for near-misses;
    `copy_tokens`, the copies' `code_tokens` when the caller has them already).

    Parameters are only what the copies really differ in: a consistent rename of names
    each copy binds is none, nor is a name that only annotates types."""
    copies = len(texts)
    saved = max(0, (copies - 1) * lines - copies)
    match = _DEF_RE.match(texts[0])
    if kind == "exact":
        name = match.group(1) if match else "the code"
        return (f"Identical code in {copies} places: keep one `{name}` and call it from the "
                f"others; saves about {saved} lines.", 1.0)
    # Each copy tokenized once: a class of 25 copies compares the first with 24 others.
    first, *others = copy_tokens if copy_tokens is not None else map(code_tokens, texts)
    name = match.group(1) if match else _derived_name(texts[0])
    diffs = [differences(first, other, measure=aligned is None) for other in others]
    similarity = min(d.similarity for d in diffs) if aligned is None else aligned
    names = dict.fromkeys(pair for d in diffs for pair in d.names)
    literals = dict.fromkeys(pair for d in diffs for pair in d.literals)
    names = {pair: None for pair in names if pair[0] != name}  # the copies' own names differ anyway
    differing = _parameters(list(names), texts)
    shown_literals = list(literals)[:4]
    # One parameter per name of the first copy, however many names it pairs with.
    params = list(dict.fromkeys(a for a, _ in differing))[:4] + _literal_names(shown_literals, first)
    shown = differing[:4] + _masked(shown_literals, texts)
    what = ", ".join(f"{a}/{b}" for a, b in shown)
    call = f"`{name}({', '.join(params)})`" if params else f"`{name}`"
    if kind == "near":
        edits = f"differs in {what} and in edited statements" if what else "differs in edited statements"
        return (f"Near-identical code in {copies} places ({similarity:.0%} alike): extract the "
                f"common part into {call} and keep the edited statements at the call sites; "
                f"{edits}; saves about {saved // 2} lines.", similarity)
    if not what:
        return (f"Same code with other names in {copies} places (a consistent rename): keep one "
                f"{call} and call it from the others; saves about {saved} lines.", similarity)
    return (f"Same code with other names or values in {copies} places: extract "
            f"{call} with parameters for {what}; saves about {saved} lines.",
            similarity)
