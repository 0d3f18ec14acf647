"""Mutated copies of one function, as clone types T1 (layout), T2 (renamed) and T3 (edited).

- ``T1``: lines re-indented, continuation lines joined, split and re-aligned,
  blank lines and comments added and removed, spacing inside lines changed; the
  token sequence without layout is untouched.
- ``T2``: T1 plus the function name, parameters, locals and literals renamed
  consistently (every occurrence of a name or literal gets the same new spelling).
- ``T3-light`` / ``T3-heavy``: T2 plus about 10% / 30% of the code lines edited:
  a statement inserted, deleted or changed (operator swapped, call argument
  added, name wrapped in a call, condition negated).

Renaming and editing rewrite the text in place (positions come from ``ast`` and
``tokenize``), so the line structure is known until the last step, the layout,
which regenerates the text from the token stream. Every step's result is parsed,
and a change that would not parse is not made.

A *code line* is a line holding a token other than a comment that is not part
of a docstring: the unit in which coverage and edit fractions are measured.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import random
import tokenize
from collections.abc import Iterable, Sequence
from typing import NamedTuple

CLONE_TYPES = ("T1", "T2", "T3-light", "T3-heavy")
EDIT_FRACTION = {"T1": 0.0, "T2": 0.0, "T3-light": 0.10, "T3-heavy": 0.30}

_LAYOUT_TOKENS = frozenset(
    {tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT,
     tokenize.ENCODING, tokenize.ENDMARKER}
)
_WORDISH = frozenset({tokenize.NAME, tokenize.NUMBER, tokenize.STRING})
_OPENERS = frozenset("([{")
_CLOSERS = frozenset(")]}")
# Spaces that may be dropped: after these tokens, or before those (no token can merge across them).
_TIGHT_AFTER = frozenset({"(", "[", "{", ",", ":", "="})
_TIGHT_BEFORE = frozenset({")", "]", "}", ",", ":", "=", "+", "-"})
# Operators whose spelling can change without changing the parse tree's shape.
_SWAPS = {"+": "-", "-": "+", "*": "+", "==": "!=", "!=": "==", "<": "<=", "<=": "<",
          ">": ">=", ">=": ">", "and": "or", "or": "and"}
_COMMENTS = (
    "# keep in sync with the original", "# TODO: simplify", "# XXX: check the edge case",
    "# copied from upstream", "# see the note above", "# fast path", "# NOTE: order matters",
    "# defensive", "# slow path", "# FIXME",
)
_WORDS = (
    "item", "value", "result", "data", "entry", "node", "buf", "count", "idx", "key", "obj",
    "target", "source", "elem", "token", "chunk", "part", "record", "state", "info", "tmp",
    "val", "res", "acc", "cur", "nxt", "prev", "flag", "size", "pos", "spec", "ctx", "opts",
)
_VERBS = ("handle", "process", "build", "compute", "collect", "apply", "load", "make", "read", "check")
_LITERAL_SUFFIXES = ("_x", "2", "-alt", ".v2", " (copy)", "_new")
_NEVER_RENAMED = frozenset({"self", "cls", "__class__"})


class Mutant(NamedTuple):
    """A mutated copy of a function: its text (indented for its destination) and what was done."""

    kind: str
    text: str
    name: str  # the copy's function name
    renames: dict[str, str]
    edits: int  # code lines inserted, deleted or changed


# ---------------------------------------------------------------- code lines and tokens


def _docstring_lines(tree: ast.AST) -> set[int]:
    """Lines of the docstrings of the module, its classes and functions."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and is_docstring(body[0]):
                lines.update(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def is_docstring(stmt: ast.stmt) -> bool:
    """Whether a statement is a bare string: a docstring when it comes first in a body."""
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def code_lines(source: str) -> set[int]:
    """The 1-based numbers of the lines of ``source`` that hold code (not comments or docstrings)."""
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in _LAYOUT_TOKENS:
            continue
        lines.update(range(tok.start[0], tok.end[0] + 1))
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return lines
    return lines - _docstring_lines(tree)


def normalized_tokens(source: str) -> list[tuple[int, str]]:
    """The token stream of ``source`` without layout: no comments, newlines or indentation."""
    return [
        (tok.type, tok.string)
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type not in _LAYOUT_TOKENS
    ]


# ---------------------------------------------------------------- snippets


def indent_of(line: str) -> str:
    """The leading spaces of a line."""
    return line[: len(line) - len(line.lstrip(" "))]


def parse_snippet(text: str) -> tuple[ast.FunctionDef | ast.AsyncFunctionDef, int]:
    """Parse one function's text (indented or not); return the def node and the line offset."""
    offset = 0
    if text[:1] == " ":
        text, offset = "if 1:\n" + text, 1
    tree = ast.parse(text)
    node = tree.body[0].body[0] if offset else tree.body[0]
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        raise ValueError("the snippet is not one function")
    return node, offset


def _char_col(line: str, byte_col: int) -> int:
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))


