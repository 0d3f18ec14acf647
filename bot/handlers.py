"""The command handlers: plain top-level coroutines, one per command, plus the button and error handlers.

Each handler reads what it needs (in a worker thread: SQLite calls block),
builds a `Report` and sends it. Bad input raises `UsageError`; `guarded()`
wraps every handler when `bot.app` wires it, and is where permissions,
request ids, the audit trail and failures are handled, so a handler never
leaks an exception to the user.
"""
from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import structlog
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

import metrics
from bot import health
from bot.args import MAX_ID, parse_int, parse_span, quoted, span_bounds
from bot.exceptions import BotError, ButtonExpiredError, NotFoundError, UsageError
from bot.render import (
    Code, Report, ago, bar, button, caption, document_name, esc, esc_clip, silence_buttons, to_document,
    to_messages,
)
from bot.services import Services, services
from engine.exceptions import CodebotError
from engine.queries import ScanInfo
from engine.records import Clone
from metrics.alerts import DEFAULT_RULES
from metrics.clock import format_duration
from metrics.exceptions import MetricsError
from metrics.grafana import dashboard_links
from metrics.models import Alert, OperationSummary, TriageReport
from metrics.sanitize import mask_code
from metrics.summary import total

log = structlog.get_logger("bot")

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]

# name -> (arguments, what it does); the order of /help and of setMyCommands.
COMMANDS: dict[str, tuple[str, str]] = {
    "start": ("", "what this bot does"),
    "help": ("", "the commands you may use"),
    "status": ("", "index, requests and alerts at a glance"),
    "health": ("", "database, last scan, disk, GitHub API"),
    "duplicates": ("[path-prefix] [top N]", "the largest clone classes of the last scan"),
    "dashboard": ("", "status, latency, errors, duplication trend, alerts"),
    "errors": ("[window]", "top errors, e.g. /errors 24h"),
    "latency": ("[window]", "latency percentiles per operation"),
    "triage": ("<request_id|clone_id>", "explain a request, or show a clone in full"),
    "alerts": ("", "open alerts and silences"),
    "silence": ("<alert_id|rule> <duration>", "hold an alert back, e.g. /silence 3 2h"),
    "scan": ("[path]", "scan in the background and post the summary"),
}
CLONE_ID = re.compile(r"^c[0-9a-f]{6,40}$")
MAX_TOP = 50
CODE_MAX_LINES = 200
PATH_SHOWN = 120  # characters of a path an answer shows (its end)
MAX_SCAN_ARG = 1024  # characters of a /scan path; no real path under the root is longer
MAX_OFFSET = 10**9  # of a page button; far beyond any index
PROGRESS_EVERY_S = 1.0
_ICONS = {"ok": "✅", "warn": "⚠️", "fail": "❌", "off": "➖"}
_SEVERITY = {"critical": "🔴", "warning": "🟠", None: "⚪"}


def usage(command: str) -> str:
    """The usage line of a command."""
    args, what = COMMANDS[command]
    return f"/{command} {args}".rstrip() + f" — {what}"


def _path(path: object) -> str:
    """A path as an answer shows it: its end, escaped."""
    return esc_clip(path, PATH_SHOWN, tail=True)


# -- sending ------------------------------------------------------------------


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, report: Report, *, edit: bool = False) -> None:
    """Send a report: edit the pressed message, or one to three messages, or an HTML document."""
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    messages = to_messages(report)
    if messages is None:
        await context.bot.send_document(
            chat_id, document=to_document(report), filename=document_name(report),
            caption=caption(report), parse_mode=ParseMode.HTML, reply_markup=report.keyboard)
        return
    query = update.callback_query
    if edit and query is not None and query.message is not None and len(messages) == 1:
        try:
            await query.edit_message_text(messages[0], parse_mode=ParseMode.HTML, reply_markup=report.keyboard)
        except BadRequest as exc:  # the same page pressed twice: nothing to change
            if "not modified" not in str(exc).lower():
                raise
        return
    for number, text in enumerate(messages, 1):
        await context.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML,
            reply_markup=report.keyboard if number == len(messages) else None)


async def say(update: Update, context: ContextTypes.DEFAULT_TYPE, html: str) -> None:
    """Send a short HTML answer to the chat of the update (through `send`, so within Telegram's limits)."""
    await send(update, context, Report("Answer", (html,)))


# -- the guard ----------------------------------------------------------------


