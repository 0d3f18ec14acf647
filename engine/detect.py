"""All detectors over one corpus, merged into one list of reported clones."""
from __future__ import annotations

import gc
import threading
from collections import defaultdict
from collections.abc import Mapping, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from engine.cluster import IN_PROCESS, Spread, Task
from engine.config import Settings
from engine.content import copies_in_content
from engine.match import Corpus, clone_groups, fragments_of, group_size
from engine.near import Taken, near_groups
from engine.near_sign import FileIndex
from engine.records import Clone, Fragment, KeyedClone
from engine.sources import FragmentTexts
from engine.suggest import code_tokens, suggestion

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    import numpy as np


class _Pending(NamedTuple):
    """A clone found, waiting for its suggestion."""

    kind: str
    key: str
    fragments: tuple[Fragment, ...]
    tokens: int
    similarity: float | None


# Below this many suggestions to write, starting worker processes costs more than it saves.
# `detect` decides before the near-miss clones are found: it starts the pool when the
# exact and renamed clones alone number at least half of this.
_POOL_MIN_CLONES = 400


def detect(corpus: Corpus, settings: Settings, root: Path,
           seed_files: set[FileIndex] | None = None, previous: Mapping[str, Clone] | None = None,
           too_common: Set[int] = frozenset(), too_common_bands: np.ndarray | None = None,
           spread: Spread = IN_PROCESS) -> list[KeyedClone]:
    """Exact, renamed and near-miss clone classes of the corpus, with suggestions.

    `seed_files` limits the result to clones touching those files (see
    `match.clone_groups`). A clone of `previous` (by key) with the same
    fragments keeps its suggestion instead of reading its files again.
    `too_common` and `too_common_bands` are keys found too common in a bigger
    corpus than this one (see `engine.lookup`). `spread`: where matching's partitioned
    steps run (a Dask cluster's workers, see `cluster.Spread`).
    """
    groups = clone_groups(corpus, settings.min_lines, settings.min_tokens, seed_files,
                          too_common, spread)
    pending = []
    taken: Taken = defaultdict(list)
    for number, group in enumerate(groups):
        fragments = fragments_of(corpus, group)
        _, tokens = group_size(corpus, group)
        pending.append(_Pending("exact" if group.exact else "renamed", f"{group.key:016x}",
                                fragments, tokens, None))
        for start, fragment in zip(group.starts, fragments):
            taken[corpus.file_of[start]].append((fragment.start_line, fragment.end_line, number))
    # Many clones (exact and renamed ones at least _POOL_MIN_CLONES // 2): their
    # suggestions are written by worker processes (on a cluster, its workers) while this
    # one looks for the near-miss copies.
    use_pool = settings.worker_count > 1 and len(pending) >= _POOL_MIN_CLONES // 2
    with _Advisor(root, settings.worker_count if use_pool else 1, previous or {},
                  spread.submit) as advisor:
        advisor.add(pending)
        near = []
        for group in near_groups(corpus, settings.min_lines, settings.min_tokens,
                                 settings.threshold, taken, seed_files, too_common_bands,
                                 spread):
            fragments = tuple(Fragment(corpus.paths[corpus.file_of[first]],
                                       corpus.start_line[first], corpus.end_line[last])
                              for first, last in group.fragments)
            near.append(_Pending("near", f"{group.key:016x}", fragments, group.tokens,
                                 group.similarity))
        advisor.drop(_folded(pending, near))
        advisor.add(near)
        return advisor.clones()


def _folded(pending: list[_Pending], near: list[_Pending]) -> set[int]:
    """The exact and renamed clones each of whose fragments lies in a different fragment of
    one near-miss clone: the renamed twins the near class took in, or a run of statements
    the near copy covers. One class over those regions, not two."""
    holders: dict[str, list[tuple[int, int, int, int]]] = defaultdict(list)
    for number, item in enumerate(near):
        for position, fragment in enumerate(item.fragments):
            holders[fragment.path].append((fragment.start_line, fragment.end_line, number, position))

    def held(fragment: Fragment) -> dict[int, int]:
        """Near clone -> which of its fragments holds this one."""
        return {number: position for start, end, number, position in holders.get(fragment.path, ())
                if start <= fragment.start_line and fragment.end_line <= end}

    folded = set()
    for index, item in enumerate(pending):
        places = [held(fragment) for fragment in item.fragments]
        for number in set(places[0]).intersection(*places[1:]):
            if len({place[number] for place in places}) == len(places):
                folded.add(index)
                break
    return folded


