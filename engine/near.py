"""Near-miss clones: functions copied, renamed and then edited — the matching side.

Each function's renamed tokens (one byte each) and MinHash signature of its
token shingles are made per file in the pool (`engine.near_sign`). At match time:
1. LSH: the signatures are cut into bands (datasketch's layout, kept in
   `near_sign.BANDS`, for a Jaccard threshold of
   LSH_THRESHOLD = 0.35 — lower than verification asks, as one edited token
   changes every shingle over it) and every band is bucketed at once with
   numpy; functions sharing a bucket are candidates. Buckets over a size limit
   and candidates beyond the best few per function (by estimated Jaccard) are
   dropped, so verification stays bounded on large trees.
2. Verification: the longest common subsequence of the two token-code strings
   (rapidfuzz's bit-parallel LCS, in C); similarity = 2·LCS / (len a + len b),
   as difflib's ratio.
3. Pairs at or above the threshold form classes in which every pair passes;
   each member is reported whole (its decorators, header and docstring too: a
   copy that gained a first statement is still a copy of the whole function).

Three index spaces meet here, named by `near_sign`'s NewTypes: `NearIndex`
(a row of the near-unit columns and of the signature matrix), `UnitIndex` (a
corpus unit) and `FileIndex` (a corpus file).
"""
from __future__ import annotations

from array import array
from collections import defaultdict
from functools import partial
from itertools import chain, combinations
from typing import TYPE_CHECKING, Callable, Iterator, NamedTuple, Sequence

from rapidfuzz.distance import LCSseq

# numpy is imported inside the functions that use it: it loads in 0.1 s, which
# only scans that do near-miss work should pay (an unchanged rescan does none).
if TYPE_CHECKING:
    import numpy as np

from engine.cluster import IN_PROCESS, Spread
from engine.match import SNIPPET_FACTOR, Corpus, exact_definition_floors, outermost
from engine.near_sign import NUM_PERM, FileIndex, NearIndex, UnitIndex, parameters
from engine.normalize import hash64

# A band bucket holding more functions than this is a common shape (tiny
# wrappers, test boilerplate): pairing them all costs its size squared.
MAX_BAND_BUCKET = 24
# Verification is the costly step: keep the best-looking candidates only.
MAX_CANDIDATES = 3
# Long functions alike at 80% are rarely so by chance, short ones often are (one shape,
# other calls): a pair whose shorter side has LONG_TOKENS compared tokens or more needs
# LONG_EASING less than the threshold.
LONG_TOKENS = 100
LONG_EASING = 0.05
_MIN_ESTIMATE = 0.3
_ESTIMATE_SLICE = 65536  # pairs whose signatures are compared at once
_MAX_COUNT = 65535  # a token code's count in one unit, as _may_reach keeps it

# The fragments of the exact and renamed clones already reported, by file: (start line,
# end line, clone number) each. A near pair inside two fragments of one is no news.
Taken = dict[FileIndex, list[tuple[int, int, int]]]

def lcs_length(a: bytes, b: bytes) -> int:
    """Length of the longest common subsequence of two token-code strings (rapidfuzz's
    bit-parallel LCS, in C)."""
    return LCSseq.similarity(a, b)


def similarity(a: bytes, b: bytes) -> float:
    """2·LCS / (len a + len b): 1.0 for identical token strings."""
    if not a or not b:
        return 0.0
    return 2.0 * LCSseq.similarity(a, b) / (len(a) + len(b))


class NearPair(NamedTuple):
    """Two near units (indexes into the corpus' near columns) and their similarity."""

    first: NearIndex
    second: NearIndex
    similarity: float


def band_keys(sigs: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """Each row's (of `rows`, by default all) LSH bucket key in each band: an
    (n, bands) uint64 array. A band's index is mixed into its keys, so keys of
    different bands never meet. Made in slices of rows: the 64-bit intermediates
    are three times the signatures' size."""
    import numpy as np
    bands, width = parameters()[:2]
    mix = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                    0x27D4EB2F165667C5], dtype=np.uint64)[:width]
    band_mix = np.arange(bands, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)
    rows = np.arange(len(sigs)) if rows is None else rows
    keys = np.empty((len(rows), bands), dtype=np.uint64)
    for start in range(0, len(rows), _KEY_ROWS):
        part = sigs[rows[start:start + _KEY_ROWS], :bands * width].astype(np.uint64)
        blocks = part.reshape(len(part), bands, width)
        keys[start:start + _KEY_ROWS] = (blocks * mix).sum(axis=2) + band_mix  # wraps: a hash
    return keys


