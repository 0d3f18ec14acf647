"""Recall per clone type on the injected copies, and a sample of real-code clones for judging precision.

A copy counts as found when one reported clone has a fragment covering at
least ``COVERAGE`` of the code lines of the original and another fragment
covering at least ``COVERAGE`` of the code lines of the copy. Precision cannot
be computed from the reports: each tool's random sample of clones from the real
code (clones that touch no injected copy) is written out to be judged case by
case with the rubric in ``../shared/PRECISION.md``.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from benchmarks.corpus import Injection, Manifest
from benchmarks.mutations import CLONE_TYPES
from benchmarks.tools import Clone, Fragment

COVERAGE = 0.70
SAMPLE_SIZE = 50
MAX_SHOWN_LINES = 120  # a fragment longer than this is cut in the sample file


class Recall(NamedTuple):
    """Copies found out of copies injected, for one clone type."""

    found: int
    total: int

    @property
    def ratio(self) -> float:
        return self.found / self.total if self.total else 0.0


class Verdicts(NamedTuple):
    """The judged counts of one tool's sample (PRECISION.md)."""

    true: int
    trivial: int
    false: int

    @property
    def precision(self) -> float:
        total = self.true + self.trivial + self.false
        return self.true / total if total else 0.0


def coverage(fragment: Fragment, path: str, code: Sequence[int]) -> float:
    """The share of the code lines ``code`` of ``path`` that ``fragment`` spans."""
    if fragment.path != path or not code:
        return 0.0
    return sum(fragment.start <= line <= fragment.end for line in code) / len(code)


def is_found(injection: Injection, clones: Iterable[Clone], threshold: float = COVERAGE) -> bool:
    """Whether one clone pairs a fragment over the original with another over the copy."""
    orig, copy = injection.original, injection.copy
    for clone in clones:
        over_orig = [i for i, f in enumerate(clone.fragments) if coverage(f, orig.path, injection.original_code) >= threshold]
        if not over_orig:
            continue
        over_copy = [i for i, f in enumerate(clone.fragments) if coverage(f, copy.path, injection.copy_code) >= threshold]
        if any(a != b for a in over_orig for b in over_copy):
            return True
    return False


def by_path(clones: Iterable[Clone]) -> dict[str, list[Clone]]:
    """Each path to the clones with a fragment in it."""
    index: dict[str, list[Clone]] = {}
    for clone in clones:
        for path in {f.path for f in clone.fragments}:
            index.setdefault(path, []).append(clone)
    return index


def recall(manifest: Manifest, clones: Sequence[Clone], threshold: float = COVERAGE) -> dict[str, Recall]:
    """Recall per clone type of one tool's clones on the manifest's injected copies."""
    index = by_path(clones)
    found = dict.fromkeys(CLONE_TYPES, 0)
    total = dict.fromkeys(CLONE_TYPES, 0)
    for inj in manifest.injections:
        total[inj.kind] += 1
        near = [c for c in index.get(inj.original.path, []) if any(f.path == inj.copy.path for f in c.fragments)]
        if is_found(inj, near, threshold):
            found[inj.kind] += 1
    return {kind: Recall(found[kind], total[kind]) for kind in CLONE_TYPES if total[kind]}


def found_ids(manifest: Manifest, clones: Sequence[Clone]) -> set[int]:
    """The ids of the injections a tool found (for per-copy comparisons between tools)."""
    index = by_path(clones)
    return {inj.id for inj in manifest.injections if is_found(inj, index.get(inj.copy.path, []))}


def touches_copies(clone: Clone, manifest: Manifest) -> bool:
    """Whether any fragment of the clone overlaps an injected copy."""
    spans = [inj.copy for inj in manifest.injections]
    return any(f.path == s.path and f.start <= s.end and s.start <= f.end for f in clone.fragments for s in spans)


def real_clones(clones: Sequence[Clone], manifest: Manifest) -> list[Clone]:
    """The clones that touch no injected copy: what the tool reports on the real code."""
    return [c for c in clones if not touches_copies(c, manifest)]


def sample(clones: Sequence[Clone], size: int = SAMPLE_SIZE, seed: int = 1) -> list[Clone]:
    """A random sample (fixed seed) of clones, in a stable order."""
    ordered = sorted(clones, key=lambda c: c.fragments)
    return random.Random(seed).sample(ordered, min(size, len(ordered)))


def _numbered(root: Path, fragment: Fragment) -> str:
    try:
        lines = (root / fragment.path).read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError as exc:
        return f"(cannot read {fragment.path}: {exc})"
    shown = lines[fragment.start - 1: min(fragment.end, fragment.start - 1 + MAX_SHOWN_LINES)]
    width = len(str(fragment.end))
    body = "\n".join(f"{fragment.start + i:>{width}}  {line}" for i, line in enumerate(shown))
    hidden = fragment.end - fragment.start + 1 - len(shown)
    return body + (f"\n... ({hidden} more lines)" if hidden > 0 else "")


def render_sample(cases: Sequence[Clone], root: Path, title: str) -> str:
    """The sample as Markdown: numbered cases, each with both fragments' code, ready for PRECISION.md."""
    out = [
        f"# {title}",
        "",
        f"{len(cases)} cases. Judge each from the code alone as TRUE, TRIVIAL or FALSE "
        "(rubric: PRECISION.md), then end with `TRUE a, TRIVIAL b, FALSE c`.",
        "",
    ]
    for number, clone in enumerate(cases, 1):
        extra = len(clone.fragments) - 2
        out.append(f"## Case {number}" + (f" (clone class of {len(clone.fragments)}; first two shown)" if extra > 0 else ""))
        out.append("")
        for label, fragment in zip("AB", clone.fragments[:2]):
            out.append(f"**{label}** `{fragment.path}` lines {fragment.start}-{fragment.end}")
            out.append("")
            out.append("```python")
            out.append(_numbered(root, fragment))
            out.append("```")
            out.append("")
    return "\n".join(out)


_COUNTS = re.compile(r"TRUE\s+(\d+),\s*TRIVIAL\s+(\d+),\s*FALSE\s+(\d+)", re.IGNORECASE)


def read_verdicts(path: Path) -> Verdicts | None:
    """The counts on the last ``TRUE a, TRIVIAL b, FALSE c`` line of a judged sample, if there is one."""
    if not path.exists():
        return None
    matches = _COUNTS.findall(path.read_text(encoding="utf-8", errors="replace"))
    if not matches:
        return None
    true, trivial, false = (int(n) for n in matches[-1])
    return Verdicts(true, trivial, false)
