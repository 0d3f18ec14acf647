"""The command line: `python -m engine scan|check|refactor ...` (also installed as `codebot`)."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Sequence, TextIO

from engine.atomic import write_atomically
from engine.cluster import cluster_spec, connected
from engine.config import load_settings
from engine.discover import common_root
from engine.exceptions import CodebotError, DamagedIndexError, RefactorRefusedError, UsageError
from engine.interrupts import interrupts_held
from engine.records import RepoSpec, ScanResult, count
from engine.repos import load_repos_file, parse_repo_option, validate
from engine.report import RENDERERS
from engine.scan import Progress, scan
from engine.store import Store, default_db_path, rebuild, scan_lock
from engine.tracking import record_scan, tracked

EXIT_OK, EXIT_GATE, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codebot", description="Find exact, renamed and near-miss duplicated code.")
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser(
        "scan", help="scan a tree, store the index, print a report",
        description="Scan files for duplicated code and report the clone classes.",
        epilog="example: python -m engine scan src --format json --output report.json\n"
               "example: python -m engine scan --repo billing=../billing --repo shop=../shop",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    cmd.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                     help="files or folders to scan (default: .); not with --repo/--repos")
    _repo_options(cmd)
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
    cmd.add_argument("--cluster", metavar="local|tcp://HOST:PORT",
                     help="fingerprint new and changed files, and match, on a Dask "
                          "cluster: 'local' starts one of worker processes on this machine when there is work "
                          "(closed at the end), an address joins a running scheduler whose "
                          "workers see the scanned paths; the index stays in this process; "
                          "the same report as without it (needs: pip install "
                          "'codebot[cluster]')")
    cmd.add_argument("--workers", type=int, metavar="N",
                     help="worker processes of --cluster local, one thread each "
                          "(default: cores)")
    cmd.add_argument("--progress", action="store_true",
                     help="a plain line per phase on stderr, also when it is not a terminal "
                          "(the default when CI is set)")
    cmd = commands.add_parser(
        "check", help="check given files against the index (the pre-commit hook)",
        description="Match the given files against the stored index of the rest of their "
                    "repository (the nearest folder up from the files with .git, "
                    "pyproject.toml or .codebot); report the clones they take part in that "
                    "the baseline does not accept. Exit 1 when there are any. Builds the "
                    "index first when there is none.",
        epilog="example: python -m engine check src/shop/billing.py --format markdown")
    cmd.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _report_options(cmd, "index database (env CODEBOT_DB; default ROOT/.codebot/index.db, "
                         "ROOT being the nearest folder up with .git, pyproject.toml or .codebot)")
    _refactor_parser(commands)
    return parser


def _refactor_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = commands.add_parser(
        "refactor", help="the change that removes a Python clone: a diff, or applied",
        description="Write the refactoring of a Python clone of the last scan: keep one copy and "
                    "make the others use it (an import, a call, or an extracted function). "
                    "Prints a unified diff for `git apply` (run from the scanned root), or with "
                    "--apply writes it and scans again. Exit 1 when the clone cannot be "
                    "refactored without changing what the code does (the reason is printed).",
        epilog="example: python -m engine refactor c1a2b3c4d5e6 --diff > dedupe.patch")
    cmd.add_argument("clone_id", metavar="CLONE_ID")
    mode = cmd.add_mutually_exclusive_group()
    mode.add_argument("--diff", action="store_true", help="print the unified diff (the default)")
    mode.add_argument("--apply", action="store_true",
                      help="write the change, then scan again: the clone must be gone")
    cmd.add_argument("--into", metavar="MODULE",
                     help="keep the copy in this module (a path or a dotted name of one of the "
                          "clone's files; default: the first)")
    cmd.add_argument("--name", metavar="NAME", help="the name of an extracted function")
    cmd.add_argument("--force", action="store_true",
                     help="apply even to files with uncommitted changes")
    cmd.add_argument("--db", type=Path, metavar="PATH",
                     help="index database (env CODEBOT_DB; default: .codebot/index.db in this "
                          "folder or the nearest one up)")
    cmd.add_argument("--quiet", "-q", action="store_true", help="no notes on stderr")


def _repo_options(cmd: argparse.ArgumentParser) -> None:
    """`scan --repo NAME=PATH` and `--repos FILE.toml`: several repositories, one index."""
    cmd.add_argument("--repo", action="append", metavar="NAME=PATH",
                     help="scan this repository under this name (repeatable; PATH relative to "
                          "the working folder): all the repositories go in one index, at their "
                          "common folder, each fragment is reported with its repository, and "
                          "clones across repositories come first. Replaces PATH arguments")
    cmd.add_argument("--repos", type=Path, metavar="FILE.toml",
                     help='the repositories from a TOML file of [[repo]] tables with name = "..." '
                          'and path = "..." (relative to the file); adds to --repo')


def _report_options(cmd: argparse.ArgumentParser, db_help: str) -> None:
    """The options `scan` and `check` share."""
    cmd.add_argument("--format", choices=sorted(RENDERERS), default="text")
    cmd.add_argument("--output", type=Path, metavar="FILE", help="write the report here")
    cmd.add_argument("--db", type=Path, metavar="PATH", help=db_help)
    cmd.add_argument("--min-lines", type=int, help="smallest clone in lines of code (6)")
    cmd.add_argument("--min-tokens", type=int, help="smallest clone in tokens (35)")
    cmd.add_argument("--force", action="store_true",
                     help="use --db even if it is another application's SQLite database")
    cmd.add_argument("--quiet", "-q", action="store_true", help="no progress or notes on stderr")
    cmd.add_argument("--diffs", type=int, metavar="N", default=0,
                     help="show the refactoring diff of the first N Python clones in the report "
                          "(text, markdown, html; SARIF results carry it as fixes)")


class _Saved:
    """How far the scan got before the command ended: what an interrupt must say."""

    scan_id: int | None = None  # stored
    reported: bool = False  # and its report and verdict were out


def main(argv: Sequence[str] | None = None) -> int:
    # numpy starts a BLAS thread per core on import; the engine does no linear algebra,
    # and on a busy machine those threads cost a check a third of its CPU time.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    args = build_parser().parse_args(argv)
    if args.command == "refactor":
        return _refactor(args)
    saved = _Saved()
    try:
        if args.command == "scan":
            args.paths, args.repo_specs = _scan_targets(args)
        db = _tracking_db(args)
        try:
            return _tracked(args, db, saved)
        except DamagedIndexError as exc:
            _heal(db, exc)
            return _tracked(args, db, saved)
    except CodebotError as exc:
        print(f"codebot: error: {exc}", file=sys.stderr)
        request_id = getattr(exc, "request_id", None)
        if request_id:
            print(f"codebot: request {request_id}; `python -m metrics triage {request_id} "
                  f"--db {db}` explains it", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        if saved.scan_id is None:
            print("codebot: interrupted; the index keeps the previous scan", file=sys.stderr)
        elif not saved.reported:
            print("codebot: interrupted after the scan was saved, before its report was out; "
                  "its new clones stay new for the next --fail-on-new", file=sys.stderr)
        else:
            print("codebot: interrupted after the scan was saved and reported", file=sys.stderr)
        return 130


def _tracked(args: argparse.Namespace, db: Path, saved: _Saved) -> int:
    """Run the command as one tracked request; its errors carry the request id."""
    command = _check if args.command == "check" else _scan
    if args.force:  # CodeBot's marker table first, so the metrics tables may follow it
        Store(db, timeout=_lock_timeout(), force=True).close()
    request_id = None
    try:
        with tracked(args.command, db, _lock_timeout(), cwd=str(Path.cwd())) as request_id:
            return command(args, db, request_id, saved)
    except CodebotError as exc:
        exc.request_id = request_id  # type: ignore[attr-defined]
        raise


def _heal(db: Path, damage: DamagedIndexError) -> None:
    """Set the damaged index aside and start a new one; say so in one line."""
    with scan_lock(db, _lock_timeout()):
        rebuilt = rebuild(db, _lock_timeout())
    lost = f"; could not read: {', '.join(rebuilt.lost)}" if rebuilt.lost else ""
    print(f"codebot: {damage}; moved it to {rebuilt.damaged.name} and rebuilding it from the "
          f"work tree (kept the baseline, scan history and metrics that still read{lost})",
          file=sys.stderr)


def _tracking_db(args: argparse.Namespace) -> Path:
    """The index the command will use: its metrics, errors included, go there too."""
    explicit = _db_path(args)
    if explicit:
        return explicit
    if args.command == "check":
        from engine.check import root_of

        return default_db_path(root_of(args.files))
    existing = [p.absolute() for p in args.paths if p.exists()]
    return default_db_path(common_root(existing) if existing else Path.cwd())


def _scan_targets(args: argparse.Namespace) -> tuple[list[Path], list[RepoSpec]]:
    """What `scan` reads: the PATH arguments (default .), or the folders of the named
    repositories (`--repo`, `--repos`), checked; never both, so no file is in two."""
    specs = [parse_repo_option(text, Path.cwd()) for text in args.repo or []]
    if args.repos is not None:
        specs += load_repos_file(args.repos)
    if not specs:
        return list(args.paths) or [Path(".")], []
    if args.paths:
        raise UsageError("give either PATH arguments or --repo/--repos, not both "
                         "(name every repository with --repo NAME=PATH)")
    specs = validate(specs)
    return [spec.path for spec in specs], specs


def _scan(args: argparse.Namespace, db: Path, request_id: str | None, saved: _Saved) -> int:
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
    with connected(cluster_spec(args.cluster, args.workers)) as cluster:
        result = scan(paths, settings, db, progress=_progress_for(args), request_id=request_id,
                      lock_timeout=_lock_timeout(), update_baseline=args.update_baseline,
                      force=args.force, reported=False, cluster=cluster, repos=args.repo_specs,
                      on_saved=lambda scan_id: setattr(saved, "scan_id", scan_id))
    if request_id:
        record_scan(result)
    _emit(args, result)
    if args.update_baseline and not args.quiet:
        print(f"codebot: baseline: {count(len(result.clones), 'clone')} accepted, written to "
              f"{result.root / '.codebot-baseline.json'}", file=sys.stderr)
    failed = []
    if settings.fail_on_new and result.new_clone_ids:
        failed.append(count(len(result.new_clone_ids), 'new clone'))
    if settings.max_duplication is not None and \
            result.stats.duplication_pct > settings.max_duplication:
        failed.append(f"duplication {result.stats.duplication_pct:.2f}% is over "
                      f"{settings.max_duplication:g}%")
    if failed:
        print(f"codebot: gate failed: {'; '.join(failed)}", file=sys.stderr)
    if result.scan_id is not None:  # the report and the verdict are out
        with interrupts_held(), Store(db, timeout=_lock_timeout()) as store:
            store.mark_reported(result.scan_id)
            saved.reported = True
    return EXIT_GATE if failed else EXIT_OK


def _check(args: argparse.Namespace, db: Path, request_id: str | None, saved: _Saved) -> int:
    from engine.check import check, root_of  # the matching stages: only a check needs them

    root = root_of(args.files)
    settings = load_settings(root, {"min_lines": args.min_lines, "min_tokens": args.min_tokens})
    result = check(list(args.files), settings, root, db, _lock_timeout())
    result = result._replace(report=result.report._replace(request_id=request_id))
    if not args.quiet:
        for note in result.notes:
            print(f"codebot: {note}", file=sys.stderr)
    _emit(args, result.report)
    clones = result.report.clones
    if clones:
        print(f"codebot: check failed: {count(len(clones), 'new clone')} "
              "involving the checked files (accept them with `scan --update-baseline`, or "
              "mark them `# codebot: ignore`)", file=sys.stderr)
        return EXIT_GATE
    return EXIT_OK


def _emit(args: argparse.Namespace, result: ScanResult) -> None:
    """Write the report where it was asked for; list skipped files on stderr for other formats."""
    refactorings = None
    if args.diffs > 0:  # computed only when asked: a scan never pays for diffs
        from engine.refactor import refactor_top

        refactorings = refactor_top(result, args.diffs)
    report = RENDERERS[args.format](result, refactorings)
    if args.output:
        try:
            write_atomically(args.output, report)
        except OSError as exc:
            raise CodebotError(f"cannot write the report to {args.output}: "
                               f"{exc.strerror or exc}") from exc
    else:
        sys.stdout.write(report)
    if result.skipped and not args.quiet and args.format != "text":
        for skipped in result.skipped:
            print(f"codebot: skipped {skipped.path}: {skipped.reason}", file=sys.stderr)


def _refactor(args: argparse.Namespace) -> int:
    """Print or apply a clone's refactoring: 0 done, 1 refused (with the reason), 2 bad input."""
    from engine.refactor import load, near_miss_note, refactoring, rescan, write

    try:
        db = _db_path(args) or _nearest_index(Path.cwd())
        loaded = load(db, args.clone_id)
        if loaded.clone.kind == "near" and not args.quiet:
            print(near_miss_note(loaded.clone, loaded.sources), file=sys.stderr)
        made = refactoring(loaded.clone, loaded.sources, args.into, args.name)
        if not args.apply:
            if not args.quiet:
                print(f"codebot: {made.summary}", file=sys.stderr)
            sys.stdout.write(made.diff)
            return EXIT_OK
        written = write(loaded.root, made, force=args.force)
        result = rescan(loaded.root, db, _lock_timeout())
    except RefactorRefusedError as exc:
        print(f"codebot: cannot refactor {args.clone_id}: {exc}", file=sys.stderr)
        return EXIT_GATE
    except CodebotError as exc:
        print(f"codebot: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"{made.summary}; changed {', '.join(str(p.relative_to(loaded.root)) for p in written)}")
    if any(c.id == loaded.clone.id for c in result.clones):
        print(f"codebot: the scan after the change still finds clone {loaded.clone.id}",
              file=sys.stderr)
        return EXIT_GATE
    print(f"scanned again: clone {loaded.clone.id} is gone; {count(len(result.clones), 'clone')} left")
    return EXIT_OK


def _nearest_index(start: Path) -> Path:
    """`.codebot/index.db` in `start` or the nearest folder up that has one."""
    for folder in (start.absolute(), *start.absolute().parents):
        if (folder / ".codebot" / "index.db").is_file():
            return folder / ".codebot" / "index.db"
    raise UsageError(f"no index in {start} or above it; scan first, or give --db")


def _db_path(args: argparse.Namespace) -> Path | None:
    return args.db or (Path(os.environ["CODEBOT_DB"]) if os.environ.get("CODEBOT_DB") else None)


def _lock_timeout() -> float:
    try:
        return float(os.environ.get("CODEBOT_LOCK_TIMEOUT", "30"))
    except ValueError as exc:
        raise UsageError("CODEBOT_LOCK_TIMEOUT must be a number of seconds") from exc


def _progress_for(args: argparse.Namespace) -> Progress | None:
    """A live line on a terminal; with --progress or in CI, a plain line per phase."""
    if args.quiet:
        return None
    if args.progress or os.environ.get("CI"):
        return _phase_lines(sys.stderr)
    return _progress_line(sys.stderr) if sys.stderr.isatty() else None


_PHASES = {"reading": "reading and fingerprinting", "matching": "matching clones",
           "storing": "storing the index"}


def _phase_lines(stream: TextIO) -> Progress:
    """`codebot: PHASE ...` when a phase starts and `... done in S s` when it ends."""
    started = {}

    def show(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase not in started:
            started[phase] = now
            what = f" {count(total, 'file')}" if phase == "reading" else ""
            stream.write(f"codebot: {_PHASES[phase]}{what}\n")
        if done == total and total:
            stream.write(f"codebot: {_PHASES[phase]}: done in {now - started[phase]:.1f}s\n")
        stream.flush()
    return show


def _progress_line(stream: TextIO) -> Progress:
    """One line, redrawn: the phase, files done of total, seconds so far; cleared at the end."""
    started = time.monotonic()
    shown = [0.0]

    def show(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase == "storing" and done == total:
            stream.write("\r\033[K")
        elif done == total or now - shown[0] > 0.1 or phase != "reading":
            shown[0] = now
            count = f" {done}/{total} files" if phase == "reading" else ""
            stream.write(f"\r\033[K{_PHASES[phase]}{count}, {now - started:.1f}s")
        stream.flush()
    return show
