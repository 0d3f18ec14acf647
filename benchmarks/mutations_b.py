"""The second mutation model (split B): other operators than ``mutations.py``, written apart from it.

    mutate_b(text, kind, random.Random(seed), base_indent="    ", method=True) -> MutantB

Split A (``mutations.py``) edits text positions found with ``tokenize`` and
regenerates the layout from the token stream. This model rewrites the concrete
syntax tree (libcst, which round-trips every byte it does not touch), so the
two share neither code nor their idea of an edit. Levels, cumulative:

- ``T1`` - layout, comments and docstrings only: indentation unit changed,
  blank lines and comment lines added or removed, trailing comments, call
  arguments wrapped one per line or joined onto one line, spaces around binary
  operators, the docstring reworded, extended, added or removed. The token
  sequence without docstrings (and without comments and layout) is unchanged.
- ``T2`` - the same code with other names and values and equivalent surface
  syntax: T1 plus a consistent renaming of (a random share of) the locals and
  parameters and of the function's name (often derived from the old one:
  camelCase, a prefix or suffix, an abbreviation), literal values changed
  (one new spelling per old one), keyword arguments of a call reordered, and
  string formatting swapped between ``%``, ``str.format`` and f-strings (same
  fields, conversions and format specs). Renames and literal changes keep the
  *renamed token shape* (identifiers as ``ID``, literals as ``LIT``); keyword
  reordering keeps it up to the order of the keyword arguments; a formatting
  swap changes the tokens of that one expression only.
- ``T3-light`` / ``T3-heavy`` - T2 plus structural edits touching about 10% /
  30% of the function's code lines: independent adjacent statements reordered,
  a sub-expression extracted into a variable or a single-use variable inlined,
  an if/else inverted (negated test, branches swapped), a logging line or a
  guard (``if x is None: raise``/``return``, ``assert``, ``continue``) added,
  type annotations added or removed (signature and local assignments), and a
  list/set/dict-building loop turned into a comprehension.

The code lines *touched* by the structural edits are counted with ``difflib``
over the stripped code lines of the function before the first edit and after
the last (a replaced run counts its longer side, so an edit that undoes another
counts nothing); the budget is ``max(1, round(share * code lines))`` of the original, and
an edit may overshoot it by at most 5% of the code lines (rounded).

Every step is parsed with ``ast``; an edit whose result does not parse, or a
layout change that alters the docstring-free token sequence, is dropped. All
choices come from the given ``random.Random``: same text, kind and seed, same copy.
The operators applied are listed in ``MutantB.operators``.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import io
import keyword
import random
import re
import string
import tokenize
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import libcst as cst

from benchmarks.mutations import code_lines

LEVELS = ("T1", "T2", "T3-light", "T3-heavy")
STRUCTURAL_SHARE = {"T1": 0.0, "T2": 0.0, "T3-light": 0.10, "T3-heavy": 0.30}
NEVER_RENAMED = frozenset({"self", "cls", "__class__"})

_WORDS = (
    "payload", "subject", "member", "fragment", "unit", "slot", "cell", "atom", "needle", "bucket",
    "pair", "step", "mark", "probe", "cursor", "window", "limit", "bound", "total", "accum", "seen",
    "found", "pending", "batch", "row", "column", "span", "segment", "ref", "alias", "label", "tag",
    "piece", "operand", "outcome", "current", "candidate", "blob", "lookup", "counter",
)
_VERBS = ("do", "run", "get", "calc", "emit", "fetch", "derive", "resolve", "prepare", "scan")
_FUNC_SUFFIXES = ("impl", "v2", "inner", "helper", "ex", "new", "copy")
_COMMENTS = (
    "# adapted", "# see upstream", "# guard against empty input", "# note: order is significant",
    "# hot path", "# TODO: revisit", "# legacy behaviour", "# keep this in sync", "# cheap check first",
    "# mirrors the original", "# edge case", "# simplified",
)
_DOC_SENTENCES = (
    "Adapted for local use.", "Behaves like the original helper.", "Kept small on purpose.",
    "Callers must hold no locks.", "The result is not cached.", "Raises on invalid input.",
)
_DOC_SUMMARIES = (
    "Compute the result for the given input.", "Helper used by the public API.",
    "Return the processed value.", "Internal routine; see the module docs.",
)
_LOG_PHRASES = ("entering", "processing", "checking input", "starting", "about to compute", "state")


class MutantB(NamedTuple):
    """A copy made by model B: its text (indented for its destination) and what was done to it."""

    kind: str
    text: str
    name: str  # the copy's function name
    renames: dict[str, str]
    edits: int  # code lines touched by structural (T3) operators
    operators: tuple[str, ...]  # every operator applied, in order, with repeats


class _Work(NamedTuple):
    """The function being mutated, the indentation unit its blocks render with, and the record so far."""

    func: cst.FunctionDef
    unit: str
    operators: tuple[str, ...]


# ---------------------------------------------------------------- text, tokens and code lines


def _code_for(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def function_text(func: cst.FunctionDef, unit: str, base_indent: str = "") -> str:
    """The function's source at ``base_indent`` (inner blocks without their own indent use ``unit``)."""
    func = func.with_changes(leading_lines=())
    if not base_indent:
        return cst.Module(body=[func], default_indent=unit).code
    wrapper = cst.If(test=cst.Name("True"), body=cst.IndentedBlock(body=[func], indent=base_indent))
    return cst.Module(body=[wrapper], default_indent=unit).code.split("\n", 1)[1]


def parse_function(text: str) -> tuple[cst.FunctionDef, str]:
    """The function of a snippet cut from a file (indented or not) and its module's indentation unit."""
    try:
        if text[:1] == " ":
            module = cst.parse_module("if True:\n" + text)
            func = module.body[0].body.body[0]
        else:
            module = cst.parse_module(text)
            func = module.body[0]
    except cst.ParserSyntaxError as exc:
        raise ValueError(f"the snippet does not parse: {exc}") from exc
    alone = len(module.body) == 1 and (text[:1] != " " or len(module.body[0].body.body) == 1)
    if not isinstance(func, cst.FunctionDef) or not alone:
        raise ValueError("the snippet is not one function")
    return func, module.default_indent


