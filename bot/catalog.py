"""What each command is, once: the least role that may run it, its arguments and its help
text, in the order of /help and of Telegram's command menus.

The configuration takes default roles from here, the handlers their usage lines,
and `bot.commands` pairs each entry with its handler (`COMMANDS`); a test checks
the README's table against it. Pure data: it imports nothing of the bot.
"""
from __future__ import annotations

from typing import Literal, NamedTuple

Role = Literal["user", "power_user", "admin"]
ROLES: tuple[Role, ...] = ("user", "power_user", "admin")


class Entry(NamedTuple):
    """One command as users see it."""

    role: Role
    args: str
    help: str


CATALOG: dict[str, Entry] = {
    "start": Entry("user", "", "what this bot does"),
    "help": Entry("user", "", "the commands you may use"),
    "status": Entry("user", "", "index, requests and alerts at a glance"),
    "health": Entry("user", "", "database, last scan, disk, GitHub API"),
    "duplicates": Entry("user", "[repo:NAME] [path-prefix] [top N]",
                        "the largest clone classes of the last scan (across repositories first)"),
    "dashboard": Entry("power_user", "", "status, latency, errors, duplication trend, alerts"),
    "errors": Entry("admin", "[window]", "top errors, e.g. /errors 24h"),
    "latency": Entry("admin", "[window]", "latency percentiles per operation"),
    "triage": Entry("admin", "<request_id|clone_id>", "explain a request, or show a clone in full"),
    "alerts": Entry("admin", "", "open alerts and silences"),
    "silence": Entry("admin", "<alert_id|rule> <duration>", "hold an alert back, e.g. /silence 3 2h"),
    "scan": Entry("admin", "[path]", "scan in the background and post the summary"),
}


# What inline buttons do beyond the commands, with the least role that may press them.
ACTIONS: dict[str, Role] = {
    "refactor": "power_user",  # the Refactor button under a clone: its change as a .patch
}


def usage(name: str) -> str:
    """The usage line of a command, e.g. `/errors [window] — top errors, e.g. /errors 24h`."""
    entry = CATALOG[name]
    return f"/{name} {entry.args}".rstrip() + f" — {entry.help}"
