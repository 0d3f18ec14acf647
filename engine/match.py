"""Units of all files to clone classes: matching runs of statements, grouped.

The algorithm, in the manner of a classic line matcher but over statements:
1. Bucket every unit that is not noise by its renamed hash (which exact copies
   share too).
2. For each pair of units in a bucket, extend the match backwards and forwards
   over neighbouring units of the same block while their renamed hashes agree.
   A run never leaves its block, so it covers whole statements of one body,
   or whole functions and classes side by side. Only the run's first seed pair
   makes it, so each run is made once even when the buckets are partitioned.
3. Trim noise off both ends and keep the run when its weighted size reaches
   `min_lines` and `min_tokens`.
4. All runs with the same sequence of renamed hashes are copies of each other:
   they form one clone class. A class whose fragments each lie inside a
   different fragment of one bigger class is dropped as nested (two of them
   inside one fragment, such as two copied methods of a copied class, are kept).
A class is `exact` when all its fragments also share their exact hashes.
"""
from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Set
from itertools import accumulate, chain, repeat
from operator import add
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from engine.cluster import IN_PROCESS, Spread
from engine.near_sign import FileIndex, UnitIndex
from engine.normalize import hash64
from engine.records import Fragment

if TYPE_CHECKING:
    import numpy as np

# A unit shared by more places than this (`return None`, `i += 1`) is too
# common to seed matches: seeding it costs bucket-size squared pair checks,
# and any real copy containing it also contains a rarer unit to seed from.
MAX_BUCKET = 48
# Whole functions and classes are reported from `min_tokens` up; a run of bare
# statements, or an edited (near-miss) copy, must be this much bigger: small
# snippets that look alike are mostly common idioms, not copies worth merging.
SNIPPET_FACTOR = 1.3
# An exact copy of whole functions or classes needs less: identical code that big is
# rarely chance (identity of renamed code is: `try: f(x) except E: return False`).
EXACT_DEFINITION_FACTOR = 0.6
EXACT_DEFINITION_LINES_LESS = 1


def exact_definition_floors(min_lines: int, min_tokens: int) -> tuple[int, int]:
    """The lines and tokens an exact copy of whole definitions needs (see
    EXACT_DEFINITION_FACTOR)."""
    return min_lines - EXACT_DEFINITION_LINES_LESS, round(min_tokens * EXACT_DEFINITION_FACTOR)

# Corpus units per partition of the runs' seeds: the partitions' count grows with the
# corpus, so each stays about the same size (a partition copies the blocks its seeds lie
# in: at 4.6 M units, 8 partitions of at most 66 MiB, where 4 were 96 MiB).
_UNITS_PER_PARTITION = 600_000