_KEY_ROWS = 32_768


def candidate_pairs(sigs: np.ndarray, eligible: np.ndarray,
                    seeds: np.ndarray | None = None,
                    too_common: np.ndarray | None = None,
                    spread: Spread = IN_PROCESS) -> np.ndarray:
    """Pairs (i, j), i < j, of eligible rows (near indexes) sharing an LSH band bucket:
    an (n, 2) array.

    With `seeds` (a mask), only buckets holding a seed row are paired — the
    cost is then a hash of every row per band, with no sort of them all.
    `too_common` (sorted keys) are buckets known to be over MAX_BAND_BUCKET in a
    bigger corpus than this one (see `engine.lookup`): never paired. `spread`: where
    the buckets are paired, partitioned by (band, bucket key) (see `cluster.Spread`).
    """
    import numpy as np
    entries = _band_entries(sigs, eligible, seeds, too_common)
    found = spread.run(bucket_pairs, _by_bucket(entries, spread.parts))
    codes = np.unique(np.concatenate([np.empty(0, dtype=np.int64), *found]))
    return np.stack([codes >> _PAIR_SHIFT, codes & _PAIR_LOW], axis=1)


# Per band, the rows (near indexes) and their bucket keys in that band.
BandEntries = list[tuple["np.ndarray", "np.ndarray"]]


def _band_entries(sigs: np.ndarray, eligible: np.ndarray, seeds: np.ndarray | None,
                  too_common: np.ndarray | None) -> BandEntries:
    import numpy as np
    all_rows = np.flatnonzero(eligible)
    all_keys = band_keys(sigs, all_rows)
    entries = []
    for band in range(all_keys.shape[1]):
        keys = all_keys[:, band]
        rows = all_rows
        if seeds is not None:
            inside = np.isin(keys, keys[seeds[all_rows]])
            rows, keys = all_rows[inside], keys[inside]
        if too_common is not None and len(too_common):
            usual = ~np.isin(keys, too_common)
            rows, keys = rows[usual], keys[usual]
        entries.append((rows, keys))
    return entries


def _by_bucket(entries: BandEntries, parts: int) -> list[BandEntries]:
    """The entries in `parts` partitions by bucket key, each band apart: a bucket lies
    whole in one partition."""
    import numpy as np
    if parts == 1:
        return [entries]
    shares: list[BandEntries] = [[] for _ in range(parts)]
    for rows, keys in entries:
        share_of = keys % np.uint64(parts)
        for share, share_entries in enumerate(shares):
            inside = share_of == share
            share_entries.append((rows[inside], keys[inside]))
    return [share for share in shares if any(len(rows) for rows, _ in share)]


# A pair (i, j), i < j, as one int64: i << 32 | j. Half the bytes of two columns, and
# one sort finds the pairs that several bands share.
_PAIR_SHIFT = 32
_PAIR_LOW = (1 << _PAIR_SHIFT) - 1


def bucket_pairs(entries: BandEntries) -> np.ndarray:
    """Every pair of rows sharing a bucket of one band, over buckets of 2 to
    MAX_BAND_BUCKET rows, each once, as sorted pair codes (see _PAIR_SHIFT; a task on a
    worker, for one partition)."""
    import numpy as np
    codes = [np.empty(0, dtype=np.int64)]
    for rows, keys in entries:  # coded band by band: one band's pairs at a time as columns
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        sizes = np.diff(np.r_[starts, len(ordered)])
        pairs_of_two = starts[sizes == 2]  # most buckets: done in one numpy step
        found = [np.stack([rows[order[pairs_of_two]], rows[order[pairs_of_two + 1]]], axis=1)]
        for start, size in zip(starts[(sizes > 2) & (sizes <= MAX_BAND_BUCKET)].tolist(),
                               sizes[(sizes > 2) & (sizes <= MAX_BAND_BUCKET)].tolist()):
            members = rows[order[start:start + size]]
            found.append(np.array(list(combinations(members.tolist(), 2)), dtype=np.int64))
        pairs = np.concatenate(found).astype(np.int64, copy=False)
        codes.append((pairs.min(axis=1) << _PAIR_SHIFT) | pairs.max(axis=1))
    return np.unique(np.concatenate(codes))


