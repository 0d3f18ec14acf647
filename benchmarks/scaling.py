"""How CodeBot's cost grows with the tree: 1x, 3x and 10x the standard library, and one
20 MB file.

    python -m benchmarks.scaling [--sizes 1,3,10] [--huge-mb 20] [--out DIR]

Copy 1 is the standard library as shipped (with its tests, as in
``benchmarks.stdlib_scan``); copies 2..n are the same files with every name
renamed consistently (``name`` becomes ``name_c2`` in copy 2: builtins, dunders,
keywords, ``self`` and ``cls`` stay) and, on about a fifth of the lines that
hold one, a comparison, ``+``/``-`` or ``and``/``or`` swapped — so the copies are
renamed and near-miss clones of each other, not exact ones. Every copy is
checked to parse. The same seed gives the same files.

For each size, as whole processes (``benchmarks.measure``: wall, CPU of the
process tree, peak RSS of the largest process and of the tree): a cold scan, an
unchanged rescan, and ``check`` of one changed file from the index's root (its
first run makes the index's lookup; the second is the figure). Then a generated
file of about ``--huge-mb`` MB (standard-library functions and classes one after
another, so it parses) scanned cold with ``max_file_size`` raised in its tree's
``pyproject.toml``.

Writes ``scaling.json`` and ``scaling.md`` to ``--out`` (default
``benchmarks/results``). Scratch space: about 60 MB of source and 150 MB of
index per copy (10x: about 2 GB under $TMPDIR), removed at the end; the 10x scan
takes minutes and GiBs of memory.
"""
from __future__ import annotations

import argparse
import ast
import builtins
import io
import json
import keyword
import os
import platform
import random
import shutil
import sys
import tokenize
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import NamedTuple

from benchmarks import report
from benchmarks.corpus import copy_corpus, default_source
from benchmarks.stdlib_scan import (
    Figure, check_command, clone_count, figure, fresh_index, run, scan_command,
)
from benchmarks.tools import scratch_dir

RESULTS = Path(__file__).resolve().parent / "results"
EDIT_PROBABILITY = 0.2  # of a line that holds a swappable operator
SEED = 10
CHECKED_FILE = "copy01/json/encoder.py"
_KEPT_NAMES = frozenset({*keyword.kwlist, *keyword.softkwlist, *dir(builtins), "self", "cls"})
_SWAPS = {"==": "!=", "!=": "==", "<": "<=", "<=": "<", ">": ">=", ">=": ">", "+": "-",
          "-": "+", "and": "or", "or": "and"}
_FSTRING_START = getattr(tokenize, "FSTRING_START", -1)  # 3.12 tokenizes f-strings
_FSTRING_END = getattr(tokenize, "FSTRING_END", -1)


class Token(NamedTuple):
    """A token a copy may change: a name to rename or an operator to swap."""

    row: int  # 0-based line
    col: int
    end: int  # column, same line
    text: str
    swap: bool  # an operator (else a name)


class Rewritten(NamedTuple):
    """One copy of a file, and how many of its lines were edited."""

    text: str
    edited_lines: int


def changeable_tokens(text: str) -> list[Token] | None:
    """The names and swappable operators of a source text; None when it does not tokenize."""
    found: list[Token] = []
    depth = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == _FSTRING_START:
                depth += 1
            elif tok.type == _FSTRING_END:
                depth -= 1
            (row, col), (end_row, end) = tok.start, tok.end
            if tok.type == tokenize.NAME and end_row == row:
                if tok.string in _SWAPS:
                    found.append(Token(row - 1, col, end, tok.string, True))
                elif tok.string not in _KEPT_NAMES and not (
                        tok.string.startswith("__") and tok.string.endswith("__")):
                    found.append(Token(row - 1, col, end, tok.string, False))
            elif tok.type == tokenize.OP and tok.string in _SWAPS and not depth:
                found.append(Token(row - 1, col, end, tok.string, True))
    except (tokenize.TokenError, SyntaxError):
        return None
    return found


def rewrite(text: str, tokens: Sequence[Token], copy: int, rng: random.Random,
            edit_probability: float = EDIT_PROBABILITY) -> Rewritten:
    """Copy ``copy`` of a text: names renamed with the suffix ``_c<copy>``; on a line with
    an operator to swap, the first one swapped with ``edit_probability``."""
    lines = text.split("\n")
    by_row: dict[int, list[Token]] = {}
    for token in tokens:
        by_row.setdefault(token.row, []).append(token)
    edited = 0
    for row, row_tokens in by_row.items():
        swaps = [t for t in row_tokens if t.swap]
        swapped = swaps[0] if swaps and rng.random() < edit_probability else None
        edited += swapped is not None
        line = lines[row]
        for token in sorted(row_tokens, key=lambda t: -t.col):
            if token.swap:
                new = _SWAPS[token.text] if token is swapped else token.text
            else:
                new = f"{token.text}_c{copy}"
            line = line[:token.col] + new + line[token.end:]
        lines[row] = line
    return Rewritten("\n".join(lines), edited)


def parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def decode(data: bytes) -> tuple[str, str] | None:
    """A file's text and its encoding, or None."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding), encoding
    except (SyntaxError, UnicodeError, LookupError):
        return None


def file_copies(data: bytes, path: str, copies: Sequence[int], seed: int = SEED
                ) -> Iterator[tuple[int, bytes, int]]:
    """Copy number, bytes and edited lines of each requested copy of one file. A file that
    does not decode, tokenize or parse, or whose copy would not parse, is copied as it is."""
    decoded = decode(data)
    tokens = changeable_tokens(decoded[0]) if decoded else None
    original_parses = tokens is not None and parses(decoded[0])
    for copy in copies:
        if copy == 1 or not original_parses:
            yield copy, data, 0
            continue
        text, encoding = decoded
        new = rewrite(text, tokens, copy, random.Random(f"{seed}:{copy}:{path}"))
        if not parses(new.text):
            new = rewrite(text, tokens, copy, random.Random(0), edit_probability=0.0)
        try:
            yield copy, new.text.encode(encoding), new.edited_lines
        except UnicodeError:
            yield copy, data, 0


def _write_copies(job: tuple[Path, Path, str, tuple[int, ...]]) -> tuple[int, int]:
    """Write one file's copies under ``dest/copyNN/``; its lines and edited lines."""
    source, dest, rel, copies = job
    data = (source / rel).read_bytes()
    edited = 0
    for copy, content, changed in file_copies(data, rel, copies):
        target = dest / f"copy{copy:02d}" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        edited += changed
    return data.count(b"\n") * len(copies), edited


def add_copies(original: Path, dest: Path, copies: Sequence[int], workers: int = 2
               ) -> tuple[int, int]:
    """Write copies ``copies`` of every ``.py`` file of ``original`` into ``dest``; the lines
    written and the lines edited."""
    files = sorted(p.relative_to(original).as_posix() for p in original.rglob("*.py"))
    jobs = [(original, dest, rel, tuple(copies)) for rel in files]
    with ProcessPoolExecutor(workers) as pool:
        done = list(pool.map(_write_copies, jobs, chunksize=16))
    return sum(d[0] for d in done), sum(d[1] for d in done)


# ---------------------------------------------------------------- the 20 MB file


