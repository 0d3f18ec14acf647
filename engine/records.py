"""The small typed records the pipeline passes between its stages."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Container, Iterable, Literal, NamedTuple, Protocol, Sequence

if TYPE_CHECKING:
    from engine.python_units import NoisePolicy

CloneKind = Literal["exact", "renamed", "near"]


class FileStatus(StrEnum):
    """What reading a file came to; stored as its value."""

    PARSED = "parsed"  # Python parsed with `ast`: statement units
    TOKENS = "tokens"  # token-level units (other languages, unparsable Python)
    UNCHANGED = "unchanged"  # the content hash is the stored one: nothing parsed
    BINARY = "binary"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    UNDECODABLE = "undecodable"

    @property
    def fingerprinted(self) -> bool:
        return self in (FileStatus.PARSED, FileStatus.TOKENS)

    @property
    def skipped(self) -> bool:
        return not self.fingerprinted and self is not FileStatus.UNCHANGED



class SourceFile(NamedTuple):
    """A file discovery found: where it is and what `stat` said."""

    path: Path
    rel: str
    language: str
    size: int
    mtime_ns: int


class Job(NamedTuple):
    """One file for a worker to read: `fingerprint.fingerprint_file`'s arguments, and the
    size discovery saw (the biggest files are given out first)."""

    path: str
    language: str
    known_hash: str  # the stored content hash, "" when the stored fingerprints are stale
    max_size: int
    policy: NoisePolicy
    size: int


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
    near-miss detector its functions (`engine.near_sign.NearUnit`), their MinHash
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
    status: FileStatus
    lines: int
    tokens: int
    error: str
    # Packed fingerprints (see fingerprint.pack); None if skipped or unchanged, or once staged
    # (see staging: then `status.fingerprinted` says whether there are any).
    blob: bytes | None


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


class Repo(NamedTuple):
    """One repository of a multi-repository scan: its name and its folder relative to the
    scan root, with "/" ("" when the repository is the root itself)."""

    name: str
    path: str


class RepoSpec(NamedTuple):
    """A repository as the user named it, before it is checked: `origin` says where (the
    option or the TOML entry), for error messages."""

    name: str
    path: Path
    origin: str


class KnownFile(NamedTuple):
    """What the index remembers about one file."""

    id: int
    size: int
    mtime_ns: int
    hash: str
    status: str
    fingerprint_key: str
    lines: int
    tokens: int
    language: str
    error: str


class KeyedClone(NamedTuple):
    """A reported clone and its content key: the same copies keep the same key
    when lines move, so baselines and "new clone" checks use it."""

    clone: Clone
    key: str


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

    @classmethod
    def of(cls, path: str, status: str, error: str) -> SkippedFile:
        """A file skipped with this status, and the error that says why, if any."""
        return cls(path, status + (f": {error}" if error else ""))


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
    repos: tuple[Repo, ...] = ()  # the repositories scanned, when given (`engine.repos`)


class Counted(Protocol):
    """Anything that knows a file's size in lines and tokens (a FileResult, a stored file)."""

    @property
    def lines(self) -> int: ...
    @property
    def tokens(self) -> int: ...


def duplicated_lines(clones: Iterable[Clone], paths: Container[str] | None = None) -> int:
    """Lines covered by at least one fragment (of the files in `paths`, if given)."""
    by_path: dict[str, list[tuple[int, int]]] = {}
    for clone in clones:
        for f in clone.fragments:
            if paths is None or f.path in paths:
                by_path.setdefault(f.path, []).append((f.start_line, f.end_line))
    total = 0
    for spans in by_path.values():  # the union of each file's ranges, in one sorted pass
        reached = 0  # the last line counted
        for start, end in sorted(spans):
            if end > reached:
                total += end - max(start - 1, reached)
                reached = end
    return total


def scan_stats(files: Sequence[Counted], clones: Sequence[Clone], *, reused: int, parsed: int,
               skipped: int, duration_s: float, of_paths: Container[str] | None = None
               ) -> ScanStats:
    """The report's figures: `files` are the fingerprinted files counted, and duplication is
    measured in `of_paths` (all files when None)."""
    lines = sum(f.lines for f in files)
    duplicated = duplicated_lines(clones, of_paths)
    return ScanStats(
        files=len(files), lines=lines, tokens=sum(f.tokens for f in files),
        duplicated_lines=duplicated,
        duplication_pct=round(100.0 * duplicated / lines, 2) if lines else 0.0,
        duration_s=round(duration_s, 3), files_reused=reused, files_parsed=parsed,
        files_skipped=skipped)


class ScanRecord(NamedTuple):
    """Everything one scan writes to the index, in one transaction (`Store.save`)."""

    root: str
    request_id: str | None
    started_at: datetime
    settings: dict[str, Any]
    file_hashes: str
    stats: ScanStats
    results: Sequence[FileResult]  # files read: their rows and fingerprints
    touched: Sequence[KnownFile]  # stored files whose mtime alone changed
    vanished: Sequence[str]
    clones: Sequence[KeyedClone]
    new_keys: frozenset[str]
    reported: bool
    clones_of: int | None = None  # the stored scan whose clones these are, unchanged
    repos: tuple[Repo, ...] = ()
    staged: Path | None = None  # the file holding the results' fingerprints (see staging)