def best_candidates(pairs: np.ndarray, sigs: np.ndarray) -> np.ndarray:
    """The pairs among each unit's MAX_CANDIDATES best (by estimated Jaccard, at least
    _MIN_ESTIMATE): at most twice that many verifications per unit."""
    import numpy as np
    if not len(pairs):
        return pairs
    # In slices: the rows of both sides at once take 1 KiB a pair (300 MiB for a big corpus).
    estimate = np.concatenate([
        (sigs[pairs[start:start + _ESTIMATE_SLICE, 0]]
         == sigs[pairs[start:start + _ESTIMATE_SLICE, 1]]).mean(axis=1)
        for start in range(0, len(pairs), _ESTIMATE_SLICE)])
    pairs, estimate = pairs[estimate >= _MIN_ESTIMATE], estimate[estimate >= _MIN_ESTIMATE]
    if not len(pairs):
        return pairs
    # Each pair listed under both its units; rank within a unit by estimate.
    unit = np.concatenate([pairs[:, 0], pairs[:, 1]])
    index = np.tile(np.arange(len(pairs)), 2)
    order = np.lexsort((-np.tile(estimate, 2), unit))
    unit, index = unit[order], index[order]
    group_start = np.flatnonzero(np.r_[True, unit[1:] != unit[:-1]])
    rank = np.arange(len(unit)) - np.repeat(group_start, np.diff(np.r_[group_start, len(unit)]))
    return pairs[np.unique(index[rank < MAX_CANDIDATES])]


def cliques(pairs: list[NearPair], verify: Callable[[NearIndex, NearIndex], float | None]
            ) -> list[tuple[tuple[NearIndex, ...], float]]:
    """Classes in which every two members pass `verify(a, b) -> similarity or None`.

    Greedy: the most similar pair opens a class; a member joins a class when it
    passes with every member already in it.
    """
    scores = {(p.first, p.second): p.similarity for p in pairs}

    def score(a: NearIndex, b: NearIndex) -> float | None:
        key = (a, b) if a < b else (b, a)
        if key not in scores:
            scores[key] = verify(*key)
        return scores[key]

    classes: list[list[NearIndex]] = []
    lowest: list[float] = []
    home: dict[NearIndex, int] = {}  # member -> its class
    for pair in sorted(pairs, key=lambda p: -p.similarity):
        a, b = pair.first, pair.second
        if a in home and b in home:
            _merge(classes, lowest, home, home[a], home[b], score)
            continue
        if a not in home and b not in home:
            home[a] = home[b] = len(classes)
            classes.append([a, b])
            lowest.append(pair.similarity)
            continue
        member, joining = (a, b) if a in home else (b, a)
        index = home[member]
        results = [score(joining, other) for other in classes[index]]
        if all(r is not None for r in results):
            classes[index].append(joining)
            home[joining] = index
            lowest[index] = min([lowest[index], *results])
        # else: the joining unit stays out; it may still pair elsewhere later
    return [(tuple(sorted(c)), low) for c, low in zip(classes, lowest) if c]


# Two classes joined by a passing pair merge when every cross pair passes too (each
# release's `iter_lines` and `aiter_lines`: four copies, not two pairs); bounded,
# as the cross pairs are verified.
_MAX_MERGED = 12


def _merge(classes: list[list[NearIndex]], lowest: list[float], home: dict[NearIndex, int],
           one: int, other: int, score: Callable[[NearIndex, NearIndex], float | None]) -> None:
    if one == other or len(classes[one]) + len(classes[other]) > _MAX_MERGED:
        return
    results = [score(x, y) for x in classes[one] for y in classes[other]]
    if all(r is not None for r in results):
        for member in classes[other]:
            home[member] = one
        classes[one] += classes[other]
        classes[other] = []
        lowest[one] = min([lowest[one], lowest[other], *results])  # type: ignore[list-item]


def class_key(unit_hashes: Sequence[int]) -> int:
    """A content key for a near class: its members' renamed hashes, order-free."""
    return hash64(b"".join(h.to_bytes(8, "little") for h in sorted(unit_hashes)))


class NearGroup(NamedTuple):
    """A near-miss clone class: its members' fragments in unit terms.

    Each fragment is (first unit, last unit) in corpus units: a whole function is
    (its unit, its unit).
    """

    key: int
    similarity: float
    fragments: tuple[tuple[UnitIndex, UnitIndex], ...]
    tokens: int


class Eligible(NamedTuple):
    """The near units' signatures and columns, and which of them may pair at all."""

    sigs: np.ndarray  # (near units, NUM_PERM) uint32
    eligible: np.ndarray  # mask: big enough, and the representative of its renamed twins
    tokens: np.ndarray
    files: np.ndarray
    renamed: np.ndarray
    lengths: np.ndarray  # tokens compared: annotations, decorators and docstrings set aside
    sized: np.ndarray  # mask: big enough (renamed twins of a representative included)


