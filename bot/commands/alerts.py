"""The alert commands: /alerts, /silence and the silence buttons under an alert."""
from __future__ import annotations

import asyncio
import time

from telegram import Update
from telegram.ext import ContextTypes

import metrics
from bot.args import MAX_ID, parse_int, parse_span, quoted, span_bounds
from bot.catalog import usage
from bot.exceptions import ButtonExpiredError, NotFoundError, UsageError
from bot.replies import say, send
from bot.views import alerts_report, silenced
from metrics.alerts import DEFAULT_RULES
from metrics.models import Alert, Silence

BUTTON_DEFAULT_SPAN = "1h"  # a silence button without a duration


async def alerts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the open alerts (with silence buttons) and the silences in force."""
    def read() -> tuple[list[Alert], list[Silence]]:
        return metrics.open_alerts(), metrics.silences()

    open_alerts, silences = await asyncio.to_thread(read)
    await send(update, context, alerts_report(open_alerts, silences, time.time()))


def rule_names() -> set[str]:
    """The alert rules /silence accepts by name: the defaults and the ones in force."""
    return {r.name for r in DEFAULT_RULES} | {r.name for r in metrics.alert_rules()}


async def silence(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Silence an alert (by id) or a rule (by name) for a duration."""
    args = list(context.args or [])
    rules = rule_names()
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


async def on_silence_button(update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
    """A silence button under an alert (`<alert_id>:<duration>`)."""
    alert_id, _, duration = rest.partition(":")
    seconds = parse_span(duration or BUTTON_DEFAULT_SPAN, 1)
    if parse_int(alert_id, 1, MAX_ID) is None or seconds is None:
        raise ButtonExpiredError("This button is damaged; use /alerts and /silence.")
    await apply_silence(update, context, alert_id, seconds)


async def apply_silence(update: Update, context: ContextTypes.DEFAULT_TYPE, target: str, seconds: float) -> None:
    """Store a silence and confirm it."""
    user = update.effective_user
    try:
        made = await asyncio.to_thread(metrics.silence, target, seconds,
                                       created_by=f"telegram:{user.id if user else '?'}",
                                       reason="silenced from chat")
    except metrics.AlertError as exc:
        raise NotFoundError(str(exc)) from exc
    await say(update, context, silenced(made, seconds))
