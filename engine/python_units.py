"""Python source to statement units: `ast` gives the structure, `normalize` the tokens.

Every statement becomes a unit. A compound statement (def, class, if, for,
with, try, match ...) is one unit whose hashes cover its header and its whole
body, and each of its bodies is a block of units in turn. Matching runs of
units inside blocks then yields fragments that follow the code's structure:
whole functions, classes, or runs of whole statements of one body.

Noise is marked here, where the syntax is known: imports, docstrings, stubs,
`@overload`s, plain attribute stores, `__init__` bodies that only store their
arguments and thin one-call delegations weigh nothing, so they never make a
clone big enough to report on their own. Data — literal tables and blocks of
one repeated shape — keeps its literals and names in the renamed hash, so two
tables match only when their contents do.

This is the hot path of a cold scan: one pass over the statements, no
per-token Python work (see `normalize`).
"""
from __future__ import annotations

import ast
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Generator
from itertools import accumulate
from typing import Any, NamedTuple, TypeVar

from engine.near import SHINGLE, NearUnit, signatures, token_codes
from engine.normalize import SEP, TokenStream, hash64, token_stream
from engine.records import Block, Fingerprints, Unit


class NoisePolicy(NamedTuple):
    """Which kinds of boilerplate are still reported (all False by default)."""

    imports: bool = False
    data: bool = False
    stubs: bool = False
    boilerplate: bool = False
    delegations: bool = False


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_DEFINITIONS = (*_FUNCTIONS, ast.ClassDef)
_COMPOUND = frozenset({
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.If, ast.For, ast.AsyncFor,
    ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match, *([ast.TryStar] if hasattr(ast, "TryStar") else []),
})
_BODY_FIELDS = ("body", "orelse", "finalbody")
_DATA_CONTAINERS = (ast.List, ast.Tuple, ast.Set, ast.Dict)
# A table's entries may be calls like `Entry("a", 1)`; it is still data.
_DATA_NODES = (
    ast.Constant, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Name, ast.Attribute,
    ast.UnaryOp, ast.USub, ast.UAdd, ast.Load, ast.Starred, ast.keyword, ast.Call,
)
_PLAIN_VALUES = (ast.Name, ast.Constant, ast.Attribute)
# A function body of at most this many one-line statements is a getter,
# setter or delegation: the kind of copy nobody merges.
_THIN_STATEMENTS = 3
_THIN_LINES = 4
# Protocol methods this short are boilerplate (see _is_protocol_boilerplate).
_BOILERPLATE_LINES = 6
_PROTOCOL_DUNDERS = frozenset(
    f"__{name}__" for name in "eq ne lt le gt ge hash repr str format bool len".split())
# This many consecutive statements of one shape are a table written as code.
_REPEATED_RUN = 3
# A block of at least this many statements with at most a third distinct
# shapes (a registration table written as calls, say) is data, not logic.
_REPETITIVE_MIN = 4

_T = TypeVar("_T")
# A step of the statement walk: a generator that yields the walks of its
# children and is sent each one's result (see `_drive`).
_Walk = Generator["_Walk[Any]", Any, _T]


def python_fingerprints(source: bytes, tree: ast.Module, policy: NoisePolicy,
                        stream: TokenStream | None = None) -> Fingerprints:
    """The statement units of a parsed module, blocks in order, parents before children.

    `stream` is `token_stream(source)` when the caller has it already."""
    stream = token_stream(source) if stream is None else stream
    walk = _StatementWalk(source, stream, policy)
    _drive(walk.block(tree.body, -1))
    ordered, blocks, index = _in_block_order(walk.units, walk.keys_of_blocks)
    near = _near_units(walk.functions, blocks, index)
    codes = token_codes(stream.renamed)
    return Fingerprints(tuple(ordered), tuple(blocks), tuple(near), signatures(codes, near), codes)


