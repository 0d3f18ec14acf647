"""Python that does not parse as a whole: parse what parses, compare the rest token by token.

The file is cut where top-level statements start (a line beginning at column
0 that does not continue a compound statement or a decorator). Each piece is
parsed on its own and its line numbers shifted to where it is in the file, so
the pieces that parse give the same statement units as any parsed file and
match them; the pieces that do not (a Python 2 `print` statement, a merge
conflict) become line units.
"""
from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Container
from itertools import accumulate, repeat
from typing import Iterator, NamedTuple

from engine.normalize import TokenStream, token_stream
from engine.python_units import NoisePolicy, python_fingerprints
from engine.records import Block, Fingerprints
from engine.token_units import python_token_fingerprints

# A line that may start a top-level statement: not indented, not blank or a
# comment, and not a clause or closing bracket that continues the one before.
_TOP_LEVEL = re.compile(rb"(?![ \t#\r\n\f]|else\b|elif\b|except\b|finally\b|case\b|[)\]}])")


class Partial(NamedTuple):
    """The fingerprints of a partly parsable file, and how much of it parsed."""

    fingerprints: Fingerprints
    parsed_pieces: int
    pieces: int


def partial_fingerprints(source: bytes, policy: NoisePolicy) -> Partial:
    """Statement units for the top-level pieces that parse, line units for the rest."""
    lines = source.splitlines(keepends=True)
    starts = _piece_starts(lines)
    bounds = list(zip(starts, [*starts[1:], len(lines)]))
    body: list[ast.stmt] = []
    unparsed: set[int] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes in old code are not our report
        for first, stop in bounds:
            tree = _parse_piece(b"".join(lines[first:stop]), first)
            if tree is None:
                unparsed.update(range(first + 1, stop + 1))
            else:
                body.extend(tree.body)
    stream = token_stream(source)  # once, for the parsed pieces and the rest
    parsed = python_fingerprints(source, ast.Module(body=body, type_ignores=[]), policy, stream)
    if not unparsed:
        return Partial(parsed, len(bounds), len(bounds))
    rest = python_token_fingerprints(source, unparsed, stream)
    offset = len(parsed.units)
    merged = parsed._replace(units=parsed.units + rest.units,
                             blocks=parsed.blocks + (Block(-1, offset, len(rest.units)),))
    return Partial(merged, len(bounds) - len({first for first, stop in bounds
                                               if first + 1 in unparsed}), len(bounds))


class PieceError(ValueError):
    """A top-level piece of a file did not parse on its own."""


def statements_by_piece(source: bytes, stream: TokenStream) -> Iterator[ast.stmt]:
    """The top-level statements of a module that parses, parsed one top-level piece at a
    time as they are taken: only the piece being walked has its tree in memory.

    Pieces are cut where a token starts a line outside brackets (`stream` is the
    module's `token_stream`, so lines inside strings never start one), not after a
    backslash continuation. Raises PieceError when a piece does not parse alone (an
    error the whole parse would raise too, or a cut this missed). A cut inside a
    statement always leaves the piece before it open, which never parses, so when
    every piece parses the statements are the whole parse's."""
    lines = source.splitlines(keepends=True)
    starts = _piece_starts(lines, _lines_starting_outside_brackets(lines, stream))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes in old code are not our report
        for first, stop in zip(starts, [*starts[1:], len(lines)]):
            tree = _parse_piece(b"".join(lines[first:stop]), first)
            if tree is None:
                raise PieceError(f"lines {first + 1}-{stop} do not parse alone")
            yield from tree.body


_BRACKETS = {b"(": 1, b"[": 1, b"{": 1, b")": -1, b"]": -1, b"}": -1}


def _lines_starting_outside_brackets(lines: list[bytes], stream: TokenStream) -> set[int]:
    """The (0-based) lines whose first column holds a token outside any bracket: a few
    numpy steps over the token stream, no Python step per token."""
    import numpy as np
    line_starts = np.fromiter(accumulate(map(len, lines), initial=0), dtype=np.int64)
    starts = np.asarray(stream.starts, dtype=np.int64)
    delta = np.fromiter(map(_BRACKETS.get, stream.exact, repeat(0)), dtype=np.int64,
                        count=len(stream.exact))
    outside = np.cumsum(delta) - delta == 0
    at_line_start = np.isin(starts, line_starts)
    found = np.searchsorted(line_starts, starts[outside & at_line_start]).tolist()
    # Not after a backslash: that line continues the one before. (A comment's backslash
    # does not continue it, but keeping two statements in one piece is harmless.)
    return {n for n in found if not (n and lines[n - 1].rstrip(b"\r\n").endswith(b"\\"))}


def _parse_piece(piece: bytes, first: int) -> ast.Module | None:
    """The tree of the piece that starts after line `first`, its line numbers as
    in the whole file; None when it does not parse.

    The piece is parsed alone and its nodes shifted after: parsing it behind
    `first` blank lines would cost time in the size of the file for every
    piece. It is parsed as text, as the whole file was, so a byte-order mark
    that starts a piece (files joined with `cat`) is not skipped as if it
    started the file."""
    try:
        tree = ast.parse(piece.decode("utf-8"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return ast.increment_lineno(tree, first) if first else tree


def _piece_starts(lines: list[bytes], allowed: Container[int] | None = None) -> list[int]:
    """Where top-level pieces start: lines that may start a statement (and are
    `allowed`, when given), except those after a decorator (and its continuation
    lines), which belong to it. One pass: a run of a thousand decorators must not
    cost a million checks."""
    starts: list[int] = []
    decorating = False  # every line since the last start continues a decorator
    for number, line in enumerate(lines):
        if not decorating and line.strip() and _TOP_LEVEL.match(line) \
                and (allowed is None or number in allowed):
            starts.append(number)
            decorating = line.startswith(b"@")
        elif decorating:
            decorating = _continues_decorator(line)
    return starts


def _continues_decorator(line: bytes) -> bool:
    """A decorator, a blank or comment line, or an indented or closing line of one."""
    return line.startswith((b"@", b"#")) or not line.strip() or line[:1] in b" \t)"
