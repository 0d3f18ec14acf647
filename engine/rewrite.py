"""Edits to one Python module made with libcst, so that everything they do not touch
(comments, blank lines, quoting, layout) stays byte for byte as it was.

An edit names the statements it changes by their first and last line in the
original text (`ast` and libcst agree on them: a definition starts at its `def`
line, its decorators come with it). All edits of a file are made in one pass over
its concrete syntax tree: statements are replaced (re-indented to where they go),
moved into a new module-level function, a function's body becomes a call,
keyword-only parameters are added, and imports are added to the import block in
sorted order.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Sequence, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider


@dataclass(frozen=True)
class Span:
    """Statements of the original text, from the one starting on `first_line` to the one
    ending on `last_line`."""

    first_line: int
    last_line: int


@dataclass(frozen=True)
class Replace:
    """The statements of `span` become `code` (statements at any indentation; none removes them)."""

    span: Span
    code: str


@dataclass(frozen=True)
class Delegate:
    """The body of the function whose `def` is on `def_line` becomes `code`; its decorators,
    signature and docstring stay."""

    def_line: int
    code: str


@dataclass(frozen=True)
class AddParameters:
    """Keyword-only parameters `(name, default)` added to the function on `def_line`."""

    def_line: int
    params: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Substitute:
    """The expression from `start` to `end` ((line, column) pairs, columns in characters
    from 0) becomes `code` (a name, or `getattr(...)` for an attribute)."""

    start: tuple[int, int]
    end: tuple[int, int]
    code: str


@dataclass(frozen=True)
class Extract:
    """The statements of `span` become the body of a new module-level function (`header`
    its `def` line, `footer` its last statement) placed before the module-level statement
    starting on `before_line`; in their place goes `call`."""

    span: Span
    before_line: int
    header: str
    footer: str
    call: str


@dataclass(frozen=True)
class Import:
    """`from module import name [as alias]`, added to the import block if not there."""

    module: str
    name: str
    alias: str | None = None

    @property
    def bound(self) -> str:
        return self.alias or self.name


Edit = Union[Replace, Delegate, AddParameters, Substitute, Extract, Import]


def rewrite(text: str, edits: Sequence[Edit]) -> str:
    """The module's text with the edits made; libcst's ParserSyntaxError if a piece does not parse.

    Only the statements the edits touch go through libcst, each as a small module of its
    own (an indented one under an `if True:` line): libcst resolves positions in a
    6,000-line module in seconds, in a function in milliseconds. The rest of the text is
    not even read again.
    """
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    pieces: list[tuple[int, int, str]] = []  # (first line, last line, new text); last < first inserts
    helpers: dict[int, list[str]] = {}
    unit = _indent_unit(lines)
    for first, last, inside in _regions(tree, lines, edits):
        new, made = _edit_region(lines, first, last, inside, unit)
        pieces.append((first, last, new))
        for before, code in made:
            helpers.setdefault(before, []).append(code)
    for before, codes in helpers.items():
        at = _above(tree, lines, before)
        pieces.append((at, at - 1, "".join(code + "\n\n" for code in codes)))
    imports = [e for e in edits if isinstance(e, Import)]
    if imports:
        pieces.append(_import_piece(tree, lines, imports))
    for first, last, new in sorted(pieces, key=lambda p: (p[0], p[1]), reverse=True):
        lines[first - 1:last] = [new] if new else []
    return "".join(lines)


def _regions(tree: ast.Module, lines: list[str], edits: Sequence[Edit]
             ) -> list[tuple[int, int, list[Edit]]]:
    """The line ranges the edits touch (a definition with its decorators; a removed one with
    the blank and comment lines above it), overlapping ones merged, each with its edits."""
    starts = {node.lineno: node for node in ast.walk(tree) if isinstance(node, ast.stmt)}
    found: list[tuple[int, int, list[Edit]]] = []
    for edit in edits:
        if isinstance(edit, Import):
            continue
        if isinstance(edit, (Replace, Extract)):
            first, last = edit.span.first_line, edit.span.last_line
        elif isinstance(edit, Substitute):
            first = last = edit.start[0]
            inner = [n for n in starts.values() if n.lineno <= first <= (n.end_lineno or n.lineno)]
            if inner:
                node = min(inner, key=lambda n: (n.end_lineno or n.lineno) - n.lineno)
                first, last = node.lineno, node.end_lineno or node.lineno
        else:
            node = starts[edit.def_line]
            first, last = edit.def_line, node.end_lineno or edit.def_line
        node = starts.get(first)
        first = min([first, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        if isinstance(edit, Replace) and not edit.code.strip():
            while first > 1 and (not lines[first - 2].strip() or lines[first - 2].lstrip().startswith("#")):
                first -= 1
        found.append((first, last, [edit]))
    merged: list[tuple[int, int, list[Edit]]] = []
    for first, last, inside in sorted(found, key=lambda r: r[0]):
        if merged and first <= merged[-1][1]:
            start, end, before = merged[-1]
            merged[-1] = (start, max(end, last), before + inside)
        else:
            merged.append((first, last, inside))
    return merged


def _edit_region(lines: list[str], first: int, last: int, edits: list[Edit], unit: str
                 ) -> tuple[str, list[tuple[int, str]]]:
    """One region's new text, and the new functions its `Extract` edits made (by the line
    they go before)."""
    snippet = "".join(lines[first - 1:last])
    if not snippet.endswith("\n"):
        snippet += "\n"
    indented = snippet.lstrip("\n")[:1] in (" ", "\t")
    offset = first - (2 if indented else 1)  # original line = snippet line + offset
    code = "if True:\n" + snippet if indented else snippet
    editor = _Editor([_shifted(e, -offset) for e in edits])
    module = MetadataWrapper(cst.parse_module(code)).visit(editor)
    new = module.code[len("if True:\n"):] if indented else module.code
    if indented and not module.body[0].body.body:  # type: ignore[attr-defined]
        new = ""  # everything in it removed (libcst would write `pass`)
    if not "".join(lines[first - 1:last]).endswith("\n"):
        new = new[:-1]
    made = [(before + offset, cst.Module(body=[helper], default_indent=unit).code.lstrip("\n"))
            for before, helper in editor.helpers]
    return new, made


def _shifted(edit: Edit, by: int) -> Edit:
    if isinstance(edit, (Replace, Extract)):
        moved = Span(edit.span.first_line + by, edit.span.last_line + by)
        return replace(edit, span=moved, **({"before_line": edit.before_line + by}
                                             if isinstance(edit, Extract) else {}))
    if isinstance(edit, Substitute):
        return replace(edit, start=(edit.start[0] + by, edit.start[1]), end=(edit.end[0] + by, edit.end[1]))
    if isinstance(edit, (Delegate, AddParameters)):
        return replace(edit, def_line=edit.def_line + by)
    return edit


def _indent_unit(lines: list[str]) -> str:
    """The file's indentation step: that of its first indented line after a `:`."""
    for previous, line in zip(lines, lines[1:]):
        if previous.rstrip().endswith(":") and line.strip() and line[:1] in (" ", "\t"):
            return line[:len(line) - len(line.lstrip())]
    return "    "


