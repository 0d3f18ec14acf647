"""Near-miss signing, done per file in the pool: token codes and MinHash signatures.

For each function a file's parse marks as a near unit (`NearUnit`):
- its renamed tokens as one byte each (`token_codes`), kept for the alignment
  that verifies a candidate pair at match time (`engine.near`);
- a MinHash signature of the set of its shingles — SHINGLE consecutive renamed
  tokens — computed for all near units of a file in a few numpy calls with
  datasketch's permutations (`MinHash(...).permutations`, affine32 scheme).
The band layout for the LSH of `engine.near` is fixed here with the
permutations (`parameters`), so a signature and the bands cut from it always agree.

This module also names the three index spaces near-miss matching mixes
(`NearIndex`, `UnitIndex`, `FileIndex`): plain ints at run time.
"""
from __future__ import annotations

import keyword
from functools import lru_cache
from itertools import repeat
from typing import TYPE_CHECKING, NamedTuple, NewType, Sequence

# numpy is imported inside the functions that use it: it loads in 0.1 s, which
# only scans that do near-miss work should pay (an unchanged rescan does none).
if TYPE_CHECKING:
    import numpy as np

# An index into the corpus' near-unit columns (`Corpus.near_unit`, its signatures).
NearIndex = NewType("NearIndex", int)
# An index into the corpus' unit columns (`Corpus.exact`, `Corpus.file_of` ...).
UnitIndex = NewType("UnitIndex", int)
# An index into the corpus' files (`Corpus.paths`, `Corpus.codes`).
FileIndex = NewType("FileIndex", int)

NUM_PERM = 64
SHINGLE = 5
# The Jaccard similarity of shingle sets the LSH bands are laid out for
# (datasketch's `_optimal_param`, false positives and negatives weighed alike).
# Lower than the similarity verification asks for: one edited token changes
# every shingle that covers it.
LSH_THRESHOLD = 0.35

_OPERATORS = ("( ) [ ] { } , : . ; @ = -> += -= *= /= //= %= @= &= |= ^= >>= <<= **= "
              "+ - * / // % ** << >> & | ^ ~ := < > <= >= == != ! ... ` $ ?").split()
_VOCABULARY = {token.encode(): code for code, token in
               enumerate([*keyword.kwlist, *_OPERATORS, "v", '"', "0"], start=1)}
_OTHER = 255


class Parameters(NamedTuple):
    """The LSH band layout and the MinHash permutations (uint32 arrays of NUM_PERM)."""

    bands: int
    rows: int
    perm_a: np.ndarray
    perm_b: np.ndarray


@lru_cache(maxsize=1)
def parameters() -> Parameters:
    """datasketch's permutations and band layout, made once per process.

    Importing datasketch costs about a second (it loads scipy), so it happens
    here, when near-miss work is first needed — a scan that reuses everything
    never pays it; a scan that parses calls this before forking its pool.
    """
    import numpy as np
    from datasketch import MinHash
    from datasketch.lsh import _optimal_param

    bands, rows = _optimal_param(LSH_THRESHOLD, NUM_PERM, 0.5, 0.5)
    perm_a, perm_b = (np.asarray(p, dtype=np.uint32) for p in
                      MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32").permutations)
    return Parameters(bands, rows, perm_a, perm_b)


class NearUnit(NamedTuple):
    """A function that can be a near-miss copy: its unit, token range and statements.

    `sub_first`..`sub_stop` are the units of its body (nested ones included),
    `token_first`..`token_stop` its tokens, all indexes within its file.
    """

    unit: int
    token_first: int
    token_stop: int
    sub_first: int
    sub_stop: int


def token_codes(renamed: Sequence[bytes]) -> bytes:
    """One byte per renamed token (keywords and operators keep their identity)."""
    return bytes(map(_VOCABULARY.get, renamed, repeat(_OTHER)))


def signatures(codes: bytes, near: Sequence[NearUnit]) -> bytes:
    """MinHash signatures (NUM_PERM uint32 each) of each near unit's token shingles.

    A shingle is SHINGLE consecutive renamed tokens: an edited statement keeps
    most of its shingles, so an edited copy keeps a high Jaccard similarity.
    """
    import numpy as np
    near = [n for n in near if n.token_stop - n.token_first >= SHINGLE]
    if not near:
        return b""
    tokens = np.frombuffer(codes, dtype=np.uint8).astype(np.uint64)
    count = len(tokens) - SHINGLE + 1
    packed = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE):
        packed |= tokens[offset:offset + count] << np.uint64(8 * offset)
    hashed = ((packed * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(32)).astype(np.uint32)
    lengths = [n.token_stop - n.token_first - SHINGLE + 1 for n in near]
    index = np.concatenate([np.arange(n.token_first, n.token_first + size)
                            for n, size in zip(near, lengths)])
    offsets = np.cumsum([0] + lengths[:-1])
    params = parameters()
    permuted = hashed[index][:, None] * params.perm_a + params.perm_b  # uint32 arithmetic wraps
    return np.minimum.reduceat(permuted, offsets, axis=0).astype(np.uint32).tobytes()