def guarded(command: str, handler: Handler) -> Handler:
    """Wrap a handler: request id, permission check, audit trail, and no exception left unanswered."""

    async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await run_guarded(update, context, command, handler)

    run.__name__ = run.__qualname__ = f"guarded_{handler.__name__}"
    run.__doc__ = handler.__doc__
    return run


async def run_guarded(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str, handler: Handler) -> None:
    """Run one handler under a tracked request; refusals, usage errors and failures each get an answer."""
    svc = services(context)
    user = update.effective_user
    user_id = user.id if user else None
    query = update.callback_query
    if query is not None:
        command = command_of_button(query.data or "") or command
    args = list(context.args or []) if query is None else [query.data or ""]
    outcome, request_id, failure = "ok", None, None
    try:
        async with metrics.track_request(f"bot.{command}", user_id=user_id,
                                         metadata={"args": args[:6], "chat": update.effective_chat.id
                                                   if update.effective_chat else None}) as request:
            request_id = request.request_id
            if not svc.config.allows(user_id, command):
                outcome = "refused"
                request.annotate(outcome="refused")
                await refuse(update, context, command, user_id)
            else:
                if query is not None:
                    await query.answer()
                try:
                    await handler(update, context)
                except (UsageError, NotFoundError, ButtonExpiredError) as exc:
                    outcome = "usage" if isinstance(exc, UsageError) else "not_found"
                    request.annotate(outcome=outcome)
                    await say(update, context, esc(exc))
                except Exception:
                    log.exception("bot.command_failed", command=command)
                    raise
    except Exception as exc:  # noqa: BLE001 - the user gets an answer with the request id instead
        outcome, failure = "error", exc
    await _audit(command, user_id, request_id, outcome, args)
    if failure is not None:
        await _report_failure(update, context, failure, request_id)


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str, user_id: int | None) -> None:
    """Politely tell a user the command is not theirs to run."""
    svc = services(context)
    role = svc.config.role_of(user_id)
    if role is None:
        text = (f"Sorry, this bot only answers its team. If you belong to it, ask an admin to add "
                f"your Telegram id <code>{esc(user_id)}</code> to the bot's configuration.")
    else:
        text = (f"Sorry, /{esc(command)} needs the {esc(svc.config.required_role(command))} role; "
                f"you are a {esc(role)}. /help lists what you can use.")
    if update.callback_query is not None:
        await update.callback_query.answer("Not allowed for your role", show_alert=True)
        return
    await say(update, context, text)


async def _audit(command: str, user_id: int | None, request_id: str | None, outcome: str, args: list[str]) -> None:
    try:
        await asyncio.to_thread(metrics.audit, f"/{command}", user_id=user_id, request_id=request_id,
                                outcome=outcome, detail={"args": args[:6]})
    except Exception as exc:  # noqa: BLE001 - a broken audit store must not keep the answer back
        log.error("bot.audit_failed", request_id=request_id, error=repr(exc))


def failure_text(exc: BaseException) -> str:
    """What a failure is called in a chat, as HTML: our own errors carry messages written for
    people (sanitized and capped); anything else shows only its type."""
    if isinstance(exc, (BotError, CodebotError, MetricsError)):
        return esc_clip(exc, 500)
    return f"an internal error ({esc(type(exc).__name__)})"