def eligible_units(corpus: Corpus, min_lines: int, min_tokens: int) -> Eligible:
    """The near units that may be paired: big enough, and of functions that are renamed
    copies of each other (reported as such) one only — a near copy of one pairs with
    that one."""
    import numpy as np
    count = len(corpus.near_unit)
    sigs = np.frombuffer(corpus.signatures, dtype=np.uint32).reshape(count, NUM_PERM)

    units = np.asarray(corpus.near_unit, dtype=np.int64)
    lines, tokens, files, renamed = (np.asarray(column)[units].astype(dtype) for column, dtype in (
        (corpus.lines, np.int64), (corpus.tokens, np.int64), (corpus.file_of, np.int64),
        (corpus.renamed, np.uint64)))
    lengths = np.asarray(corpus.near_token_stop, dtype=np.int64) \
        - np.asarray(corpus.near_token_first, dtype=np.int64)
    representative = np.zeros(count, dtype=bool)
    representative[np.unique(renamed, return_index=True)[1]] = True
    sized = (lines >= min_lines) & (lengths >= min_tokens)
    return Eligible(sigs, sized & representative, tokens, files, renamed, lengths, sized)


def near_groups(corpus: Corpus, min_lines: int, min_tokens: int, threshold: float,
                taken: Taken | None = None,
                seed_files: set[FileIndex] | None = None,
                too_common: np.ndarray | None = None,
                spread: Spread = IN_PROCESS) -> list[NearGroup]:
    """Near-miss clone classes of the corpus' functions.

    `taken` holds the exact and renamed fragments already reported (see `Taken`): a pair
    lying in two fragments of one such clone is not reported again. `too_common`: see
    `candidate_pairs`. `spread`: where bucket pairing and verification run (see
    `cluster.Spread`); the classes are formed here, from the verified pairs.
    """
    import numpy as np
    if len(corpus.near_unit) < 2:
        return []
    units = eligible_units(corpus, min_lines, min_tokens)
    seeds = None if seed_files is None else np.isin(units.files, list(seed_files))
    pairs = candidate_pairs(units.sigs, units.eligible, seeds, too_common, spread)
    if len(pairs):
        pairs = best_candidates(pairs[_worth_pairing(corpus, pairs, units, seeds, threshold)],
                                units.sigs)

    codes = partial(_codes_of, corpus)

    def verify(x: NearIndex, y: NearIndex) -> float | None:
        if _overlapping(corpus, x, y):
            return None  # a function and one nested in it are not copies of each other
        score = similarity(codes(x), codes(y))
        return score if score >= needed(x, y) else None

    def needed(x: NearIndex, y: NearIndex) -> float:
        return float(pair_thresholds(threshold, min(units.lengths[x], units.lengths[y])))

    pairs = pairs[_may_reach(corpus, pairs, threshold, codes)]
    kept = [(x, y) for x, y in pairs.tolist() if not _overlapping(corpus, x, y)
            and not _inside_one_clone(corpus, taken or {}, x, y)]
    shorter = units.lengths[np.array(kept, dtype=np.int64).reshape(-1, 2)].min(axis=1)
    verified = [NearPair(x, y, score) for (x, y), score, least in
                zip(kept, _scores(kept, codes, spread), pair_thresholds(threshold, shorter).tolist())
                if score >= least]
    groups = _annotated_copies(corpus, units, min_lines, min_tokens, taken or {}, seeds)
    twins = _twins(units.renamed, units.sized, units.eligible)
    for members, low in cliques(verified, verify):
        members = _with_twins(corpus, members, twins)
        fragments = tuple((corpus.near_unit[n], corpus.near_unit[n]) for n in members)
        key = class_key([corpus.renamed[corpus.near_unit[m]] for m in members])
        groups.append(NearGroup(key, round(low, 3), fragments, int(units.tokens[members[0]])))
    return _drop_nested_groups(corpus, groups)


class PairTexts(NamedTuple):
    """One partition of the pairs to verify: the token-code strings of their units, and
    each pair as two indexes into them."""

    texts: list[bytes]
    pairs: list[tuple[int, int]]


def pair_similarities(part: PairTexts) -> np.ndarray:
    """Each pair's similarity (a task on a worker, for one partition), as an array: see
    `match.partition_runs`."""
    import numpy as np
    texts = part.texts
    return np.array([similarity(texts[i], texts[j]) for i, j in part.pairs], dtype=np.float64)