def definitions(text: str) -> Iterator[str]:
    """The top-level functions and classes of a module's text, decorators included."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return
    lines = text.split("\n")
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            yield "\n".join(lines[first - 1:node.end_lineno])


def huge_file(source: Path, target_bytes: int) -> str:
    """About ``target_bytes`` of Python: the top-level functions and classes of the files
    under ``source`` in path order (renamed as copy 2, 3 ... when one pass is not enough)."""
    parts: list[str] = ['"""Generated by benchmarks.scaling: one huge module."""\n']
    size = len(parts[0])
    files = sorted(p for p in source.rglob("*.py") if p.is_file())
    for copy in range(1, 1000):
        for path in files:
            decoded = decode(path.read_bytes())
            if decoded is None:
                continue
            text = decoded[0].replace("\r\n", "\n")
            if copy > 1:
                tokens = changeable_tokens(text)
                if tokens is None:
                    continue
                text = rewrite(text, tokens, copy, random.Random(0), 0.0).text
            for part in definitions(text):
                parts.append(part + "\n\n\n")
                size += len(part.encode("utf-8")) + 3
                if size >= target_bytes:
                    return "".join(parts)
        if not files:
            break
    return "".join(parts)


# ---------------------------------------------------------------- measuring


def measure_size(root: Path, work: Path) -> list[Figure]:
    """Cold scan, unchanged rescan and check of one changed file, on the tree at ``root``."""
    db = root / ".codebot" / "index.db"
    db.parent.mkdir(exist_ok=True)
    fresh_index(db)
    scan = scan_command(root, db, work)
    figures = [figure("cold scan", [run(scan)], clone_count(scan.stdout), stderr=scan.stderr),
               figure("unchanged rescan", [run(scan)], clone_count(scan.stdout),
                      stderr=scan.stderr)]
    checked = root / CHECKED_FILE
    original = checked.read_bytes()
    command = check_command(root, db, work, CHECKED_FILE)
    ok = lambda m: m.returncode in (0, 1)  # noqa: E731 - 1: clones found
    for number, name in enumerate(("check, first (makes the lookup)",
                                   "check of one changed file")):
        checked.write_bytes(original + f"\n\ndef _scaling_helper_{number}(value):\n"
                            f"    return [value] * {number + 2}\n".encode())
        figures.append(figure(name, [run(command)], clone_count(command.stdout), ok,
                              command.stderr))
    checked.write_bytes(original)
    return figures


def measure_huge(source: Path, work: Path, megabytes: float) -> dict:
    """The generated file, scanned cold with ``max_file_size`` raised."""
    folder = work / "huge"
    folder.mkdir()
    text = huge_file(source, int(megabytes * 1e6))
    if not parses(text):
        raise RuntimeError("the generated file does not parse")
    data = text.encode("utf-8")
    (folder / "generated.py").write_bytes(data)
    (folder / "pyproject.toml").write_text(
        f"[tool.codebot]\nmax_file_size = {len(data) * 2}\n", encoding="utf-8")
    db = work / "huge-index.db"
    scan = scan_command(folder, db, work)
    row = figure("cold scan", [run(scan)], clone_count(scan.stdout), stderr=scan.stderr)
    return {"bytes": len(data), "lines": text.count("\n"), "scan": row._asdict()}


def size_options(parser: argparse.ArgumentParser, out: Path) -> None:
    """The options of a benchmark over 1x, 3x, 10x ... the stdlib: sizes, source, out."""
    parser.add_argument("--sizes", default="1,3,10", help="copies of the stdlib, comma-separated")
    parser.add_argument("--source", type=Path, default=None, help="a tree instead of the stdlib")
    parser.add_argument("--out", type=Path, default=out)


def sizes_of(text: str) -> list[int]:
    """`--sizes` as sorted distinct copy counts."""
    return sorted({int(s) for s in text.split(",") if s.strip()})


def scratch_for(name: str, sizes: Sequence[int]) -> Path:
    """A fresh scratch folder for the trees, said out loud with the disk it needs; no
    CODEBOT_DB from the environment to send the scans' indexes elsewhere."""
    work = scratch_dir(f"codebot-{name}-")
    print(f"{name}: scratch folder {work}; {max(sizes)}x needs about {max(sizes) * 0.2:.1f} GB "
          "of disk there (removed at the end)", flush=True)
    os.environ.pop("CODEBOT_DB", None)
    return work


def main(argv: Sequence[str] | None = None) -> int:
    """Build each size, measure it, write the results; 0 when every run succeeded."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    size_options(parser, RESULTS)
    parser.add_argument("--huge-mb", type=float, default=20.0, help="the big file's size (0: none)")
    args = parser.parse_args(argv)
    sizes, source = sizes_of(args.sizes), args.source or default_source()
    work = scratch_for("scaling", sizes)
    rows, lines, edited, written = [], 0, 0, 0
    try:
        original = work / "original"
        files = copy_corpus(source, original, tests=True, test_data=True)
        root = work / "tree"
        for factor in sizes:
            missing = range(written + 1, factor + 1)
            added, changed = add_copies(original, root, missing)
            lines, edited, written = lines + added, edited + changed, factor
            print(f"{factor}x: {len(files) * factor} files, {lines} lines; measuring ...",
                  flush=True)
            figures = measure_size(root, work)
            rows.append({"factor": factor, "files": len(files) * factor, "lines": lines,
                         "scenarios": [f._asdict() for f in figures]})
            for f in figures:
                print(f"  {f.name}: {f.wall_s:.2f} s wall, {f.cpu_s:.2f} s CPU, "
                      f"{f.max_process_mib:.0f}/{f.tree_mib:.0f} MiB {f.error}", flush=True)
        shutil.rmtree(root, ignore_errors=True)
        huge = measure_huge(original, work, args.huge_mb) if args.huge_mb > 0 else None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    copies_lines = lines - (rows[0]["lines"] // rows[0]["factor"] if rows else 0)
    data = {"date": date.today().isoformat(), "python": platform.python_version(),
            "cpus": os.cpu_count(), "edit_percent": 100 * edited / max(1, copies_lines),
            "sizes": rows, "huge_file": huge}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "scaling.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    text = report.render_scaling(data)
    (args.out / "scaling.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    failed = [s for r in rows for s in r["scenarios"] if s["error"]]
    return 1 if failed or (huge and huge["scan"]["error"]) else 0


if __name__ == "__main__":
    sys.exit(main())