class _StatementWalk:
    """One module's walk: a unit per statement, keyed in the order statements start.

    `block` yields its compound statements to `_drive`, which keeps the nesting
    on a list, not on the interpreter's frames: an `elif` chain nests one `If`
    per branch, and generated dispatch code has thousands. A compound delegates
    to its blocks with `yield from` (cheaper than a round trip through
    `_drive`, and one level deep only)."""

    def __init__(self, source: bytes, stream: TokenStream, policy: NoisePolicy) -> None:
        self.token_starts, self.exact_tokens, self.renamed_tokens = \
            stream.starts, stream.exact, stream.renamed
        self.line_starts = [0, *accumulate(map(len, source.splitlines(keepends=True)))]
        self.policy = policy
        self.report_data = policy.data
        self.units: list[Unit] = []      # indexed by key; a compound's is set when it ends
        self.keys_of_blocks: list[tuple[int, list[int]]] = []   # (parent key, unit keys)
        # Functions for the near-miss detector: (key, first token, stop token, and
        # the range of blocks made while visiting it — its body, nested included).
        self.functions: list[tuple[int, int, int, int, int]] = []

    def start_of(self, node: ast.stmt) -> tuple[int, int]:
        """Byte offset and line where a statement's text starts (decorators included)."""
        decorators = getattr(node, "decorator_list", None)
        if decorators:
            line = decorators[0].lineno
            return self.line_starts[line - 1], line
        return self.line_starts[node.lineno - 1] + node.col_offset, node.lineno

    def hashes(self, start: int, end: int) -> tuple[int, int, int]:
        first = bisect_left(self.token_starts, start)
        stop = bisect_left(self.token_starts, end)
        return (hash64(SEP.join(self.exact_tokens[first:stop])),
                hash64(SEP.join(self.renamed_tokens[first:stop])), stop - first)

    def block(self, stmts: list[ast.stmt], parent: int) -> _Walk[list[int]]:
        keys: list[int] = []
        self.keys_of_blocks.append((parent, keys))
        for node in stmts:
            if type(node) is ast.Expr and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                continue  # a docstring documents, like a comment: no unit, no hash
            keys.append((yield self.compound(node)) if type(node) in _COMPOUND
                        else self.simple(node))
        if not self.report_data:
            _mark_tables(self.units, keys)
        return keys

    def simple(self, node: ast.stmt) -> int:
        line_starts = self.line_starts
        exact, renamed, count = self.hashes(
            line_starts[node.lineno - 1] + node.col_offset,
            line_starts[node.end_lineno - 1] + node.end_col_offset)
        if not self.report_data and _is_data(node):
            renamed = exact
        noise = _is_noise(node, self.policy)
        self.units.append(Unit(node.lineno, node.end_lineno, exact, renamed,
                               0 if noise else node.end_lineno - node.lineno + 1,
                               0 if noise else count, noise))
        return len(self.units) - 1

    def compound(self, node: ast.stmt) -> _Walk[int]:
        units, line_starts = self.units, self.line_starts
        key = len(units)
        units.append(None)  # type: ignore[arg-type]  # the key is taken before the children
        start, start_line = self.start_of(node)
        bodies = _bodies(node, line_starts)
        header_end = min(_body_start(b, line_starts) if h < 0 else h for h, b in bodies)
        exact, renamed, tokens = self.hashes(start, header_end)
        lines = max(1, bisect_right(line_starts, header_end) - start_line) if tokens else 0
        exact_parts, renamed_parts = array("Q", [exact]), array("Q", [renamed])
        first_block = len(self.keys_of_blocks)
        for header, stmts in bodies:
            if header >= 0:
                h_exact, h_renamed, count = self.hashes(header, _body_start(stmts, line_starts))
                exact_parts.append(h_exact)
                renamed_parts.append(h_renamed)
                tokens += count
                lines += 1
            for k in (yield from self.block(stmts, key)):
                kid = units[k]
                exact_parts.append(kid.exact)
                renamed_parts.append(kid.renamed)
                lines += kid.lines
                tokens += kid.tokens
            exact_parts.append(0)  # a body ends here
            renamed_parts.append(0)
        noise = isinstance(node, _FUNCTIONS) and _is_noise_function(node, self.policy)
        if isinstance(node, _FUNCTIONS) and not noise:
            end = line_starts[node.end_lineno - 1] + node.end_col_offset
            self.functions.append((key, bisect_left(self.token_starts, start),
                                   bisect_left(self.token_starts, end),
                                   first_block, len(self.keys_of_blocks)))
        units[key] = Unit(start_line, node.end_lineno,
                          hash64(exact_parts.tobytes()), hash64(renamed_parts.tobytes()),
                          0 if noise else lines, 0 if noise else tokens, noise,
                          isinstance(node, _DEFINITIONS))
        return key