def _above(tree: ast.Module, lines: list[str], before: int) -> int:
    """Where a new function goes before the module-level statement on line `before`: above
    its decorators and the comment lines right above it."""
    node = next((n for n in tree.body if n.lineno == before), None)
    at = min([before, *(d.lineno for d in getattr(node, "decorator_list", ()))])
    while at > 1 and lines[at - 2].lstrip().startswith("#"):
        at -= 1
    return at


def _import_piece(tree: ast.Module, lines: list[str], imports: list[Import]) -> tuple[int, int, str]:
    """The module's first block of imports with the new ones in it; or, with no imports, a
    new line after the docstring and `__future__` imports."""
    body = tree.body
    first = next((i for i, s in enumerate(body) if isinstance(s, (ast.Import, ast.ImportFrom))), None)
    if first is None:
        at = body[0].end_lineno + 1 if body and _is_docstring_node(body[0]) else 1  # type: ignore[operator]
        new = "".join(f"from {i.module} import {i.name}" + (f" as {i.alias}" if i.alias else "") + "\n"
                      for i in dict.fromkeys(imports))
        return (at, at - 1, ("\n" if at > 1 else "") + new + ("\n\n" if at == 1 else ""))
    last = first
    while last + 1 < len(body) and isinstance(body[last + 1], (ast.Import, ast.ImportFrom)):
        last += 1
    start, end = body[first].lineno, body[last].end_lineno or body[last].lineno
    module = cst.parse_module("".join(lines[start - 1:end]))
    return (start, end, _with_imports(module, imports).code)


def _is_docstring_node(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) \
        and isinstance(node.value.value, str)