def _replace_at(lines: list[str], edits: Iterable[tuple[int, int, int, str]]) -> list[str]:
    """Apply (line, start col, end col, new text) replacements, 0-based lines, character columns."""
    out = list(lines)
    for line, start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        out[line] = out[line][:start] + new + out[line][end:]
    return out


# ---------------------------------------------------------------- Type-2: renaming


def _bound_elsewhere(func: ast.AST) -> set[str]:
    """Names bound by statements that carry them as plain strings (not renamed: no positions)."""
    names: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node is not func:
            names.add(node.name)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            names.add(node.rest)
    return names


def local_names(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The parameters and locals of a function that can be renamed consistently, in order of appearance."""
    seen: dict[str, None] = {}
    inner = [func.args, *func.body]
    for part in inner:
        for node in ast.walk(part):
            if isinstance(node, ast.arg):
                seen.setdefault(node.arg)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                seen.setdefault(node.id)
    blocked = _bound_elsewhere(func) | _NEVER_RENAMED
    return [name for name in seen if name not in blocked]


def _fresh_name(rng: random.Random, taken: set[str], verb: bool = False) -> str:
    while True:
        if verb:
            name = f"{rng.choice(_VERBS)}_{rng.choice(_WORDS)}"
        else:
            name = rng.choice(_WORDS)
        if name in taken:
            name = f"{name}{rng.randint(2, 99)}"
        if name not in taken and not keyword.iskeyword(name):
            taken.add(name)
            return name


def _all_names(func: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def _new_literal(token: str, rng: random.Random) -> str | None:
    """A different spelling of a literal token, or None to leave it (docstring-like, f-string...)."""
    try:
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, bool) or isinstance(value, complex):
        return None
    if isinstance(value, int):
        return str(value + rng.randint(1, 9))
    if isinstance(value, float):
        return repr(value + rng.choice((0.5, 1.0, 2.5)))
    prefix = token[: len(token) - len(token.lstrip("rRbBuUfF"))]
    body = token[len(prefix):]
    if "f" in prefix.lower() or body[:3] in ('"""', "'''") or "\n" in body:
        return None
    quote = body[0]
    suffix = rng.choice(_LITERAL_SUFFIXES)
    return f"{prefix}{quote}{body[1:-1]}{suffix}{quote}"


def rename(text: str, rng: random.Random, *, method: bool) -> tuple[str, dict[str, str]]:
    """Type-2 renaming of one function's text: name, parameters, locals and literals, consistently.

    The line structure is kept, so line-based edits can follow.
    """
    func, offset = parse_snippet(text)
    lines = text.split("\n")
    taken = _all_names(func) | set(dir(builtins))
    mapping = {name: _fresh_name(rng, taken) for name in local_names(func)}
    # A local that shares the function's name gets the same new name: one spelling, one new spelling.
    new_func_name = mapping.get(func.name) or _fresh_name(rng, taken, verb=True)
    edits = []
    for part in [func.args, *func.body]:
        for node in ast.walk(part):
            name = node.arg if isinstance(node, ast.arg) else node.id if isinstance(node, ast.Name) else None
            if name is None:
                continue
            new = mapping.get(name)
            if new is None and name == func.name and not method and isinstance(node, ast.Name):
                new = new_func_name  # a recursive call of a top-level function
            if new is None:
                continue
            row = node.lineno - 1 - offset
            col = _char_col(lines[row], node.col_offset)
            edits.append((row, col, col + len(name), new))
    # The def's own name: the NAME token that follows `def`.
    def_row = func.lineno - 1 - offset
    head = lines[def_row]
    col = head.index("def", _char_col(head, func.col_offset)) + 3
    col += len(head[col:]) - len(head[col:].lstrip())
    edits.append((def_row, col, col + len(func.name), new_func_name))
    # Literals, outside the docstring, consistently by spelling.
    skip_rows: set[int] = set()
    body = func.body
    if body and is_docstring(body[0]):
        skip_rows = set(range(body[0].lineno - 1 - offset, body[0].end_lineno - offset))
    literal_map: dict[str, str | None] = {}
    tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    spelled = {tok.string for tok in tokens if tok.type in (tokenize.STRING, tokenize.NUMBER)}
    for tok in tokens:
        if tok.type not in (tokenize.STRING, tokenize.NUMBER) or tok.start[0] != tok.end[0]:
            continue
        row = tok.start[0] - 1
        if row in skip_rows:
            continue
        if tok.string not in literal_map:
            # One new spelling per literal, never one already used: the renaming stays one-to-one.
            tries = (_new_literal(tok.string, rng) for _ in range(10))
            new = next((t for t in tries if t is None or t not in spelled), None)
            literal_map[tok.string] = new
            if new is not None:
                spelled.add(new)
        new = literal_map[tok.string]
        if new is not None:
            edits.append((row, tok.start[1], tok.end[1], new))
    renamed = "\n".join(_replace_at(lines, edits))
    mapping[func.name] = new_func_name
    mapping.update({k: v for k, v in literal_map.items() if v is not None})
    return renamed, mapping


# ---------------------------------------------------------------- Type-3: line edits


class _Slot(NamedTuple):
    """A statement alone on its line, which an edit may insert after, delete or change."""

    row: int  # 0-based row in the snippet
    stmt: ast.stmt
    block: int  # id of the statement list it belongs to


def _alone_on_line(stmt: ast.stmt, lines: list[str], offset: int) -> bool:
    if stmt.lineno != stmt.end_lineno:
        return False
    line = lines[stmt.lineno - 1 - offset]
    before = line[: _char_col(line, stmt.col_offset)]
    after = line[_char_col(line, stmt.end_col_offset):].strip()
    return not before.strip() and (not after or after.startswith("#"))


def _slots(func: ast.AST, lines: list[str], offset: int) -> tuple[list[_Slot], dict[int, int]]:
    slots: list[_Slot] = []
    sizes: dict[int, int] = {}
    for node in ast.walk(func):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if not isinstance(block, list) or not block or not isinstance(block[0], ast.stmt):
                continue
            key = id(block)
            sizes[key] = len(block)
            for index, stmt in enumerate(block):
                if node is func and index == 0 and is_docstring(stmt):
                    sizes[key] -= 1
                    continue
                if is_docstring(stmt):
                    continue
                compound = hasattr(stmt, "body")
                if not compound and _alone_on_line(stmt, lines, offset):
                    slots.append(_Slot(stmt.lineno - 1 - offset, stmt, key))
                elif isinstance(stmt, (ast.If, ast.While)) and stmt.test.lineno == stmt.test.end_lineno == stmt.lineno:
                    slots.append(_Slot(stmt.lineno - 1 - offset, stmt, key))
    return sorted(slots, key=lambda s: s.row), sizes


def _parses(lines: list[str]) -> bool:
    try:
        parse_snippet("\n".join(lines))
    except (SyntaxError, ValueError, IndexError):
        return False
    return True


def _change_line(slot: _Slot, line: str, names: Sequence[str], rng: random.Random) -> list[str]:
    """Candidate changed versions of one line, in random order."""
    stmt = slot.stmt
    col = lambda c: _char_col(line, c)  # noqa: E731 - a local shorthand
    options: list[str] = []
    if isinstance(stmt, (ast.If, ast.While)):
        start = col(stmt.test.col_offset)
        options.append(line[:start] + "not " + line[start:])
    try:
        toks = [
            t for t in tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline)
            if t.type in (tokenize.OP, tokenize.NAME) and t.string in _SWAPS
        ]
    except (tokenize.TokenError, SyntaxError):
        toks = []
    indent = len(line) - len(line.lstrip())
    for tok in toks:
        start = indent + tok.start[1]
        options.append(line[:start] + _SWAPS[tok.string] + line[start + len(tok.string):])
    header = stmt.test if isinstance(stmt, (ast.If, ast.While)) else stmt
    for node in ast.walk(header):
        if getattr(node, "lineno", None) != stmt.lineno or getattr(node, "end_lineno", None) != stmt.lineno:
            continue
        if isinstance(node, ast.Call) and names:
            end = col(node.end_col_offset) - 1
            sep = ", " if (node.args or node.keywords) else ""
            options.append(line[:end] + sep + rng.choice(names) + line[end:])
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            start, end = col(node.col_offset), col(node.end_col_offset)
            wrap = rng.choice(("len", "list", "str", "bool"))
            options.append(line[:start] + f"{wrap}({node.id})" + line[end:])
    value = getattr(stmt, "value", None)
    if isinstance(stmt, (ast.Assign, ast.Return, ast.AugAssign)) and value is not None:
        if value.lineno == value.end_lineno == stmt.lineno:
            end = col(value.end_col_offset)
            options.append(line[:end] + rng.choice((" or None", " + 1", " * 2", " if " + (names[0] if names else "True") + " else None")) + line[end:])
    rng.shuffle(options)
    return options