def _scores(pairs: list[tuple[NearIndex, NearIndex]], codes: Callable[[NearIndex], bytes],
            spread: Spread) -> list[float]:
    """Each pair's similarity — the costly step — in `spread.parts` runs of pairs."""
    size = max(1, -(-len(pairs) // spread.parts))

    def payloads() -> Iterator[PairTexts]:  # made one at a time, as they are sent
        for start in range(0, len(pairs), size):
            where: dict[NearIndex, int] = {}
            for unit in chain.from_iterable(pairs[start:start + size]):
                where.setdefault(unit, len(where))
            yield PairTexts([codes(unit) for unit in where],
                            [(where[x], where[y]) for x, y in pairs[start:start + size]])

    return [score for scores in spread.run(pair_similarities, payloads())
            for score in scores.tolist()]


def _twins(renamed: np.ndarray, sized: np.ndarray, eligible: np.ndarray
           ) -> dict[int, list[NearIndex]]:
    """Per renamed hash of a representative, its renamed copies that were left out of
    pairing (see `eligible_units`)."""
    import numpy as np
    left_out = np.flatnonzero(sized & ~eligible)
    twins: dict[int, list[NearIndex]] = defaultdict(list)
    for n, key in zip(left_out.tolist(), renamed[left_out].tolist()):
        twins[key].append(n)
    return twins


def _with_twins(corpus: Corpus, members: tuple[NearIndex, ...],
                twins: dict[int, list[NearIndex]]) -> tuple[NearIndex, ...]:
    """A class with its members' renamed copies: they are near copies of the others
    just as much (their compared tokens are the same), and one class says so."""
    grown = list(members)
    for member in members:
        for twin in twins.get(corpus.renamed[corpus.near_unit[member]], ()):
            if not any(_overlapping(corpus, twin, other) for other in grown):
                grown.append(twin)
    return tuple(sorted(grown))


def pair_thresholds(threshold: float, shorter: np.ndarray) -> np.ndarray:
    """The similarity each pair needs, by the compared tokens of its shorter side."""
    import numpy as np
    return np.where(shorter >= LONG_TOKENS, threshold - LONG_EASING, threshold)


def _worth_pairing(corpus: Corpus, pairs: np.ndarray, units: Eligible,
                   seeds: np.ndarray | None, threshold: float) -> np.ndarray:
    """Which candidate pairs may be near copies (a mask): not renamed twins, not nested,
    of sizes that can reach the threshold, and (with seeds) holding a seed."""
    import numpy as np
    a, b = pairs[:, 0], pairs[:, 1]
    lengths = units.lengths
    shorter = np.minimum(lengths[a], lengths[b])
    needed = pair_thresholds(threshold, shorter)
    keep = (units.renamed[a] != units.renamed[b]) & ~_nested(corpus, pairs, units.files) \
        & (shorter / np.maximum(lengths[a], lengths[b]) >= needed / (2 - needed))
    if seeds is not None:
        keep &= seeds[a] | seeds[b]
    return keep


def _nested(corpus: Corpus, pairs: np.ndarray, files: np.ndarray) -> np.ndarray:
    """Which pairs are a function and one nested in its body (a mask)."""
    import numpy as np
    units = np.asarray(corpus.near_unit, dtype=np.int64)
    sub_first, sub_stop = np.asarray(corpus.near_sub_first), np.asarray(corpus.near_sub_stop)
    a, b = pairs[:, 0], pairs[:, 1]
    return (files[a] == files[b]) & ((sub_first[a] <= units[b]) & (units[b] < sub_stop[a])
                                     | (sub_first[b] <= units[a]) & (units[a] < sub_stop[b]))


def _may_reach(corpus: Corpus, pairs: np.ndarray, threshold: float,
               codes: Callable[[NearIndex], bytes]) -> np.ndarray:
    """A cheap bound first: the LCS cannot exceed the shared multiset of token codes,
    so pairs whose bound is under the threshold skip the alignment (about a third)."""
    import numpy as np
    if not len(pairs):
        return np.zeros(0, dtype=bool)
    units = np.unique(pairs)
    # Each unit's count of each token code, 2 bytes a count (a big corpus has 350,000
    # units to count): a unit longer than a count can hold is never ruled out.
    bags = np.zeros((len(units), 256), dtype=np.uint16)
    lengths = np.zeros(len(units), dtype=np.int64)
    for i, unit in enumerate(units.tolist()):
        text = np.frombuffer(codes(unit), dtype=np.uint8)
        bags[i] = np.minimum(np.bincount(text, minlength=256), _MAX_COUNT)
        lengths[i] = len(text)
    a, b = np.searchsorted(units, pairs[:, 0]), np.searchsorted(units, pairs[:, 1])
    shared = np.empty(len(pairs), dtype=np.int64)
    for start in range(0, len(pairs), _KEY_ROWS):  # (pairs, 256) counts: a slice at a time
        part = slice(start, start + _KEY_ROWS)
        shared[part] = np.minimum(bags[a[part]], bags[b[part]]).sum(axis=1, dtype=np.int64)
    needed = pair_thresholds(threshold, np.minimum(lengths[a], lengths[b]))
    return (2 * shared / np.maximum(lengths[a] + lengths[b], 1) >= needed) \
        | (np.maximum(lengths[a], lengths[b]) > _MAX_COUNT)


def _overlapping(corpus: Corpus, x: NearIndex, y: NearIndex) -> bool:
    a, b = corpus.near_unit[x], corpus.near_unit[y]
    return corpus.file_of[a] == corpus.file_of[b] and \
        corpus.start_line[a] <= corpus.end_line[b] and corpus.start_line[b] <= corpus.end_line[a]


def _inside_one_clone(corpus: Corpus, spans: Taken, x: NearIndex, y: NearIndex) -> bool:
    """Both functions lie in two different fragments of one reported clone."""
    holders = []
    for n in (x, y):
        unit = corpus.near_unit[n]
        file, start, end = corpus.file_of[unit], corpus.start_line[unit], corpus.end_line[unit]
        holders.append({(clone, (file, lo)) for lo, hi, clone in spans.get(file, ())
                        if lo <= start and end <= hi})
    return any(c1 == c2 and f1 != f2 for c1, f1 in holders[0] for c2, f2 in holders[1])


def _annotated_copies(corpus: Corpus, units: Eligible, min_lines: int, min_tokens: int,
                      taken: Taken, seeds: np.ndarray | None) -> list[NearGroup]:
    """Whole functions too small for near-miss pairing but big enough for an exact copy
    (see `match.exact_definition_floors`), whose bodies are exact copies and whose compared
    tokens are the same: the same function with annotations, decorators, a docstring or
    its parameters' names changed (an exact copy it would be, but for those)."""
    import numpy as np
    small_lines, small_tokens = exact_definition_floors(min_lines, min_tokens)
    small = np.flatnonzero(~units.sized & (units.lengths >= small_tokens)
                           & (np.asarray(corpus.lines)[np.asarray(corpus.near_unit)] >= small_lines))
    alike: dict[int, list[NearIndex]] = defaultdict(list)
    for n in small.tolist():
        body = array("Q", corpus.exact[corpus.near_sub_first[n]:corpus.near_sub_stop[n]])
        alike[hash64(_codes_of(corpus, n) + body.tobytes())].append(n)
    groups = []
    for key, members in alike.items():
        members = [m for i, m in enumerate(members)
                   if not any(_overlapping(corpus, m, other) for other in members[:i])]
        if len(members) < 2 or (seeds is not None and not seeds[members].any()) \
                or all(_inside_one_clone(corpus, taken, members[0], m) for m in members[1:]) \
                or all(corpus.end_line[u] - corpus.start_line[u] + 1 < min_lines
                       for u in (corpus.near_unit[m] for m in members)):
            continue
        groups.append(NearGroup(key, 1.0, tuple((corpus.near_unit[m], corpus.near_unit[m])
                                                for m in members), int(units.tokens[members[0]])))
    return groups


def _codes_of(corpus: Corpus, n: NearIndex) -> bytes:
    """A function's compared tokens, one byte each."""
    return corpus.codes[corpus.near_codes[n]][corpus.near_token_first[n]:corpus.near_token_stop[n]]


def _drop_nested_groups(corpus: Corpus, groups: list[NearGroup]) -> list[NearGroup]:
    """Drop a class each of whose fragments lies in a different fragment of a bigger one."""
    def spans(group: NearGroup) -> list[tuple[FileIndex, int, int]]:
        return [(corpus.file_of[first], corpus.start_line[first], corpus.end_line[last])
                for first, last in group.fragments]

    groups = sorted(groups, key=lambda g: (-max(end - start for _, start, end in spans(g)),
                                           -g.similarity, g.key))
    return [groups[i] for i in outermost([spans(g) for g in groups])]
