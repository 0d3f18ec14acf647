"""What the handlers share, kept in `application.bot_data`: the config, the index and small caches."""
from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot.config import BotConfig
from bot.health import GithubCache
from engine.queries import Index

KEY = "codebot"
# Page scopes (repository and path prefix) too long to ride in a button's callback data
# are kept here, by hash;
# bounded so a chatty group cannot grow it without end.
MAX_PREFIXES = 1024


@dataclass
class Services:
    """The bot's state: configuration, the index reader, button prefixes, the running scan."""

    config: BotConfig
    db_path: Path
    index: Index
    started_at: float
    prefixes: OrderedDict[str, str] = field(default_factory=OrderedDict)
    scan_task: asyncio.Task[Any] | None = None
    scan_request_id: str | None = None
    github_cache: GithubCache | None = None
    alert_task: asyncio.Task[Any] | None = None
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    def remember_prefix(self, prefix: str) -> str:
        """A short key for a path prefix, to put in callback data."""
        key = hashlib.blake2b(prefix.encode(), digest_size=5).hexdigest()
        self.prefixes[key] = prefix
        self.prefixes.move_to_end(key)
        while len(self.prefixes) > MAX_PREFIXES:
            self.prefixes.popitem(last=False)
        return key

    def prefix_of(self, key: str) -> str | None:
        """The prefix a key stands for, if still remembered."""
        return self.prefixes.get(key)

    @property
    def scan_root(self) -> Path:
        """The folder /scan works under."""
        return self.config.scan_root.resolve()


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The shared services of the application a handler runs in."""
    return context.application.bot_data[KEY]  # type: ignore[no-any-return]


def masks_code(svc: Services, update: Update) -> bool:
    """Whether code shown in this chat has its secrets masked: everywhere, unless the
    configuration lets a private chat see the code as it is."""
    private = update.effective_chat is not None and update.effective_chat.type == "private"
    return not (private and svc.config.unmask_code_in_private)