class Corpus:
    """Every unit of a scan in columns, the files one after another.

    The columns are typed arrays (4 or 8 bytes an entry, 1 for flags), not lists of
    ints (about 36 bytes an entry): a corpus of the stdlib takes 40 MiB instead of
    134. Unit indexes are 32-bit: two billion units, 4,000 times the stdlib."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.file_of: array[int] = array("i")  # FileIndex
        self.start_line: array[int] = array("i")
        self.end_line: array[int] = array("i")
        self.exact: array[int] = array("Q")
        self.renamed: array[int] = array("Q")
        self.lines: array[int] = array("i")
        self.tokens: array[int] = array("i")
        self.noise: array[int] = array("b")
        self.definition: array[int] = array("b")
        self.block_first: array[int] = array("i")  # UnitIndex
        self.block_end: array[int] = array("i")
        self.block_parent: array[int] = array("i")
        # Near-miss units (functions): the unit; in `near_codes`, the index of its
        # file (into `paths` and `codes`, whose entry holds the file's token codes);
        # its token range in those codes; the range of units of its body; and, per
        # near unit, its MinHash signature (NUM_PERM uint32, one after another).
        self.near_unit: array[int] = array("i")
        self.near_codes: array[int] = array("i")
        self.near_token_first: array[int] = array("i")
        self.near_token_stop: array[int] = array("i")
        self.near_sub_first: array[int] = array("i")
        self.near_sub_stop: array[int] = array("i")
        self.signatures = bytearray()
        self.codes: list[bytes] = []

    def add_file(self, path: str, units: Sequence[Sequence[int]],
                 blocks: Sequence[Sequence[int]], near: Sequence[Sequence[int]] = (),
                 signatures: bytes = b"", codes: bytes = b"") -> None:
        """Append one file's columns (as `fingerprint.pack` stores them)."""
        offset = len(self.exact)
        file_index = len(self.paths)
        self.paths.append(path)
        self.codes.append(codes)
        if near and near[0]:
            unit, token_first, token_stop, sub_first, sub_stop = near
            self.near_unit.extend(u + offset for u in unit)
            self.near_codes.extend(repeat(file_index, len(unit)))
            self.near_token_first.extend(token_first)
            self.near_token_stop.extend(token_stop)
            self.near_sub_first.extend(s + offset for s in sub_first)
            self.near_sub_stop.extend(s + offset for s in sub_stop)
            self.signatures += signatures
        start_line, end_line, exact, renamed, lines, tokens, noise, definition = units
        count = len(exact)
        self.file_of.extend(repeat(file_index, count))
        self.start_line.extend(start_line)
        self.end_line.extend(end_line)
        self.exact.extend(exact)
        self.renamed.extend(renamed)
        self.lines.extend(lines)
        self.tokens.extend(tokens)
        self.noise.extend(noise)
        self.definition.extend(definition)
        # Each block's values repeated for its units, flattened in C (no step per block).
        parents, firsts, sizes = blocks
        firsts = [offset + first for first in firsts]
        for column, values in (
                (self.block_first, firsts), (self.block_end, map(add, firsts, sizes)),
                (self.block_parent, [offset + p if p >= 0 else -1 for p in parents])):
            column.extend(chain.from_iterable(map(repeat, values, sizes)))

    @classmethod
    def of_files(cls, files: Iterable[tuple[str, Sequence[Any]]]) -> Corpus:
        """A corpus of these files, each a path and its fingerprint columns (as
        `fingerprint.unpack_columns` gives them), in the order given."""
        corpus = cls()
        for path, columns in files:
            corpus.add_file(path, *columns)
        return corpus

    def __len__(self) -> int:
        return len(self.exact)


class CloneGroup(NamedTuple):
    """A clone class in unit terms: where each fragment's run starts, and the run length."""

    key: int
    exact: bool
    starts: tuple[int, ...]
    length: int


def clone_groups(corpus: Corpus, min_lines: int, min_tokens: int,
                 seed_files: set[FileIndex] | None = None,
                 too_common: Set[int] = frozenset(), spread: Spread = IN_PROCESS
                 ) -> list[CloneGroup]:
    """All clone classes of exact and renamed copies, biggest first, nested ones dropped.

    With `seed_files` (indexes into `corpus.paths`), only classes with a fragment
    in one of those files are found — the work is then proportional to them.
    `too_common`: renamed hashes known to repeat more than MAX_BUCKET times in a
    bigger corpus than this one (see `engine.lookup`), never seeded from. `spread`:
    where the runs are found, partitioned by renamed hash (see `cluster.Spread`).
    """
    runs = _matching_runs(corpus, min_lines, min_tokens, seed_files, too_common, spread)
    by_key: dict[int, set[int]] = defaultdict(set)
    lengths: dict[int, int] = {}
    renamed = corpus.renamed
    exact = corpus.exact
    for a, b, length, exact_only in runs:
        key = hash64(array("Q", (exact if exact_only else renamed)[a:a + length]).tobytes())
        by_key[key].update((a, b))
        lengths[key] = length
    weight = _weights(corpus)
    groups = []
    for key, found in by_key.items():
        length = lengths[key]
        starts = _without_overlaps(corpus, sorted(found), length)
        if len(starts) < 2 or _too_short(corpus, starts, length, weight, min_lines):
            continue
        exact_keys = {hash64(array("Q", exact[s:s + length]).tobytes()) for s in starts}
        groups.append(CloneGroup(key, len(exact_keys) == 1, tuple(starts), length))
    # Containers before what they contain, then the biggest savings first.
    groups.sort(key=lambda g: (-weight(g.starts[0], g.length), -len(g.starts), g.key))
    last = [g.length - 1 for g in groups]
    kept = [groups[i] for i in outermost(
        [[(corpus.file_of[s], corpus.start_line[s], corpus.end_line[s + tail]) for s in g.starts]
         for g, tail in zip(groups, last)])]
    kept.sort(key=lambda g: (-weight(g.starts[0], g.length) * (len(g.starts) - 1), g.key))
    return kept


