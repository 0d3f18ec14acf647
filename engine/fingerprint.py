"""One file in, its fingerprints out: the work a pool process does for each file.

A file is read once: its bytes are hashed (xxh3-128) and, if the hash equals
the one stored, nothing more is done. Otherwise Python is parsed with `ast`
(falling back to token-level units when it does not parse) and other
languages go through their pygments lexer. `# codebot: ignore` directives
(see `suppress`) then turn the units they cover into unique noise.
"""
from __future__ import annotations

import ast
import marshal
import os
import tokenize
import warnings
from io import BytesIO
from typing import NamedTuple

import xxhash

from engine.near_sign import NearUnit
from engine.python_units import NoisePolicy, python_fingerprints
from engine.records import Block, FileResult, FileStatus, Fingerprints, Unit
from engine.normalize import token_stream
from engine.suppress import MARKER, directives, suppress
from engine.partial import PieceError, partial_fingerprints, statements_by_piece
from engine.token_units import lexer_fingerprints, line_count

# Bump when units or hashes change meaning: stored fingerprints are then redone.
FINGERPRINT_VERSION = 13  # 13: a call fed a table built by a call (`frozenset([...])`) is data

_BINARY_SNIFF = 8192
# Python sources bigger than this are parsed piece by piece (see `partial.statements_by_piece`):
# past the default size limit, so only a raised `max_file_size` takes this path.
PIECEWISE_BYTES = 2_000_000


def content_hash(data: bytes) -> str:
    """The content hash stored for every file."""
    return xxhash.xxh3_128_hexdigest(data)


def fingerprint_file(path: str, language: str, known_hash: str, max_size: int,
                     policy: NoisePolicy) -> FileResult:
    """Read, hash and (if new) fingerprint one file; never raises for bad input."""
    def result(status: FileStatus, error: str = "", size: int = 0, mtime_ns: int = 0,
               digest: str = "", lines: int = 0, tokens: int = 0,
               prints: Fingerprints | None = None) -> FileResult:
        return FileResult(path, size, mtime_ns, digest, language, status, lines, tokens, error,
                          None if prints is None else pack(prints))

    try:
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            if stat.st_size > max_size:
                return result(FileStatus.TOO_LARGE,
                              f"{stat.st_size} bytes is over the {max_size}-byte limit",
                              stat.st_size, stat.st_mtime_ns)
            data = handle.read()
    except OSError as exc:
        return result(FileStatus.UNREADABLE, exc.strerror or str(exc))
    size, mtime_ns = stat.st_size, stat.st_mtime_ns
    digest = content_hash(data)
    if b"\0" in data[:_BINARY_SNIFF]:
        return result(FileStatus.BINARY, "contains NUL bytes", size, mtime_ns, digest)
    if digest == known_hash:
        return result(FileStatus.UNCHANGED, "", size, mtime_ns, digest)
    lines = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    try:
        text = _decode(data, language)
        # Units are cut from the UTF-8 bytes; a coding cookie such as utf-7 or
        # unicode_escape can decode to lone surrogates, which UTF-8 cannot hold.
        source = text.encode("utf-8") if language == "python" else b""
    except (UnicodeError, LookupError, SyntaxError) as exc:
        return result(FileStatus.UNDECODABLE, _reason(exc), size, mtime_ns, digest, lines)
    lines = line_count(text)  # as the units count them: a lone \r ends a line too
    if language == "python":
        prints, status, error = _python_prints(source, text, policy)
    else:
        prints = lexer_fingerprints(text, language)
        status, error = FileStatus.TOKENS, ""
    if MARKER in data:
        prints = suppress(prints, directives(text), f"{path}\0{digest}".encode())
    tokens = _top_level_tokens(prints)
    return result(status, error, size, mtime_ns, digest, lines, tokens, prints)


def _python_prints(source: bytes, text: str, policy: NoisePolicy
                   ) -> tuple[Fingerprints, FileStatus, str]:
    """A Python file's units, status and note: parsed whole (a big one piece by piece),
    else the pieces that parse alone and the rest token by token."""
    if len(source) > PIECEWISE_BYTES:
        prints = _by_pieces(source, policy)
        if prints is not None:
            return prints, FileStatus.PARSED, ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes in old code are not our report
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        prints, parsed, pieces = partial_fingerprints(source, policy)
        return prints, FileStatus.TOKENS, (
            f"does not parse ({_reason(exc)}); {parsed} of {pieces} top-level statements "
            "parsed alone, the rest compared token by token")
    return python_fingerprints(source, tree, policy), FileStatus.PARSED, ""


def _by_pieces(source: bytes, policy: NoisePolicy) -> Fingerprints | None:
    """A big module's units, parsed one top-level statement at a time (its whole tree
    would take 70 times its size); None when a piece does not parse alone."""
    stream = token_stream(source)
    try:
        return python_fingerprints(source, statements_by_piece(source, stream), policy, stream)
    except PieceError:
        return None


def _top_level_tokens(prints: Fingerprints) -> int:
    """Tokens of the units no other unit contains (a compound counts its body)."""
    return sum(u.tokens for block in prints.blocks if block.parent < 0
               for u in prints.units[block.first:block.first + block.count])


def _decode(data: bytes, language: str) -> str:
    """Source bytes to text: Python by its coding cookie (default UTF-8), others as UTF-8."""
    if language == "python":
        encoding, _ = tokenize.detect_encoding(BytesIO(data).readline)
        return data.decode(encoding)
    return data.decode("utf-8-sig")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError) and exc.start < len(exc.object):
        return f"not valid {exc.encoding} (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
    if isinstance(exc, UnicodeEncodeError):
        return (f"decodes to U+{ord(exc.object[exc.start]):04X} at character {exc.start}, "
                f"which is not valid text ({exc.reason})")
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f"{exc.msg} at line {exc.lineno}"
    return str(exc) or type(exc).__name__


def pack(prints: Fingerprints) -> bytes:
    """Fingerprints as one compact blob: columns of plain ints, marshalled."""
    units = tuple(zip(*prints.units)) if prints.units else ((),) * len(Unit._fields)
    blocks = tuple(zip(*prints.blocks)) if prints.blocks else ((),) * len(Block._fields)
    near = tuple(zip(*prints.near)) if prints.near else ((),) * len(NearUnit._fields)
    return marshal.dumps((FINGERPRINT_VERSION, units, blocks, near, prints.signatures,
                          prints.codes))


class Columns(NamedTuple):
    """A stored blob unpacked: unit, block and near-unit columns, signatures, token codes."""

    units: tuple[tuple[int, ...], ...]
    blocks: tuple[tuple[int, ...], ...]
    near: tuple[tuple[int, ...], ...]
    signatures: bytes
    codes: bytes


def unpack_columns(blob: bytes) -> Columns:
    """The columns of a stored blob (see `Unit`, `Block`, `NearUnit`)."""
    version, *columns = marshal.loads(blob)
    if version != FINGERPRINT_VERSION:
        raise ValueError(f"fingerprints of version {version}, expected {FINGERPRINT_VERSION}")
    return Columns(*columns)
