"""Source bytes to token streams in normal forms, with C-level regex calls only.

One `findall` over a whole file yields every token with the layout before it
(whitespace, comments, line continuations), which is dropped. Two normal forms
feed the two hashes of every unit:
- exact: the tokens themselves, so layout and comments cannot hide a copy;
- renamed: every string literal turned into `"`, every number into `0` and
  every name that is not a keyword into `v`.
The renamed form comes from three `sub` calls over the NUL-joined stream (NUL
cannot occur in source), split back into a list aligned with the tokens. A
token-by-token Python loop costs seconds on a large tree; this stays in C.
"""
from __future__ import annotations

import keyword
import re
from bisect import bisect_left
from functools import lru_cache
from itertools import accumulate
from operator import add, sub
from typing import NamedTuple

import xxhash

# Possessive: a comment must never give back characters to become tokens.
_LAYOUT = rb"[ \t\f\r\n\\]*+(?:#[^\r\n]*+[ \t\f\r\n\\]*+)*+"
_STRING = (
    rb"'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    rb'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    rb"|'[^'\\\n]*(?:\\.[^'\\\n]*)*'"
    rb'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"'
)
# Names come first: they are the commonest token, and a string prefix such as
# `rb` then becomes a token of its own, which every copy does alike.
_NAME = rb"[A-Za-z_\x80-\xff][\w\x80-\xff]*"
_NUMBER = rb"\d(?:[eE][+-]\d|[\w.])*|\.\d(?:[eE][+-]\d|\w)*"
_OPERATOR = rb"\*\*=?|//=?|->|:=|<<=?|>>=?|\.\.\.|[-+*/%&|^@<>=!]=|[^\s\w#\\]"
_NAME_RE = re.compile(_NAME)
_TOKEN_RE = re.compile(
    b"(" + _LAYOUT + b")(" + _NAME + b"|" + _STRING + b"|" + _NUMBER + b"|" + _OPERATOR + b")",
    re.DOTALL,
)

SEP = b"\x00"
_SENTINEL = b"\n\x01"
# Each pattern starts at the NUL before a token: a literal first byte lets the
# regex engine skip ahead fast. The stream is NUL-framed on both ends for it.
_STRING_TOKEN_RE = re.compile(rb"\x00['\"][^\x00]*")
_NUMBER_TOKEN_RE = re.compile(rb"\x00\.?\d[^\x00]*")
_KEYWORDS = b"|".join(k.encode() for k in keyword.kwlist)
_NAME_TOKEN_RE = re.compile(
    rb"\x00(?!(?:" + _KEYWORDS + rb")\x00)[A-Za-z_\x80-\xff][^\x00]*")
# The same, but not a name right after `.` (an attribute).
_UNQUALIFIED_NAME_TOKEN_RE = re.compile(rb"(?<!\x00\.)" + _NAME_TOKEN_RE.pattern)

# A plain 'string' is the same literal as "string" (formatters such as black swap
# them): the exact form writes both with double quotes.
_SINGLE_QUOTED_RE = re.compile(rb"\x00'([^'\"\\\x00\n]*)'(?=\x00)")

hash64 = xxhash.xxh3_64_intdigest


class TokenStream(NamedTuple):
    """A file's tokens in both normal forms, and the byte offset each starts at."""

    exact: tuple[bytes, ...]
    renamed: list[bytes]
    starts: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The token index range of the byte range [start, end)."""
        return bisect_left(self.starts, start), bisect_left(self.starts, end)

    def hashes(self, first: int, stop: int) -> tuple[int, int]:
        """The exact and renamed hashes of tokens [first, stop)."""
        return (hash64(SEP.join(self.exact[first:stop])),
                hash64(SEP.join(self.renamed[first:stop])))


def abstract_literals(framed: bytes) -> bytes:
    """Every string literal of a NUL-framed token stream turned into `"`, every number into `0`."""
    return _NUMBER_TOKEN_RE.sub(b"\x000", _STRING_TOKEN_RE.sub(b'\x00"', framed))


def abstract_unqualified_names(framed: bytes) -> bytes:
    """Every name of a NUL-framed token stream that is not a keyword or an attribute
    turned into `v`: `self.items.append(x)` -> `v . items . append ( v )`."""
    return _UNQUALIFIED_NAME_TOKEN_RE.sub(b"\x00v", framed)


def rename(joined: bytes) -> bytes:
    """Abstract literals and names out of a NUL-joined exact token stream."""
    return _NAME_TOKEN_RE.sub(b"\x00v", abstract_literals(SEP + joined + SEP))[1:-1]


def token_stream(source: bytes) -> TokenStream:
    """Tokenize a whole file once."""
    # findall searches: a trailing comment with no token after it would be
    # searched into. A sentinel token at the end lets the layout swallow it.
    found = _TOKEN_RE.findall(source + _SENTINEL)
    found.pop()
    if not found:
        return TokenStream((), [], [])
    layouts, exact = zip(*found)
    ends = accumulate(map(add, map(len, layouts), map(len, exact)))
    starts = list(map(sub, ends, map(len, exact)))
    joined = SEP.join(exact)
    renamed = rename(joined).split(SEP)
    quoted, changed = _SINGLE_QUOTED_RE.subn(b'\x00"\\1"', SEP + joined + SEP)
    if changed:
        exact = tuple(quoted[1:-1].split(SEP))
    return TokenStream(exact, renamed, starts)


# The same tokens without their layout: findall then returns the tokens themselves.
_BARE_TOKEN_RE = re.compile(
    b"(?:" + _LAYOUT + b")(" + _NAME + b"|" + _STRING + b"|" + _NUMBER + b"|" + _OPERATOR + b")",
    re.DOTALL,
)


def tokens(source: bytes) -> list[bytes]:
    """The code tokens of `source`: layout and comments dropped."""
    found = _BARE_TOKEN_RE.findall(source + _SENTINEL)
    found.pop()
    return found


@lru_cache(maxsize=1 << 16)  # the same names recur across all the clones of a report
def is_identifier(token: bytes) -> bool:
    """True for a name token that is not a keyword."""
    return bool(_NAME_RE.fullmatch(token)) and not keyword.iskeyword(token.decode("utf-8", "replace"))


@lru_cache(maxsize=1 << 16)
def is_literal(token: bytes) -> bool:
    """True for a string or number token."""
    framed = SEP + token
    return bool(_STRING_TOKEN_RE.fullmatch(framed) or _NUMBER_TOKEN_RE.fullmatch(framed))
