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
from collections.abc import Callable, Generator, Iterable, Iterator
from functools import partial
from itertools import accumulate, chain, groupby
from operator import add, attrgetter
from typing import Any, NamedTuple, TypeVar

from engine.near_sign import SHINGLE, NearUnit, signatures, token_codes
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
# The same as sets of exact types (an ast node's class is never subclassed): one C-level
# lookup per node instead of an isinstance over a tuple.
_CONTAINER_TYPES = frozenset(_DATA_CONTAINERS)
_ARGUMENT_TYPES = _CONTAINER_TYPES | {ast.Constant}
_CONSTRUCTOR_ARGUMENTS = frozenset({ast.Constant, ast.Name, ast.Attribute, ast.Call})
_DATA_TYPES = frozenset(_DATA_NODES)
_PLAIN_VALUES = (ast.Name, ast.Constant, ast.Attribute)
_PLAIN_VALUE_TYPES = frozenset(_PLAIN_VALUES)
_PASSING = frozenset({ast.Return, ast.Expr, ast.Assign})
_TYPE_DECLARATIONS = frozenset({"TypeVar", "ParamSpec", "TypeVarTuple", "NewType"})
_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical",
                          "log"})
_LOGGER_NAMES = frozenset({"log", "logger", "logging", "getlogger"})
# Tokens a line of code holds, for weighing statements spread over many lines.
TOKENS_PER_LINE = 12
# A function body of at most this many one-line statements is a getter,
# setter or delegation: the kind of copy nobody merges.
_THIN_STATEMENTS = 3
_THIN_LINES = 4
# Protocol methods this short are boilerplate (see _is_protocol_boilerplate).
_BOILERPLATE_LINES = 6
_PROTOCOL_DUNDERS = frozenset(
    f"__{name}__" for name in "eq ne lt le gt ge hash repr str format bool len".split())
# A comparison of fields is boilerplate at any length (see _compares_fields).
_COMPARISON_DUNDERS = frozenset(f"__{name}__" for name in "eq ne lt le gt ge".split())
_FIELD_COMPARISON_TYPES = frozenset({
    ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.Compare, ast.Eq, ast.NotEq, ast.Lt,
    ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.Attribute, ast.Name, ast.Load,
    ast.Tuple, ast.Constant})
# This many consecutive statements of one shape are a table written as code.
_REPEATED_RUN = 3
# A block of at least this many statements with at most a third distinct
# shapes (a registration table written as calls, say) is data, not logic.
_REPETITIVE_MIN = 4

_T = TypeVar("_T")
# A step of the statement walk: a generator that yields the walks of its
# children and is sent each one's result (see `_drive`).
_Walk = Generator["_Walk[Any]", Any, _T]


def python_fingerprints(source: bytes, tree: ast.Module | Iterable[ast.stmt],
                        policy: NoisePolicy, stream: TokenStream | None = None) -> Fingerprints:
    """The statement units of a parsed module, blocks in order, parents before children.

    `tree` may also be the module's top-level statements as an iterable, each taken
    when the walk comes to it (so a huge module's trees need not all live at once).
    `stream` is `token_stream(source)` when the caller has it already."""
    stream = token_stream(source) if stream is None else stream
    body = tree.body if isinstance(tree, ast.Module) else tree
    return _UnitBuilder(source, stream, policy).fingerprints(body)


# A statement's unit before its block closes: `Unit`'s fields, in order. Only the
# block, once it has seen all its statements, knows whether a statement is a row
# of a table written as code (see `_tables`), which changes its renamed hash.
_Row = tuple[int, int, int, int, int, int, bool, bool]
_TOP: tuple[int, int] = (-1, -1)  # where the module's own block sits: nowhere
# A Unit from a row of all its fields, in C (`Unit._make` checks the length in Python).
_make_unit = partial(tuple.__new__, Unit)
_EXACT, _RENAMED = attrgetter("exact"), attrgetter("renamed")
_LINES, _TOKENS = attrgetter("lines"), attrgetter("tokens")


class _Function(NamedTuple):
    """A function the near-miss detector may compare: its token range, and the blocks
    opened while walking it (its bodies first)."""

    token_first: int
    token_stop: int
    block_first: int
    block_stop: int