def _new_statement(indent: str, names: Sequence[str], taken: set[str], rng: random.Random) -> str:
    a = rng.choice(names) if names else "None"
    b = rng.choice(names) if names else "0"
    new = _fresh_name(rng, taken)
    templates = (
        f"{new} = {a}",
        f"{new} = len({a})",
        f"assert {a} is not None",
        f"{new} = {a} or {b}",
        f"print({a!s}, {b!s})",
        f"{new} = [{b} for {b} in {a}]" if a != b else f"{new} = list({a})",
        f"{new} = isinstance({a}, str)",
        f"logger.debug('%r %r', {a}, {b})",
    )
    return indent + rng.choice(templates)


def edit_lines(text: str, fraction: float, rng: random.Random) -> tuple[str, int]:
    """Type-3 edits: insert, delete or change about ``fraction`` of the code lines; return text and count."""
    func, offset = parse_snippet(text)
    lines = text.split("\n")
    n_code = len(code_lines_of_snippet(text))
    wanted = max(1, round(fraction * n_code))
    slots, sizes = _slots(func, lines, offset)
    names = local_names(func) or ["None"]
    taken = _all_names(func)
    rng.shuffle(slots)
    replaced: dict[int, list[str]] = {}  # row -> the lines that replace it
    done = 0
    for slot in slots:
        if done >= wanted:
            break
        kinds = ["insert", "delete", "change"]
        rng.shuffle(kinds)
        for kind in kinds:
            line = lines[slot.row]
            if kind == "delete":
                if isinstance(slot.stmt, (ast.If, ast.While)) or sizes[slot.block] < 2:
                    continue
                trial = {**replaced, slot.row: []}
            elif kind == "insert":
                if isinstance(slot.stmt, (ast.If, ast.While)):
                    continue
                trial = {**replaced, slot.row: [line, _new_statement(indent_of(line), names, taken, rng)]}
            else:
                changed = next(
                    (c for c in _change_line(slot, line, names, rng) if _parses(_apply_rows(lines, {slot.row: [c]}))),
                    None,
                )
                if changed is None:
                    continue
                trial = {**replaced, slot.row: [changed]}
            if _parses(_apply_rows(lines, trial)):
                replaced = trial
                if kind == "delete":
                    sizes[slot.block] -= 1
                done += 1
                break
    return "\n".join(_apply_rows(lines, replaced)), done