def _too_short(corpus: Corpus, starts: list[int], length: int,
               weight: Callable[[int, int], int], min_lines: int) -> bool:
    """Whether an exact copy of small definitions (below `min_lines` weighted, see
    EXACT_DEFINITION_LINES_LESS) is too short on the page as well: a five-line helper
    copied whole is boilerplate to a reader, a seven-line one whose statement spans
    lines, or with its docstring, is not."""
    last = length - 1
    return all(weight(s, length) < min_lines
               and corpus.end_line[s + last] - corpus.start_line[s] + 1 < min_lines for s in starts)


def fragments_of(corpus: Corpus, group: CloneGroup) -> tuple[Fragment, ...]:
    """The file and line range of each fragment of a group."""
    last = group.length - 1
    return tuple(Fragment(corpus.paths[corpus.file_of[s]], corpus.start_line[s],
                          corpus.end_line[s + last]) for s in group.starts)


def group_size(corpus: Corpus, group: CloneGroup) -> tuple[int, int]:
    """The weighted (noise-free) lines and tokens of one fragment of a group."""
    s, e = group.starts[0], group.starts[0] + group.length
    return sum(corpus.lines[s:e]), sum(corpus.tokens[s:e])


def _weights(corpus: Corpus) -> Callable[[int, int], int]:
    cumulative = array("q", accumulate(corpus.lines, initial=0))  # 8 bytes a unit, not 36
    return lambda start, length: cumulative[start + length] - cumulative[start]


# A matching run of units: where it starts in one copy, in the other, its length, and
# whether only exact copies may join it (see `_size_class`).
_Run = tuple[int, int, int, bool]


class Units(NamedTuple):
    """What a run reads of each unit: the corpus' own columns, or a partition's (see
    `RunPartition`)."""

    renamed: Sequence[int]
    exact: Sequence[int]
    noise: Sequence[int]
    file_of: Sequence[int]  # read with seed files only (none in a partition)
    block_first: Sequence[int]
    block_end: Sequence[int]
    parent: Sequence[int]  # the corpus unit of the enclosing statement, -1 at the top
    parent_key: Sequence[int]  # its renamed hash
    cumulative: tuple[Sequence[int], Sequence[int], Sequence[int]]  # see `_cumulative`


class RunPartition(NamedTuple):
    """One partition of the seed buckets (by renamed hash), with the whole blocks they lie
    in copied one after another in compact columns: all a worker needs to find their runs
    (see `partition_runs`). Indexes are into these columns; `origin` maps them to corpus
    units."""

    renamed: np.ndarray
    exact: np.ndarray
    noise: np.ndarray
    block_first: np.ndarray
    block_end: np.ndarray
    parent: np.ndarray
    parent_key: np.ndarray
    lines: np.ndarray
    tokens: np.ndarray
    plain: np.ndarray  # bare statements, see `_cumulative`
    origin: np.ndarray
    members: np.ndarray  # the buckets' units one after another
    bucket_ends: np.ndarray  # each bucket's end in `members`
    repeated: np.ndarray
    min_lines: int
    min_tokens: int