class _UnitBuilder:
    """One walk over a module's statements that makes each unit once, as its block closes.

    `block` yields its compound statements to `_drive`, which keeps the nesting
    on a list, not on the interpreter's frames: an `elif` chain nests one `If`
    per branch, and generated dispatch code has thousands. A compound delegates
    to its blocks with `yield from` (cheaper than a round trip through `_drive`,
    and one level deep only). Blocks are numbered in the order they open; a
    compound's unit is known by its block number and position there until all
    blocks are closed and laid out one after another.
    """

    def __init__(self, source: bytes, stream: TokenStream, policy: NoisePolicy) -> None:
        self.source = source
        self.line_starts = [0, *accumulate(map(len, source.splitlines(keepends=True)))]
        self.token_starts = stream.starts
        self.exact_tokens = stream.exact
        self.renamed_tokens = stream.renamed
        self.policy = policy
        self.tables = not policy.data  # data is kept from matching as renamed
        self.parents: list[tuple[int, int]] = []  # per block: its compound's block and position
        self.block_units: list[list[Unit]] = []  # per block: its units, once it is closed
        self.functions: list[_Function] = []
        # Token ranges the near-miss codes leave out (see `_set_aside`).
        self.aside: list[tuple[int, int]] = []
        # Per compound statement the walk is inside of: the lines and tokens of the thin
        # helpers in its bodies (noise units weigh nothing themselves); and how many of
        # those compounds are functions.
        self.nested: list[list[int]] = []
        self.functions_open = 0

    def fingerprints(self, body: Iterable[ast.stmt]) -> Fingerprints:
        """Walk the module, then lay its blocks out in the order they opened."""
        _drive(self.block(body, _TOP))
        firsts = list(accumulate(map(len, self.block_units), initial=0))
        # A compound's index is one int object for all its bodies' blocks and its near
        # unit: marshal packs shared objects as references, so the blob stays the same.
        index = {_TOP: -1}
        blocks = tuple(Block(index.setdefault(at, firsts[at[0]] + at[1]), first, len(units))
                       for at, first, units in zip(self.parents, firsts, self.block_units))
        # Blocks opened while walking a function are consecutive, the first its
        # body: its unit is that block's parent, and its body's units (nested ones
        # included) are one range of the laid-out units.
        codes, kept = _set_aside(token_codes(self.renamed_tokens), self.aside)
        near = []
        for token_first, token_stop, block_first, block_stop in self.functions:
            token_first, token_stop = kept(token_first), kept(token_stop)
            if block_stop > block_first and token_stop - token_first >= SHINGLE:
                last = blocks[block_stop - 1]
                sub_first, sub_stop = blocks[block_first].first, last.first + last.count
                if sub_stop > sub_first:
                    near.append(NearUnit(blocks[block_first].parent, token_first, token_stop,
                                         sub_first, sub_stop))
        return Fingerprints(tuple(chain.from_iterable(self.block_units)), blocks, tuple(near),
                            signatures(codes, near), codes)

    def hashes(self, start: int, end: int) -> tuple[int, int, int]:
        """Exact and renamed hashes and token count of the source bytes [start, end)."""
        first = bisect_left(self.token_starts, start)
        stop = bisect_left(self.token_starts, end)
        return (hash64(SEP.join(self.exact_tokens[first:stop])),
                hash64(SEP.join(self.renamed_tokens[first:stop])), stop - first)

    def block(self, stmts: Iterable[ast.stmt], parent: tuple[int, int]) -> _Walk[list[Unit]]:
        """The units of one body, made when all its statements have been walked."""
        number = len(self.block_units)
        units: list[Unit] = []
        self.parents.append(parent)
        self.block_units.append(units)
        rows: list[_Row] = []
        for node in stmts:
            kind = type(node)
            if kind is ast.Expr and isinstance(node.value, ast.Constant) \
                    and isinstance(node.value.value, str):
                self.set_aside(node)
                continue  # a docstring documents, like a comment: no unit, no hash
            rows.append((yield self.compound(node, (number, len(rows)))) if kind in _COMPOUND
                        else self.simple(node))
        units.extend(_settle(rows) if self.tables else map(_make_unit, rows))
        return units

    def simple(self, node: ast.stmt) -> _Row:
        line_starts = self.line_starts
        exact, renamed, count = self.hashes(line_starts[node.lineno - 1] + node.col_offset,
                                            line_starts[node.end_lineno - 1] + node.end_col_offset)
        if self.tables and _is_data(node):
            renamed = exact
            self.set_aside(node)  # near-miss comparison would see its rows' shape only
        if type(node) is ast.AnnAssign:
            self.set_aside(node.annotation, b":")
        elif _is_logging(node):
            self.set_aside(node)  # a copy that logs more is still the same code
        noise = _is_noise(node, self.policy)
        return (node.lineno, node.end_lineno, exact, renamed,
                0 if noise else _code_lines(node.end_lineno - node.lineno + 1, count),
                0 if noise else count, noise, False)

    def compound(self, node: ast.stmt, at: tuple[int, int]) -> _Walk[_Row]:
        """A compound statement's row: hashes over its headers and its bodies' units."""
        line_starts = self.line_starts
        start, start_line = _start_of(node, line_starts)
        bodies = _bodies(node, line_starts, self.source)
        header_end = min(_body_start(b, line_starts) if h < 0 else h for h, b in bodies)
        exact, renamed, tokens = self.hashes(start, header_end)
        lines = _code_lines(max(1, bisect_right(line_starts, header_end) - start_line),
                            tokens) if tokens else 0
        exact_parts, renamed_parts = array("Q", [exact]), array("Q", [renamed])
        first_block = len(self.block_units)
        function = isinstance(node, _FUNCTIONS)
        self.nested.append([0, 0])
        self.functions_open += function
        for header, stmts in bodies:
            if header >= 0:
                h_exact, h_renamed, count = self.hashes(header, _body_start(stmts, line_starts))
                exact_parts.append(h_exact)
                renamed_parts.append(h_renamed)
                tokens += count
                lines += 1
            elif header == _KEYWORD_LINE:
                lines += 1
            kids: list[Unit] = yield from self.block(stmts, at)
            exact_parts.extend(map(_EXACT, kids))
            renamed_parts.extend(map(_RENAMED, kids))
            lines += sum(map(_LINES, kids))
            tokens += sum(map(_TOKENS, kids))
            exact_parts.append(0)  # a body ends here
            renamed_parts.append(0)
        if function or type(node) is ast.ClassDef:
            self.set_aside_decoration(node)
        noise = function and _is_noise_function(node, self.policy)
        self.functions_open -= function
        lines, tokens = map(add, (lines, tokens), self.nested.pop())
        if noise and self.functions_open:
            # A thin helper nested in a function is never a clone on its own, but it is
            # part of that function: it weighs in the size of what holds it.
            self.nested[-1][:] = map(add, self.nested[-1], (lines, tokens))
        if function and not noise:
            end = line_starts[node.end_lineno - 1] + node.end_col_offset
            self.functions.append(_Function(bisect_left(self.token_starts, start),
                                            bisect_left(self.token_starts, end),
                                            first_block, len(self.block_units)))
        return (start_line, node.end_lineno, hash64(exact_parts.tobytes()),
                hash64(renamed_parts.tobytes()), 0 if noise else lines, 0 if noise else tokens,
                noise, isinstance(node, _DEFINITIONS))


    def set_aside(self, node: ast.AST, opener: bytes = b"") -> None:
        """Leave a node's tokens, and the `opener` token just before it (`:` of an
        annotation, `->` of a return type), out of the near-miss codes."""
        line_starts = self.line_starts
        first, stop = bisect_left(self.token_starts, line_starts[node.lineno - 1] + node.col_offset), \
            bisect_left(self.token_starts, line_starts[node.end_lineno - 1] + node.end_col_offset)
        if opener and first and self.exact_tokens[first - 1] == opener:
            first -= 1
        self.aside.append((first, stop))

    def set_aside_decoration(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
                             ) -> None:
        """Decorators and type annotations: a function annotated or decorated in a later
        release, or in its copy, is still the same function."""
        for decorator in node.decorator_list:
            self.set_aside(decorator, b"@")
        if type(node) is ast.ClassDef:
            return
        arguments = node.args
        for argument in (*arguments.posonlyargs, *arguments.args, arguments.vararg,
                         *arguments.kwonlyargs, arguments.kwarg):
            if argument is not None and argument.annotation is not None:
                self.set_aside(argument.annotation, b":")
        if node.returns is not None:
            self.set_aside(node.returns, b"->")


