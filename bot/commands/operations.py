"""The operations commands: /status, /health, /dashboard, /errors, /latency and /triage."""
from __future__ import annotations

import asyncio
import re
import time

from telegram import Update
from telegram.ext import ContextTypes

import metrics
from bot import health
from bot.args import parse_span, quoted, span_bounds
from bot.catalog import usage
from bot.commands.index import show_clone
from bot.exceptions import UsageError
from bot.replies import send
from bot.services import Services, services
from bot.views import (
    Overview, dashboard_report, errors_report, health_report, latency_report, status_report, triage_report,
)
from metrics.settings import dashboard_links
from metrics.summary import total

CLONE_ID = re.compile(r"^c[0-9a-f]{6,40}$")
HOUR = 3600.0
TOP_ERRORS = 10
TREND_SCANS = 10


def window_arg(command: str, args: list[str], default: str = "1h") -> float:
    """A command's `[window]` argument in seconds; UsageError with the command's usage otherwise."""
    if len(args) > 1:
        raise UsageError(f"usage: {usage(command)}")
    seconds = parse_span(args[0] if args else default, 1)
    if seconds is None:
        raise UsageError(f"{quoted(args[0])} is not a window of {span_bounds(1)}, e.g. 30m, 24h, 7d. "
                         f"usage: {usage(command)}")
    return seconds


def read_overview(svc: Services) -> Overview:
    """The figures /status and /dashboard share (blocking: call it in a worker thread)."""
    scan = svc.index.latest_scan()
    summaries = metrics.summarize(window=HOUR, top_errors=0)
    return Overview(scan=scan, summaries=summaries, total=total(summaries, HOUR), alerts=metrics.open_alerts(),
                    trend=svc.index.trend(scan.root, TREND_SCANS) if scan else [],
                    links=dashboard_links())  # from ./pyproject.toml, as the bot's settings


async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the index, the last hour's requests and the open alerts at a glance."""
    overview = await asyncio.to_thread(read_overview, services(context))
    await send(update, context, status_report(overview, time.time()))


async def dashboard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """One screen: status, per-operation latency, error rate, duplication trend and open alerts."""
    overview = await asyncio.to_thread(read_overview, services(context))
    await send(update, context, dashboard_report(overview, time.time()))


def local_checks(svc: Services) -> list[health.Check]:
    """The checks that read this machine: the database, the last scan's age, alerts, disk (blocking)."""
    scan = svc.index.latest_scan() if svc.db_path.exists() else None
    alerts = metrics.open_alerts()
    firing = sum(a.state == "firing" for a in alerts)
    return [health.database(svc.db_path),
            health.scan_age(scan.started_at if scan else None, time.time()),
            health.Check("Alerts", "warn" if firing else "ok", f"{len(alerts)} open, {firing} firing"),
            health.disk(svc.db_path)]


async def health_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Check the database, the last scan's age, open alerts, disk space and GitHub's rate limit."""
    svc = services(context)
    checks = await asyncio.to_thread(local_checks, svc)
    github = await health.github_rate_limit(svc.config.github, svc.config.github_api, svc.github_cache, time.time())
    svc.github_cache = github.cache
    checks.append(github.check)
    await send(update, context, health_report(checks, time.time() - svc.started_at))


async def errors(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the most frequent errors of a window, each with a request id to triage."""
    window = window_arg("errors", list(context.args or []))
    groups = await asyncio.to_thread(metrics.top_errors, window, None, TOP_ERRORS)
    await send(update, context, errors_report(groups, window, time.time()))


async def latency(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show latency percentiles per operation over a window."""
    window = window_arg("latency", list(context.args or []))
    summaries = await asyncio.to_thread(metrics.summarize, None, window, top_errors=0)
    await send(update, context, latency_report(summaries, window))


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