def _bodies(node: ast.stmt, line_starts: list[int]) -> list[tuple[int, list[ast.stmt]]]:
    """A compound statement's bodies in source order, each with the offset of the
    header text that opens it: -1 for the statement's own header (and `else:`,
    `finally:`), else where its `except ...:` or `case ...:` clause starts."""
    bodies: list[tuple[int, list[ast.stmt]]] = []
    for field in _BODY_FIELDS:
        stmts = getattr(node, field, None)
        if stmts:
            bodies.append((-1, stmts))
    for position, handler in enumerate(getattr(node, "handlers", ()), 1):
        bodies.insert(position, (line_starts[handler.lineno - 1] + handler.col_offset,
                                 handler.body))
    for case in getattr(node, "cases", ()):
        pattern = case.pattern
        bodies.append((line_starts[pattern.lineno - 1] + pattern.col_offset, case.body))
    return bodies


def _mark_tables(units: list[Unit], keys: list[int]) -> None:
    """A block of few distinct shapes, and runs of one statement shape (declarations,
    registrations), are tables: their renamed hash keeps names and literals."""
    if len(keys) >= _REPETITIVE_MIN and len({units[k].renamed for k in keys}) * 3 <= len(keys):
        for k in keys:
            units[k] = units[k]._replace(renamed=units[k].exact)
    start = 0
    for end in range(1, len(keys) + 1):
        if end == len(keys) or units[keys[end]].renamed != units[keys[start]].renamed:
            if end - start >= _REPEATED_RUN:
                for k in keys[start:end]:
                    units[k] = units[k]._replace(renamed=units[k].exact)
            start = end


def _in_block_order(units: list[Unit], keys_of_blocks: list[tuple[int, list[int]]]
                    ) -> tuple[list[Unit], list[Block], dict[int, int]]:
    """The units block by block, the blocks with their parents as unit indexes, and
    each key's index."""
    index: dict[int, int] = {}
    ordered: list[Unit] = []
    blocks: list[Block] = []
    for parent, keys in keys_of_blocks:
        blocks.append(Block(index[parent] if parent >= 0 else -1, len(ordered), len(keys)))
        for k in keys:
            index[k] = len(ordered)
            ordered.append(units[k])
    return ordered, blocks, index


def _near_units(functions: list[tuple[int, int, int, int, int]], blocks: list[Block],
                index: dict[int, int]) -> list[NearUnit]:
    """The functions big enough for the near-miss detector, with their bodies' units.
    Blocks made while visiting a function are consecutive, so its body's units
    (nested ones included) are one range of the ordered units."""
    near = []
    for key, token_first, token_stop, block_first, block_stop in functions:
        if block_stop > block_first and token_stop - token_first >= SHINGLE:
            last = blocks[block_stop - 1]
            sub_first, sub_stop = blocks[block_first].first, last.first + last.count
            if sub_stop > sub_first:
                near.append(NearUnit(index[key], token_first, token_stop, sub_first, sub_stop))
    return near


def _drive(walk: _Walk[_T]) -> _T:
    """Run a walk and the walks it yields, depth first, on an explicit stack:
    nesting depth costs list entries, not interpreter frames."""
    stack: list[_Walk[Any]] = [walk]
    value: Any = None
    while True:
        try:
            child = stack[-1].send(value)
        except StopIteration as done:
            stack.pop()
            if not stack:
                return done.value
            value = done.value
        else:
            stack.append(child)
            value = None


def _body_start(body: list[ast.stmt], line_starts: list[int]) -> int:
    first = body[0]
    decorators = getattr(first, "decorator_list", None)
    if decorators:
        return line_starts[decorators[0].lineno - 1]
    return line_starts[first.lineno - 1] + first.col_offset