def statements(code: str) -> list[cst.BaseStatement]:
    """Statements parsed from source text at any indentation."""
    lines = code.splitlines()
    indent = min((len(line) - len(line.lstrip()) for line in lines if line.strip()), default=0)
    dedented = "\n".join(line[indent:] for line in lines) + "\n"
    return list(cst.parse_module(dedented).body) if dedented.strip() else []


class _Editor(cst.CSTTransformer):
    """One pass that makes every edit but the imports and the placing of new functions."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: Sequence[Edit]) -> None:
        super().__init__()
        self.replaced = {e.span.first_line: e for e in edits if isinstance(e, (Replace, Extract))}
        self.delegated = {e.def_line: e.code for e in edits if isinstance(e, Delegate)}
        self.added = {e.def_line: e.params for e in edits if isinstance(e, AddParameters)}
        self.named = {(e.start, e.end): e.code for e in edits if isinstance(e, Substitute)}
        self.helpers: list[tuple[int, cst.FunctionDef]] = []  # (before_line, new function)

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        if self.named and isinstance(original, cst.BaseExpression):
            position = self.get_metadata(PositionProvider, original, None)
            if position is not None:
                key = ((position.start.line, position.start.column),
                       (position.end.line, position.end.column))
                if key in self.named:
                    return cst.parse_expression(self.named.pop(key)).with_changes(
                        lpar=getattr(updated, "lpar", ()), rpar=getattr(updated, "rpar", ()))
        return super().on_leave(original, updated)  # type: ignore[return-value]

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        line = self._line(original)
        if line in self.added:
            updated = updated.with_changes(params=_keyword_only(updated.params, self.added.pop(line)))
        if line in self.delegated:
            updated = updated.with_changes(body=_delegating_body(updated, self.delegated.pop(line)))
        return updated

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated.with_changes(body=self._body(original.body, updated.body))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return updated.with_changes(body=self._body(original.body, updated.body))

    def _body(self, original: Sequence[cst.BaseStatement],
              updated: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement]:
        """A body with the runs of statements named by `Replace` and `Extract` edits swapped."""
        body: list[cst.BaseStatement] = []
        index = 0
        while index < len(original):
            edit = self.replaced.get(self._line(original[index]))
            if edit is None:
                body.append(updated[index])
                index += 1
                continue
            end = index
            while self.get_metadata(PositionProvider, original[end]).end.line < edit.span.last_line:
                end += 1
            moved = list(updated[index:end + 1])
            code = edit.call if isinstance(edit, Extract) else edit.code
            body += _placed(statements(code), moved[0])
            if isinstance(edit, Extract):
                self.helpers.append((edit.before_line, _helper(edit, moved)))
            del self.replaced[edit.span.first_line]
            index = end + 1
        return body


def _placed(new: list[cst.BaseStatement], first: cst.BaseStatement) -> list[cst.BaseStatement]:
    """New statements in the place of old ones: the first keeps the comments and blank
    lines that stood above the old run."""
    if not new:
        return []
    leading = getattr(first, "leading_lines", ())
    return [new[0].with_changes(leading_lines=leading), *new[1:]]


def _helper(edit: Extract, moved: list[cst.BaseStatement]) -> cst.FunctionDef:
    """The new function: the moved statements under the header, then the footer (the comments
    above the run stay at the call)."""
    body = [moved[0].with_changes(leading_lines=[]), *moved[1:], *statements(edit.footer)]
    function = statements(edit.header + "\n    pass\n")[0]
    assert isinstance(function, cst.FunctionDef)
    return function.with_changes(body=cst.IndentedBlock(body=body))


def _keyword_only(params: cst.Parameters, added: tuple[tuple[str, str], ...]) -> cst.Parameters:
    new = [cst.Param(cst.Name(name), default=cst.parse_expression(f"({default})" if "\n" in default else default),
                     equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
           for name, default in added]
    star = params.star_arg
    if not isinstance(star, (cst.Param, cst.ParamStar)):
        star = cst.ParamStar()
    kwonly = list(params.kwonly_params)
    if kwonly and kwonly[-1].comma is cst.MaybeSentinel.DEFAULT:
        kwonly[-1] = kwonly[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return params.with_changes(star_arg=star, kwonly_params=[*kwonly, *new])


def _delegating_body(function: cst.FunctionDef, code: str) -> cst.BaseSuite:
    """The function's docstring, if it has one, then `code`."""
    body = function.body
    kept: list[cst.BaseStatement] = []
    if isinstance(body, cst.IndentedBlock) and body.body and _is_docstring(body.body[0]):
        kept.append(body.body[0])
    return cst.IndentedBlock(body=[*kept, *statements(code)])


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


