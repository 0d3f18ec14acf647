"""Alerts pushed to the configured chat: the Telegram notifier and the loop that evaluates the rules."""
from __future__ import annotations

import asyncio

import structlog
from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode

import metrics
from bot.render import esc_clip, silence_buttons
from metrics.models import Alert

log = structlog.get_logger("bot.alerts")

_HEAD = {"firing": "🚨 FIRING", "repeat": "🔁 STILL FIRING", "escalated": "🔴 ESCALATED", "resolved": "✅ RESOLVED"}


def alert_html(alert: Alert, event: str) -> str:
    """An alert notification as Telegram HTML (the text of `metrics.format_alert`, with emphasis),
    each part capped so that the whole stays within one message (a key may be a long path)."""
    lines = [f"<b>{_HEAD.get(event, event.upper())}: {esc_clip(alert.title, 200)}</b>",
             esc_clip(alert.description, 1000)]
    if event != "resolved" and alert.suggestions:
        lines.append("<b>Suggested actions</b>")
        lines += [f"• {esc_clip(action, 300)}" for action in alert.suggestions[:6]]
    if alert.runbook:
        lines.append(f"Runbook: {esc_clip(alert.runbook, 300)}")
    lines.append(f"alert #{alert.id} · <code>/silence {alert.id} 1h</code>")
    return "\n".join(lines)


class TelegramNotifier:
    """Sends each alert notification to one chat, with buttons to silence it."""

    def __init__(self, bot: Bot, chat_id: int) -> None:
        self.bot = bot
        self.chat_id = chat_id

    async def notify(self, alert: Alert, event: str) -> None:
        keyboard = InlineKeyboardMarkup([silence_buttons(alert.id)]) if event != "resolved" else None
        await self.bot.send_message(self.chat_id, alert_html(alert, event), parse_mode=ParseMode.HTML,
                                    reply_markup=keyboard)


async def evaluate_forever(interval_s: float) -> None:
    """Evaluate the alert rules every `interval_s` seconds until cancelled; errors are logged, not fatal."""
    while True:
        try:
            await metrics.aevaluate_alerts()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bad evaluation must not stop the next one
            log.error("bot.alert_evaluation_failed", error=repr(exc))
        await asyncio.sleep(interval_s)