def _set_aside(codes: bytes, aside: list[tuple[int, int]]) -> tuple[bytes, Callable[[int], int]]:
    """`codes` without the token ranges `aside`, and the map of a token index to its
    index in what is kept (a token set aside maps to where its range was)."""
    if not aside:
        return codes, _same
    merged: list[list[int]] = []
    for first, stop in sorted(aside):
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([first, stop])
    firsts = [first for first, _ in merged]
    removed_before = list(accumulate((stop - first for first, stop in merged), initial=0))
    kept_codes = b"".join(codes[stop:first] for (_, stop), (first, _) in
                          zip([(0, 0), *merged], [*merged, (len(codes), 0)]))

    def kept(index: int) -> int:
        at = bisect_right(firsts, index) - 1
        if at < 0:
            return index
        first, stop = merged[at]
        return first - removed_before[at] if index < stop else index - removed_before[at + 1]

    return kept_codes, kept


def _same(index: int) -> int:
    return index


def _code_lines(physical: int, tokens: int) -> int:
    """The lines a statement (or a header) weighs: its physical lines, but no more than
    its tokens fill (one line, and one per TOKENS_PER_LINE more): one call with an
    argument a line is not a long copy, and joining its lines does not hide one."""
    return min(physical, 1 + tokens // TOKENS_PER_LINE)


def _settle(rows: list[_Row]) -> list[Unit]:
    """A closed block's units: a table written as code keeps its literals and names
    (its renamed hash is its exact one), so two tables match only when equal."""
    tables = _tables([row[3] for row in rows]) if len(rows) >= _REPEATED_RUN else None
    if tables is None:
        return list(map(_make_unit, rows))
    return [_make_unit(row[:3] + row[2:3] + row[4:] if table else row)
            for row, table in zip(rows, tables)]


def _tables(renamed: list[int]) -> list[bool] | None:
    """Which statements of a block, by their renamed hashes, are rows of a table: all of
    a block of few distinct shapes (a registration table written as calls), else runs
    of one shape (declarations); None when there are none."""
    distinct = len(set(renamed))
    if distinct == len(renamed):
        return None  # no two statements alike: the common case, decided in C
    if len(renamed) >= _REPETITIVE_MIN and distinct * 3 <= len(renamed):
        return [True] * len(renamed)
    tables: list[bool] = []
    for _, run in groupby(renamed):
        size = len(list(run))
        tables += [size >= _REPEATED_RUN] * size
    return tables if any(tables) else None


def _start_of(node: ast.stmt, line_starts: list[int]) -> tuple[int, int]:
    """Byte offset and line where a statement's text starts (decorators included)."""
    decorators = getattr(node, "decorator_list", None)
    if decorators:
        line = decorators[0].lineno
        return line_starts[line - 1], line
    return line_starts[node.lineno - 1] + node.col_offset, node.lineno


# In `_bodies`: a body opened by the statement's own header, or by an `else:` or
# `finally:` line (a line of code, but no tokens worth a hash of their own).
_OWN_HEADER, _KEYWORD_LINE = -1, -2


def _bodies(node: ast.stmt, line_starts: list[int], source: bytes
            ) -> list[tuple[int, list[ast.stmt]]]:
    """A compound statement's bodies in source order, each with the offset of the
    header that opens it: _OWN_HEADER, _KEYWORD_LINE for `else:` and `finally:`
    (not `elif`, whose line is its `if`'s), else where its `except ...:` or
    `case ...:` clause starts."""
    bodies: list[tuple[int, list[ast.stmt]]] = []
    for field in _BODY_FIELDS:
        stmts = getattr(node, field, None)
        if stmts:
            opener = _OWN_HEADER if not bodies or _is_elif(stmts, line_starts, source) \
                else _KEYWORD_LINE
            bodies.append((opener, stmts))
    for position, handler in enumerate(getattr(node, "handlers", ()), 1):
        bodies.insert(position, (line_starts[handler.lineno - 1] + handler.col_offset,
                                 handler.body))
    for case in getattr(node, "cases", ()):
        pattern = case.pattern
        bodies.append((line_starts[pattern.lineno - 1] + pattern.col_offset, case.body))
    return bodies


def _is_elif(body: list[ast.stmt], line_starts: list[int], source: bytes) -> bool:
    first = body[0]
    if len(body) != 1 or type(first) is not ast.If:
        return False
    start = line_starts[first.lineno - 1] + first.col_offset
    return source.startswith(b"elif", start)


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
    kind = type(value)
    if kind is ast.Constant:
        return isinstance(value.value, (str, bytes)) and value.end_lineno > value.lineno
    if kind is ast.Call:
        arguments = _arguments(value)
        kinds = set(map(_argument_kind, arguments))
        fed_a_table = kinds & _CONTAINER_TYPES and kinds <= _ARGUMENT_TYPES
        # Rows as calls: `Table("t", meta, Column("a", Integer), Column("b", String))`.
        rows_as_calls = kinds <= _CONSTRUCTOR_ARGUMENTS and \
            sum(type(argument) is ast.Call for argument in arguments) >= 2
        if not (fed_a_table or rows_as_calls):
            return False
    elif kind not in _CONTAINER_TYPES:
        return False
    constants = 0
    for sub in ast.walk(value):
        sort = type(sub)
        if sort not in _DATA_TYPES:
            return False
        constants += sort is ast.Constant
    return constants >= 3


def _arguments(call: ast.Call) -> list[ast.expr]:
    return [*call.args, *(k.value for k in call.keywords)]


def _argument_kind(argument: ast.expr) -> type:
    """An argument's node type, a container built from a literal one by a call
    (`frozenset([...])`, `tuple(sorted({...}))`) counting as the container it builds."""
    if type(argument) is ast.Call:
        kinds = set(map(_argument_kind, _arguments(argument)))
        if kinds & _CONTAINER_TYPES and kinds <= _ARGUMENT_TYPES:
            return ast.List
    return type(argument)


def _is_noise(node: ast.stmt, policy: NoisePolicy) -> bool:
    kind = type(node)
    if kind is ast.Import or kind is ast.ImportFrom:
        return not policy.imports
    if kind is ast.Assign and _declares_a_type(node.value):
        return not policy.boilerplate
    if kind is ast.Pass or (kind is ast.Expr and isinstance(node.value, ast.Constant)):
        return not policy.stubs
    return False


def _is_logging(node: ast.stmt) -> bool:
    """`log.debug(...)`, `self.logger.info(...)`, `logging.getLogger(__name__).warning(...)`:
    a statement that only logs."""
    if type(node) is not ast.Expr or type(node.value) is not ast.Call:
        return False
    func = node.value.func
    if type(func) is not ast.Attribute or func.attr not in _LOG_METHODS:
        return False
    logger = func.value
    if type(logger) is ast.Call:  # `logging.getLogger(__name__).debug`
        logger = logger.func
    name = logger.attr if type(logger) is ast.Attribute else getattr(logger, "id", "")
    return name.lstrip("_").lower() in _LOGGER_NAMES


def _declares_a_type(value: ast.expr) -> bool:
    """`T = TypeVar("T")` and its kin: typing declarations, written alike everywhere."""
    if type(value) is not ast.Call:
        return False
    func = value.func
    name = func.attr if type(func) is ast.Attribute else getattr(func, "id", "")
    return name in _TYPE_DECLARATIONS


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


def _fills_a_default(node: ast.stmt) -> bool:
    """`if cls is None: cls = MultiDict`: an argument's default filled in, which a
    store-only `__init__` may do before storing it."""
    if type(node) is not ast.If or node.orelse or len(node.body) != 1:
        return False
    test, store = node.test, node.body[0]
    return (type(test) is ast.Compare and type(test.left) is ast.Name
            and len(test.ops) == 1 and type(test.ops[0]) is ast.Is
            and type(test.comparators[0]) is ast.Constant and test.comparators[0].value is None
            and type(store) is ast.Assign and len(store.targets) == 1
            and type(store.targets[0]) is ast.Name and store.targets[0].id == test.left.id)


def _is_noise_function(node: ast.FunctionDef | ast.AsyncFunctionDef, policy: NoisePolicy) -> bool:
    """Stubs, overloads, store-only bodies, getters, setters and delegations."""
    if not policy.stubs and any(_decorator_name(d) == "overload" for d in node.decorator_list):
        return True
    statements = [s for s in node.body if not _is_docstring(s)]
    if not policy.stubs and all(_is_stub_statement(s) for s in statements):
        return True
    if not policy.boilerplate and statements and all(
            _is_noise(s, policy) or _is_plain_store(s) or _fills_a_default(s)
            for s in statements):
        return True
    if not policy.delegations and _is_thin(statements):
        return True
    if not policy.boilerplate and _is_protocol_boilerplate(node, statements):
        return True
    return False


def _is_protocol_boilerplate(node: ast.FunctionDef | ast.AsyncFunctionDef,
                             statements: list[ast.stmt]) -> bool:
    """Short comparison and repr dunders, comparisons of fields at any length, and the
    `return NotImplemented` pattern: written alike in every class that has them."""
    if node.name in _COMPARISON_DUNDERS and _compares_fields(statements):
        return True
    if sum(s.end_lineno - s.lineno + 1 for s in statements) > _BOILERPLATE_LINES:
        return False
    if node.name in _PROTOCOL_DUNDERS:
        return True
    return len(statements) <= _THIN_STATEMENTS and any(
        type(s) is ast.Return and type(s.value) is ast.Name and s.value.id == "NotImplemented"
        for s in _statements_in(node.body))


def _compares_fields(statements: list[ast.stmt]) -> bool:
    """`if not isinstance(other, C): return NotImplemented` guards, then
    `return self.a == other.a and self.b == other.b` (or the fields as tuples): a
    comparison that names the fields and nothing else."""
    *guards, result = statements or [ast.Pass()]
    return type(result) is ast.Return and result.value is not None and all(
        type(sub) in _FIELD_COMPARISON_TYPES for sub in ast.walk(result.value)) and all(
        type(guard) is ast.If and not guard.orelse and len(guard.body) == 1
        and type(guard.body[0]) is ast.Return and type(guard.body[0].value) in _PLAIN_VALUE_TYPES
        for guard in guards)


def _statements_in(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of a body and of the bodies nested in it (not expressions: a
    statement never sits inside one)."""
    stack = [body]
    while stack:
        for statement in stack.pop():
            yield statement
            stack.extend(getattr(statement, field) for field in _BODY_FIELDS
                         if getattr(statement, field, None))
            stack.extend(h.body for h in getattr(statement, "handlers", ()))
            stack.extend(c.body for c in getattr(statement, "cases", ()))


def _is_thin(statements: list[ast.stmt]) -> bool:
    """A getter, setter or delegation: a few short simple statements
    (`other = convert(other); return other.op(self)`, `return self._x[0]`), or one call
    that passes its values through, however many lines its arguments take
    (`return self.request("GET", url, params=params, headers=headers, ...)`)."""
    if len(statements) == 1 and _passes_through(statements[0]):
        return True
    return 0 < len(statements) <= _THIN_STATEMENTS and all(
        type(s) not in _COMPOUND for s in statements) and \
        sum(s.end_lineno - s.lineno + 1 for s in statements) <= _THIN_LINES


def _passes_through(node: ast.stmt) -> bool:
    """`return f(a, b=c, *d)` (or the call alone, or assigned): every argument a plain
    value."""
    call = getattr(node, "value", None)
    if type(call) is ast.Await:
        call = call.value
    if type(node) not in _PASSING or type(call) is not ast.Call:
        return False
    values = [*call.args, *(k.value for k in call.keywords)]
    return all(type(v) in _PLAIN_VALUE_TYPES or (type(v) is ast.Starred and
                                                 type(v.value) in _PLAIN_VALUE_TYPES)
               for v in values)


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
