"""The bot's answers, built from records: pure functions from index, metrics and health records to `Report`s.

Nothing here reads a database, a file or the clock: the command modules read
(in worker threads) and pass what they read, and `now`, in. Every value shown
passes `esc`/`esc_clip` (sanitized and escaped); code goes as `Code` blocks.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from telegram import InlineKeyboardMarkup

from bot.health import Check
from bot.render import Code, Part, Report, ago, bar, esc, esc_clip, note, silence_buttons
from engine.discover import language_of
from engine.queries import ClonePage, ScanInfo, TrendPoint
from engine.records import Clone, Fragment, Repo, ScanResult
from engine.repos import repo_of, repos_of
from metrics.clock import format_duration
from metrics.grafana import DashboardLink
from metrics.models import Alert, ErrorGroup, OperationSummary, Silence, TriageReport

PATH_SHOWN = 120  # characters of a path an answer shows (its end)
FRAGMENTS_SHOWN = 6  # fragments listed under a clone in /duplicates
TIMELINE_SHOWN = 40  # events of a triaged request's timeline
_ICONS = {"ok": "✅", "warn": "⚠️", "fail": "❌", "off": "➖"}
_SEVERITY = {"critical": "🔴", "warning": "🟠", None: "⚪"}


@dataclass(frozen=True)
class Overview:
    """The figures /status and /dashboard share, read together in one worker thread."""

    scan: ScanInfo | None
    summaries: list[OperationSummary]  # per operation, last hour
    total: OperationSummary  # all operations, last hour
    alerts: list[Alert]  # open ones
    trend: list[TrendPoint]  # duplication of the last scans of the latest scan's root
    links: list[DashboardLink]  # into Grafana, when configured


def path_html(path: object) -> str:
    """A path as an answer shows it: its end, escaped."""
    return esc_clip(path, PATH_SHOWN, tail=True)


def when(ts: float | None) -> str:
    """A timestamp as local date and time ('-' when there is none)."""
    return "-" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


def severity_icon(alert: Alert) -> str:
    """The coloured dot of an alert's severity."""
    return _SEVERITY.get(alert.severity, "⚪")


def help_report(role: str, usages: Sequence[str]) -> Report:
    """/help: what the bot does, the user's role and the usage line of each command it may run."""
    lines = ["<b>CodeBot</b> finds duplicated code and watches the scans and requests behind it.",
             f"Your role: <b>{esc(role)}</b>. Commands:"]
    lines += [esc(line) for line in usages]
    return Report("Help", ("\n".join(lines),))


# -- the index ---------------------------------------------------------------------------


def scan_line(scan: ScanInfo, now: float) -> str:
    """One line about a scan: its root, age, duplication and clone classes."""
    age = ago(now - datetime.fromisoformat(scan.started_at).timestamp())
    return (f"scan #{scan.id} of <code>{path_html(scan.root)}</code>, {age} ago · "
            f"{scan.duplication_pct:.2f}% duplicated · {scan.clone_count} clone classes")


def clone_head(number: int | None, clone: Clone) -> str:
    """A clone's headline: its number on the page, id, kind, similarity and size."""
    label = f"{number}. " if number is not None else ""
    return (f"<b>{label}{esc(clone.id)}</b> · {esc(clone.kind)} · {clone.similarity:.0%} similar · "
            f"{clone.lines} lines × {len(clone.fragments)}")


def fragment_lines(clone: Clone, repos: Sequence[Repo] = ()) -> list[str]:
    """Where a clone's fragments are, the first few of them (each with its repository, in a
    scan of several); a clone across repositories says which first."""
    spans = repos_of(clone, repos)
    lines = [f"   🔀 across {esc(', '.join(spans))}"] if len(spans) > 1 else []
    lines += [f"   • {esc(repo_label(f, repos))}<code>{path_html(f.path)}:{f.start_line}–{f.end_line}</code>"
              for f in clone.fragments[:FRAGMENTS_SHOWN]]
    if len(clone.fragments) > FRAGMENTS_SHOWN:
        lines.append(f"   • … and {len(clone.fragments) - FRAGMENTS_SHOWN} more")
    return lines


def repo_label(fragment: Fragment, repos: Sequence[Repo]) -> str:
    """`[name] ` of the repository holding a fragment ('' in a scan of plain paths), as text."""
    name = repo_of(fragment.path, repos) if repos else None
    return f"[{name}] " if name else ""