def _matching_runs(corpus: Corpus, min_lines: int, min_tokens: int,
                   seed_files: set[FileIndex] | None, too_common: Set[int],
                   spread: Spread) -> Iterable[Sequence[int]]:
    if spread.parts == 1 or seed_files is not None:
        cumulative = _cumulative(corpus)
        repeated, buckets = _seeds(corpus, min_lines, min_tokens, seed_files, *cumulative[:2],
                                   too_common)
        return _runs(_corpus_units(corpus, cumulative), buckets, repeated, min_lines,
                     min_tokens, seed_files)
    repeated, buckets = _seeds(corpus, min_lines, min_tokens, None, too_common=too_common)
    # Partitions of bounded size, however big the corpus: each is made, sent and dropped
    # in turn.
    parts = max(spread.parts, -(-len(corpus) // _UNITS_PER_PARTITION))
    payloads = _partitions(corpus, list(buckets), repeated, parts, min_lines, min_tokens)
    found = spread.run(partition_runs, payloads)
    return chain.from_iterable(rows.tolist() for rows in found)


def partition_runs(part: RunPartition) -> np.ndarray:
    """The runs seeded from one partition's buckets, in corpus units, as the rows of an
    (n, 4) array (a task on a worker: an array crosses back at once, where Dask would
    serialize a list of tuples item by item, 20 s for the 700,000 runs of a big corpus)."""
    import numpy as np

    def column(values: np.ndarray, code: str) -> array[int]:
        return array(code, values.astype(code).tobytes())

    cumulative = tuple(array("q", accumulate(values.tolist(), initial=0))
                       for values in (part.lines, part.tokens, part.plain))
    units = Units(column(part.renamed, "Q"), column(part.exact, "Q"), column(part.noise, "b"),
                  (), column(part.block_first, "i"), column(part.block_end, "i"),
                  column(part.parent, "i"), column(part.parent_key, "Q"), cumulative)
    buckets = (part.members[start:end].tolist() for start, end in
               zip([0, *part.bucket_ends[:-1].tolist()], part.bucket_ends.tolist()))
    runs = np.array(_runs(units, buckets, set(part.repeated.tolist()), part.min_lines,
                          part.min_tokens, None), dtype=np.int64).reshape(-1, 4)
    runs[:, :2] = part.origin[runs[:, :2]]
    return runs


def _runs(units: Units, buckets: Iterable[list[int]], repeated: set[int], min_lines: int,
          min_tokens: int, seed_files: set[FileIndex] | None) -> list[_Run]:
    """The maximal runs of units that match pairwise, seeded from each bucket's pairs."""
    renamed, noise, file_of = units.renamed, units.noise, units.file_of
    first_of, end_of, parent_of = units.block_first, units.block_end, units.parent
    parent_key = units.parent_key
    size_class = _size_class(units.exact, min_lines, min_tokens, units.cumulative)
    runs: list[_Run] = []
    for members in buckets:
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                if seed_files is not None and file_of[a] not in seed_files \
                        and file_of[b] not in seed_files:
                    continue
                parent_a, parent_b = parent_of[a], parent_of[b]
                if parent_a != parent_b and parent_a >= 0 and parent_b >= 0 \
                        and parent_key[a] == parent_key[b]:
                    continue  # nested in a match of the enclosing statements
                floor_a, floor_b = first_of[a], first_of[b]
                before_a, before_b = a - 1, b - 1
                if before_a >= floor_a and before_b >= floor_b \
                        and renamed[before_a] == renamed[before_b] \
                        and not noise[before_a] and renamed[before_a] in repeated:
                    continue  # the pair before is a seed too: the run starts there
                start_a, start_b = a, b
                while start_a > floor_a and start_b > floor_b \
                        and renamed[start_a - 1] == renamed[start_b - 1]:
                    start_a -= 1
                    start_b -= 1
                if any(not noise[u] and renamed[u] in repeated for u in range(start_a, a - 1)):
                    continue  # a seed pair earlier in the run finds it (in any partition)
                end_a, end_b = a + 1, b + 1
                ceiling_a, ceiling_b = end_of[a], end_of[b]
                while end_a < ceiling_a and end_b < ceiling_b and renamed[end_a] == renamed[end_b]:
                    end_a += 1
                    end_b += 1
                if first_of[a] == first_of[b]:  # one block: the copies must not overlap
                    end_a = min(end_a, start_b)
                while start_a < end_a and noise[start_a]:
                    start_a += 1
                    start_b += 1
                while end_a > start_a and noise[end_a - 1]:
                    end_a -= 1
                length = end_a - start_a
                if length <= 0:
                    continue
                kind = size_class(start_a, start_b, length)
                if kind is not None:
                    runs.append((start_a, start_b, length, kind))
    return runs


def _corpus_units(corpus: Corpus, cumulative: tuple[array[int], array[int], array[int]]
                  ) -> Units:
    import numpy as np
    parent_key = np.asarray(corpus.renamed)[np.asarray(corpus.block_parent)]  # -1: unread
    return Units(corpus.renamed, corpus.exact, corpus.noise, corpus.file_of, corpus.block_first,
                 corpus.block_end, corpus.block_parent, array("Q", parent_key.tobytes()),
                 cumulative)


def _partitions(corpus: Corpus, buckets: list[list[int]], repeated: set[int], parts: int,
                min_lines: int, min_tokens: int) -> Iterator[RunPartition]:
    """The buckets in `parts` partitions by renamed hash, each with the whole blocks its
    units lie in (a run never leaves its block) copied one after another; made one at a
    time, as they are sent. Nothing the size of the corpus is made for them: the corpus'
    columns are read in place."""
    import numpy as np
    renamed = corpus.renamed
    shares: list[list[list[int]]] = [[] for _ in range(parts)]
    for members in buckets:
        shares[renamed[members[0]] % parts].append(members)
    keys, exact, noise, block_first, block_end, parent, lines, tokens, definition = (
        np.asarray(column) for column in (corpus.renamed, corpus.exact, corpus.noise,
                                          corpus.block_first, corpus.block_end,
                                          corpus.block_parent, corpus.lines, corpus.tokens,
                                          corpus.definition))
    wanted = np.fromiter(repeated, dtype=np.uint64, count=len(repeated))
    for share in filter(None, shares):
        members = np.fromiter(chain.from_iterable(share), dtype=np.int64)
        firsts = np.unique(block_first[members])
        sizes = block_end[firsts] - firsts
        offsets = np.r_[0, np.cumsum(sizes)[:-1]]
        origin = np.arange(sizes.sum()) - np.repeat(offsets - firsts, sizes)
        local = offsets[np.searchsorted(firsts, block_first[members])] \
            + members - block_first[members]
        parents = parent[origin]
        yield RunPartition(
            keys[origin], exact[origin], noise[origin], np.repeat(offsets, sizes),
            np.repeat(offsets + sizes, sizes), parents, keys[parents],  # -1: unread
            lines[origin], tokens[origin], ((definition[origin] | noise[origin]) == 0),
            origin, local,
            np.cumsum([len(m) for m in share]), np.intersect1d(wanted, keys[origin]),
            min_lines, min_tokens)


def _size_class(exact: Sequence[int], min_lines: int, min_tokens: int,
                cumulative: tuple[Sequence[int], Sequence[int], Sequence[int]]
                ) -> Callable[[int, int, int], bool | None]:
    """A run's size test: None when too small to report, else whether only its exact
    copies may join it (see EXACT_DEFINITION_FACTOR). Lines are counted on the
    longer copy, so joining continuation lines cannot hide one."""
    cum_lines, cum_tokens, cum_plain = cumulative
    snippet_tokens = round(min_tokens * SNIPPET_FACTOR)
    small_lines, small_tokens = exact_definition_floors(min_lines, min_tokens)

    def size_class(a: int, b: int, length: int) -> bool | None:
        lines = max(cum_lines[a + length] - cum_lines[a], cum_lines[b + length] - cum_lines[b])
        tokens = cum_tokens[a + length] - cum_tokens[a]
        definitions = cum_plain[a + length] == cum_plain[a]
        if lines >= min_lines and tokens >= (min_tokens if definitions else snippet_tokens):
            return False
        if definitions and lines >= small_lines and tokens >= small_tokens \
                and exact[a:a + length] == exact[b:b + length]:
            return True
        return None

    return size_class


def _cumulative(corpus: Corpus) -> tuple[array[int], array[int], array[int]]:
    """Running sums of lines, tokens and bare statements (not whole definitions, not
    noise: they make a run a snippet, see SNIPPET_FACTOR), from 0: a range's totals in
    two lookups."""
    plain = (not (d or n) for d, n in zip(corpus.definition, corpus.noise))
    return (array("q", accumulate(corpus.lines, initial=0)),
            array("q", accumulate(corpus.tokens, initial=0)),
            array("q", accumulate(plain, initial=0)))


def seedable(corpus: Corpus, min_lines: int, min_tokens: int,
             cum_lines: array[int] | None = None, cum_tokens: array[int] | None = None
             ) -> np.ndarray:
    """Which units a run may start from (a mask): not noise, and in a block big enough to
    hold a reportable run. `cum_lines`, `cum_tokens`: `_cumulative`'s, when at hand."""
    import numpy as np
    if cum_lines is None or cum_tokens is None:
        cum_lines, cum_tokens, _ = _cumulative(corpus)
    first, end = np.asarray(corpus.block_first), np.asarray(corpus.block_end)
    lines, tokens = np.asarray(cum_lines), np.asarray(cum_tokens)
    # The floors of the smallest reportable run: an exact copy of a definition.
    small_lines, small_tokens = exact_definition_floors(min_lines, min_tokens)
    room = (lines[end] - lines[first] >= small_lines) & (tokens[end] - tokens[first] >= small_tokens)
    return room & ~np.asarray(corpus.noise, dtype=bool)


def _seeds(corpus: Corpus, min_lines: int, min_tokens: int, seed_files: set[FileIndex] | None,
           cum_lines: array[int] | None = None, cum_tokens: array[int] | None = None,
           too_common: Set[int] = frozenset()) -> tuple[set[int], Iterator[list[int]]]:
    """The renamed hashes to seed matches from, and their units by hash: the buckets of
    two or more, each in unit order, in the order of their first unit.

    Seed only from units that repeat, are not noise, and sit in a block big
    enough to hold a reportable run: most statements fail one of the three.
    Counted and masked with numpy: a loop over every unit cost a fifth of matching.
    """
    import numpy as np
    renamed = np.asarray(corpus.renamed)
    keys, counts = np.unique(renamed, return_counts=True)
    wanted = keys[(counts >= 2) & (counts <= MAX_BUCKET)]
    if too_common:
        wanted = np.setdiff1d(wanted, np.fromiter(too_common, dtype=np.uint64))
    if seed_files is not None:
        in_seeds = np.isin(np.asarray(corpus.file_of), np.fromiter(seed_files, dtype=np.int64))
        wanted = np.intersect1d(wanted, renamed[in_seeds])
    units = np.flatnonzero(np.isin(renamed, wanted)
                           & seedable(corpus, min_lines, min_tokens, cum_lines, cum_tokens))
    # Buckets one at a time from the units sorted by hash, not a dict of lists of them all.
    order = np.argsort(renamed[units], kind="stable")
    units, keys = units[order], renamed[units][order]
    edges = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True])
    starts, stops = edges[:-1], edges[1:]
    big = stops - starts >= 2
    # In the order of each bucket's first unit, as the units come in the corpus.
    buckets = sorted(zip(units[starts[big]].tolist(), starts[big].tolist(), stops[big].tolist()))
    return set(wanted.tolist()), (units[a:b].tolist() for _, a, b in buckets)


