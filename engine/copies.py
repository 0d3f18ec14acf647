"""The copies of a Python clone in their modules' `ast`: where each one is, how two line up,
and which names in them are local, so a refactoring can tell a rename from a real difference.

A copy is a run of sibling statements (a `Site`). Two copies are aligned node by
node: the same node types and the same fixed fields (operators, attributes,
keywords, imported names), with three things allowed to differ, each recorded:
names (a `Name`, a parameter, a bound name), literals, and docstrings and type
annotations (ignored). Anything else is an edit no parameter can stand for, and
`align` refuses with where it is.
"""
from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Sequence

from engine.exceptions import RefactorRefusedError
from engine.records import Fragment

Function = ast.FunctionDef | ast.AsyncFunctionDef
Scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
BUILTIN_NAMES = frozenset(dir(builtins))
# Fields never compared: expression context, and what does not run (annotations, type comments).
_IGNORED_FIELDS = frozenset({"ctx", "type_comment", "kind", "annotation", "returns", "type_params"})
# (node type, field) whose string value binds a name: it may be renamed like a variable.
_BINDING_FIELDS = {(ast.FunctionDef, "name"), (ast.AsyncFunctionDef, "name"), (ast.ClassDef, "name"),
                   (ast.arg, "arg"), (ast.ExceptHandler, "name"), (ast.alias, "asname"),
                   (ast.Global, "names"), (ast.Nonlocal, "names"), (ast.MatchAs, "name"),
                   (ast.MatchStar, "name"), (ast.MatchMapping, "rest")}


@dataclass(frozen=True, eq=False)
class Source:
    """One file of a clone: its path as the index names it, its dotted module name, its text."""

    path: str
    module: str
    text: str

    @cached_property
    def tree(self) -> ast.Module:
        return ast.parse(self.text)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @property
    def package(self) -> bool:
        return self.path.rsplit("/", 1)[-1] == "__init__.py"

    @cached_property
    def bindings(self) -> dict[str, tuple[str, ...]]:
        """Module-level name -> what binds it, as comparable text (see `_meaning`)."""
        found: dict[str, list[str]] = {}
        for statement, name in _module_level_bindings(self.tree):
            found.setdefault(name, []).append(_meaning(statement, name, self))
        return {name: tuple(meanings) for name, meanings in found.items()}

    @cached_property
    def binding_lines(self) -> dict[str, int]:
        """Module-level name -> the first line that binds it."""
        lines: dict[str, int] = {}
        for statement, name in _module_level_bindings(self.tree):
            lines.setdefault(name, statement.lineno)
        return lines

    @cached_property
    def star_imports(self) -> frozenset[str]:
        return frozenset(self.absolute(node) for node in ast.walk(self.tree)
                         if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names))

    @cached_property
    def imported_modules(self) -> frozenset[str]:
        """Every module this one imports anywhere (`from p import m` counts p and p.m)."""
        found = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = self.absolute(node)
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        return frozenset(found)

    def absolute(self, node: ast.ImportFrom) -> str:
        """The absolute module a `from` import names (relative ones resolved against this one)."""
        if not node.level:
            return node.module or ""
        parts = self.module.split(".")
        keep = len(parts) - node.level + (1 if self.package else 0)
        base = ".".join(parts[:max(keep, 0)])
        return ".".join(p for p in (base, node.module) if p)

    def segment(self, node: ast.AST) -> str:
        """The source text of a node."""
        return ast.get_source_segment(self.text, node) or ast.unparse(node)

    def position(self, node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
        """A node's start and end as (line, column in characters), as libcst counts them."""
        def column(line: int, offset: int) -> int:
            return len(self.lines[line - 1].encode()[:offset].decode(errors="replace"))
        return ((node.lineno, column(node.lineno, node.col_offset)),  # type: ignore[attr-defined]
                (node.end_lineno, column(node.end_lineno, node.end_col_offset)))  # type: ignore[attr-defined]


@dataclass(frozen=True, eq=False)
class Site:
    """Where one copy is: a run of sibling statements and what encloses it."""

    source: Source
    fragment: Fragment
    statements: tuple[ast.stmt, ...]
    owner: ast.AST  # the node whose body holds the statements
    chain: tuple[ast.AST, ...]  # the module down to the owner

    @property
    def first_line(self) -> int:
        return self.statements[0].lineno

    @property
    def last_line(self) -> int:
        return self.statements[-1].end_lineno or self.statements[-1].lineno

    @property
    def functions(self) -> tuple[Function, ...]:
        """The functions around the run, outermost first."""
        return tuple(n for n in self.chain if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))

    @property
    def top(self) -> ast.stmt:
        """The module-level statement that holds the run (its first statement at module level)."""
        return self.chain[1] if len(self.chain) > 1 else self.statements[0]  # type: ignore[return-value]

    @property
    def in_loop(self) -> bool:
        """Whether a loop of the innermost function surrounds the run."""
        inner = self.chain[self.chain.index(self.functions[-1]):] if self.functions else self.chain
        return any(isinstance(n, (ast.For, ast.AsyncFor, ast.While)) for n in inner)

    @property
    def where(self) -> str:
        return f"{self.source.path}:{self.fragment.start_line}-{self.fragment.end_line}"