def duplicates_report(scan: ScanInfo, page: ClonePage, offset: int, now: float,
                      keyboard: InlineKeyboardMarkup | None) -> Report:
    """One page of /duplicates: the scan, the range shown, each clone with its places and suggestion."""
    where = f" under <code>{esc_clip(page.prefix, PATH_SHOWN)}</code>" if page.prefix else ""
    where += f" in repository <b>{esc(page.repo)}</b>" if page.repo else ""
    order = "across repositories first, then largest" if len(scan.repos) > 1 else "largest first"
    lines = [f"<b>Duplicates</b>{where} — {scan_line(scan, now)}"]
    if not page.clones:
        lines.append("No clone classes here." if offset == 0 else "No more clone classes.")
    else:
        lines.append(f"Showing {offset + 1}–{offset + len(page.clones)} of {page.total}, {order}.")
    for number, clone in enumerate(page.clones, offset + 1):
        lines.append("")
        lines.append(clone_head(number, clone))
        lines += fragment_lines(clone, scan.repos)
        if clone.suggestion:
            lines.append(f"   💡 {esc_clip(clone.suggestion, 300)}")
    return Report(f"Duplicates {page.prefix or page.repo or scan.root}", ("\n".join(lines),), keyboard)


def clone_report(clone: Clone, scan: ScanInfo, codes: Sequence[str], now: float) -> Report:
    """One clone in full: its figures, suggestion and the code of each fragment (`codes`, in the
    fragments' order, already masked or not as the chat may see them)."""
    head = [clone_head(None, clone), f"{clone.tokens} tokens · {scan_line(scan, now)}"]
    if clone.suggestion:
        head.append(f"💡 {esc(clone.suggestion)}")
    parts: list[Part] = ["\n".join(head)]
    for fragment, code in zip(clone.fragments, codes):
        title = f"{repo_label(fragment, scan.repos)}{fragment.path}:{fragment.start_line}–{fragment.end_line}"
        parts.append(Code(title, language_of(fragment.path) or "text", code, fragment.start_line))
    return Report(f"Clone {clone.id}", tuple(parts))


def scan_progress(target: Path, done: int, total: int) -> str:
    """The progress message of a running /scan."""
    counted = f" {done}/{total} files <code>{bar(done / total)}</code>" if total else ""
    return f"🔎 Scanning <code>{path_html(target)}</code> …{counted}"


def scan_done(target: Path, duration_s: float) -> str:
    """The progress message once a /scan has finished."""
    return f"✅ Scanned <code>{path_html(target)}</code> in {duration_s:.1f} s."


def scan_failed(failure_html: str, request_id: str | None) -> str:
    """The progress message when a /scan failed: what failed, and the request id to triage."""
    return (f"❌ Scan failed: {failure_html}\nRequest <code>{esc(request_id)}</code>"
            f" — <code>/triage {esc(request_id)}</code>")


def scan_summary(result: ScanResult, request_id: str | None) -> str:
    """The message posted when a /scan finishes."""
    stats = result.stats
    return (f"<b>Scan finished</b> · <code>{path_html(result.root)}</code>\n"
            f"{stats.files} files ({stats.files_parsed} parsed, {stats.files_reused} reused, "
            f"{stats.files_skipped} skipped), {stats.lines:,} lines\n"
            f"{stats.duplication_pct:.2f}% duplicated · {len(result.clones)} clone classes, "
            f"{len(result.new_clone_ids)} new\nRequest <code>{esc(request_id)}</code> · /duplicates to see them")


# -- requests and alerts -------------------------------------------------------------------


