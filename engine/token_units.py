"""Token-level units for files without a syntax tree: one unit per line of code.

Python that does not parse is tokenized with `normalize`'s regex; other
languages with their pygments lexer. Comments, whitespace and lines of bare
punctuation (a lone `}`) are dropped, so layout does not break a match; import
lines weigh nothing. The whole file is one block, so a match may span
functions here: without a tree there is no structure to follow.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Container
from functools import lru_cache, partial
from itertools import accumulate, groupby
from typing import TYPE_CHECKING

from engine.normalize import SEP, TokenStream, hash64, token_stream
from engine.records import Block, Fingerprints, Unit

# pygments is imported where a lexer is first needed: a Python-only scan never pays for it.
if TYPE_CHECKING:
    from pygments.lexer import Lexer

_NEWLINE = re.compile(r"\r\n?|\n")  # what ends a line (see `line_count`)
_IMPORT_WORDS = frozenset({b"import", b"from", b"using", b"package", b"require", b"use", b"include"})


def _lines_to_units(lines: list[tuple[int, list[bytes], list[bytes]]], import_words: frozenset[bytes]
                    ) -> Fingerprints:
    units = []
    for line, exact, renamed in lines:
        if not any(t[:1].isalnum() or t[:1] in b"_\"'" or len(t) > 1 for t in exact):
            continue  # bare punctuation: layout, not code
        noise = exact[0] in import_words
        units.append(Unit(line, line, hash64(SEP.join(exact)), hash64(SEP.join(renamed)),
                          0 if noise else 1, 0 if noise else len(exact), noise))
    return Fingerprints(tuple(units), (Block(-1, 0, len(units)),))


def python_token_fingerprints(source: bytes, only: Container[int] | None = None,
                              stream: TokenStream | None = None) -> Fingerprints:
    """Line units of Python source that `ast` could not parse (of the lines in `only`).

    `stream` is `token_stream(source)` when the caller has it already."""
    stream = token_stream(source) if stream is None else stream
    line_starts = [0, *accumulate(map(len, source.splitlines(keepends=True)))]
    token_lines = list(map(partial(bisect_right, line_starts), stream.starts))
    lines = []
    position = 0
    for line, group in groupby(token_lines):
        count = sum(1 for _ in group)
        if only is None or line in only:
            lines.append((line, list(stream.exact[position:position + count]),
                          stream.renamed[position:position + count]))
        position += count
    return _lines_to_units(lines, _IMPORT_WORDS)


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer:
    from pygments.lexers import get_lexer_by_name

    return get_lexer_by_name(language, stripnl=False, ensurenl=False)


def _abstract(kind: object, value: str) -> str:
    from pygments.token import Name, Number, String

    if kind in Name and kind not in Name.Builtin:
        return "v"
    if kind in String:
        return '"'
    if kind in Number:
        return "0"
    return value


def line_count(text: str) -> int:
    """Lines as units number them: a line ends at \\n, \\r\\n or a lone \\r (as Python's
    tokenizer and editors see it), not at a form feed or U+2028 (as `str.splitlines`
    would), so no unit lies past the file's last line."""
    ends = text.count("\n") + text.count("\r") - text.count("\r\n")
    return ends + (1 if text and not text.endswith(("\n", "\r")) else 0)


def lexer_fingerprints(text: str, language: str) -> Fingerprints:
    """Line units of a non-Python source file, from its pygments lexer."""
    from pygments.token import Comment, Keyword, Text

    line_starts = [0, *(match.end() for match in _NEWLINE.finditer(text))]
    by_line: dict[int, tuple[list[bytes], list[bytes]]] = {}
    for index, kind, value in _lexer(language).get_tokens_unprocessed(text):
        if kind in Comment or kind in Text or not value.strip():
            continue
        line = bisect_right(line_starts, index)
        exact, renamed = by_line.setdefault(line, ([], []))
        exact.append(value.strip().encode())
        renamed.append(_abstract(kind, value.strip()).encode() if kind not in Keyword else exact[-1])
    lines = [(line, exact, renamed) for line, (exact, renamed) in sorted(by_line.items())]
    return _lines_to_units(lines, _IMPORT_WORDS)