async def _report_failure(update: Update, context: ContextTypes.DEFAULT_TYPE, exc: BaseException,
                          request_id: str | None) -> None:
    text = (f"⚠️ Sorry, that failed: {failure_text(exc)}\n"
            f"Request <code>{esc(request_id)}</code> — an admin can run "
            f"<code>/triage {esc(request_id)}</code> to see what happened.")
    try:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()
            except Exception:  # noqa: BLE001 - already answered or too old; the message below still goes
                pass
        await say(update, context, text)
    except Exception as send_error:  # noqa: BLE001 - nothing left to tell the user with
        log.error("bot.answer_failed", request_id=request_id, error=repr(send_error))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log an error raised outside the guarded handlers (polling, network)."""
    log.error("bot.error", error=repr(context.error), update=str(update)[:200])


# -- /start, /help --------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot does and list the commands this user may use."""
    await help_command(update, context)


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands this user may use."""
    svc = services(context)
    role = svc.config.role_of(update.effective_user.id if update.effective_user else None) or "user"
    lines = ["<b>CodeBot</b> finds duplicated code and watches the scans and requests behind it.",
             f"Your role: <b>{esc(role)}</b>. Commands:"]
    lines += [f"{esc(usage(name))}" for name in svc.config.commands_for(role)]
    await send(update, context, Report("Help", ("\n".join(lines),)))


# -- /duplicates and clones ---------------------------------------------------------


def parse_duplicates_args(args: list[str], default_top: int) -> tuple[str, int]:
    """`[path-prefix] [top N]` → (prefix, N)."""
    rest, top = list(args), default_top
    lowered = [a.lower() for a in rest]
    if "top" in lowered:
        at = lowered.index("top")
        number = parse_int(rest[at + 1], 1, MAX_TOP) if at + 1 < len(rest) else None
        if number is None:
            raise UsageError(f"usage: {usage('duplicates')} (N is 1..{MAX_TOP})")
        top = number
        del rest[at:at + 2]
    if len(rest) > 1:
        raise UsageError(f"usage: {usage('duplicates')} — one path prefix at most")
    return (rest[0] if rest else ""), top


def page_button_data(svc: Services, scan_id: int, offset: int, top: int, prefix: str) -> str:
    """Callback data of a page button; long prefixes go by a remembered key."""
    data = f"dup:{scan_id}:{offset}:{top}:={prefix}"
    if len(data.encode()) < 64:
        return data
    return f"dup:{scan_id}:{offset}:{top}:#{svc.remember_prefix(prefix)}"


def _fragments_line(clone: Clone) -> list[str]:
    return [f"   • <code>{_path(f.path)}:{f.start_line}–{f.end_line}</code>" for f in clone.fragments[:6]] + (
        [f"   • … and {len(clone.fragments) - 6} more"] if len(clone.fragments) > 6 else [])


def _clone_head(number: int | None, clone: Clone) -> str:
    label = f"{number}. " if number is not None else ""
    return (f"<b>{label}{esc(clone.id)}</b> · {esc(clone.kind)} · {clone.similarity:.0%} similar · "
            f"{clone.lines} lines × {len(clone.fragments)}")


def _scan_line(scan: ScanInfo) -> str:
    age = ago(time.time() - datetime.fromisoformat(scan.started_at).timestamp())
    return (f"scan #{scan.id} of <code>{_path(scan.root)}</code>, {age} ago · "
            f"{scan.duplication_pct:.2f}% duplicated · {scan.clone_count} clone classes")


async def duplicates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the largest clone classes of the last scan, with page and code buttons."""
    svc = services(context)
    prefix, top = parse_duplicates_args(list(context.args or []), svc.config.page_size)
    scan = await asyncio.to_thread(svc.index.latest_scan)
    if scan is None:
        await say(update, context, "No scan in the index yet. An admin can start one with /scan.")
        return
    await send(update, context, await duplicates_page(svc, scan, prefix, 0, top))


async def duplicates_page(svc: Services, scan: ScanInfo, prefix: str, offset: int, top: int) -> Report:
    """One page of /duplicates as a report with its buttons."""
    page = await asyncio.to_thread(svc.index.clones_page, scan, prefix, offset, top)
    where = f" under <code>{esc_clip(page.prefix, PATH_SHOWN)}</code>" if page.prefix else ""
    lines = [f"<b>Duplicates</b>{where} — {_scan_line(scan)}"]
    if not page.clones:
        lines.append("No clone classes here." if offset == 0 else "No more clone classes.")
    else:
        lines.append(f"Showing {offset + 1}–{offset + len(page.clones)} of {page.total}, largest first.")
    for number, clone in enumerate(page.clones, offset + 1):
        lines.append("")
        lines.append(_clone_head(number, clone))
        lines += _fragments_line(clone)
        if clone.suggestion:
            lines.append(f"   💡 {esc_clip(clone.suggestion, 300)}")
    code_row = [button(f"Code {n}", f"code:{c.id}") for n, c in enumerate(page.clones, offset + 1)][:8]
    nav = []
    if offset > 0:
        nav.append(button("◀ Prev", page_button_data(svc, scan.id, max(0, offset - top), top, page.prefix)))
    if offset + len(page.clones) < page.total:
        nav.append(button("Next ▶", page_button_data(svc, scan.id, offset + top, top, page.prefix)))
    rows = [row for row in (code_row[:4], code_row[4:], nav) if row]
    return Report(f"Duplicates {page.prefix or scan.root}", ("\n".join(lines),),
                  InlineKeyboardMarkup(rows) if rows else None)


# The common cases without asking pygments: its file-name lookup loads lexers and costs ~0.4 s cold.
_LANGUAGES = {".py": "python", ".pyi": "python", ".js": "javascript", ".mjs": "javascript", ".ts": "typescript",
              ".go": "go", ".java": "java", ".rb": "ruby", ".rs": "rust", ".c": "c", ".h": "c", ".cpp": "cpp",
              ".cs": "csharp", ".php": "php", ".kt": "kotlin", ".swift": "swift", ".sh": "bash", ".sql": "sql"}