def triage_report(report: TriageReport) -> Report:
    """The metrics module's triage report, readable in a chat."""
    title = f"Triage {report.request_id}"
    if not report.found:
        lines = [f"<b>{esc(report.request_id)}</b>: no such request in the metrics."]
        lines += [f"• {esc(s)}" for s in report.suggestions]
        return Report(title, ("\n".join(lines),))
    lines = [f"<b>Triage of <code>{esc(report.request_id)}</code></b>"]
    for row in report.metrics:
        icon = "✅" if row["status"] == "success" else "❌"
        parent = f" · parent <code>{esc(row['parent_id'])}</code>" if row.get("parent_id") else ""
        user = f" · user {esc(row['user_id'])}" if row.get("user_id") else ""
        lines.append(f"{icon} {esc(row['operation'])} {esc(row['status'])} in {row['latency_ms']:.1f} ms"
                     f" at {when(row['ts'])}{user}{parent}")
    if report.root_cause is not None:
        cause = report.root_cause
        code = f" [{esc(cause.error_code)}]" if cause.error_code else ""
        lines += ["", f"<b>Root cause</b>: {esc(cause.error_type)}{code}: {esc(cause.message or '')}",
                  f"Likely: {esc(cause.likely_cause)}",
                  f"Seen {cause.occurrences}× · first {when(cause.first_seen)} · last {when(cause.last_seen)}"]
        lines += [f"  ▸ {esc_clip(e, 200)}" for e in cause.evidence[:5]]
    lines += _timeline(report)
    if report.related:
        lines += ["", "<b>Related requests</b>"]
        lines += [f"<code>{esc(r.request_id)}</code> {esc(r.operation)} {esc(r.status)} {when(r.ts)} "
                  f"({esc(', '.join(r.reasons))})" for r in report.related[:10]]
    if report.alerts:
        lines += ["", "<b>Open alerts</b>"]
        lines += [f"{severity_icon(a)} #{a.id} {esc(a.title)}" for a in report.alerts[:10]]
    if report.suggestions:
        lines += ["", "<b>Suggested actions</b>"]
        lines += [f"• {esc(s)}" for s in report.suggestions]
    return Report(title, ("\n".join(lines),))


def _timeline(report: TriageReport) -> list[str]:
    if not report.timeline:
        return []
    lines = ["", "<b>Timeline</b>"]
    for entry in report.timeline[:TIMELINE_SHOWN]:
        fields = " ".join(f"{k}={v}" for k, v in entry.fields.items()
                          if k not in ("operation",) and v not in (None, "", {}, []))
        lines.append(f"<code>+{entry.offset_ms:8.1f} ms</code> {esc(entry.level)} "
                     f"{esc(entry.event)} {esc_clip(fields, 160)}".rstrip())
    if len(report.timeline) > TIMELINE_SHOWN:
        lines.append(f"… {len(report.timeline) - TIMELINE_SHOWN} more events")
    return lines


def status_lines(overview: Overview, now: float) -> list[str]:
    """The lines of /status, which also open /dashboard."""
    overall = overview.total
    firing = [a for a in overview.alerts if a.state == "firing"]
    icon = "✅" if not firing else ("🔴" if any(a.severity == "critical" for a in firing) else "⚠️")
    lines = [f"{icon} <b>CodeBot status</b>"]
    lines.append(f"Index: {scan_line(overview.scan, now)}" if overview.scan else "Index: no scan yet (/scan)")
    p95 = f"{overall.p95_ms:,.0f} ms" if overall.p95_ms is not None else "-"
    lines.append(f"Last hour: {overall.count} requests, {overall.errors} errors "
                 f"({overall.error_rate:.1%}), p95 {p95}")
    lines.append(f"Open alerts: {len(overview.alerts)} ({len(firing)} firing)")
    return lines


def status_report(overview: Overview, now: float) -> Report:
    """/status: the index, the last hour's requests and the open alerts at a glance."""
    return Report("Status", ("\n".join(status_lines(overview, now)),))


def latency_table(summaries: Sequence[OperationSummary]) -> str:
    """Per-operation count, error rate and latency percentiles as a fixed-width table."""
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    rows = [f"{'operation':<16} {'count':>6} {'err%':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>7}"]
    for s in summaries:
        rows.append(f"{s.operation[:16]:<16} {s.count:>6} {s.error_rate * 100:>5.1f} {ms(s.p50_ms):>6} "
                    f"{ms(s.p95_ms):>6} {ms(s.p99_ms):>6} {ms(s.max_ms):>7}")
    return "<pre>" + esc("\n".join(rows)) + "</pre>"


def _trend(trend: Sequence[TrendPoint]) -> list[str]:
    if not trend:
        return []
    rows = [f"#{p.scan_id:<5} {bar(p.duplication_pct / 100)} {p.duplication_pct:5.2f}%" for p in trend]
    if len(trend) > 1:
        delta = trend[-1].duplication_pct - trend[0].duplication_pct
        rows.append(f"{'rising' if delta > 0 else 'falling' if delta < 0 else 'flat'} "
                    f"{delta:+.2f} points over {len(trend)} scans")
    return ["<b>Duplication trend</b> (last scans)", "<pre>" + esc("\n".join(rows)) + "</pre>"]