def _is_data(node: ast.stmt) -> bool:
    """A statement whose value is a literal table — a container of constants, or a call
    fed only such (`table.update({...})`), or a string over several lines: its
    contents are the point, so it matches only an identical copy."""
    value = getattr(node, "value", None)
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (str, bytes)) and value.end_lineno > value.lineno
    if isinstance(value, ast.Call):
        arguments = [*value.args, *(k.value for k in value.keywords)]
        if not any(isinstance(a, _DATA_CONTAINERS) for a in arguments) or not all(
                isinstance(a, (*_DATA_CONTAINERS, ast.Constant)) for a in arguments):
            return False
    elif not isinstance(value, _DATA_CONTAINERS):
        return False
    constants = containers = 0
    for sub in ast.walk(value):
        if not isinstance(sub, _DATA_NODES):
            return False
        constants += isinstance(sub, ast.Constant)
        containers += isinstance(sub, _DATA_CONTAINERS)
    return constants >= 3 and containers > 0


def _is_noise(node: ast.stmt, policy: NoisePolicy) -> bool:
    kind = type(node)
    if kind is ast.Import or kind is ast.ImportFrom:
        return not policy.imports
    if kind is ast.Pass or (kind is ast.Expr and isinstance(node.value, ast.Constant)):
        return not policy.stubs
    return False


def _is_plain_store(node: ast.stmt) -> bool:
    """`self.x = x`, `self.y: int = 0`, or `super().__init__(...)`: what a store-only
    `__init__` is made of. (A run of them elsewhere is a block of one repeated
    shape, which the data rule already keeps from matching as renamed.)"""
    kind = type(node)
    if kind is ast.Assign or kind is ast.AnnAssign:
        targets = node.targets if kind is ast.Assign else [node.target]
        return (all(isinstance(t, ast.Attribute) for t in targets)
                and (node.value is None or isinstance(node.value, _PLAIN_VALUES)))
    if kind is ast.Expr:
        call = node.value
        return (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                and call.func.attr == "__init__")
    return False


def _is_noise_function(node: ast.FunctionDef | ast.AsyncFunctionDef, policy: NoisePolicy) -> bool:
    """Stubs, overloads, store-only bodies, getters, setters and delegations."""
    if not policy.stubs and any(_decorator_name(d) == "overload" for d in node.decorator_list):
        return True
    statements = [s for s in node.body if not _is_docstring(s)]
    if not policy.stubs and all(_is_stub_statement(s) for s in statements):
        return True
    if not policy.boilerplate and statements and all(
            _is_noise(s, policy) or _is_plain_store(s) for s in statements):
        return True
    if not policy.delegations and _is_thin(statements):
        return True
    if not policy.boilerplate and _is_protocol_boilerplate(node, statements):
        return True
    return False


def _is_protocol_boilerplate(node: ast.FunctionDef | ast.AsyncFunctionDef,
                             statements: list[ast.stmt]) -> bool:
    """Short comparison and repr dunders and the `return NotImplemented` pattern:
    written alike in every class that has them."""
    if sum(s.end_lineno - s.lineno + 1 for s in statements) > _BOILERPLATE_LINES:
        return False
    if node.name in _PROTOCOL_DUNDERS:
        return True
    return len(statements) <= _THIN_STATEMENTS and any(
        isinstance(s, ast.Return) and isinstance(s.value, ast.Name)
        and s.value.id == "NotImplemented" for s in ast.walk(node))


def _is_thin(statements: list[ast.stmt]) -> bool:
    """A getter, setter or delegation: a few short simple statements
    (`other = convert(other); return other.op(self)`, `return self._x[0]`)."""
    return 0 < len(statements) <= _THIN_STATEMENTS and all(
        type(s) not in _COMPOUND for s in statements) and \
        sum(s.end_lineno - s.lineno + 1 for s in statements) <= _THIN_LINES


def _is_docstring(node: ast.stmt) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _is_stub_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return True
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""
