"""Near-miss signing, done per file in the pool: token codes and MinHash signatures.

For each function a file's parse marks as a near unit (`NearUnit`):
- its renamed tokens as one byte each (`token_codes`), kept for the alignment
  that verifies a candidate pair at match time (`engine.near`);
- a MinHash signature of the set of its shingles — SHINGLE consecutive renamed
  tokens — computed for all near units of a file in a few numpy calls with
  datasketch's permutations (`MinHash(...).permutations`, affine32 scheme),
  kept here as constants (see `BANDS`).
The band layout for the LSH of `engine.near` is fixed here with the
permutations (`parameters`), so a signature and the bands cut from it always agree.

This module also names the three index spaces near-miss matching mixes
(`NearIndex`, `UnitIndex`, `FileIndex`): plain ints at run time.
"""
from __future__ import annotations

import keyword
from functools import lru_cache
from itertools import repeat
from typing import TYPE_CHECKING, Iterator, NamedTuple, NewType, Sequence

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
# (datasketch's `MinHashLSH` layout, false positives and negatives weighed alike).
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


# The band layout datasketch gives for LSH_THRESHOLD and NUM_PERM, and its permutations
# `MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32").permutations` as little-endian
# uint32 (a, then b). Kept here because importing datasketch costs half a second (it
# loads scipy), more than a whole unchanged rescan; tests/test_near.py holds these to
# datasketch's public API (`MinHashLSH(...).b`, `.r`, `MinHash(...).permutations`).
BANDS, ROWS = 21, 3
_PERMUTATIONS = bytes.fromhex(
    "4be883d5d7018ffe195fce70912878ddfffd0e00138799419755cb9a0b3d82ff9f96234b81a7e0782101472f03a10ccb"
    "997f5d5f8f3c9cc6db55edb0f9f3e8560d1b25cb33fafede65c9df1329aa4fb1fda9a0d6cb6265a02517d55ea993910c"
    "17f7ad68f9410ce3d59b98c139258b753bbf050e1db39e116584475789d4f2d3aff9a8d5afbf16ead3970c1ee38584dc"
    "efcbe047bd5bd5e0c18e6d65ad08898e1b31fb99d3af936e13fbbfef0f08039b7f2279a07b96832f2d1c7862734a4b09"
    "0314b6c001efe3ba79e209caa3f185a811ea8a2bb1c5c1a81bfdfe13e734cd8b5f03f456d51f551ef3e49bc191734f57"
    "3d845a328f48a62f076b9bd78d0be357953f38f531ee6a6939857d8803b29232c4db1eb1182b254af1a1c5502bfc6124"
    "4c86beaf1a4c87c83407aad550259c696d8aae047373bf08297509c0d26dc09f0f0026fd406c1fa9c4c887bf19306a4c"
    "6f2dcb47e2de3572d7350eca8727dd381a056d1a99fec7126826a9721604207809b799e8c3be9e18e74b2a4b7e4443e7"
    "17a5ab497ded961e648d49219b405986a53bf50439516815532ac8ada66cb7ea88422d36202513e9a2ddfa430aaf864c"
    "17bdd77d8f869a95ef2aa90d579cdf90195ff992c70f2b9df30090255c85dff44abadc96be84cf422e5d23b3a0d3233b"
    "d896321a97149088b792ff6941252ff37135c4b14d27397e03a7076a80cb648a"
)


@lru_cache(maxsize=1)
def parameters() -> Parameters:
    """The band layout and permutations as numpy arrays, made once per process."""
    import numpy as np
    perms = np.frombuffer(_PERMUTATIONS, dtype="<u4").astype(np.uint32).reshape(2, NUM_PERM)
    return Parameters(BANDS, ROWS, perms[0], perms[1])


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
    params = parameters()
    parts = []
    for chunk in _chunks(near):
        lengths = [n.token_stop - n.token_first - SHINGLE + 1 for n in chunk]
        index = np.concatenate([np.arange(n.token_first, n.token_first + size)
                                for n, size in zip(chunk, lengths)])
        offsets = np.cumsum([0] + lengths[:-1])
        permuted = hashed[index][:, None] * params.perm_a + params.perm_b  # uint32 wraps
        parts.append(np.minimum.reduceat(permuted, offsets, axis=0).astype(np.uint32).tobytes())
    return b"".join(parts)


# Shingles signed in one numpy step: their (shingles, NUM_PERM) matrix stays under 64 MiB
# however big the file (a generated 20 MB module has two million).
_CHUNK_SHINGLES = 250_000


def _chunks(near: list[NearUnit]) -> Iterator[list[NearUnit]]:
    """The near units in runs of at most _CHUNK_SHINGLES shingles (a bigger unit alone)."""
    chunk: list[NearUnit] = []
    size = 0
    for unit in near:
        shingles = unit.token_stop - unit.token_first - SHINGLE + 1
        if chunk and size + shingles > _CHUNK_SHINGLES:
            yield chunk
            chunk, size = [], 0
        chunk.append(unit)
        size += shingles
    if chunk:
        yield chunk