def dashboard_report(overview: Overview, now: float) -> Report:
    """/dashboard: status, per-operation latency, error rate, duplication trend, open alerts, Grafana."""
    parts = ["\n".join(status_lines(overview, now)), "<b>Latency, last hour (ms)</b>",
             latency_table(overview.summaries[:12]) if overview.summaries else "no requests in the last hour"]
    overall = overview.total
    parts.append(f"<b>Error rate</b> <code>{bar(overall.error_rate * 5)}</code> {overall.error_rate:.1%}"
                 " (the bar is full at 20%)")
    parts += _trend(overview.trend)
    if overview.alerts:
        parts.append("<b>Open alerts</b>")
        parts.append("\n".join(f"{severity_icon(a)} #{a.id} {esc(a.title)} ({esc(a.state)})"
                               for a in overview.alerts[:10]))
    if overview.links:
        parts.append("<b>Grafana</b> " + " · ".join(
            f'<a href="{esc(link.url)}">{esc(link.title)}</a>' for link in overview.links))
    return Report("Dashboard", ("\n".join(parts),))


def health_report(checks: Sequence[Check], up_s: float) -> Report:
    """/health: each check with its state, the worst first in the headline, and the bot's uptime."""
    worst = "fail" if any(c.state == "fail" for c in checks) else (
        "warn" if any(c.state == "warn" for c in checks) else "ok")
    lines = [f"{_ICONS[worst]} <b>Health</b>"]
    lines += [f"{_ICONS[c.state]} {esc(c.name)}: {esc(c.detail)}" for c in checks]
    lines.append(f"Bot up {ago(up_s)}")
    return Report("Health", ("\n".join(lines),))


def errors_report(groups: Sequence[ErrorGroup], window_s: float, now: float) -> Report:
    """/errors: the most frequent errors of a window, each with a request id to triage."""
    label = format_duration(window_s)
    if not groups:
        return note(f"✅ No errors in the last {esc(label)}.")
    lines = [f"<b>Top errors, last {esc(label)}</b>"]
    for g in groups:
        code = f" [{esc(g.error_code)}]" if g.error_code else ""
        lines.append(f"<b>{g.count}×</b> {esc(g.operation)} · {esc(g.error_type)}{code}: "
                     f"{esc_clip(g.message or '', 200)}")
        lines.append(f"   last {ago(now - g.last_seen)} ago · /triage <code>{esc(g.last_request_id)}</code>")
    return Report(f"Errors {label}", ("\n".join(lines),))


def latency_report(summaries: Sequence[OperationSummary], window_s: float) -> Report:
    """/latency: latency percentiles per operation over a window."""
    label = format_duration(window_s)
    if not summaries:
        return note(f"No requests in the last {esc(label)}.")
    text = f"<b>Latency, last {esc(label)} (ms)</b>\n" + latency_table(summaries)
    return Report(f"Latency {label}", (text,))


def alerts_report(open_alerts: Sequence[Alert], silences: Sequence[Silence], now: float) -> Report:
    """/alerts: the open alerts (firing ones with silence buttons) and the silences in force."""
    lines = ["<b>Alerts</b>"]
    if not open_alerts:
        lines.append("✅ No open alerts.")
    for a in open_alerts:
        lines.append(f"{severity_icon(a)} <b>#{a.id}</b> {esc(a.title)} · {esc(a.state)}"
                     f" since {ago(now - a.started_at)}")
        lines.append(f"   {esc(a.description)}")
    for s in silences:
        lines.append(f"🔕 {esc(silence_target(s))} silenced for {ago(s.expires_at - now)} more")
    rows = [silence_buttons(a.id) for a in open_alerts if a.state == "firing"][:6]
    return Report("Alerts", ("\n".join(lines),), InlineKeyboardMarkup(rows) if rows else None)


def silence_target(made: Silence) -> str:
    """What a silence holds back: a rule, or one key of it."""
    return f"{made.rule}:{made.key}" if made.key else made.rule


def silenced(made: Silence, seconds: float) -> str:
    """The confirmation of a new silence of `seconds`."""
    return (f"🔕 Silenced <b>{esc(silence_target(made))}</b> for {esc(format_duration(seconds))} "
            f"(until {when(made.expires_at)}).")