# -- imports --------------------------------------------------------------------------------


def _with_imports(module: cst.Module, imports: Sequence[Import]) -> cst.Module:
    body = list(module.body)
    for wanted in imports:
        if not _merged(body, wanted):
            _insert_import(body, wanted)
    return module.with_changes(body=body)


def _import_from(statement: cst.BaseStatement) -> cst.ImportFrom | None:
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
            and isinstance(statement.body[0], cst.ImportFrom):
        return statement.body[0]
    return None


def _module_of(node: cst.ImportFrom) -> str:
    dots = "." * len(node.relative)
    return dots + (cst.Module([]).code_for_node(node.module) if node.module else "")


def _merged(body: list[cst.BaseStatement], wanted: Import) -> bool:
    """Add the name to an existing `from module import ...` on one line; True if done (or there)."""
    for index, statement in enumerate(body):
        node = _import_from(statement)
        if node is None or _module_of(node) != wanted.module or isinstance(node.names, cst.ImportStar):
            continue
        names = list(node.names)
        shown = [(cst.Module([]).code_for_node(a.name), a.asname.name.value if a.asname else None)  # type: ignore[union-attr]
                 for a in names]
        if (wanted.name, wanted.alias) in shown:
            return True
        if node.lpar is not None or len(names) >= 4:
            continue  # a parenthesised or long list stays as its author wrapped it
        alias = cst.ImportAlias(cst.Name(wanted.name),
                                asname=cst.AsName(cst.Name(wanted.alias)) if wanted.alias else None)
        ordered = sorted([*[a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in names], alias],
                         key=lambda a: cst.Module([]).code_for_node(a.name).lower())
        body[index] = statement.with_changes(body=[node.with_changes(names=ordered)])  # type: ignore[attr-defined]
        return True
    return False


def _insert_import(body: list[cst.BaseStatement], wanted: Import) -> None:
    """A new `from ... import` line, in isort's order within its group of the import block:
    the group importing from the same package, else the last one (or, with no imports,
    a line after the docstring)."""
    line = statements(f"from {wanted.module} import {wanted.name}"
                      + (f" as {wanted.alias}" if wanted.alias else ""))[0]
    first = next((i for i, s in enumerate(body) if _is_import(s)), None)
    if first is None:
        at = 1 if body and _is_docstring(body[0]) else 0
        body.insert(at, line.with_changes(leading_lines=[cst.EmptyLine()] if at else []))
        if at + 1 < len(body):
            body[at + 1] = body[at + 1].with_changes(leading_lines=[cst.EmptyLine()] * 2)
        return
    block = [first]
    while block[-1] + 1 < len(body) and _is_import(body[block[-1] + 1]):
        block.append(block[-1] + 1)
    groups: list[list[int]] = []
    for i in block:
        if not groups or _starts_group(body[i]):
            groups.append([])
        groups[-1].append(i)
    package = wanted.module.lstrip(".").split(".")[0]
    group = next((g for g in groups if any(_sort_key(body[i])[1].lstrip(".").split(".")[0] == package
                                           for i in g)), groups[-1])
    key = _sort_key(line)
    at = next((i for i in group if _sort_key(body[i]) > key and not _is_future(body[i])), group[-1] + 1)
    if at == group[0]:
        leading = body[at].leading_lines  # type: ignore[attr-defined]
        body[at] = body[at].with_changes(leading_lines=[])
        line = line.with_changes(leading_lines=leading)
    body.insert(at, line)


def _is_import(statement: cst.BaseStatement) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1 \
        and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))


def _is_future(statement: cst.BaseStatement) -> bool:
    node = _import_from(statement)
    return node is not None and _module_of(node) == "__future__"


def _starts_group(statement: cst.BaseStatement) -> bool:
    return any(line.comment is None for line in getattr(statement, "leading_lines", ()))


def _sort_key(statement: cst.BaseStatement) -> tuple[int, str]:
    """isort's order within a group: `import x` lines first, then `from x import`, by module."""
    node = statement.body[0]  # type: ignore[attr-defined]
    if isinstance(node, cst.ImportFrom):
        return (1, _module_of(node).lower())
    return (0, cst.Module([]).code_for_node(node.names[0].name).lower())
