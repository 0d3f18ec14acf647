"""The command line: `python -m metrics status|errors|latency|alerts|silence|triage|export|serve|grafana-dashboard`.

A thin layer: open the store, call one runtime method, print text or JSON.
Exit codes: 0 done, 1 a looked-up id (request, alert) is not stored, 2 bad
usage or input (message on stderr for both).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import structlog

from metrics.alerts import summary_status_line
from metrics.clock import format_duration, parse_duration
from metrics.exceptions import AlertError, MetricsError, StoreError
from metrics.logging import configure_logging
from metrics.models import OperationSummary, TriageReport
from metrics.records import is_request_id
from metrics.runtime import Runtime, configure, shutdown
from metrics.settings import MetricsSettings, load_settings
from metrics.sqlite import default_db_path
from metrics.summary import total


class UsageError(Exception):
    """Bad command-line input; reported on stderr with exit code 2."""


class NotFoundError(Exception):
    """A looked-up id is not in the store; reported on stderr with exit code 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--window", default="1h", help="time window, e.g. 15m, 1h, 7d (default 1h)")
    common.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    common.add_argument("--db", help="metrics store (default: $CODEBOT_DB, else .codebot/index.db)")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every command's help carries an example."""
    parser = _Parser(prog="python -m metrics", description="CodeBot metrics, alerts and triage.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common = _common()
    commands.add_parser("status", parents=[common], help="requests, error rate and latency per operation",
                        description="Example: python -m metrics status --window 1h")
    commands.add_parser("errors", parents=[common], help="top errors grouped by fingerprint",
                        description="Example: python -m metrics errors --window 24h --format json")
    commands.add_parser("latency", parents=[common], help="latency percentiles per operation",
                        description="Example: python -m metrics latency --window 15m")
    alerts = commands.add_parser("alerts", parents=[common], help="open alerts and silences",
                                 description="Example: python -m metrics alerts --evaluate")
    alerts.add_argument("--evaluate", action="store_true", help="run the alert rules first (notifies the log)")
    alerts.add_argument("--all", action="store_true", help="include resolved alerts of the window")
    silence = commands.add_parser("silence", parents=[common], help="silence an alert id or a rule",
                                  description="Example: python -m metrics silence error_rate 2h")
    silence.add_argument("target", help="alert id, rule name, or * for all")
    silence.add_argument("duration", help="how long, e.g. 30m, 2h, 1d")
    silence.add_argument("--reason", help="why (stored sanitized)")
    triage = commands.add_parser("triage", parents=[common], help="investigate one request id",
                                 description="Example: python -m metrics triage req-0123456789ab")
    triage.add_argument("request_id", help="a request id: req- and 12 hex digits")
    commands.add_parser("export", parents=[common], help="print metrics in the Prometheus text format",
                        description="Example: python -m metrics export > metrics.prom")
    serve = commands.add_parser(
        "serve", parents=[common], help="serve /metrics, /healthz and /readyz on 127.0.0.1",
        description="Example: python -m metrics serve --port 9464  (with SENTRY_DSN set, also forwards "
                    "failed requests to Sentry; needs the sentry extra)")
    serve.add_argument("--port", type=int, required=True, help="TCP port (0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    grafana = commands.add_parser(
        "grafana-dashboard", help="write the Grafana dashboard JSON for the served metrics",
        description="Example: python -m metrics grafana-dashboard --output codebot-dashboard.json")
    grafana.add_argument("--output", metavar="FILE", help="write the JSON here (default: stdout)")
    return parser


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _summary_table(summaries: Sequence[OperationSummary], latency_only: bool = False) -> list[str]:
    if latency_only:
        head = f"{'operation':<24} {'count':>7} {'avg ms':>10} {'p50 ms':>10} {'p95 ms':>10} {'p99 ms':>10} {'max ms':>10}"
    else:
        head = (f"{'operation':<24} {'count':>7} {'ok':>7} {'errors':>7} {'err %':>6} "
                f"{'avg ms':>10} {'p95 ms':>10} {'max ms':>10}")
    lines = [head]
    for s in summaries:
        if latency_only:
            lines.append(f"{s.operation:<24} {s.count:>7} {_ms(s.avg_ms):>10} {_ms(s.p50_ms):>10} "
                         f"{_ms(s.p95_ms):>10} {_ms(s.p99_ms):>10} {_ms(s.max_ms):>10}")
        else:
            lines.append(f"{s.operation:<24} {s.count:>7} {s.success:>7} {s.errors:>7} {s.error_rate:>6.1%} "
                         f"{_ms(s.avg_ms):>10} {_ms(s.p95_ms):>10} {_ms(s.max_ms):>10}")
    return lines


def render_triage(report: TriageReport) -> str:
    """Human-readable triage report."""
    if not report.found:
        return "\n".join([f"{report.request_id}: not found", *report.suggestions])
    lines = [f"Triage of {report.request_id}"]
    for row in report.metrics:
        lines.append(f"  {row['request_id']} {row['operation']} {row['status']} {row['latency_ms']:.1f} ms"
                     + (f" parent={row['parent_id']}" if row["parent_id"] else ""))
    lines.append("Timeline:")
    for entry in report.timeline:
        detail = " ".join(f"{k}={v}" for k, v in entry.fields.items() if v not in (None, "", {}, []))
        lines.append(f"  +{entry.offset_ms:>9.1f} ms {entry.level:<7} {entry.event} {detail}".rstrip())
    if report.root_cause is not None:
        cause = report.root_cause
        lines.append(f"Root cause: {cause.error_type}" + (f" [{cause.error_code}]" if cause.error_code else "")
                     + (f": {cause.message}" if cause.message else ""))
        lines.append(f"  likely: {cause.likely_cause}")
        lines.append(f"  seen {cause.occurrences} time(s), first {_when(cause.first_seen)}, last {_when(cause.last_seen)}")
    if report.related:
        lines.append("Related requests:")
        for item in report.related:
            lines.append(f"  {item.request_id} {item.operation} {item.status} {_when(item.ts)} ({', '.join(item.reasons)})")
    if report.alerts:
        lines.append("Open alerts:")
        lines.extend(f"  {summary_status_line(alert)}" for alert in report.alerts)
    lines.append("Suggestions:")
    lines.extend(f"  - {s}" for s in report.suggestions)
    return "\n".join(lines)


def _emit(out: TextIO, fmt: str, data: Any, text: str) -> None:
    if fmt == "json":
        out.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        out.write(text.rstrip("\n") + "\n")


def _db_path(args: argparse.Namespace) -> Path:
    return Path(args.db) if args.db else default_db_path()


def _open(args: argparse.Namespace) -> Runtime:
    path = _db_path(args)
    if not path.exists():
        raise UsageError(f"no metrics store at {path}; pass --db PATH or set CODEBOT_DB")
    settings = load_settings(Path("pyproject.toml"))
    return configure(path, settings=settings, background=False)


def write_atomically(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file beside it, so a failure leaves no half-written file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc


def grafana_dashboard(args: argparse.Namespace, out: TextIO) -> int:
    """Print or write the dashboard JSON; it needs no store."""
    from metrics.grafana import dashboard_json

    if args.output:
        write_atomically(Path(args.output), dashboard_json())
    else:
        out.write(dashboard_json())
    return 0


class LazyRuntime:
    """The served runtime: opened on first use and retried after a failure, never creating the file."""

    def __init__(self, path: Path, settings: MetricsSettings) -> None:
        self.path = path
        self.settings = settings
        self._runtime: Runtime | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Runtime:
        with self._lock:
            if self._runtime is None:
                # configure() would create a missing store; a server only reads one.
                if not self.path.exists():
                    raise StoreError(f"no metrics store at {self.path} yet")
                self._runtime = configure(self.path, settings=self.settings, background=False)
            return self._runtime


def serve_forever(args: argparse.Namespace, err: TextIO) -> int:
    """Serve until interrupted; a store that cannot be opened yet makes /readyz 503, not an exit."""
    from metrics import sentry
    from metrics.exposition import serve

    path = _db_path(args)
    source = LazyRuntime(path, load_settings(Path("pyproject.toml")))
    try:
        source()
        problem = None
    except MetricsError as exc:
        problem = exc
    configure_logging(level="warning", stream=err)
    server, _ = serve(source, args.port, args.host, db_path=path)
    # Forwarding begins before the "serving" line, so every failure stored after it is sent;
    # setup's warning follows the line, which scripts read first.
    notes = io.StringIO()
    stop = threading.Event()
    forwarder = (sentry.start_forwarding(lambda: source().read_store(), stop, err)
                 if sentry.setup(os.environ, notes) else None)
    err.write(f"serving http://{args.host}:{server.server_port}/metrics (also /healthz and /readyz; Ctrl-C to stop)\n")
    if problem is not None:
        err.write(f"warning: {problem}; /readyz answers 503 until it opens\n")
    err.write(notes.getvalue())
    err.flush()
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        if forwarder is not None:
            forwarder.join(timeout=sentry.FLUSH_S)
            sentry.flush()
    return 0


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Execute one parsed command."""
    if args.command == "grafana-dashboard":
        return grafana_dashboard(args, out)
    window = parse_duration(args.window)
    if window <= 0:
        raise UsageError("--window must be positive, e.g. 15m or 1h")
    if args.command == "triage" and not is_request_id(args.request_id.strip()):
        raise UsageError(f"{args.request_id!r} is not a request id (expected req- and 12 hex digits)")
    if args.command == "serve":
        return serve_forever(args, err)
    runtime = _open(args)
    configure_logging(runtime, level="warning", stream=err)
    label = format_duration(window)

    if args.command == "status":
        summaries = runtime.summarize(window=window)
        overall = total(summaries, window)
        alerts = runtime.open_alerts()
        scans = runtime.recent_scans(limit=1)
        data = {
            "window_s": window, "total": overall.model_dump(exclude={"top_errors"}),
            "operations": [s.model_dump() for s in summaries],
            "alerts": [a.model_dump() for a in alerts],
            "last_scan": scans[0]._asdict() if scans else None,
        }
        lines = [f"Last {label}: {overall.count} requests, {overall.errors} errors ({overall.error_rate:.1%}), "
                 f"p95 {_ms(overall.p95_ms)} ms"]
        lines += _summary_table(summaries) if summaries else ["(no requests in the window)"]
        if scans:
            scan = scans[0]
            lines.append(f"Last scan {_when(scan.ts)} {scan.root}: {scan.files} files, "
                         f"{scan.duplication_pct:.2f}% duplicated, {scan.new_clones} new clones")
        lines.append(f"Open alerts: {len(alerts)}")
        lines.extend(f"  {summary_status_line(a)}" for a in alerts)
        _emit(out, args.format, data, "\n".join(lines))
    elif args.command == "errors":
        groups = runtime.top_errors(window, limit=20)
        lines = [f"Top errors, last {label}:"] if groups else [f"No errors in the last {label}."]
        for g in groups:
            lines.append(f"{g.count:>6}x {g.operation} {g.error_type}" + (f" [{g.error_code}]" if g.error_code else "")
                         + f": {g.message or ''}")
            lines.append(f"        first {_when(g.first_seen)}  last {_when(g.last_seen)}  e.g. {g.last_request_id}")
        _emit(out, args.format, [g.model_dump() for g in groups], "\n".join(lines))
    elif args.command == "latency":
        summaries = runtime.summarize(window=window, top_errors=0)
        keys = ("operation", "count", "avg_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms")
        data = [{k: getattr(s, k) for k in keys} for s in summaries]
        text = "\n".join(_summary_table(summaries, latency_only=True)) if summaries else f"No requests in the last {label}."
        _emit(out, args.format, data, text)
    elif args.command == "alerts":
        if args.evaluate:
            runtime.evaluate_alerts()
        alerts = runtime.alerts.history(since=runtime.clock.time() - window) if args.all else runtime.open_alerts()
        silences = runtime.alerts.silences()
        lines = [summary_status_line(a) for a in alerts] or ["No open alerts."]
        lines += [f"silenced: {s.rule}{':' + s.key if s.key else ''} until {_when(s.expires_at)}" for s in silences]
        _emit(out, args.format, {"alerts": [a.model_dump() for a in alerts], "silences": [s.model_dump() for s in silences]},
              "\n".join(lines))
    elif args.command == "silence":
        try:
            made = runtime.silence(args.target, args.duration, reason=args.reason, created_by="cli")
        except AlertError as exc:
            # An alert id that is not stored is a lookup that found nothing; a bad rule name is bad usage.
            if args.target.strip().isdigit():
                raise NotFoundError(f"error: {exc}") from exc
            raise
        _emit(out, args.format, made.model_dump(),
              f"Silenced {made.rule}{':' + made.key if made.key else ''} until {_when(made.expires_at)}.")
    elif args.command == "triage":
        report = runtime.investigate(args.request_id)
        if not report.found:
            # JSON readers still get the report (found: false); people get the message on stderr.
            if args.format == "json":
                _emit(out, args.format, report.model_dump(), "")
            raise NotFoundError(render_triage(report))
        _emit(out, args.format, report.model_dump(), render_triage(report))
    elif args.command == "export":
        from metrics.exposition import export_text

        out.write(export_text(runtime))
    return 0


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    logging_config = structlog.get_config()
    try:
        args = build_parser().parse_args(argv)
        return run(args, out, err)
    except NotFoundError as exc:
        err.write(f"{exc}\n")
        return 1
    except UsageError as exc:
        err.write(f"{exc}\n")
        return 2
    except MetricsError as exc:
        err.write(f"error: {exc}\n")
        return 2
    finally:
        shutdown()
        structlog.configure(**logging_config)