def _parses(text: str) -> bool:
    """Whether the text compiles (``compile`` also catches what only the symbol table sees)."""
    try:
        compile(text, "<copy>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


def _docstring_rows(tree: ast.AST) -> set[int]:
    rows: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                rows.update(range(first.lineno, first.end_lineno + 1))
    return rows


_LAYOUT = frozenset({tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT,
                     tokenize.ENCODING, tokenize.ENDMARKER})


def tokens_without_docstrings(text: str, *, abstract: bool = False) -> list[str]:
    """The tokens of unindented code without layout, comments and docstrings; ``abstract`` spells
    identifiers ``ID`` and literals ``LIT`` (the renamed token shape)."""
    doc_rows = _docstring_rows(ast.parse(text))
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in _LAYOUT or (tok.type == tokenize.STRING and tok.start[0] in doc_rows):
            continue
        if abstract and tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
            out.append("ID")
        elif abstract and tok.type in (tokenize.STRING, tokenize.NUMBER):
            out.append("LIT")
        else:
            out.append(tok.string)
    return out


def _code_rows(text: str) -> list[str]:
    lines = text.split("\n")
    return [lines[n - 1].strip() for n in sorted(code_lines(text))]


def touched_lines(before: str, after: str) -> int:
    """Code lines an edit touched: the longer side of every replaced, inserted or deleted run."""
    matcher = difflib.SequenceMatcher(None, _code_rows(before), _code_rows(after), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in matcher.get_opcodes() if op != "equal")


# ---------------------------------------------------------------- tree helpers


class _Collect(cst.CSTVisitor):
    """Every node of the given types, in source order, with each node's parent."""

    def __init__(self, types: tuple[type, ...]) -> None:
        self.types, self.found, self.parent, self._stack = types, [], {}, []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self._stack:
            self.parent[id(node)] = self._stack[-1]
        if isinstance(node, self.types):
            self.found.append(node)
        self._stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._stack.pop()


def _collect(root: cst.CSTNode, *types: type) -> _Collect:
    visitor = _Collect(types)
    root.visit(visitor)
    return visitor


def _docstring(func: cst.FunctionDef) -> cst.SimpleStatementLine | None:
    body = func.body.body if isinstance(func.body, cst.IndentedBlock) else ()
    if body and isinstance(body[0], cst.SimpleStatementLine) and len(body[0].body) == 1:
        expr = body[0].body[0]
        if isinstance(expr, cst.Expr) and isinstance(expr.value, (cst.SimpleString, cst.ConcatenatedString)):
            return body[0]
    return None


def _names_in(node: cst.CSTNode) -> list[str]:
    return [n.value for n in _collect(node, cst.Name).found]


def _fresh(rng: random.Random, taken: set[str], words: Sequence[str] = _WORDS) -> str:
    while True:
        name = rng.choice(words)
        if name in taken:
            name = f"{name}_{rng.randint(2, 9)}"
        if name not in taken and not keyword.iskeyword(name):
            taken.add(name)
            return name


def _taken(func: cst.FunctionDef) -> set[str]:
    return set(_names_in(func)) | set(dir(builtins))


def _is_atomic(expr: cst.BaseExpression) -> bool:
    if expr.lpar:
        return True
    return isinstance(expr, (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.SimpleString, cst.Integer,
                             cst.Float, cst.List, cst.Dict, cst.Set, cst.ListComp, cst.SetComp, cst.DictComp,
                             cst.FormattedString, cst.ConcatenatedString))


def _paren(expr: cst.BaseExpression) -> cst.BaseExpression:
    return expr if _is_atomic(expr) else expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _statement(code: str) -> cst.BaseStatement:
    return cst.parse_statement(code if code.endswith("\n") else code + "\n")


def _blocks(func: cst.FunctionDef) -> list[cst.IndentedBlock]:
    return [b for b in _collect(func, cst.IndentedBlock).found]


def _replace_body(func: cst.FunctionDef, block: cst.IndentedBlock, body: Sequence[cst.BaseStatement]) -> cst.FunctionDef:
    return func.deep_replace(block, block.with_changes(body=list(body)))


def _first_index(func: cst.FunctionDef, block: cst.IndentedBlock) -> int:
    """Where new statements may go first in a block: after the function's docstring."""
    return 1 if block is func.body and _docstring(func) is not None else 0


def _params(func: cst.FunctionDef) -> list[str]:
    ps = func.params
    every = [*ps.posonly_params, *ps.params, *ps.kwonly_params]
    return [p.name.value for p in every if p.name.value not in NEVER_RENAMED]


# ---------------------------------------------------------------- T3: structural operators
#
# Each operator yields candidate rewrites of the whole function, one per site, in random order;
# the driver keeps the first that parses and fits the remaining budget.


_Rewrites = Iterator[cst.FunctionDef]


def _stmt_ast(stmt: cst.BaseStatement) -> ast.stmt:
    return ast.parse(cst.Module(body=[stmt]).code).body[0]


def _effects(node: ast.AST) -> tuple[set[str], set[str], bool]:
    """Names read, names written, and whether it calls, awaits, yields or stores into an object."""
    reads, writes, effect = set(), set(), False
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            (writes if isinstance(sub.ctx, (ast.Store, ast.Del)) else reads).add(sub.id)
        elif isinstance(sub, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            effect = True
        elif isinstance(sub, (ast.Attribute, ast.Subscript)) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            effect = True
        if isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name):
            reads.add(sub.target.id)
    return reads, writes, effect


_SIMPLE = (cst.Assign, cst.AugAssign, cst.AnnAssign, cst.Expr)


def _single(stmt: cst.BaseStatement) -> cst.BaseSmallStatement | None:
    if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1:
        return stmt.body[0]
    return None


def op_reorder(func: cst.FunctionDef, rng: random.Random) -> _Rewrites:
    """Swap two adjacent simple statements that neither read nor write what the other writes."""
    sites = [(b, i) for b in _blocks(func) for i in range(_first_index(func, b), len(b.body) - 1)]
    rng.shuffle(sites)
    for block, i in sites:
        a, b = block.body[i], block.body[i + 1]
        if not all(isinstance(_single(s), _SIMPLE) for s in (a, b)):
            continue
        if isinstance(_single(a), cst.Expr) and isinstance(_single(a).value, (cst.SimpleString, cst.ConcatenatedString)):
            continue
        ra, wa, ea = _effects(_stmt_ast(a))
        rb, wb, eb = _effects(_stmt_ast(b))
        if wa & (rb | wb) or wb & ra or (ea and eb) or _code_for(a).strip() == _code_for(b).strip():
            continue
        body = list(block.body)
        body[i] = b.with_changes(leading_lines=a.leading_lines)
        body[i + 1] = a.with_changes(leading_lines=b.leading_lines)
        yield _replace_body(func, block, body)


def _extractable(node: cst.CSTNode, safe: bool, out: list[cst.BaseExpression]) -> None:
    """Sub-expressions evaluated exactly once, before the statement: not under a lambda, a
    comprehension, a conditional expression or the right side of ``and``/``or``."""
    if isinstance(node, (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.IfExp,
                         cst.FormattedString, cst.Yield, cst.NamedExpr)):
        safe = False
    if safe and isinstance(node, (cst.Call, cst.BinaryOperation, cst.Subscript)):
        out.append(node)
    if isinstance(node, cst.BooleanOperation):
        _extractable(node.left, safe, out)
        _extractable(node.right, False, out)
        return
    for child in node.children:
        _extractable(child, safe, out)


def op_extract_variable(func: cst.FunctionDef, rng: random.Random) -> _Rewrites:
    """Move a call, binary operation or subscript into a new variable assigned just before its statement."""
    sites = []
    for block in _blocks(func):
        for i, stmt in enumerate(block.body):
            small = _single(stmt)
            roots: list[cst.CSTNode] = []
            if isinstance(small, (cst.Assign, cst.AugAssign, cst.Return)) and small.value is not None:
                roots = [small.value]
            elif isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                roots = [*small.value.args]
            elif isinstance(stmt, cst.If):
                roots = [stmt.test]
            for root in roots:
                found: list[cst.BaseExpression] = []
                _extractable(root, True, found)
                sites.extend((block, i, expr) for expr in found)
    rng.shuffle(sites)
    taken = _taken(func)
    for block, i, expr in sites:
        name = _fresh(rng, set(taken))
        code = _code_for(expr.with_changes(lpar=[], rpar=[]))
        if "\n" in code:
            code = f"({code})"
        new_stmt = _statement(f"{name} = {code}")
        stmt = block.body[i]
        body = list(block.body)
        body[i:i + 1] = [new_stmt.with_changes(leading_lines=stmt.leading_lines),
                         stmt.deep_replace(expr, cst.Name(name)).with_changes(leading_lines=())]
        yield _replace_body(func, block, body)


def _name_nodes(func: cst.FunctionDef) -> list[cst.Name]:
    """Name nodes that are variables (not attribute names, keywords of calls or import parts)."""
    seen = _collect(func, cst.Name, cst.Attribute, cst.Arg, cst.ImportAlias, cst.ImportFrom)
    skip = set()
    for node in seen.found:
        if isinstance(node, cst.Attribute):
            skip.add(id(node.attr))
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            skip.add(id(node.keyword))
        elif isinstance(node, (cst.ImportAlias, cst.ImportFrom)):
            skip.update(id(n) for n in _collect(node, cst.Name).found)
    return [n for n in seen.found if isinstance(n, cst.Name) and id(n) not in skip]


def op_inline_variable(func: cst.FunctionDef, rng: random.Random) -> _Rewrites:
    """Drop ``x = value`` and put ``value`` where the next statement reads ``x``, its only use."""
    names = _name_nodes(func)
    counts: dict[str, int] = {}
    for n in names:
        counts[n.value] = counts.get(n.value, 0) + 1
    params = set(_params(func)) | NEVER_RENAMED
    sites = [(b, i) for b in _blocks(func) for i in range(len(b.body) - 1)]
    rng.shuffle(sites)
    for block, i in sites:
        small = _single(block.body[i])
        if not isinstance(small, cst.Assign) or len(small.targets) != 1:
            continue
        target = small.targets[0].target
        if not isinstance(target, cst.Name) or counts.get(target.value) != 2 or target.value in params:
            continue
        nxt = block.body[i + 1]
        header = nxt.test if isinstance(nxt, cst.If) else nxt.iter if isinstance(nxt, cst.For) else nxt
        if not isinstance(nxt, (cst.SimpleStatementLine, cst.If, cst.For)):
            continue
        uses = [n for n in _collect(header, cst.Name).found if n.value == target.value]
        unsafe = _collect(header, cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp).found
        if len(uses) != 1 or any(id(uses[0]) in {id(n) for n in _collect(u, cst.Name).found} for u in unsafe):
            continue
        value = _paren(small.value)
        if "\n" in _code_for(value) and not value.lpar:
            value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        body = list(block.body)
        lead = [*block.body[i].leading_lines, *nxt.leading_lines]
        body[i:i + 2] = [nxt.deep_replace(uses[0], value).with_changes(leading_lines=lead)]
        yield _replace_body(func, block, body)


_NEGATED: dict[type, Callable[[], cst.BaseCompOp]] = {
    cst.Equal: cst.NotEqual, cst.NotEqual: cst.Equal, cst.LessThan: cst.GreaterThanEqual,
    cst.GreaterThanEqual: cst.LessThan, cst.GreaterThan: cst.LessThanEqual, cst.LessThanEqual: cst.GreaterThan,
    cst.Is: cst.IsNot, cst.IsNot: cst.Is, cst.In: cst.NotIn, cst.NotIn: cst.In,
}


def negate(test: cst.BaseExpression) -> cst.BaseExpression:
    """The opposite condition: ``not`` removed, a single comparison flipped, else ``not (...)``."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) and not test.lpar:
        return test.expression
    if isinstance(test, cst.Comparison) and len(test.comparisons) == 1 and not test.lpar:
        comp = test.comparisons[0]
        flipped = _NEGATED.get(type(comp.operator))
        if flipped is not None:
            return test.with_changes(comparisons=[comp.with_changes(operator=flipped())])
    inner = test
    if isinstance(test, (cst.BooleanOperation, cst.IfExp, cst.Lambda, cst.NamedExpr)) and not test.lpar:
        inner = test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.UnaryOperation(operator=cst.Not(), expression=inner)


def op_invert_if(func: cst.FunctionDef, rng: random.Random) -> _Rewrites:
    """``if c: A else: B`` becomes ``if not c: B else: A`` (both branches kept)."""
    sites = [n for n in _collect(func, cst.If).found if isinstance(n.orelse, cst.Else)]
    rng.shuffle(sites)
    for node in sites:
        flipped = node.with_changes(test=negate(node.test), body=node.orelse.body,
                                    orelse=node.orelse.with_changes(body=node.body))
        yield func.deep_replace(node, flipped)


def _log_line(func: cst.FunctionDef, rng: random.Random) -> str:
    params = _params(func)
    arg = rng.choice(params) if params else None
    phrase = rng.choice(_LOG_PHRASES)
    fname = func.name.value
    forms = [f'logger.debug("{fname}: {phrase}")', f'log.info("{phrase} in {fname}")']
    if arg:
        forms += [f'logger.debug("{fname}: {arg}=%r", {arg})',
                  f'logging.getLogger(__name__).debug("{phrase} %s", {arg})',
                  f'_LOG.warning("{phrase}: %s", {arg})',
                  f'print("{fname}", {arg}, file=sys.stderr)']
    return rng.choice(forms)


def op_add_logging(func: cst.FunctionDef, rng: random.Random) -> _Rewrites:
    """Insert a logging (or debug print) line somewhere in a block."""
    sites = [(b, i) for b in _blocks(func) for i in range(_first_index(func, b), len(b.body) + 1)]
    rng.shuffle(sites)
    for block, i in sites[:8]:
        body = list(block.body)
        body.insert(i, _statement(_log_line(func, rng)))
        yield _replace_body(func, block, body)


def op_add_guard(func: cst.FunctionDef, rng: random.Random) -> _Rewrites:
    """Insert a guard: a check of a parameter at the top, or a ``continue`` at the top of a loop."""
    sites: list[tuple[cst.IndentedBlock, int, str]] = []
    for p in _params(func):
        guards = (f'if {p} is None:\n    raise ValueError("{p} is required")', f"assert {p} is not None",
                  f"if not {p}:\n    return None", f'if {p} is None:\n    raise TypeError("missing {p}")')
        sites.append((func.body, _first_index(func, func.body), rng.choice(guards)))
    for loop in _collect(func, cst.For).found:
        if isinstance(loop.target, cst.Name) and isinstance(loop.body, cst.IndentedBlock):
            target = loop.target.value
            sites.append((loop.body, 0, rng.choice((f"if {target} is None:\n    continue", f"if not {target}:\n    continue"))))
    rng.shuffle(sites)
    for block, i, code in sites:
        body = list(block.body)
        body.insert(i, _statement(code))
        yield _replace_body(func, block, body)


def _guess_type(name: str, default: cst.BaseExpression | None, rng: random.Random) -> str:
    if isinstance(default, cst.Integer):
        return "int"
    if isinstance(default, (cst.SimpleString, cst.FormattedString)):
        return "str"
    if isinstance(default, cst.Float):
        return "float"
    if isinstance(default, cst.Name) and default.value in ("True", "False"):
        return "bool"
    if isinstance(default, cst.Name) and default.value == "None":
        return rng.choice(("object | None", "Optional[Any]", "str | None"))
    if isinstance(default, (cst.List, cst.ListComp)):
        return "list"
    if isinstance(default, (cst.Dict, cst.DictComp)):
        return "dict"
    if name.startswith(("is_", "has_", "use_")):
        return "bool"
    if name in ("n", "i", "j", "k", "count", "index", "size", "width", "start", "end", "depth"):
        return "int"
    if any(word in name for word in ("name", "text", "path", "prefix", "key")):
        return "str"
    return rng.choice(("Any", "object", "str", "int"))


def _annotated_param(p: cst.Param, rng: random.Random) -> cst.Param:
    if p.annotation is not None or p.name.value in NEVER_RENAMED:
        return p
    hint = _guess_type(p.name.value, p.default, rng)
    equal = cst.AssignEqual() if p.default is not None else p.equal
    return p.with_changes(annotation=cst.Annotation(cst.parse_expression(hint)), equal=equal)


def _bare_param(p: cst.Param) -> cst.Param:
    if p.annotation is None:
        return p
    equal = p.equal
    if p.default is not None:
        equal = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
    return p.with_changes(annotation=None, equal=equal)


def _map_params(params: cst.Parameters, change: Callable[[cst.Param], cst.Param]) -> cst.Parameters:
    star = params.star_arg if isinstance(params.star_arg, cst.Param) else None
    return params.with_changes(
        posonly_params=[change(p) for p in params.posonly_params], params=[change(p) for p in params.params],
        kwonly_params=[change(p) for p in params.kwonly_params],
        star_arg=change(star) if star is not None else params.star_arg,
        star_kwarg=change(params.star_kwarg) if params.star_kwarg is not None else None,
    )


def _returns_value(func: cst.FunctionDef) -> bool:
    return any(r.value is not None for r in _collect(func.body, cst.Return).found)


def op_annotations(func: cst.FunctionDef, rng: random.Random) -> _Rewrites:
    """Add type annotations where the signature or a local assignment has none, or remove them."""
    options: list[Callable[[], cst.FunctionDef]] = []
    params = func.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    if any(p.annotation is None and p.name.value not in NEVER_RENAMED for p in every) or func.returns is None:
        def annotate() -> cst.FunctionDef:
            hint = "None" if not _returns_value(func) else rng.choice(("Any", "object", "bool", "str"))
            returns = func.returns or cst.Annotation(cst.parse_expression(hint))
            return func.with_changes(params=_map_params(params, lambda p: _annotated_param(p, rng)), returns=returns)
        options.append(annotate)
    if any(p.annotation is not None for p in every) or func.returns is not None:
        options.append(lambda: func.with_changes(params=_map_params(params, _bare_param), returns=None))
    for block in _blocks(func):
        for stmt in block.body:
            small = _single(stmt)
            if isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
                plain = cst.Assign(targets=[cst.AssignTarget(small.target)], value=small.value)
                options.append(lambda s=stmt, a=plain: func.deep_replace(s, s.with_changes(body=[a])))
            elif (isinstance(small, cst.Assign) and len(small.targets) == 1
                  and isinstance(small.targets[0].target, cst.Name) and not isinstance(small.value, cst.Yield)):
                target = small.targets[0].target
                hint = _guess_type(target.value, small.value, rng)
                typed = cst.AnnAssign(target=target, annotation=cst.Annotation(cst.parse_expression(hint)),
                                      value=small.value)
                options.append(lambda s=stmt, a=typed: func.deep_replace(s, s.with_changes(body=[a])))
    rng.shuffle(options)
    for make in options:
        yield make()


def _accumulator(stmt: cst.BaseStatement) -> tuple[str, str] | None:
    """``acc = []`` / ``set()`` / ``{}``: the name and the kind of collection started."""
    small = _single(stmt)
    if not isinstance(small, cst.Assign) or len(small.targets) != 1 or not isinstance(small.targets[0].target, cst.Name):
        return None
    value, name = small.value, small.targets[0].target.value
    if isinstance(value, cst.List) and not value.elements:
        return name, "list"
    if isinstance(value, cst.Dict) and not value.elements:
        return name, "dict"
    if isinstance(value, cst.Call) and not value.args and isinstance(value.func, cst.Name) and value.func.value in ("list", "set", "dict"):
        return name, value.func.value
    return None


def _loop_item(loop: cst.For) -> tuple[cst.BaseSmallStatement, cst.BaseExpression | None] | None:
    """The single statement a loop runs for each item, and the ``if`` test guarding it, if any."""
    if loop.orelse is not None or loop.asynchronous is not None or not isinstance(loop.body, cst.IndentedBlock):
        return None
    body = loop.body.body
    skip = body[0] if len(body) == 2 and isinstance(body[0], cst.If) and body[0].orelse is None else None
    if skip is not None and isinstance(skip.body, cst.IndentedBlock) and len(skip.body.body) == 1 \
            and isinstance(_single(skip.body.body[0]), cst.Continue):
        return (_single(body[1]), negate(skip.test)) if _single(body[1]) is not None else None  # `if c: continue`
    if len(body) != 1:
        return None
    inner, test = body[0], None
    if isinstance(inner, cst.If) and inner.orelse is None and isinstance(inner.body, cst.IndentedBlock) and len(inner.body.body) == 1:
        inner, test = inner.body.body[0], inner.test
    small = _single(inner)
    return (small, test) if small is not None else None


def _element(acc: str, kind: str, small: cst.BaseSmallStatement) -> str | None:
    """The comprehension element of ``acc.append(x)`` / ``acc.add(x)`` / ``acc[k] = v``."""
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
        call = small.value
        method = {"list": "append", "set": "add"}.get(kind)
        if (isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name) and call.func.value.value == acc
                and call.func.attr.value == method and len(call.args) == 1 and not call.args[0].keyword and not call.args[0].star):
            return _code_for(call.args[0].value)
    if kind == "dict" and isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
        if (isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name) and target.value.value == acc
                and len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index)):
            return f"{_code_for(target.slice[0].slice.value)}: {_code_for(small.value)}"
    return None


def op_loop_to_comprehension(func: cst.FunctionDef, rng: random.Random) -> _Rewrites:
    """``acc = []`` then (statements not mentioning ``acc``, then) ``for x in xs: [if c:] acc.append(e)``
    (or ``if not c: continue`` first) becomes ``acc = [e for x in xs if c]`` where the loop was."""
    sites = [(b, i, j) for b in _blocks(func) for i in range(len(b.body) - 1) for j in range(i + 1, len(b.body))
             if isinstance(b.body[j], cst.For)]
    rng.shuffle(sites)
    for block, i, j in sites:
        start, loop = _accumulator(block.body[i]), block.body[j]
        between = [name for stmt in block.body[i + 1: j] for name in _names_in(stmt)]
        if start is None or start[0] in between:
            continue
        acc, kind = start
        item = _loop_item(loop)
        if item is None:
            continue
        elt = _element(acc, kind, item[0])
        test = item[1]
        used = [*_names_in(loop.iter), *_names_in(loop.target), *(_names_in(test) if test is not None else [])]
        if elt is None or acc in used or acc in re.findall(r"\w+", elt):
            continue
        cond = "" if test is None else f" if {_code_for(_paren(test) if isinstance(test, (cst.IfExp, cst.Lambda, cst.NamedExpr)) else test)}"
        open_, close = ("[", "]") if kind == "list" else ("{", "}")
        code = f"{acc} = {open_}{elt} for {_code_for(loop.target)} in {_code_for(loop.iter)}{cond}{close}"
        body = list(block.body)
        body[j] = _statement(code).with_changes(leading_lines=loop.leading_lines)
        del body[i]
        yield _replace_body(func, block, body)


STRUCTURAL_OPERATORS: dict[str, Callable[[cst.FunctionDef, random.Random], _Rewrites]] = {
    "reorder-statements": op_reorder,
    "extract-variable": op_extract_variable,
    "inline-variable": op_inline_variable,
    "invert-if-else": op_invert_if,
    "loop-to-comprehension": op_loop_to_comprehension,
    "annotations": op_annotations,
    "add-logging": op_add_logging,
    "add-guard": op_add_guard,
}
# Additions fit anywhere; they are weighted low so that they fill the budget only where the
# rewrites of existing code find no site.
_WEIGHTS = {"reorder-statements": 3, "extract-variable": 3, "inline-variable": 3, "invert-if-else": 3,
            "loop-to-comprehension": 4, "annotations": 2, "add-logging": 1, "add-guard": 1}


def _first_fit(work: _Work, name: str, rng: random.Random, start: str, done: int, limit: int) -> tuple[_Work, int] | None:
    """The first rewrite by one operator that parses and takes the lines touched since ``start``
    from ``done`` to at most ``limit`` (an edit that undoes another makes no progress)."""
    tries = 0
    for candidate in STRUCTURAL_OPERATORS[name](work.func, rng):
        tries += 1
        if tries > 12:
            break
        try:
            after = function_text(candidate, work.unit)
        except (cst.CSTValidationError, ValueError, TypeError):
            continue
        if not _parses(after):
            continue
        total = touched_lines(start, after)
        if done < total <= limit:
            return _Work(candidate, work.unit, (*work.operators, name)), total
    return None


def restructure(work: _Work, share: float, n_code: int, rng: random.Random) -> tuple[_Work, int]:
    """Structural edits until about ``share`` of ``n_code`` code lines are touched; return the lines touched."""
    budget = max(1, round(share * n_code))
    slack = round(0.05 * n_code)
    done = 0
    start = function_text(work.func, work.unit)
    names = sorted(STRUCTURAL_OPERATORS)
    for _ in range(4 * budget + 8):
        if done >= budget:
            break
        order = sorted(names, key=lambda n: rng.random() ** (1 / _WEIGHTS[n]), reverse=True)
        for name in order:
            found = _first_fit(work, name, rng, start, done, budget + slack)
            if found is not None:
                work, done = found
                break
        else:
            break  # no operator fits any more
    return work, done


# ---------------------------------------------------------------- T2: names, literals, surface syntax


def _derived_name(old: str, rng: random.Random) -> str:
    parts = [p for p in old.split("_") if p]
    choice = rng.randrange(4)
    if choice == 0 and len(parts) > 1:
        return parts[0].lower() + "".join(p[:1].upper() + p[1:] for p in parts[1:])  # camelCase
    if choice == 1:
        return f"{old.strip('_')}_{rng.choice(_FUNC_SUFFIXES)}"
    if choice == 2 and len(parts) > 1:
        return "_".join(p[:3] for p in parts)  # abbreviated
    return f"{rng.choice(_VERBS)}_{old.strip('_') or rng.choice(_WORDS)}"


def _local_names(func: cst.FunctionDef) -> list[str]:
    """Parameters and locals that a consistent renaming may change, in order of first binding."""
    tree = ast.parse(cst.Module(body=[func.with_changes(decorators=())]).code).body[0]
    bound: dict[str, None] = {}
    blocked = set(NEVER_RENAMED)
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            bound.setdefault(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.setdefault(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.setdefault(node.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not tree:
            bound.setdefault(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            blocked.update(node.names)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            blocked.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar, ast.MatchMapping, ast.ClassDef)):
            blocked.update(n for n in (getattr(node, "name", None), getattr(node, "rest", None)) if n)
    return [n for n in bound if n not in blocked and not (n.startswith("__") and n.endswith("__"))]


class _Renamer(cst.CSTTransformer):
    def __init__(self, mapping: dict[str, str], skip: set[int]) -> None:
        self.mapping, self.skip = mapping, skip

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        if id(original_node) in self.skip:
            return updated_node
        new = self.mapping.get(original_node.value)
        return updated_node.with_changes(value=new) if new else updated_node


def rename(func: cst.FunctionDef, rng: random.Random, *, method: bool) -> tuple[cst.FunctionDef, dict[str, str]]:
    """A consistent renaming of a random share of the locals and parameters and of the function's name."""
    taken = _taken(func)
    share = rng.uniform(0.6, 1.0)
    old_name = func.name.value
    mapping = {}
    for name in _local_names(func):
        if name != old_name and rng.random() < share:
            new = _derived_name(name, rng) if rng.random() < 0.3 else _fresh(rng, taken)
            if new in taken and new != mapping.get(name):
                new = _fresh(rng, taken)
            taken.add(new)
            mapping[name] = new
    new_name = _derived_name(old_name, rng)
    while new_name in taken or keyword.iskeyword(new_name) or not new_name.isidentifier():
        new_name = f"{_derived_name(old_name, rng)}_{rng.randint(2, 99)}"
    variables = {id(n) for n in _name_nodes(func)}
    skip = {id(n) for n in _collect(func, cst.Name).found if id(n) not in variables}
    skip.add(id(func.name))
    if not method and old_name not in mapping:
        mapping[old_name] = new_name  # a recursive call of a top-level function follows the new name
    renamed = func.visit(_Renamer(mapping, skip))
    mapping[old_name] = new_name
    return renamed.with_changes(name=cst.Name(new_name)), mapping


def _new_literal(token: str, rng: random.Random) -> str | None:
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, bool) or isinstance(value, complex):
        return None
    if isinstance(value, int):
        new = value + rng.choice((1, 2, 3, 5, 8, 10))
        return hex(new) if token.lower().startswith("0x") else str(new)
    if isinstance(value, float):
        return repr(value * rng.choice((2.0, 0.5)) + rng.choice((0.0, 0.25)))
    prefix = token[: len(token) - len(token.lstrip("rRbBuU"))]
    body = token[len(prefix):]
    quote = body[:3] if body[:3] in ('"""', "'''") else body[0]
    inner = body[len(quote):-len(quote)]
    choice = rng.randrange(3)
    if choice == 0 and inner and "\\" not in inner and inner.upper() != inner:
        inner = inner.upper()
    elif choice == 1:
        inner = f"{rng.choice(('x', 'alt', 'v2', 'tmp'))}_{inner}"
    else:
        inner = f"{inner}{rng.choice(('_b', '-2', '.new', '!'))}"
    return f"{prefix}{quote}{inner}{quote}"


