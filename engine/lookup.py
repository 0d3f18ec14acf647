"""What `check` needs of a scanned tree without loading its whole corpus: which files hold
a unit hash or an LSH band key, and which keys are too common to match on at all.

A check compares a few changed files with everything else. Only files that share a
renamed unit hash or a band bucket with them can take part in a clone with them, so
the check loads those files' fingerprints alone. What the matchers decide from counts
over the whole corpus — a hash repeated more than `match.MAX_BUCKET` times, a band
bucket over `near.MAX_BAND_BUCKET` — is counted here over the whole corpus (without
the checked files' stored versions, which the check replaces): such keys load no
files and are passed to the matchers as too common, so the small corpus gives the
same clones as the whole one would.

A Lookup is made from the whole corpus once per state of the index (`of_corpus`),
stored as one blob, and read back with `from_bytes` in a few C-level calls.
"""
from __future__ import annotations

import marshal
from typing import TYPE_CHECKING, NamedTuple

from engine.match import MAX_BUCKET, Corpus
from engine.near import MAX_BAND_BUCKET, band_keys, eligible_units

if TYPE_CHECKING:
    import numpy as np

_VERSION = 1


class Shared(NamedTuple):
    """What a check loads: the files sharing a key with the checked ones, and the keys
    that are too common to match on."""

    paths: set[str]
    too_common: frozenset[int]  # renamed hashes (see `match.clone_groups`)
    too_common_bands: np.ndarray  # band keys, sorted (see `near.candidate_pairs`)


class Lookup(NamedTuple):
    """Sorted keys with the file (index into `paths`) that holds each occurrence."""

    paths: list[str]
    hashes: np.ndarray  # uint64: every unit's renamed hash, sorted
    hash_files: np.ndarray  # int32
    bands: np.ndarray  # uint64: every pairable near unit's band keys, sorted
    band_files: np.ndarray  # int32

    def to_bytes(self) -> bytes:
        return marshal.dumps((_VERSION, self.paths, *(a.tobytes() for a in self[1:])))

    @classmethod
    def from_bytes(cls, data: bytes) -> Lookup | None:
        """The lookup of a blob, or None when the blob is of another version."""
        import numpy as np
        try:
            version, paths, *arrays = marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            return None
        if version != _VERSION or len(arrays) != 4:
            return None
        dtypes = (np.uint64, np.int32, np.uint64, np.int32)
        return cls(paths, *(np.frombuffer(a, dtype=t) for a, t in zip(arrays, dtypes)))

    def shared(self, hashes: np.ndarray, bands: np.ndarray, replaced: set[str]) -> Shared:
        """The files (but the `replaced` ones) holding any of these renamed hashes or band
        keys, and which of the keys are too common to load files for."""
        import numpy as np
        dropped = np.asarray([i for i, p in enumerate(self.paths) if p in replaced],
                             dtype=np.int32)
        hash_files, common = _holders(self.hashes, self.hash_files, np.unique(hashes),
                                      dropped, MAX_BUCKET)
        band_files, common_bands = _holders(self.bands, self.band_files, np.unique(bands),
                                            dropped, MAX_BAND_BUCKET)
        found = np.unique(np.concatenate([hash_files, band_files]))
        return Shared({self.paths[i] for i in found.tolist()},
                      frozenset(common.tolist()), common_bands)


def of_corpus(corpus: Corpus, min_lines: int, min_tokens: int) -> Lookup:
    """The lookup of a whole corpus."""
    import numpy as np
    hashes = np.asarray(corpus.renamed, dtype=np.uint64)
    files = np.asarray(corpus.file_of, dtype=np.int32)
    order = np.argsort(hashes, kind="stable")
    bands, band_files = pairable_bands(corpus, min_lines, min_tokens)
    band_order = np.argsort(bands, kind="stable")
    return Lookup(list(corpus.paths), hashes[order], files[order], bands[band_order],
                  band_files[band_order])


def pairable_bands(corpus: Corpus, min_lines: int, min_tokens: int
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The band keys of the near units that may pair (see `near.eligible_units`), and the
    file of each."""
    import numpy as np
    if not corpus.near_unit:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int32)
    units = eligible_units(corpus, min_lines, min_tokens)
    keys = band_keys(units.sigs, np.flatnonzero(units.eligible))
    files = np.repeat(units.files[units.eligible].astype(np.int32), keys.shape[1])
    return keys.ravel(), files


def _holders(keys: np.ndarray, files: np.ndarray, wanted: np.ndarray, dropped: np.ndarray,
             limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The files holding a value of `wanted` in sorted `keys` (files in `dropped` left
    out), and the wanted values held more than `limit` times (whose files are not
    listed: the matchers never pair on them)."""
    import numpy as np
    low = np.searchsorted(keys, wanted, side="left")
    high = np.searchsorted(keys, wanted, side="right")
    held, holders = [], []
    common = []
    for value, a, b in zip(wanted.tolist(), low.tolist(), high.tolist()):
        if a == b:
            continue
        found = files[a:b]
        if len(dropped):
            found = found[~np.isin(found, dropped)]
        if len(found) > limit:
            common.append(value)
        else:
            holders.append(found)
    held = np.concatenate(holders) if holders else np.zeros(0, dtype=np.int32)
    return held, np.asarray(sorted(common), dtype=np.uint64)
