"""Inline suppressions: `# codebot: ignore` and `# codebot: ignore-start` / `ignore-end`.

A line carrying `# codebot: ignore` excludes the innermost unit that contains
it — on a `def` or `class` line (or its decorator line) that is the whole
function or class. The lines between `# codebot: ignore-start` and
`# codebot: ignore-end` (or the end of the file) are excluded as a region.
Every unit that overlaps excluded lines — the excluded code itself and the
statements that enclose it — becomes noise with a hash of its own, so it can
neither seed a match nor be crossed by one, and a copy of an enclosing
function cannot be reported through it either.
"""
from __future__ import annotations

import re
from typing import NamedTuple

import xxhash

from engine.records import Fingerprints, Unit

# Cheap test first: most files carry no marker and skip the line scan.
MARKER = b"codebot:"
_DIRECTIVE_RE = re.compile(r"#\s*codebot:\s*(ignore-start|ignore-end|ignore)\b(?!-)")


class Suppressions(NamedTuple):
    """The directives of one file: single-unit ignores and excluded line ranges."""

    ignore_lines: tuple[int, ...]
    regions: tuple[tuple[int, int], ...]


def directives(text: str) -> Suppressions:
    """The `# codebot:` directives of a source text, by line (1-based)."""
    ignores: list[int] = []
    regions: list[tuple[int, int]] = []
    open_at: int | None = None
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if "codebot:" not in line:
            continue
        match = _DIRECTIVE_RE.search(line)
        if match is None:
            continue
        word = match.group(1)
        if word == "ignore":
            ignores.append(number)
        elif word == "ignore-start":
            if open_at is None:
                open_at = number
        elif open_at is not None:
            regions.append((open_at, number))
            open_at = None
    if open_at is not None:  # an unclosed region runs to the end of the file
        regions.append((open_at, max(len(lines), open_at)))
    return Suppressions(tuple(ignores), tuple(regions))


def suppress(prints: Fingerprints, found: Suppressions, salt: bytes) -> Fingerprints:
    """The fingerprints with every unit that overlaps suppressed lines turned into unique noise.

    `salt` (the file's path and content hash) makes the replacement hashes
    differ from those of any other file.
    """
    units = prints.units
    if not units or not (found.ignore_lines or found.regions):
        return prints
    excluded = list(found.regions)
    for line in found.ignore_lines:
        inner = _innermost(units, line)
        if inner is not None:
            excluded.append((inner.start_line, inner.end_line))
    if not excluded:
        return prints
    changed = list(units)
    for index, unit in enumerate(units):
        if any(unit.start_line <= end and start <= unit.end_line for start, end in excluded):
            unique = xxhash.xxh3_64_intdigest(salt + index.to_bytes(4, "little"))
            changed[index] = Unit(unit.start_line, unit.end_line, unique, unique, 0, 0, True)
    return Fingerprints(tuple(changed), prints.blocks)


def _innermost(units: tuple[Unit, ...], line: int) -> Unit | None:
    """The unit containing `line` that starts last (ties: the longest, so the `def` wins
    over a statement written on its line)."""
    best: Unit | None = None
    for unit in units:
        if unit.start_line <= line <= unit.end_line:
            if best is None or (unit.start_line, unit.end_line) > (best.start_line, best.end_line):
                best = unit
    return best