def _apply_rows(lines: list[str], replaced: dict[int, list[str]]) -> list[str]:
    out: list[str] = []
    for row, line in enumerate(lines):
        out.extend(replaced.get(row, [line]))
    return out


def code_lines_of_snippet(text: str) -> set[int]:
    """Code lines of a function's text, indented or not (1-based within the text)."""
    if text[:1] == " ":
        return {line - 1 for line in code_lines("if 1:\n" + text) if line > 1}
    return code_lines(text)


def span_code_lines(lines: Sequence[str], start: int, end: int) -> set[int]:
    """Code lines (numbered as in the file) of the statement occupying lines ``start..end``."""
    text = "\n".join(lines[start - 1: end]) + "\n"
    return {start - 1 + n for n in code_lines_of_snippet(text)}


# ---------------------------------------------------------------- Type-1: layout


class _Layout(NamedTuple):
    """The random choices of one relayout, drawn once per function."""

    unit: str  # indentation step
    hanging: int | None  # continuation indent; None aligns with the open bracket
    keep_blank: float
    add_blank: float
    drop_comment: float
    add_comment: float
    join: float  # probability of joining a continuation line to the previous one
    split: float  # probability of breaking a line after a comma inside brackets
    space_add: float
    space_drop: float
    respace: float  # share of logical lines whose inner spacing changes


