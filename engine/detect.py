"""All detectors over one corpus, merged into one list of reported clones."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from engine.config import Settings
from engine.match import Corpus, clone_groups, fragments_of, group_size
from engine.near import near_groups
from engine.records import Clone, Fragment
from engine.suggest import suggestion


class KeyedClone(NamedTuple):
    """A reported clone and its content key: the same copies keep the same key
    when lines move, so baselines and "new clone" checks use it."""

    clone: Clone
    key: str


def detect(corpus: Corpus, settings: Settings, root: Path,
           seed_files: set[int] | None = None) -> list[KeyedClone]:
    """Exact, renamed and near-miss clone classes of the corpus, with suggestions.

    `seed_files` limits the result to clones touching those files (see
    `match.clone_groups`).
    """
    groups = clone_groups(corpus, settings.min_lines, settings.min_tokens, seed_files)
    texts = FragmentTexts(root)
    clones = []
    taken = []
    for number, group in enumerate(groups):
        fragments = fragments_of(corpus, group)
        _, tokens = group_size(corpus, group)
        kind = "exact" if group.exact else "renamed"
        clones.append(_keyed(kind, group.key, fragments, tokens, texts))
        taken += [(corpus.file_of[s], f.start_line, f.end_line, number)
                  for s, f in zip(group.starts, fragments)]
    for group in near_groups(corpus, settings.min_lines, settings.min_tokens, settings.threshold,
                             taken, seed_files):
        fragments = tuple(Fragment(corpus.paths[corpus.file_of[first]], corpus.start_line[first],
                                   corpus.end_line[last]) for first, last in group.fragments)
        clones.append(_keyed("near", group.key, fragments, group.tokens, texts, group.similarity))
    return clones


def _keyed(kind: str, key: int, fragments: tuple[Fragment, ...], tokens: int,
           texts: FragmentTexts, similarity: float | None = None) -> KeyedClone:
    span = fragments[0].end_line - fragments[0].start_line + 1
    advice, token_similarity = suggestion(kind, [texts.get(f) for f in fragments], span, similarity)
    hex_key = f"{key:016x}"
    return KeyedClone(Clone(f"c{hex_key[:12]}", kind,  # type: ignore[arg-type]
                            token_similarity if similarity is None else similarity,
                            span, tokens, fragments, advice), hex_key)


class FragmentTexts:
    """Reads the files of reported fragments, each file once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[str, list[str]] = {}

    def get(self, fragment: Fragment) -> str:
        lines = self.cache.get(fragment.path)
        if lines is None:
            try:
                data = (self.root / fragment.path).read_bytes()
                lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
            except OSError:
                lines = []
            self.cache[fragment.path] = lines
        return "".join(lines[fragment.start_line - 1:fragment.end_line])
