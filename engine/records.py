"""The small typed records the pipeline passes between its stages."""
from __future__ import annotations

from pathlib import Path
from typing import Literal, NamedTuple

CloneKind = Literal["exact", "renamed", "near"]

# File statuses: the first two are fingerprinted, the rest are skipped.
PARSED = "parsed"  # Python parsed with `ast`: statement units
TOKENS = "tokens"  # token-level units (other languages, unparsable Python)
SKIP_STATUSES = ("binary", "too_large", "unreadable", "undecodable")


class SourceFile(NamedTuple):
    """A file discovery found: where it is and what `stat` said."""

    path: Path
    rel: str
    language: str
    size: int
    mtime_ns: int


class Unit(NamedTuple):
    """One statement (or, for token-level files, one line) and its fingerprints.

    `exact` hashes the normalized tokens (layout and comments dropped);
    `renamed` hashes them with names and literals abstracted. A compound
    statement's hashes cover its whole body. `lines` and `tokens` are its size
    with noise (imports, stubs, boilerplate) weighted zero. `definition` marks a
    whole function or class.
    """

    start_line: int
    end_line: int
    exact: int
    renamed: int
    lines: int
    tokens: int
    noise: bool
    definition: bool = False


class Block(NamedTuple):
    """A run of sibling units (one body of statements); `parent` is a unit index or -1."""

    parent: int
    first: int
    count: int


class Fingerprints(NamedTuple):
    """What parsing one file yields: its units, grouped in blocks in order, and for the
    near-miss detector its functions (`engine.near.NearUnit`), their MinHash
    signatures and the file's renamed tokens as one byte each."""

    units: tuple[Unit, ...]
    blocks: tuple[Block, ...]
    near: tuple[tuple[int, int, int, int, int], ...] = ()
    signatures: bytes = b""
    codes: bytes = b""


class FileResult(NamedTuple):
    """The outcome of reading one file: its metadata and, if it was fingerprinted, the packed prints."""

    path: str
    size: int
    mtime_ns: int
    content_hash: str
    language: str
    status: str
    lines: int
    tokens: int
    error: str
    blob: bytes | None  # packed fingerprints (see fingerprint.pack), None if skipped or unchanged


class Fragment(NamedTuple):
    """One place of a clone: a file and an inclusive line range."""

    path: str
    start_line: int
    end_line: int


class Clone(NamedTuple):
    """A clone class: two or more fragments that are copies of each other."""

    id: str
    kind: CloneKind
    similarity: float
    lines: int
    tokens: int
    fragments: tuple[Fragment, ...]
    suggestion: str


class ScanStats(NamedTuple):
    """The figures of one scan, as the JSON report's `stats` shows them."""

    files: int
    lines: int
    tokens: int
    duplicated_lines: int
    duplication_pct: float
    duration_s: float
    files_reused: int
    files_parsed: int
    files_skipped: int


class SkippedFile(NamedTuple):
    """A file that was found but not fingerprinted, and why."""

    path: str
    reason: str


def count(n: int, noun: str) -> str:
    """`1 file`, `2 files`: every count a report or message shows."""
    return f"{n} {noun}{'s' * (n != 1)}"


class ScanResult(NamedTuple):
    """Everything a scan produced: the report's content."""

    root: Path
    stats: ScanStats
    clones: tuple[Clone, ...]
    skipped: tuple[SkippedFile, ...]
    new_clone_ids: frozenset[str]
    request_id: str | None = None
    scan_id: int | None = None  # the stored scan, until its report is out (`mark_reported`)