def locate(source: Source, fragment: Fragment) -> Site:
    """The copy at a fragment's lines: the outermost run of sibling statements that starts
    on its first line and ends on its last."""
    found = _find(source.tree, fragment.start_line, fragment.end_line, ())
    if found is None:
        raise RefactorRefusedError(f"{source.path}:{fragment.start_line}-{fragment.end_line} is not "
                                   "a run of whole statements (it starts or ends inside one)")
    statements, owner, chain = found
    lines = {s.lineno for s in statements} | {s.end_lineno for s in statements}
    if any(other.lineno in lines or other.end_lineno in lines for other in _siblings(owner)
           if other not in statements):
        raise RefactorRefusedError(f"{source.path}:{fragment.start_line}-{fragment.end_line} shares "
                                   "a line with a statement outside it (`;`)")
    return Site(source, fragment, statements, owner, chain)


def _find(node: ast.AST, start: int, end: int, chain: tuple[ast.AST, ...]
          ) -> tuple[tuple[ast.stmt, ...], ast.AST, tuple[ast.AST, ...]] | None:
    for body in _bodies(node):
        firsts = [i for i, s in enumerate(body) if s.lineno == start or _first_line(s) == start]
        lasts = [i for i, s in enumerate(body) if s.end_lineno == end]
        if firsts and lasts and firsts[0] <= lasts[-1]:
            return tuple(body[firsts[0]:lasts[-1] + 1]), node, (*chain, node)
    for child in _inner(node):
        if getattr(child, "lineno", start) <= end and getattr(child, "end_lineno", end) >= start:
            found = _find(child, start, end, (*chain, node))
            if found is not None:
                return found
    return None