class _Literals(cst.CSTTransformer):
    def __init__(self, rng: random.Random, share: float, skip: set[int]) -> None:
        self.rng, self.share, self.skip, self.mapping = rng, share, skip, {}

    def _change(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:
        if id(original) in self.skip:
            return updated
        if updated.value not in self.mapping:
            new = _new_literal(updated.value, self.rng) if self.rng.random() < self.share else None
            if new in self.mapping.values():
                new = None
            self.mapping[updated.value] = new
        new = self.mapping[updated.value]
        return updated.with_changes(value=new) if new else updated

    def leave_Integer(self, original_node: cst.Integer, updated_node: cst.Integer) -> cst.Integer:
        return self._change(original_node, updated_node)

    def leave_Float(self, original_node: cst.Float, updated_node: cst.Float) -> cst.Float:
        return self._change(original_node, updated_node)

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.SimpleString:
        return self._change(original_node, updated_node)


def change_literals(func: cst.FunctionDef, rng: random.Random) -> tuple[cst.FunctionDef, dict[str, str]]:
    """New values for a random share of the literals, one new spelling per old spelling (docstrings kept)."""
    doc = _docstring(func)
    skip = {id(n) for n in _collect(doc, cst.SimpleString).found} if doc is not None else set()
    changer = _Literals(rng, rng.uniform(0.4, 1.0), skip)
    changed = func.visit(changer)
    return changed, {k: v for k, v in changer.mapping.items() if v}


def op_keyword_order(func: cst.FunctionDef, rng: random.Random) -> tuple[cst.FunctionDef, int]:
    """Shuffle the keyword arguments of some calls (runs without ``**`` in between); return calls changed."""
    changed = 0
    for call in _collect(func, cst.Call).found:
        args = list(call.args)
        runs, run = [], []
        for index, arg in enumerate(args + [None]):
            if arg is not None and arg.keyword is not None and not arg.star:
                run.append(index)
            else:
                if len(run) >= 2:
                    runs.append(run)
                run = []
        if not runs or rng.random() < 0.3:
            continue
        for run in runs:
            order = list(run)
            while order == run:
                rng.shuffle(order)
            contents = [args[i] for i in order]
            for slot, src in zip(run, contents):
                args[slot] = args[slot].with_changes(keyword=src.keyword, value=src.value, equal=src.equal)
        func = func.deep_replace(call, call.with_changes(args=args))
        changed += 1
    return func, changed


# String formatting: a template is a list of literal texts and fields (expression code, conversion, spec).


class Field(NamedTuple):
    """One replacement field of a formatted string."""

    code: str
    conversion: str | None
    spec: str


_PERCENT = re.compile(r"%(?P<flags>[-+ 0]*)(?P<width>\d+)?(?:\.(?P<prec>\d+))?(?P<type>[sdirfeEgGxXo%])")
_SPEC = re.compile(r"^(?P<align>[<>])?(?P<sign>[+ ])?(?P<zero>0)?(?P<width>\d+)?(?:\.(?P<prec>\d+))?(?P<type>[dfeEgGxXo])?$")


def _plain_string(node: cst.BaseExpression) -> str | None:
    """The value of a one-line, non-bytes, non-raw string literal."""
    if not isinstance(node, cst.SimpleString) or node.prefix.lower() not in ("", "u") or node.quote not in ('"', "'"):
        return None
    value = node.evaluated_value
    return value if isinstance(value, str) else None


def _percent_field(match: re.Match, code: str) -> Field | str | None:
    flags, width, prec, kind = match["flags"], match["width"] or "", match["prec"], match["type"]
    if kind == "%":
        return "%" if not flags and not width and prec is None else None
    align = "<" if "-" in flags else (">" if kind in "sr" and width else "")
    sign = "+" if "+" in flags else (" " if " " in flags else "")
    zero = "0" if "0" in flags and "-" not in flags else ""
    letter = {"s": "", "r": "", "i": "d"}.get(kind, kind)
    spec = f"{align}{sign}{zero}{width}{'.' + prec if prec is not None else ''}{letter}"
    if kind == "r":
        return Field(code, "r", spec) if not spec else None
    return Field(code, "s" if kind == "s" and spec else None, spec)


def from_percent(node: cst.BinaryOperation) -> list[str | Field] | None:
    """The template of ``"..." % args`` (``%s``, ``%r``, ``%d``, ``%5.2f``...; no ``%(name)s``)."""
    template = _plain_string(node.left)
    if template is None or not isinstance(node.operator, cst.Modulo):
        return None
    right = node.right
    if isinstance(right, cst.Tuple):
        if any(isinstance(e, cst.StarredElement) for e in right.elements):
            return None
        codes = [_code_for(e.value) for e in right.elements]
    elif isinstance(right, (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.SimpleString)):
        codes = [_code_for(right)]
    else:
        return None
    pieces: list[str | Field] = []
    pos, used = 0, 0
    for match in _PERCENT.finditer(template):
        text = template[pos:match.start()]
        if "%" in text:
            return None
        pieces.append(text)
        field = _percent_field(match, codes[used] if used < len(codes) else "")
        if field is None:
            return None
        if isinstance(field, Field):
            used += 1
        pieces.append(field)
        pos = match.end()
    if "%" in template[pos:] or used != len(codes) or not used:
        return None
    pieces.append(template[pos:])
    return pieces


def from_format(node: cst.Call) -> list[str | Field] | None:
    """The template of ``"...".format(args)`` (auto-numbered, indexed or named fields, each arg used)."""
    if not isinstance(node.func, cst.Attribute) or node.func.attr.value != "format":
        return None
    template = _plain_string(node.func.value)
    if template is None or any(a.star for a in node.args):
        return None
    positional = [_code_for(a.value) for a in node.args if a.keyword is None]
    named = {a.keyword.value: _code_for(a.value) for a in node.args if a.keyword is not None}
    pieces: list[str | Field] = []
    auto, used = 0, set()
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return None
    for text, field, spec, conversion in parsed:
        pieces.append(text)
        if field is None:
            continue
        if "{" in (spec or "") or "." in field or "[" in field:
            return None
        if field == "":
            key, auto = auto, auto + 1
        else:
            key = int(field) if field.isdigit() else field
        code = positional[key] if isinstance(key, int) and key < len(positional) else named.get(key) if isinstance(key, str) else None
        if code is None or (key in used and not code.isidentifier()):
            return None
        used.add(key)
        pieces.append(Field(code, conversion, spec or ""))
    if used != set(range(len(positional))) | set(named) or not used:
        return None
    return pieces


def from_fstring(node: cst.FormattedString) -> list[str | Field] | None:
    """The template of a one-line f-string whose format specs hold no nested fields."""
    if node.prefix.lower() != "f" or node.end not in ('"', "'"):
        return None
    pieces: list[str | Field] = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            try:
                text = ast.literal_eval(node.end + part.value.replace("{{", "{").replace("}}", "}") + node.end)
            except (ValueError, SyntaxError):
                return None
            pieces.append(text)
            continue
        spec_parts = part.format_spec or []
        if part.equal is not None or any(not isinstance(s, cst.FormattedStringText) for s in spec_parts):
            return None
        pieces.append(Field(_code_for(part.expression), part.conversion, "".join(s.value for s in spec_parts)))
    return pieces if any(isinstance(p, Field) for p in pieces) else None


def _literal(text: str, quote: str, doubled: str = "") -> str:
    """``text`` as the inside of a string literal in ``quote``, with the characters of ``doubled`` doubled."""
    out = []
    for ch in text:
        if ch in doubled:
            out.append(ch * 2)
        elif ch in ("\\", quote):
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(repr(ch)[1:-1])
    return "".join(out)


def _arg_code(code: str) -> str:
    expr = cst.parse_expression(code)
    needs = isinstance(expr, (cst.Tuple, cst.Lambda, cst.NamedExpr, cst.Yield)) and not expr.lpar
    return f"({code})" if needs else code


def to_fstring(pieces: Sequence[str | Field], quote: str) -> str | None:
    fields = [p for p in pieces if isinstance(p, Field)]
    if any(set(f.code) & set("\\\n#{}:") or "lambda" in f.code for f in fields):
        return None
    for q in (quote, '"' if quote == "'" else "'"):
        if not any(q in f.code for f in fields):
            break
    else:
        return None
    body = "".join(
        _literal(p, q, "{}") if isinstance(p, str)
        else "{" + _arg_code(p.code) + (f"!{p.conversion}" if p.conversion else "") + (f":{p.spec}" if p.spec else "") + "}"
        for p in pieces
    )
    return f"f{q}{body}{q}"


def to_format(pieces: Sequence[str | Field], quote: str) -> str | None:
    body = "".join(
        _literal(p, quote, "{}") if isinstance(p, str)
        else "{" + (f"!{p.conversion}" if p.conversion else "") + (f":{p.spec}" if p.spec else "") + "}"
        for p in pieces
    )
    args = ", ".join(_arg_code(p.code) for p in pieces if isinstance(p, Field))
    return f"{quote}{body}{quote}.format({args})"


def _percent_spec(field: Field) -> str | None:
    if field.conversion == "r":
        return "%r" if not field.spec else None
    if field.conversion not in (None, "s"):
        return None
    match = _SPEC.match(field.spec)
    if match is None:
        return None
    kind = match["type"]
    if kind is None and field.spec and field.conversion != "s":
        return None  # a bare width means another alignment for strings than for numbers
    if kind is None and match["width"] and match["align"] is None:
        return None
    flags = ("-" if match["align"] == "<" else "") + (match["sign"] or "") + (match["zero"] or "")
    if kind is None and (match["sign"] or match["zero"]):
        return None
    prec = f".{match['prec']}" if match["prec"] is not None else ""
    return f"%{flags}{match['width'] or ''}{prec}{kind or 's'}"


def to_percent(pieces: Sequence[str | Field], quote: str) -> str | None:
    fields = [p for p in pieces if isinstance(p, Field)]
    specs = [_percent_spec(f) for f in fields]
    if not fields or None in specs:
        return None
    it = iter(specs)
    body = "".join(_literal(p, quote, "%") if isinstance(p, str) else next(it) for p in pieces)
    codes = [_arg_code(f.code) for f in fields]
    single = cst.parse_expression(fields[0].code) if len(fields) == 1 else None
    if single is not None and isinstance(single, (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer)):
        args = codes[0]
    else:
        args = "(" + ", ".join(codes) + ("," if len(codes) == 1 else "") + ")"
    return f"{quote}{body}{quote} % {args}"


_RENDER = {"fstring": to_fstring, "format": to_format, "percent": to_percent}
_TIGHT_PARENTS = (cst.Attribute, cst.Subscript, cst.BinaryOperation, cst.UnaryOperation, cst.Await, cst.Call)


def _format_sites(func: cst.FunctionDef) -> tuple[list[tuple[cst.BaseExpression, str, list]], dict[int, cst.CSTNode]]:
    seen = _collect(func, cst.BinaryOperation, cst.Call, cst.FormattedString)
    sites = []
    for node in seen.found:
        if isinstance(node, cst.BinaryOperation):
            pieces, form, quote = from_percent(node), "percent", getattr(node.left, "quote", '"')
        elif isinstance(node, cst.Call):
            pieces, form, quote = from_format(node), "format", getattr(node.func, "value", None)
            quote = getattr(quote, "quote", '"')
        else:
            pieces, form, quote = from_fstring(node), "fstring", node.end
        if pieces is not None and not isinstance(seen.parent.get(id(node)), cst.ConcatenatedString):
            sites.append((node, form, pieces, quote))
    return sites, seen.parent


def op_format_swap(func: cst.FunctionDef, rng: random.Random) -> tuple[cst.FunctionDef, list[str]]:
    """Rewrite some ``%`` / ``str.format`` / f-string expressions in another of the three forms."""
    sites, parents = _format_sites(func)
    done = []
    for node, form, pieces, quote in sites:
        if rng.random() < 0.25:
            continue
        targets = [t for t in _RENDER if t != form]
        rng.shuffle(targets)
        for target in targets:
            code = _RENDER[target](pieces, quote)
            if code is None:
                continue
            try:
                new = cst.parse_expression(code)
            except cst.ParserSyntaxError:
                continue
            parent = parents.get(id(node))
            if node.lpar:
                new = new.with_changes(lpar=node.lpar, rpar=node.rpar)
            elif target == "percent" and isinstance(parent, _TIGHT_PARENTS):
                new = new.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            candidate = func.deep_replace(node, new)
            text = function_text(candidate, "    ")
            if text != function_text(func, "    ") and _parses(text):
                func = candidate
                done.append(f"format-swap:{form}->{target}")
                break
    return func, done


# ---------------------------------------------------------------- T1: layout, comments, docstrings


class _Layout(NamedTuple):
    """The random choices of one relayout, drawn once per copy."""

    drop_blank: float
    add_blank: float
    drop_comment: float
    add_comment: float
    trailing: float
    wrap: float
    join: float
    tight_ops: float
    hang: int


def _draw_layout(rng: random.Random) -> _Layout:
    return _Layout(rng.uniform(0.2, 0.9), rng.uniform(0.05, 0.25), rng.uniform(0.3, 1.0), rng.uniform(0.05, 0.2),
                   rng.uniform(0.0, 0.15), rng.uniform(0.1, 0.5), rng.uniform(0.3, 1.0), rng.uniform(0.2, 0.8),
                   rng.choice((4, 8)))


class _Lines(cst.CSTTransformer):
    """Blank lines and comment lines between statements, and trailing comments."""

    def __init__(self, rng: random.Random, layout: _Layout, comments: bool, blanks: bool) -> None:
        self.rng, self.layout, self.comments, self.blanks = rng, layout, comments, blanks

    def _edit(self, lines: Sequence[cst.EmptyLine], first: bool) -> list[cst.EmptyLine]:
        out = []
        for line in lines:
            if line.comment is not None and self.comments and self.rng.random() < self.layout.drop_comment:
                continue
            if line.comment is None and self.blanks and self.rng.random() < self.layout.drop_blank:
                continue
            out.append(line)
        if not first and self.blanks and not out and self.rng.random() < self.layout.add_blank:
            out.append(cst.EmptyLine(indent=False))
        if self.comments and self.rng.random() < self.layout.add_comment:
            out.append(cst.EmptyLine(comment=cst.Comment(self.rng.choice(_COMMENTS))))
        return out

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        body = []
        for index, stmt in enumerate(updated_node.body):
            if hasattr(stmt, "leading_lines"):
                stmt = stmt.with_changes(leading_lines=self._edit(stmt.leading_lines, index == 0))
            if self.comments and isinstance(stmt, cst.SimpleStatementLine) and self.rng.random() < self.layout.trailing:
                trail = stmt.trailing_whitespace
                if trail.comment is None:
                    trail = trail.with_changes(whitespace=cst.SimpleWhitespace("  "),
                                               comment=cst.Comment(self.rng.choice(_COMMENTS)))
                else:
                    trail = trail.with_changes(whitespace=cst.SimpleWhitespace(""), comment=None)
                stmt = stmt.with_changes(trailing_whitespace=trail)
            body.append(stmt)
        return updated_node.with_changes(body=body)


def _broken(ws: cst.CSTNode) -> bool:
    return isinstance(ws, cst.ParenthesizedWhitespace)


class _Calls(cst.CSTTransformer):
    """Call arguments wrapped one per line, or a wrapped call joined onto one line; operator spacing."""

    def __init__(self, rng: random.Random, layout: _Layout, wrap: bool, spacing: bool) -> None:
        self.rng, self.layout, self.wrap, self.spacing, self.depth = rng, layout, wrap, spacing, 0

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        self.depth += 1
        return True

    def leave_FormattedString(self, original_node: cst.FormattedString, updated_node: cst.FormattedString) -> cst.FormattedString:
        self.depth -= 1
        return updated_node

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if not self.wrap or self.depth or not updated_node.args:
            return updated_node
        args = list(updated_node.args)
        commas = [a.comma for a in args if isinstance(a.comma, cst.Comma)]
        spread = _broken(updated_node.whitespace_before_args) or any(_broken(c.whitespace_after) for c in commas)
        if spread and self.rng.random() < self.layout.join:
            if isinstance(args[-1].comma, cst.Comma):
                return updated_node  # a trailing comma is a token: the call keeps its lines
            joined = [a.with_changes(comma=a.comma.with_changes(whitespace_after=cst.SimpleWhitespace(" ")))
                      if isinstance(a.comma, cst.Comma) and _broken(a.comma.whitespace_after) else a for a in args]
            if _broken(joined[-1].whitespace_after_arg):
                joined[-1] = joined[-1].with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
            return updated_node.with_changes(args=joined, whitespace_before_args=cst.SimpleWhitespace(""))
        if not spread and len(args) >= 2 and self.rng.random() < self.layout.wrap:
            def brk() -> cst.ParenthesizedWhitespace:
                return cst.ParenthesizedWhitespace(indent=True, last_line=cst.SimpleWhitespace(" " * self.layout.hang))
            wrapped = [a.with_changes(comma=a.comma.with_changes(whitespace_after=brk())) if isinstance(a.comma, cst.Comma)
                       else a for a in args]
            return updated_node.with_changes(args=wrapped, whitespace_before_args=brk())
        return updated_node

    def leave_BinaryOperation(self, original_node: cst.BinaryOperation, updated_node: cst.BinaryOperation) -> cst.BinaryOperation:
        op = updated_node.operator
        if not self.spacing or _broken(op.whitespace_before) or _broken(op.whitespace_after):
            return updated_node
        if self.rng.random() >= self.layout.tight_ops:
            return updated_node
        space = cst.SimpleWhitespace("" if op.whitespace_before.value else " ")
        return updated_node.with_changes(operator=op.with_changes(whitespace_before=space, whitespace_after=space))


class _Reindent(cst.CSTTransformer):
    def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated_node.with_changes(indent=None)


def _docstring_edit(func: cst.FunctionDef, rng: random.Random) -> tuple[cst.FunctionDef, str]:
    doc = _docstring(func)
    body = list(func.body.body)
    if doc is None:
        new = _statement(f'"""{rng.choice(_DOC_SUMMARIES)}"""')
        return func.with_changes(body=func.body.with_changes(body=[new, *body])), "docstring-added"
    choice = rng.randrange(3)
    if choice == 0 and len(body) > 1:
        rest = [body[1].with_changes(leading_lines=[*doc.leading_lines, *body[1].leading_lines]), *body[2:]]
        return func.with_changes(body=func.body.with_changes(body=rest)), "docstring-removed"
    value = doc.body[0].value
    if choice == 1 or not isinstance(value, cst.SimpleString):
        new = _statement(f'"""{rng.choice(_DOC_SUMMARIES)}"""').with_changes(leading_lines=doc.leading_lines)
        return func.deep_replace(doc, new), "docstring-reworded"
    quote = value.quote
    lines = value.value[len(value.prefix) + len(quote):-len(quote)].split("\n")
    lines[0] = f"{lines[0].rstrip()} {rng.choice(_DOC_SENTENCES)}".lstrip()
    inner = "\n".join(lines)
    if quote in inner or inner.endswith("\\"):
        return func, ""
    new_value = value.with_changes(value=f"{value.prefix}{quote}{inner}{quote}")
    return func.deep_replace(value, new_value), "docstring-extended"


def relayout(work: _Work, rng: random.Random) -> _Work:
    """T1 edits; each is kept only if the docstring-free token sequence stays the same and it parses."""
    layout = _draw_layout(rng)
    before = tokens_without_docstrings(function_text(work.func, work.unit))
    steps = ["reindent", "blank-lines", "comments", "wrap-or-join-calls", "operator-spacing", "docstring"]
    chosen = [s for s in steps if rng.random() < 0.55] or [rng.choice(steps)]
    for step in steps:
        if step not in chosen:
            continue
        func, unit, label = work.func, work.unit, step
        if step == "reindent":
            unit = rng.choice([u for u in ("  ", "   ", "    ", "     ", "        ") if u != work.unit])
            func = func.visit(_Reindent())
        elif step in ("blank-lines", "comments"):
            func = func.visit(_Lines(rng, layout, comments=step == "comments", blanks=step == "blank-lines"))
        elif step == "wrap-or-join-calls" or step == "operator-spacing":
            func = func.visit(_Calls(rng, layout, wrap=step != "operator-spacing", spacing=step == "operator-spacing"))
        else:
            func, label = _docstring_edit(func, rng)
        if not label or func.deep_equals(work.func) and unit == work.unit:
            continue
        text = function_text(func, unit)
        if _parses(text) and tokens_without_docstrings(text) == before:
            work = _Work(func, unit, (*work.operators, label))
    return work


# ---------------------------------------------------------------- the model


def surface(work: _Work, rng: random.Random, *, method: bool) -> tuple[_Work, dict[str, str]]:
    """T2 edits: formatting swaps, keyword order, literal values, then the consistent renaming."""
    func, ops = work.func, list(work.operators)
    func, swaps = op_format_swap(func, rng)
    ops += swaps
    func, reordered = op_keyword_order(func, rng)
    ops += ["keyword-order"] * reordered
    func, literals = change_literals(func, rng)
    if literals:
        ops.append("literals")
    func, renames = rename(func, rng, method=method)
    ops.append("rename")
    return _Work(func, work.unit, tuple(ops)), renames


def mutate_b(text: str, kind: str, rng: random.Random, *, base_indent: str = "", method: bool = False) -> MutantB:
    """A copy of one function's text (as cut from its file) mutated by model B into level ``kind``."""
    if kind not in LEVELS:
        raise ValueError(f"unknown clone type {kind!r}; use one of {', '.join(LEVELS)}")
    func, unit = parse_function(text)
    try:
        return _mutate(func, unit, kind, rng, base_indent=base_indent, method=method)
    except (cst.CSTValidationError, cst.CSTLogicError, RecursionError) as exc:
        raise ValueError(f"model B cannot rewrite this function: {exc}") from exc


def _mutate(func: cst.FunctionDef, unit: str, kind: str, rng: random.Random, *, base_indent: str, method: bool) -> MutantB:
    work = _Work(func, unit, ())
    n_code = len(code_lines(function_text(func, unit)))
    edits, renames = 0, {}
    if STRUCTURAL_SHARE[kind]:
        work, edits = restructure(work, STRUCTURAL_SHARE[kind], n_code, rng)
    if kind != "T1":
        work, renames = surface(work, rng, method=method)
    work = relayout(work, rng)
    out = function_text(work.func, work.unit, base_indent)
    if not _parses(("if 1:\n" + out) if base_indent else out):
        raise ValueError("model B produced a copy that does not parse")
    return MutantB(kind, out, work.func.name.value, renames, edits, work.operators)