def _without_overlaps(corpus: Corpus, starts: list[int], length: int) -> list[int]:
    """Keep the first of fragments that overlap in one file (a repeated pattern, shifted)."""
    kept: list[int] = []
    for s in starts:
        if kept and corpus.file_of[kept[-1]] == corpus.file_of[s] \
                and corpus.start_line[s] <= corpus.end_line[kept[-1] + length - 1]:
            continue
        kept.append(s)
    return kept


Span = tuple[int, int, int]  # file index, first line, last line


def outermost(groups_spans: Sequence[Sequence[Span]]) -> list[int]:
    """Indexes of the groups to keep, biggest given first: a group is dropped when each
    of its fragments lies inside a different fragment of one kept group. (Two
    fragments inside one fragment of a bigger clone — two copied methods of a
    copied class — say something new: kept.)"""
    kept: list[int] = []
    spans_by_file: dict[int, list[tuple[int, int, int, int]]] = defaultdict(list)
    for index, spans in enumerate(groups_spans):
        holders: dict[int, set[int]] = defaultdict(set)  # kept group -> its fragments used
        for file, start, end in spans:
            for lo, hi, holder, fragment in spans_by_file.get(file, ()):
                if lo <= start and end <= hi:
                    holders[holder].add(fragment)
        if any(len(used) == len(spans) for used in holders.values()):
            continue
        for fragment, (file, start, end) in enumerate(spans):
            spans_by_file[file].append((start, end, index, fragment))
        kept.append(index)
    return kept