def _bodies(node: ast.AST) -> Iterator[list[ast.stmt]]:
    for name in ("body", "orelse", "finalbody"):
        value = getattr(node, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield value


def _inner(node: ast.AST) -> Iterator[ast.AST]:
    for body in _bodies(node):
        yield from body
    yield from getattr(node, "handlers", ())
    yield from getattr(node, "cases", ())


def _siblings(owner: ast.AST) -> Iterator[ast.stmt]:
    for body in _bodies(owner):
        yield from body


def _first_line(statement: ast.stmt) -> int:
    decorators = getattr(statement, "decorator_list", ())
    return min([statement.lineno, *(d.lineno for d in decorators)])


# -- alignment ------------------------------------------------------------------------------


@dataclass
class Alignment:
    """What differs between two copies aligned node by node: every name pair (equal or not,
    with the node holding it) and every pair of differing literals."""

    names: list[tuple[ast.AST, str, ast.AST, str]] = field(default_factory=list)
    values: list[tuple[ast.expr, ast.expr]] = field(default_factory=list)
    attributes: list[tuple[ast.Attribute, ast.Attribute]] = field(default_factory=list)  # read ones


def align_nodes(pairs: Sequence[tuple[ast.AST, ast.AST]], sites: tuple[Site, Site]) -> Alignment:
    """Align pairs of nodes of two copies; RefactorRefusedError at the first difference that
    is not a name or a literal."""
    found = Alignment()
    for x, y in pairs:
        _align(x, y, found, sites)
    return found


def _align(x: ast.AST, y: ast.AST, found: Alignment, sites: tuple[Site, Site]) -> None:
    if type(x) is not type(y):
        raise _edited(x, y, sites)
    if isinstance(x, ast.Constant):
        if type(x.value) is not type(y.value) or repr(x.value) != repr(y.value):  # type: ignore[attr-defined]
            found.values.append((x, y))  # type: ignore[arg-type]
        return
    if isinstance(x, ast.Name):
        found.names.append((x, x.id, y, y.id))  # type: ignore[attr-defined]
        return
    for name in x._fields:
        if name in _IGNORED_FIELDS:
            continue
        u, v = getattr(x, name, None), getattr(y, name, None)
        if isinstance(u, list) and isinstance(v, list):
            if name == "body" and isinstance(x, (*Scopes[:2], ast.ClassDef)):
                u, v = _without_docstring(u), _without_docstring(v)
            if isinstance(x, ast.JoinedStr):
                _align_fstring(x, y, u, v, found, sites)
                continue
            if len(u) != len(v):
                raise _edited(x, y, sites)
            for p, q in zip(u, v):
                _align_field(x, y, name, p, q, found, sites)
        else:
            _align_field(x, y, name, u, v, found, sites)


def _align_field(x: ast.AST, y: ast.AST, name: str, u: object, v: object, found: Alignment,
                 sites: tuple[Site, Site]) -> None:
    if isinstance(u, ast.AST) and isinstance(v, ast.AST):
        _align(u, v, found, sites)
    elif isinstance(u, str) and isinstance(v, str) and (type(x), name) in _BINDING_FIELDS:
        found.names.append((x, u, y, v))
    elif isinstance(x, ast.Attribute) and isinstance(y, ast.Attribute) and name == "attr" \
            and isinstance(x.ctx, ast.Load) and u != v:
        found.attributes.append((x, y))  # getattr() with a parameter can read either
    elif type(u) is not type(v) or u != v:
        raise _edited(x, y, sites, f"`{u}` and `{v}`" if isinstance(u, str) else "")


def _align_fstring(x: ast.AST, y: ast.AST, u: list[ast.AST], v: list[ast.AST], found: Alignment,
                   sites: tuple[Site, Site]) -> None:
    """The text of an f-string must be the same; what it formats may differ like any expression."""
    if len(u) != len(v):
        raise _edited(x, y, sites)
    for p, q in zip(u, v):
        if isinstance(p, ast.Constant) and isinstance(q, ast.Constant) and p.value != q.value:
            raise _edited(x, y, sites, "the text of an f-string")
        _align(p, q, found, sites)


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return body[1:]
    return body


def _edited(x: ast.AST, y: ast.AST, sites: tuple[Site, Site], what: str = "") -> RefactorRefusedError:
    a, b = sites
    shown = [f"`{_clip(ast.unparse(n))}`" if isinstance(n, ast.AST) else "" for n in (x, y)]
    line_a = getattr(x, "lineno", a.first_line)
    line_b = getattr(y, "lineno", b.first_line)
    detail = f" ({what} differ)" if what else ""
    return RefactorRefusedError(
        f"the copies differ in more than names and values: {a.source.path}:{line_a} has "
        f"{shown[0]} where {b.source.path}:{line_b} has {shown[1]}{detail}; an edited statement "
        "cannot become a parameter")


def _clip(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


# -- names and scopes -------------------------------------------------------------------------


def bound_names(nodes: Sequence[ast.AST]) -> set[str]:
    """Names bound in these nodes, nested functions included (a comprehension's own variables not)."""
    found: set[str] = set()
    for node in _walk(nodes, comprehensions=False):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.alias) and node.name != "*":
            found.add(node.asname or node.name.split(".")[0])
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            found.add(node.name)
    return found


def declared(nodes: Sequence[ast.AST]) -> set[str]:
    """Names declared `global` or `nonlocal` in these nodes."""
    return {name for node in _walk(nodes) if isinstance(node, (ast.Global, ast.Nonlocal))
            for name in node.names}


def function_locals(function: Function) -> set[str]:
    """The names local to a function (its parameters and what it binds, nested scopes included)."""
    inside = [function.args, *function.body]
    return bound_names(inside) - declared(inside)


def free_loads(node: ast.AST, inner: frozenset[str] = frozenset()) -> list[str]:
    """Names read in a node from the scope around it, in order: the variables of its
    comprehensions and the parameters and locals of its lambdas and functions left out."""
    if isinstance(node, ast.Name):
        return [node.id] if isinstance(node.ctx, ast.Load) and node.id not in inner else []
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        inner = inner | bound_names([g.target for g in node.generators])
    elif isinstance(node, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):
        body = node.body if isinstance(node.body, list) else [node.body]
        own = [*getattr(node, "decorator_list", ()), *node.args.defaults,
               *(d for d in node.args.kw_defaults if d is not None)]
        return [n for part in own for n in free_loads(part, inner)] + \
            [n for part in body for n in free_loads(part, inner | bound_names([node.args, *body]))]
    return [n for child in ast.iter_child_nodes(node) for n in free_loads(child, inner)]


def _walk(nodes: Sequence[ast.AST], comprehensions: bool = True) -> Iterator[ast.AST]:
    """`ast.walk` over several nodes; without `comprehensions`, a comprehension's targets are skipped."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        if not comprehensions and isinstance(node, ast.comprehension):
            stack.extend(reversed([node.iter, *node.ifs]))
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def same_global(name: str, a: Source, b: Source) -> bool:
    """Whether a module-level name means the same in two modules: the same module, the same
    import, an equal function or literal constant, or a builtin in both."""
    if a.module == b.module:
        return True
    meaning_a, meaning_b = a.bindings.get(name), b.bindings.get(name)
    if meaning_a is None and meaning_b is None:
        return name in BUILTIN_NAMES or a.star_imports == b.star_imports
    return meaning_a == meaning_b


def _module_level_bindings(tree: ast.Module) -> Iterator[tuple[ast.stmt, str]]:
    """(statement, name) for each name bound at module level, in `if`/`try`/`with` blocks too."""
    stack = list(reversed(tree.body))
    while stack:
        statement = stack.pop()
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield statement, statement.name
            continue
        if isinstance(statement, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            inner = [*getattr(statement, "body", ()), *getattr(statement, "orelse", ()),
                     *getattr(statement, "finalbody", ()),
                     *(s for h in getattr(statement, "handlers", ()) for s in h.body)]
            stack.extend(reversed(inner))
            heads = [getattr(statement, "target", None), *(i.optional_vars for i in getattr(statement, "items", ()))]
            for name in bound_names([h for h in heads if h is not None]):
                yield statement, name
            continue
        for name in bound_names([statement]):
            yield statement, name


def _meaning(statement: ast.stmt, name: str, source: Source) -> str:
    """What binds a module-level name, comparable between modules: an import's target, a
    function's code, a literal's value; anything else is unique to its module."""
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            if (alias.asname or alias.name.split(".")[0]) == name:
                return f"import {alias.name if alias.asname else alias.name.split('.')[0]}"
    if isinstance(statement, ast.ImportFrom):
        for alias in statement.names:
            if (alias.asname or alias.name) == name:
                return f"from {source.absolute(statement)} import {alias.name}"
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return "def " + ast.dump(statement)
    if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
        try:
            return "value " + repr(ast.literal_eval(statement.value))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            pass
    return f"{source.module}:{statement.lineno}"