@lru_cache(maxsize=256)
def language_of(path: str) -> str:
    """The pygments alias of a file's language ('text' when unknown)."""
    known = _LANGUAGES.get(Path(path).suffix.lower())
    if known:
        return known
    from pygments.lexers import get_lexer_for_filename
    from pygments.util import ClassNotFound

    try:
        return get_lexer_for_filename(path).aliases[0]
    except (ClassNotFound, IndexError):
        return "text"


def read_fragment(root: str, path: str, start: int, end: int) -> tuple[str, bool]:
    """The lines of a fragment from disk (text, found); never reads outside the scanned root."""
    base = Path(root).resolve()
    target = (base / path).resolve()
    if not target.is_relative_to(base):
        return "(outside the scanned root; not shown)", False
    try:
        with open(target, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return "(the file is no longer there)", False
    chosen = lines[start - 1:end]
    if len(chosen) > CODE_MAX_LINES:
        chosen = chosen[:CODE_MAX_LINES] + [f"... ({end - start + 1 - CODE_MAX_LINES} more lines)"]
    return "\n".join(chosen), True


def clone_report(clone: Clone, scan: ScanInfo, masked: bool = True) -> Report:
    """One clone in full: its figures, suggestion and the code of every fragment
    (secret literals masked unless `masked` is False)."""
    head = [_clone_head(None, clone),
            f"{clone.tokens} tokens · {_scan_line(scan)}"]
    if clone.suggestion:
        head.append(f"💡 {esc(clone.suggestion)}")
    parts: list[str | Code] = ["\n".join(head)]
    for fragment in clone.fragments:
        text, _ = read_fragment(scan.root, fragment.path, fragment.start_line, fragment.end_line)
        parts.append(Code(f"{fragment.path}:{fragment.start_line}–{fragment.end_line}",
                          language_of(fragment.path), mask_code(text) if masked else text,
                          fragment.start_line))
    return Report(f"Clone {clone.id}", tuple(parts))


async def show_clone(update: Update, context: ContextTypes.DEFAULT_TYPE, clone_id: str) -> None:
    """Send one clone in full."""
    svc = services(context)
    found = await asyncio.to_thread(svc.index.clone, clone_id)
    if found is None:
        raise NotFoundError(f"No clone {clone_id} in the index (it may be from a pruned scan).")
    await send(update, context, await asyncio.to_thread(clone_report, *found, masks_code(svc, update)))


def masks_code(svc: Services, update: Update) -> bool:
    """Whether code shown in this chat has its secrets masked: everywhere, unless the
    configuration lets a private chat see the code as it is."""
    private = update.effective_chat is not None and update.effective_chat.type == "private"
    return not (private and svc.config.unmask_code_in_private)


# -- /triage ------------------------------------------------------------------------


async def triage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain a request id from the metrics, or show a clone in full."""
    args = list(context.args or [])
    if len(args) != 1:
        raise UsageError(f"usage: {usage('triage')}")
    target = args[0].strip()
    if metrics.is_request_id(target):
        report = await asyncio.to_thread(metrics.investigate, target)
        await send(update, context, triage_report(report))
    elif CLONE_ID.match(target):
        await show_clone(update, context, target)
    else:
        raise UsageError(f"{quoted(target)} is neither a request id (req- and 12 hex digits) nor a clone id. "
                         f"usage: {usage('triage')}")


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S")


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
                     f" at {_when(row['ts'])}{user}{parent}")
    if report.root_cause is not None:
        cause = report.root_cause
        code = f" [{esc(cause.error_code)}]" if cause.error_code else ""
        lines += ["", f"<b>Root cause</b>: {esc(cause.error_type)}{code}: {esc(cause.message or '')}",
                  f"Likely: {esc(cause.likely_cause)}",
                  f"Seen {cause.occurrences}× · first {_when(cause.first_seen)} · last {_when(cause.last_seen)}"]
        lines += [f"  ▸ {esc_clip(e, 200)}" for e in cause.evidence[:5]]
    if report.timeline:
        lines += ["", "<b>Timeline</b>"]
        for entry in report.timeline[:40]:
            fields = " ".join(f"{k}={v}" for k, v in entry.fields.items()
                              if k not in ("operation",) and v not in (None, "", {}, []))
            lines.append(f"<code>+{entry.offset_ms:8.1f} ms</code> {esc(entry.level)} "
                         f"{esc(entry.event)} {esc_clip(fields, 160)}".rstrip())
        if len(report.timeline) > 40:
            lines.append(f"… {len(report.timeline) - 40} more events")
    if report.related:
        lines += ["", "<b>Related requests</b>"]
        lines += [f"<code>{esc(r.request_id)}</code> {esc(r.operation)} {esc(r.status)} {_when(r.ts)} "
                  f"({esc(', '.join(r.reasons))})" for r in report.related[:10]]
    if report.alerts:
        lines += ["", "<b>Open alerts</b>"]
        lines += [f"{_SEVERITY.get(a.severity, '⚪')} #{a.id} {esc(a.title)}" for a in report.alerts[:10]]
    if report.suggestions:
        lines += ["", "<b>Suggested actions</b>"]
        lines += [f"• {esc(s)}" for s in report.suggestions]
    return Report(title, ("\n".join(lines),))


# -- /status, /health, /dashboard --------------------------------------------------------


def _window_arg(command: str, args: list[str], default: str = "1h") -> float:
    if len(args) > 1:
        raise UsageError(f"usage: {usage(command)}")
    seconds = parse_span(args[0] if args else default, 1)
    if seconds is None:
        raise UsageError(f"{quoted(args[0])} is not a window of {span_bounds(1)}, e.g. 30m, 24h, 7d. "
                         f"usage: {usage(command)}")
    return seconds


def _overview(svc: Services) -> dict[str, Any]:
    """The figures /status and /dashboard share, read in one worker thread."""
    scan = svc.index.latest_scan()
    summaries = metrics.summarize(window=3600, top_errors=0)
    return {"scan": scan, "summaries": summaries, "total": total(summaries, 3600),
            "alerts": metrics.open_alerts(),
            "trend": svc.index.trend(scan.root, 10) if scan else [],
            "links": dashboard_links()}  # from ./pyproject.toml, as the bot's settings


def _status_lines(data: dict[str, Any]) -> list[str]:
    scan: ScanInfo | None = data["scan"]
    overall: OperationSummary = data["total"]
    alerts: list[Alert] = data["alerts"]
    firing = [a for a in alerts if a.state == "firing"]
    icon = "✅" if not firing else ("🔴" if any(a.severity == "critical" for a in firing) else "⚠️")
    lines = [f"{icon} <b>CodeBot status</b>"]
    lines.append(f"Index: {_scan_line(scan)}" if scan else "Index: no scan yet (/scan)")
    p95 = f"{overall.p95_ms:,.0f} ms" if overall.p95_ms is not None else "-"
    lines.append(f"Last hour: {overall.count} requests, {overall.errors} errors "
                 f"({overall.error_rate:.1%}), p95 {p95}")
    lines.append(f"Open alerts: {len(alerts)} ({len(firing)} firing)")
    return lines


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the index, the last hour's requests and the open alerts at a glance."""
    data = await asyncio.to_thread(_overview, services(context))
    await send(update, context, Report("Status", ("\n".join(_status_lines(data)),)))


async def health_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Check the database, the last scan's age, open alerts, disk space and GitHub's rate limit."""
    svc = services(context)

    def local_checks() -> list[health.Check]:
        scan = svc.index.latest_scan() if svc.db_path.exists() else None
        alerts = metrics.open_alerts()
        firing = sum(a.state == "firing" for a in alerts)
        return [health.database(svc.db_path),
                health.scan_age(scan.started_at if scan else None, time.time()),
                health.Check("Alerts", "warn" if firing else "ok", f"{len(alerts)} open, {firing} firing"),
                health.disk(svc.db_path)]

    checks = await asyncio.to_thread(local_checks)
    github, svc.github_cache = await health.github_rate_limit(
        svc.config.github, svc.config.github_api, svc.github_cache, time.time())
    checks.append(github)
    worst = "fail" if any(c.state == "fail" for c in checks) else (
        "warn" if any(c.state == "warn" for c in checks) else "ok")
    lines = [f"{_ICONS[worst]} <b>Health</b>"]
    lines += [f"{_ICONS[c.state]} {esc(c.name)}: {esc(c.detail)}" for c in checks]
    lines.append(f"Bot up {ago(time.time() - svc.started_at)}")
    await send(update, context, Report("Health", ("\n".join(lines),)))


def _latency_table(summaries: list[OperationSummary]) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.0f}"

    rows = [f"{'operation':<16} {'count':>6} {'err%':>5} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>7}"]
    for s in summaries:
        rows.append(f"{s.operation[:16]:<16} {s.count:>6} {s.error_rate * 100:>5.1f} {ms(s.p50_ms):>6} "
                    f"{ms(s.p95_ms):>6} {ms(s.p99_ms):>6} {ms(s.max_ms):>7}")
    return "<pre>" + esc("\n".join(rows)) + "</pre>"


async def dashboard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One screen: status, per-operation latency, error rate, duplication trend and open alerts."""
    data = await asyncio.to_thread(_overview, services(context))
    parts = ["\n".join(_status_lines(data))]
    summaries: list[OperationSummary] = data["summaries"]
    parts.append("<b>Latency, last hour (ms)</b>")
    parts.append(_latency_table(summaries[:12]) if summaries else "no requests in the last hour")
    overall: OperationSummary = data["total"]
    parts.append(f"<b>Error rate</b> <code>{bar(overall.error_rate * 5)}</code> {overall.error_rate:.1%}"
                 " (the bar is full at 20%)")
    trend = data["trend"]
    if trend:
        parts.append("<b>Duplication trend</b> (last scans)")
        rows = [f"#{p.scan_id:<5} {bar(p.duplication_pct / 100)} {p.duplication_pct:5.2f}%" for p in trend]
        if len(trend) > 1:
            delta = trend[-1].duplication_pct - trend[0].duplication_pct
            rows.append(f"{'rising' if delta > 0 else 'falling' if delta < 0 else 'flat'} "
                        f"{delta:+.2f} points over {len(trend)} scans")
        parts.append("<pre>" + esc("\n".join(rows)) + "</pre>")
    alerts: list[Alert] = data["alerts"]
    if alerts:
        parts.append("<b>Open alerts</b>")
        parts.append("\n".join(f"{_SEVERITY.get(a.severity, '⚪')} #{a.id} {esc(a.title)} ({esc(a.state)})"
                               for a in alerts[:10]))
    links = data["links"]
    if links:
        parts.append("<b>Grafana</b> " + " · ".join(
            f'<a href="{esc(link.url)}">{esc(link.title)}</a>' for link in links))
    await send(update, context, Report("Dashboard", ("\n".join(parts),)))


# -- /errors, /latency ---------------------------------------------------------------


async def errors(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the most frequent errors of a window, each with a request id to triage."""
    window = _window_arg("errors", list(context.args or []))
    groups = await asyncio.to_thread(metrics.top_errors, window, None, 10)
    label = format_duration(window)
    if not groups:
        await say(update, context, f"✅ No errors in the last {esc(label)}.")
        return
    lines = [f"<b>Top errors, last {esc(label)}</b>"]
    now = time.time()
    for g in groups:
        code = f" [{esc(g.error_code)}]" if g.error_code else ""
        lines.append(f"<b>{g.count}×</b> {esc(g.operation)} · {esc(g.error_type)}{code}: "
                     f"{esc_clip(g.message or '', 200)}")
        lines.append(f"   last {ago(now - g.last_seen)} ago · /triage <code>{esc(g.last_request_id)}</code>")
    await send(update, context, Report(f"Errors {label}", ("\n".join(lines),)))


async def latency(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show latency percentiles per operation over a window."""
    window = _window_arg("latency", list(context.args or []))
    summaries = await asyncio.to_thread(metrics.summarize, None, window, top_errors=0)
    label = format_duration(window)
    if not summaries:
        await say(update, context, f"No requests in the last {esc(label)}.")
        return
    text = f"<b>Latency, last {esc(label)} (ms)</b>\n" + _latency_table(summaries)
    await send(update, context, Report(f"Latency {label}", (text,)))


# -- alerts ----------------------------------------------------------------------------


async def alerts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the open alerts (with silence buttons) and the silences in force."""

    def read() -> tuple[list[Alert], list[Any]]:
        runtime = metrics.get_runtime()
        return runtime.open_alerts(), runtime.alerts.silences()

    open_alerts, silences = await asyncio.to_thread(read)
    lines = ["<b>Alerts</b>"]
    if not open_alerts:
        lines.append("✅ No open alerts.")
    for a in open_alerts:
        lines.append(f"{_SEVERITY.get(a.severity, '⚪')} <b>#{a.id}</b> {esc(a.title)} · {esc(a.state)}"
                     f" since {ago(time.time() - a.started_at)}")
        lines.append(f"   {esc(a.description)}")
    for s in silences:
        target = f"{s.rule}:{s.key}" if s.key else s.rule
        lines.append(f"🔕 {esc(target)} silenced for {ago(s.expires_at - time.time())} more")
    rows = [silence_buttons(a.id) for a in open_alerts if a.state == "firing"][:6]
    await send(update, context, Report("Alerts", ("\n".join(lines),), InlineKeyboardMarkup(rows) if rows else None))


async def silence(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Silence an alert (by id) or a rule (by name) for a duration."""
    args = list(context.args or [])
    rules = {r.name for r in DEFAULT_RULES} | {r.name for r in metrics.get_runtime().alerts.rules}
    if len(args) != 2:
        raise UsageError(f"usage: {usage('silence')}")
    target, duration = args
    if not (parse_int(target, 1, MAX_ID) or target in rules or target == "*"):
        raise UsageError(f"{quoted(target)} is not an alert id or a rule ({', '.join(sorted(rules))}). "
                         f"usage: {usage('silence')}")
    seconds = parse_span(duration, 1)
    if seconds is None:
        raise UsageError(f"{quoted(duration)} is not a duration of {span_bounds(1)}, e.g. 30m, 2h, 1d. "
                         f"usage: {usage('silence')}")
    await apply_silence(update, context, target, seconds)


async def apply_silence(update: Update, context: ContextTypes.DEFAULT_TYPE, target: str, seconds: float) -> None:
    """Store a silence and confirm it."""
    user = update.effective_user
    try:
        made = await asyncio.to_thread(metrics.silence, target, seconds,
                                       created_by=f"telegram:{user.id if user else '?'}",
                                       reason="silenced from chat")
    except metrics.AlertError as exc:
        raise NotFoundError(str(exc)) from exc
    what = f"{made.rule}:{made.key}" if made.key else made.rule
    await say(update, context, f"🔕 Silenced <b>{esc(what)}</b> for {esc(format_duration(seconds))} "
                               f"(until {_when(made.expires_at)}).")


# -- /scan --------------------------------------------------------------------------------


def resolve_scan_path(root: Path, args: list[str]) -> Path:
    """The folder or file to scan: under the configured scan root, and existing."""
    if len(args) > 1:
        raise UsageError(f"usage: {usage('scan')}")
    if not args:
        return root
    typed = args[0]
    if len(typed) > MAX_SCAN_ARG or "\0" in typed:
        raise UsageError(f"{quoted(typed)} is not a path the scan root can hold. usage: {usage('scan')}")
    try:
        target = (root / typed).resolve()
        inside = target.is_relative_to(root)
        exists = inside and target.exists()
    except (OSError, RuntimeError) as exc:  # too long a name, a symlink loop, no permission
        raise UsageError(f"{quoted(typed)} cannot be read ({type(exc).__name__}). usage: {usage('scan')}") from exc
    if not inside:
        raise UsageError(f"{quoted(typed)} is outside the scan root; give a path inside it")
    if not exists:
        raise UsageError(f"{quoted(typed)} does not exist under the scan root. usage: {usage('scan')}")
    return target


async def scan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Start a scan in the background; a progress message is edited and the summary posted."""
    svc = services(context)
    if svc.scan_task is not None and not svc.scan_task.done():
        await say(update, context, f"A scan is already running (request <code>{esc(svc.scan_request_id)}</code>); "
                                   "its summary will be posted here.")
        return
    target = resolve_scan_path(svc.scan_root, list(context.args or []))
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    message = await context.bot.send_message(chat_id, f"🔎 Scanning <code>{_path(target)}</code> …",
                                             parse_mode=ParseMode.HTML)
    svc.scan_task = asyncio.get_running_loop().create_task(
        run_scan(context, chat_id, message.message_id, target))
    svc.background.add(svc.scan_task)
    svc.scan_task.add_done_callback(svc.background.discard)


def _scan_blocking(target: Path, db_path: Path, progress: Callable[[str, int, int], None], request_id: str) -> Any:
    from engine.config import load_settings
    from engine.scan import scan as engine_scan

    root = target if target.is_dir() else target.parent
    settings = load_settings(root, {})
    return engine_scan([target], settings, db_path, progress=progress, request_id=request_id)


async def run_scan(context: ContextTypes.DEFAULT_TYPE, chat_id: int, message_id: int, target: Path) -> None:
    """Run the engine in a worker thread, edit the progress message, then post the summary."""
    svc = services(context)
    state = {"done": 0, "total": 0}

    def progress(phase: str, done: int, total_files: int) -> None:
        if phase == "reading":
            state["done"], state["total"] = done, total_files

    async def edit(text: str) -> None:
        try:
            await context.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id,
                                                parse_mode=ParseMode.HTML)
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise

    request_id = None
    try:
        async with metrics.track_request("scan", metadata={"root": str(target), "via": "bot"}) as request:
            request_id = svc.scan_request_id = request.request_id
            work = asyncio.ensure_future(asyncio.to_thread(
                _scan_blocking, target, svc.db_path, progress, request.request_id))
            shown = (0, 0)
            while not work.done():
                await asyncio.wait({work}, timeout=PROGRESS_EVERY_S)
                now = (state["done"], state["total"])
                if not work.done() and now != shown and now[1]:
                    shown = now
                    await edit(f"🔎 Scanning <code>{_path(target)}</code> … {now[0]}/{now[1]} files "
                               f"<code>{bar(now[0] / now[1])}</code>")
            result = work.result()
            stats = result.stats
            from engine.tracking import record_scan  # the engine CLI reports its scans the same way

            await asyncio.to_thread(record_scan, result)
        await edit(f"✅ Scanned <code>{_path(target)}</code> in {stats.duration_s:.1f} s.")
        await context.bot.send_message(chat_id, (
            f"<b>Scan finished</b> · <code>{_path(result.root)}</code>\n"
            f"{stats.files} files ({stats.files_parsed} parsed, {stats.files_reused} reused, "
            f"{stats.files_skipped} skipped), {stats.lines:,} lines\n"
            f"{stats.duplication_pct:.2f}% duplicated · {len(result.clones)} clone classes, "
            f"{len(result.new_clone_ids)} new\nRequest <code>{esc(request_id)}</code> · /duplicates to see them"),
            parse_mode=ParseMode.HTML)
    except Exception as exc:  # noqa: BLE001 - reported in the chat with the request id
        log.error("bot.scan_failed", request_id=request_id, error=repr(exc))
        try:
            await edit(f"❌ Scan failed: {failure_text(exc)}\nRequest <code>{esc(request_id)}</code>"
                       f" — <code>/triage {esc(request_id)}</code>")
        except Exception as send_error:  # noqa: BLE001
            log.error("bot.answer_failed", request_id=request_id, error=repr(send_error))


# -- buttons and unknown commands ----------------------------------------------------------


def command_of_button(data: str) -> str | None:
    """Which command's permission a button needs."""
    return {"dup": "duplicates", "code": "duplicates", "sil": "silence"}.get(data.split(":", 1)[0])


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a pressed inline button: a page of duplicates, a clone's code, or a silence."""
    svc = services(context)
    data = update.callback_query.data or ""  # type: ignore[union-attr]
    kind, _, rest = data.partition(":")
    if kind == "dup":
        scan_id, offset, top, prefix = _parse_page(svc, rest)
        scan_info = await asyncio.to_thread(svc.index.scan, scan_id)
        if scan_info is None:
            raise ButtonExpiredError("That scan is gone; run /duplicates again.")
        await send(update, context, await duplicates_page(svc, scan_info, prefix, offset, top), edit=True)
    elif kind == "code":
        await show_clone(update, context, rest)
    elif kind == "sil":
        alert_id, _, duration = rest.partition(":")
        seconds = parse_span(duration or "1h", 1)
        if parse_int(alert_id, 1, MAX_ID) is None or seconds is None:
            raise ButtonExpiredError("This button is damaged; use /alerts and /silence.")
        await apply_silence(update, context, alert_id, seconds)
    else:
        raise ButtonExpiredError("This button is not known to this version of the bot.")


def _parse_page(svc: Services, rest: str) -> tuple[int, int, int, str]:
    fields = rest.split(":", 3)
    if len(fields) != 4:
        raise ButtonExpiredError("This button is damaged; run /duplicates again.")
    scan_id, offset, top, prefix = fields
    numbers = parse_int(scan_id, 1, MAX_ID), parse_int(offset, 0, MAX_OFFSET), parse_int(top, 1, MAX_TOP)
    if None in numbers or prefix[:1] not in ("=", "#"):
        raise ButtonExpiredError("This button is damaged; run /duplicates again.")
    if prefix.startswith("#"):
        found = svc.prefix_of(prefix[1:])
        if found is None:
            raise ButtonExpiredError("This button is from before a restart; run /duplicates again.")
        prefix = found
    else:
        prefix = prefix[1:]
    return (*numbers, prefix)


async def unknown(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a command the bot does not know."""
    words = (update.effective_message.text or "").split() if update.effective_message else []
    command = esc_clip(words[0], 40) if words else "that"
    await say(update, context, f"I don't know {command}. /help lists the commands you may use.")