def _draw_layout(rng: random.Random) -> _Layout:
    return _Layout(
        unit=rng.choice(("    ", "    ", "  ", "   ")),
        hanging=rng.choice((None, 4, 8)),
        keep_blank=rng.uniform(0.2, 0.8),
        add_blank=rng.uniform(0.05, 0.2),
        drop_comment=rng.uniform(0.3, 0.8),
        add_comment=rng.uniform(0.05, 0.2),
        join=rng.uniform(0.3, 0.9),
        split=rng.uniform(0.05, 0.3),
        space_add=rng.uniform(0.03, 0.15),
        space_drop=rng.uniform(0.2, 0.8),
        respace=rng.uniform(0.3, 0.9),
    )


def _atoms(text: str) -> list[tokenize.TokenInfo]:
    """Tokens, with each f-string (3.12+ splits them) folded into one STRING token."""
    toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    fstart = getattr(tokenize, "FSTRING_START", None)
    if fstart is None:
        return toks
    lines = text.split("\n")
    out: list[tokenize.TokenInfo] = []
    depth, start = 0, None
    for tok in toks:
        if tok.type == fstart:
            depth += 1
            if depth == 1:
                start = tok
            continue
        if depth:
            if tok.type == tokenize.FSTRING_END:
                depth -= 1
                if depth == 0:
                    (r1, c1), (r2, c2) = start.start, tok.end
                    chunk = "\n".join(lines[r1 - 1: r2])
                    chunk = chunk[c1: len(chunk) - (len(lines[r2 - 1]) - c2)]
                    out.append(tokenize.TokenInfo(tokenize.STRING, chunk, start.start, tok.end, start.line))
            continue
        out.append(tok)
    return out


def _gap(prev: tokenize.TokenInfo, tok: tokenize.TokenInfo, orig: int, layout: _Layout,
         rng: random.Random, conservative: bool, keep: bool) -> str:
    """The spaces between two tokens; ``orig`` is their original gap, -1 when they were on two lines."""
    if keep and orig >= 0:
        return " " * orig
    orig = max(orig, 1)
    if prev.type in _WORDISH and tok.type in _WORDISH:
        return " " if orig <= 1 or conservative else " " * rng.choice((1, orig))
    if orig == 0:
        if not conservative and rng.random() < layout.space_add and prev.string not in (".", "@") and tok.string != ".":
            return " "
        return ""
    if not conservative and rng.random() < layout.space_drop and (prev.string in _TIGHT_AFTER or tok.string in _TIGHT_BEFORE):
        return ""
    return " "


