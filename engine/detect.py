"""All detectors over one corpus, merged into one list of reported clones."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from engine.config import Settings
from engine.match import Corpus, clone_groups, fragments_of, group_size
from engine.records import Clone, Fragment
from engine.suggest import suggestion


class KeyedClone(NamedTuple):
    """A reported clone and its content key: the same copies keep the same key
    when lines move, so baselines and "new clone" checks use it."""

    clone: Clone
    key: str


def detect(corpus: Corpus, settings: Settings, root: Path,
           seed_files: set[int] | None = None) -> list[KeyedClone]:
    """Exact and renamed clone classes of the corpus, with suggestions.

    `seed_files` limits the result to clones touching those files (see
    `match.clone_groups`).
    """
    groups = clone_groups(corpus, settings.min_lines, settings.min_tokens, seed_files)
    texts = FragmentTexts(root)
    clones = []
    for group in groups:
        fragments = fragments_of(corpus, group)
        _, tokens = group_size(corpus, group)
        kind = "exact" if group.exact else "renamed"
        span = fragments[0].end_line - fragments[0].start_line + 1
        advice, similarity = suggestion(kind, [texts.get(f) for f in fragments], span)
        key = f"{group.key:016x}"
        clones.append(KeyedClone(
            Clone(f"c{key[:12]}", kind, similarity, span, tokens, fragments, advice), key))
    return clones


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
