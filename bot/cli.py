"""The command line: `python -m bot [--db PATH] [--config FILE] [--console] [--webhook URL ...]`.

Exit codes: 0 done (the console reached the end of its input, or the bot was
stopped); 2 bad usage or input: no token, a bad configuration, an unusable
database (the message is on stderr).
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
from pathlib import Path
from typing import Sequence

from telegram import Update

import metrics
from bot.config import load_config
from bot.exceptions import BotError
from engine.tracking import register_playbook
from metrics.logging import configure_logging

EXIT_OK, EXIT_USAGE = 0, 2
# The bot's suggested actions for the alert rules, beside the engine's and metrics' own.
BOT_PLAYBOOK = {
    "new_clones": ("Review the clones of the last scans with /duplicates, newest first.",),
    "error_rate": ("Triage a failed request from the chat: /triage <request_id>.",),
}
NO_TOKEN = (
    "python -m bot: no Telegram bot token. Set TELEGRAM_BOT_TOKEN to the token @BotFather gave you,\n"
    "e.g.  export TELEGRAM_BOT_TOKEN=123456789:AAE...  and run again;\n"
    "or try the bot without Telegram:  python -m bot --console"
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; the help carries examples."""
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="CodeBot's Telegram ChatOps front end (long polling by default).",
        epilog="examples: TELEGRAM_BOT_TOKEN=... python -m bot --config bot.toml --db .codebot/index.db\n"
               "          echo '/duplicates top 3' | python -m bot --console --db .codebot/index.db",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, metavar="PATH",
                        help="the index and metrics database (env CODEBOT_DB; default .codebot/index.db)")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="TOML file with roles, alert chat, GitHub token (env CODEBOT_BOT_CONFIG)")
    parser.add_argument("--console", action="store_true",
                        help="read commands from stdin as the configured admin; print plain-text answers")
    parser.add_argument("--webhook", metavar="URL", help="receive updates on a webhook at this public URL")
    parser.add_argument("--listen", default="127.0.0.1", help="webhook listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8443, help="webhook port (default 8443)")
    parser.add_argument("--api-url", metavar="URL",
                        help="a self-hosted Bot API server, e.g. http://127.0.0.1:8081/bot")
    parser.add_argument("--log-level", default=None, help="debug, info, warning or error")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot (or the console); returns the exit code."""
    args = build_parser().parse_args(argv)
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not args.console and not token:
        print(NO_TOKEN, file=sys.stderr)
        return EXIT_USAGE
    if args.webhook and importlib.util.find_spec("tornado") is None:
        print("python -m bot: --webhook needs python-telegram-bot's webhooks extra: "
              "pip install 'python-telegram-bot[webhooks]'", file=sys.stderr)
        return EXIT_USAGE
    config_path = args.config or (Path(os.environ["CODEBOT_BOT_CONFIG"])
                                  if os.environ.get("CODEBOT_BOT_CONFIG") else None)
    try:
        config = load_config(config_path)
    except BotError as exc:
        print(f"python -m bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    register_playbook()
    metrics.register_actions(BOT_PLAYBOOK)
    db = args.db or metrics.default_db_path()
    try:
        # Alert thresholds from [tool.codebot.alerts.*] of the project the bot runs in.
        runtime = metrics.configure(db, settings=metrics.load_settings(Path("pyproject.toml")))
    except metrics.MetricsError as exc:
        print(f"python -m bot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(runtime, level=args.log_level or ("warning" if args.console else "info"))
    from bot.app import build_application

    try:
        if args.console:
            from bot.console import ConsoleRequest, run_console

            console = config.console_user()
            request = ConsoleRequest(sys.stdout, console.user_id)
            app = build_application(console.config, token or "console", db, request=request, alert_loop=False)
            return asyncio.run(run_console(app, sys.stdin, console.user_id, request))
        if not config.admins and not config.power_users and not config.users:
            print("python -m bot: warning: the configuration names no users, so every command "
                  "will be refused; see README 'Chat bot'", file=sys.stderr)
        app = build_application(config, token, db, base_url=args.api_url)
        _forward_errors_to_sentry(runtime)
        if args.webhook:
            app.run_webhook(listen=args.listen, port=args.port, url_path=token.split(":")[0],
                            webhook_url=args.webhook.rstrip("/") + "/" + token.split(":")[0],
                            allowed_updates=Update.ALL_TYPES)
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES)
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_OK
    finally:
        metrics.shutdown()


def _forward_errors_to_sentry(runtime: metrics.Runtime) -> None:
    """With SENTRY_DSN set (and the sentry extra), the bot's failed requests go to Sentry as
    they are stored; the thread ends with the process."""
    import threading

    from metrics import sentry

    if sentry.setup(os.environ, sys.stderr):
        sentry.start_forwarding(runtime.read_store, threading.Event(), sys.stderr)