def relayout(text: str, rng: random.Random, base_indent: str = "", *, conservative: bool = False) -> str:
    """Type-1: regenerate a function's text with new indentation, line breaks, spacing and comments.

    The token sequence without layout stays exactly the same; ``base_indent`` is the
    indentation of the ``def`` line in the result.
    """
    layout = _draw_layout(rng)
    toks = _atoms(text)
    out: list[str] = []  # finished physical lines
    cur = ""  # the physical line being built
    depth = 0
    def_depth: int | None = None
    brackets: list[int] = []  # output columns of open brackets
    prev: tokenize.TokenInfo | None = None
    logical_indent = base_indent
    first_line = True
    keep_spacing = True

    def flush() -> None:
        nonlocal cur
        out.append(cur.rstrip())
        cur = ""

    def col() -> int:
        return len(cur.split("\n")[-1])

    def continuation() -> str:
        if layout.hanging is None and brackets:
            return " " * (brackets[-1] + 1)
        return logical_indent + " " * (layout.hanging or 8)

    for tok in toks:
        kind = tok.type
        if kind in (tokenize.ENCODING, tokenize.ENDMARKER):
            continue
        if kind == tokenize.INDENT:
            depth += 1
            continue
        if kind == tokenize.DEDENT:
            depth -= 1
            continue
        if kind == tokenize.NEWLINE:
            if not conservative and rng.random() < layout.add_comment and prev is not None and prev.type != tokenize.COMMENT:
                cur += "  " + rng.choice(_COMMENTS)
            flush()
            if not conservative and rng.random() < layout.add_blank:
                out.append("")
            prev, brackets = tok, []
            continue
        if kind == tokenize.NL:
            if brackets:
                if cur.strip() and (prev is None or prev.type != tokenize.COMMENT) and not conservative and rng.random() < layout.join:
                    continue  # join the next line to this one
                if cur.strip():
                    flush()
            elif not cur.strip():
                if conservative or rng.random() < layout.keep_blank:
                    out.append("")
            else:
                flush()  # end of a comment line
            continue
        if def_depth is None and kind != tokenize.COMMENT:
            def_depth = depth
        level = max(0, depth - (def_depth or 0))
        if kind == tokenize.COMMENT:
            if not cur.strip():
                if not brackets and not conservative and rng.random() < layout.drop_comment:
                    continue
                cur = (continuation() if brackets else base_indent + layout.unit * level) + tok.string
            elif not conservative and rng.random() < layout.drop_comment:
                continue
            else:
                cur += "  " + tok.string
            prev = tok
            continue
        if not cur.strip():
            if brackets:
                cur = continuation()
            else:
                logical_indent = base_indent + layout.unit * level
                if not first_line and not conservative and rng.random() < layout.add_comment:
                    out.append(logical_indent + rng.choice(_COMMENTS))
                cur = logical_indent
                first_line = False
                keep_spacing = conservative or rng.random() >= layout.respace
        elif prev is not None and prev.end[0] < tok.start[0] and not brackets and prev.type != tokenize.NL:
            cur += " \\"  # the original continued with a backslash
            flush()
            cur = logical_indent + " " * (layout.hanging or 4)
        elif (
            brackets and prev is not None and prev.string == "," and not conservative
            and rng.random() < layout.split
        ):
            flush()
            cur = continuation()
        elif prev is not None:
            orig = tok.start[1] - prev.end[1] if prev.end[0] == tok.start[0] else -1
            cur += _gap(prev, tok, orig, layout, rng, conservative, keep_spacing)
        if kind == tokenize.OP and tok.string in _OPENERS:
            brackets.append(col())
        elif kind == tokenize.OP and tok.string in _CLOSERS and brackets:
            brackets.pop()
        cur += tok.string
        prev = tok
    if cur.strip():
        flush()
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out) + "\n"


def relayout_checked(text: str, rng: random.Random, base_indent: str = "") -> str:
    """``relayout`` with a guarantee: the result parses and has the same normalized tokens."""
    before = normalized_tokens(text)
    for conservative in (False, False, False, True):
        result = relayout(text, rng, base_indent, conservative=conservative)
        try:
            parse_snippet(result)
            if normalized_tokens(result) == before:
                return result
        except (SyntaxError, tokenize.TokenError, ValueError, IndentationError):
            pass
    raise ValueError("relayout failed to keep the token sequence")


# ---------------------------------------------------------------- mutation


def mutate(text: str, kind: str, rng: random.Random, *, base_indent: str = "", method: bool = False) -> Mutant:
    """A copy of one function's text (as cut from its file) mutated into clone type ``kind``."""
    if kind not in CLONE_TYPES:
        raise ValueError(f"unknown clone type {kind!r}; use one of {', '.join(CLONE_TYPES)}")
    func, _ = parse_snippet(text)
    name, renames, edits = func.name, {}, 0
    if kind != "T1":
        text, renames = rename(text, rng, method=method)
        name = renames[func.name]
    if EDIT_FRACTION[kind]:
        text, edits = edit_lines(text, EDIT_FRACTION[kind], rng)
    text = relayout_checked(text, rng, base_indent)
    return Mutant(kind, text, name, renames, edits)