class _Advisor:
    """Collects clones and writes their suggestions: through `submit` when given (a
    cluster's), else in a process pool when given workers, else here."""

    _CHUNK = 64

    def __init__(self, root: Path, workers: int, previous: Mapping[str, Clone],
                 submit: Callable[[Callable[[Any], Any], Any], Task] | None = None) -> None:
        self.root = root
        self.previous = previous
        self.items: list[_Pending] = []
        self.advice: dict[int, _Advice | tuple[Task, int]] = {}
        self.dropped: set[int] = set()
        self.pool: ProcessPoolExecutor | None = None
        self.submit = submit
        if submit is None and workers > 1:
            import multiprocessing  # with concurrent.futures: only for a pool
            from concurrent.futures import ProcessPoolExecutor

            gc.freeze()  # forked workers must not collect (and so copy) the parent's big heap
            context = multiprocessing.get_context(
                "fork" if threading.active_count() == 1 else "forkserver")
            self.pool = ProcessPoolExecutor(workers, mp_context=context, initializer=gc.disable)
            self.submit = self.pool.submit

    def __enter__(self) -> _Advisor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            gc.unfreeze()

    def add(self, items: list[_Pending]) -> None:
        """Queue clones; suggestions start at once in the pool."""
        todo = []
        for item in items:
            index = len(self.items)
            self.items.append(item)
            old = self.previous.get(item.key)
            if old is not None and old.fragments == item.fragments:
                everyone = tuple(range(len(old.fragments)))
                self.advice[index] = (old.suggestion, old.similarity, everyone)
            else:
                todo.append(index)
        if self.submit is None:
            self.advice.update(zip(todo, _advise((self.root, [self.items[i] for i in todo]))))
            return
        # Clones of one file in one batch: a worker reads each file once per batch.
        todo.sort(key=lambda index: self.items[index].fragments[0].path)
        for start in range(0, len(todo), self._CHUNK):
            chunk = todo[start:start + self._CHUNK]
            task = self.submit(_advise, (self.root, [self.items[i] for i in chunk]))
            for position, index in enumerate(chunk):
                self.advice[index] = (task, position)

    def drop(self, indexes: set[int]) -> None:
        """Leave out clones added before (by their order of adding)."""
        self.dropped |= indexes

    def clones(self) -> list[KeyedClone]:
        """Every clone added and not dropped, in order, with its suggestion."""
        clones = []
        for index, item in enumerate(self.items):
            if index in self.dropped:
                continue
            advice = self.advice[index]
            if not isinstance(advice[0], str):  # a Task: the pool or cluster is writing it
                task, position = advice
                advice = task.result()[position]
            text, similarity, kept = advice
            if not kept:
                continue
            fragments = tuple(item.fragments[i] for i in kept)
            clones.append(KeyedClone(Clone(f"c{item.key[:12]}", item.kind,  # type: ignore[arg-type]
                                           similarity, _span(fragments[0]), item.tokens,
                                           fragments, text), item.key))
        return clones


# A clone's suggestion, its similarity, and the positions of the copies it keeps (none: not
# reported).
_Advice = tuple[str, float, tuple[int, ...]]


def _advise(job: tuple[Path, list[_Pending]]) -> list[_Advice]:
    """Suggestions (and token similarities) for a batch of clones, and which of each
    clone's copies are kept (see `copies_in_content`); runs in a worker."""
    root, items = job
    texts = FragmentTexts(root)
    results = []
    for item in items:
        copies = [texts.get(f) for f in item.fragments]
        # Each copy tokenized once, for the content test and the suggestion both.
        kept = tuple(range(len(copies)))
        copy_tokens = None
        if item.kind != "exact":
            copy_tokens = list(map(code_tokens, copies))
            kept = copies_in_content(copy_tokens, item.kind == "near")
            if not kept:
                results.append(("", 0.0, ()))  # not reported: no suggestion to write
                continue
            copies, copy_tokens = [copies[i] for i in kept], [copy_tokens[i] for i in kept]
        text, token_similarity = suggestion(item.kind, copies, _span(item.fragments[kept[0]]),
                                            item.similarity, copy_tokens)
        results.append((text, token_similarity if item.similarity is None else item.similarity,
                        kept))
    return results


def _span(fragment: Fragment) -> int:
    return fragment.end_line - fragment.start_line + 1
