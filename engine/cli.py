"""The command line: `python -m engine scan|check ...` (also installed as `codebot`)."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence, TextIO

from engine.check import check, find_root
from engine.config import load_settings
from engine.discover import common_root
from engine.exceptions import CodebotError, UsageError
from engine.records import ScanResult
from engine.report import RENDERERS
from engine.scan import default_db_path, scan
from engine.tracking import record_scan, tracked

EXIT_OK, EXIT_GATE, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codebot", description="Find exact, renamed and near-miss duplicated code.")
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser(
        "scan", help="scan a tree, store the index, print a report",
        description="Scan files for duplicated code and report the clone classes.",
        epilog="example: python -m engine scan src --format json --output report.json")
    cmd.add_argument("paths", nargs="*", type=Path, default=[Path(".")], metavar="PATH")
    _report_options(cmd, "index database (env CODEBOT_DB; default ROOT/.codebot/index.db); "
                         "a second scan waits for the first up to CODEBOT_LOCK_TIMEOUT s (30)")
    cmd.add_argument("--threshold", type=float, help="near-miss similarity, 0..1 (0.85)")
    cmd.add_argument("--lang", action="append", metavar="LANG",
                     help="only these languages (repeatable: --lang python --lang go)")
    cmd.add_argument("--exclude", action="append", metavar="GLOB",
                     help="skip paths matching this gitignore-style pattern (repeatable)")
    cmd.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: cores)")
    cmd.add_argument("--fail-on-new", action="store_true", default=None,
                     help="exit 1 when a clone is new since the previous scan")
    cmd.add_argument("--max-duplication", type=float, metavar="PCT",
                     help="exit 1 when duplicated lines exceed PCT percent")
    cmd.add_argument("--update-baseline", action="store_true",
                     help="accept the current clones: record them in the index and in "
                          "ROOT/.codebot-baseline.json (commit it); the gates then fail only "
                          "on clones not in it")
    cmd = commands.add_parser(
        "check", help="check given files against the index (the pre-commit hook)",
        description="Match the given files against the stored index of the rest of the "
                    "repository; report the clones they take part in that the baseline does "
                    "not accept. Exit 1 when there are any. Builds the index first when there "
                    "is none.",
        epilog="example: python -m engine check src/shop/billing.py --format markdown")
    cmd.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _report_options(cmd, "index database (env CODEBOT_DB; default ROOT/.codebot/index.db, "
                         "ROOT being the nearest folder up with .git, pyproject.toml or .codebot)")
    return parser


def _report_options(cmd: argparse.ArgumentParser, db_help: str) -> None:
    """The options `scan` and `check` share."""
    cmd.add_argument("--format", choices=sorted(RENDERERS), default="text")
    cmd.add_argument("--output", type=Path, metavar="FILE", help="write the report here")
    cmd.add_argument("--db", type=Path, metavar="PATH", help=db_help)
    cmd.add_argument("--min-lines", type=int, help="smallest clone in lines of code (6)")
    cmd.add_argument("--min-tokens", type=int, help="smallest clone in tokens (35)")
    cmd.add_argument("--quiet", "-q", action="store_true", help="no progress or notes on stderr")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    command = _check if args.command == "check" else _scan
    request_id = None
    try:
        db = _tracking_db(args)
        with tracked(args.command, db, _lock_timeout(), cwd=str(Path.cwd())) as request_id:
            return command(args, request_id)
    except CodebotError as exc:
        print(f"codebot: error: {exc}", file=sys.stderr)
        if request_id:
            print(f"codebot: request {request_id}; `python -m metrics triage {request_id} "
                  f"--db {db}` explains it", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("codebot: interrupted; the index keeps the previous scan", file=sys.stderr)
        return 130


def _tracking_db(args: argparse.Namespace) -> Path:
    """The index the command will use: its metrics, errors included, go there too."""
    explicit = _db_path(args)
    if explicit:
        return explicit
    if args.command == "check":
        return default_db_path(find_root(Path.cwd()))
    existing = [p.absolute() for p in args.paths if p.exists()]
    return default_db_path(common_root(existing) if existing else Path.cwd())


def _scan(args: argparse.Namespace, request_id: str | None) -> int:
    paths = [p for p in args.paths]
    for path in paths:
        if not path.exists():
            raise UsageError(f"path does not exist: {path}")
    root = common_root([p.absolute() for p in paths])
    settings = load_settings(root, {
        "min_lines": args.min_lines, "min_tokens": args.min_tokens, "threshold": args.threshold,
        "lang": tuple(args.lang) if args.lang else None,
        "exclude": tuple(args.exclude) if args.exclude else None, "jobs": args.jobs,
        "fail_on_new": args.fail_on_new, "max_duplication": args.max_duplication,
    })
    db = _db_path(args)
    progress = None if args.quiet or not sys.stderr.isatty() else _progress_line(sys.stderr)
    result = scan(paths, settings, db, progress=progress, request_id=request_id,
                  lock_timeout=_lock_timeout(), update_baseline=args.update_baseline)
    if progress:
        sys.stderr.write("\r\033[K")
    if request_id:
        record_scan(result)
    _emit(args, result)
    if args.update_baseline and not args.quiet:
        print(f"codebot: baseline: {len(result.clones)} clones accepted, written to "
              f"{result.root / '.codebot-baseline.json'}", file=sys.stderr)
    failed = []
    if settings.fail_on_new and result.new_clone_ids:
        failed.append(f"{len(result.new_clone_ids)} new clones")
    if settings.max_duplication is not None and \
            result.stats.duplication_pct > settings.max_duplication:
        failed.append(f"duplication {result.stats.duplication_pct:.2f}% is over "
                      f"{settings.max_duplication:g}%")
    if failed:
        print(f"codebot: gate failed: {'; '.join(failed)}", file=sys.stderr)
        return EXIT_GATE
    return EXIT_OK


def _check(args: argparse.Namespace, request_id: str | None) -> int:
    root = find_root(Path.cwd())
    settings = load_settings(root, {"min_lines": args.min_lines, "min_tokens": args.min_tokens})
    result = check(list(args.files), settings, root, _db_path(args), _lock_timeout())
    result = result._replace(report=result.report._replace(request_id=request_id))
    if not args.quiet:
        for note in result.notes:
            print(f"codebot: {note}", file=sys.stderr)
    _emit(args, result.report)
    clones = result.report.clones
    if clones:
        print(f"codebot: check failed: {len(clones)} new clone{'s' * (len(clones) != 1)} "
              "involving the checked files (accept them with `scan --update-baseline`, or "
              "mark them `# codebot: ignore`)", file=sys.stderr)
        return EXIT_GATE
    return EXIT_OK


def _emit(args: argparse.Namespace, result: ScanResult) -> None:
    """Write the report where it was asked for; list skipped files on stderr for other formats."""
    report = RENDERERS[args.format](result)
    if args.output:
        _write_atomically(args.output, report)
    else:
        sys.stdout.write(report)
    if result.skipped and not args.quiet and args.format != "text":
        for skipped in result.skipped:
            print(f"codebot: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)


def _db_path(args: argparse.Namespace) -> Path | None:
    return args.db or (Path(os.environ["CODEBOT_DB"]) if os.environ.get("CODEBOT_DB") else None)


def _lock_timeout() -> float:
    try:
        return float(os.environ.get("CODEBOT_LOCK_TIMEOUT", "30"))
    except ValueError as exc:
        raise UsageError("CODEBOT_LOCK_TIMEOUT must be a number of seconds") from exc


def _progress_line(stream: TextIO):
    started = time.monotonic()
    shown = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - shown[0] > 0.1:
            shown[0] = now
            stream.write(f"\rfingerprinting {done}/{total} files, {now - started:.1f}s")
            stream.flush()
    return show


def _write_atomically(path: Path, text: str) -> None:
    """The report appears whole or not at all."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except OSError as exc:
        raise CodebotError(f"cannot write the report to {path}: {exc.strerror}") from exc
