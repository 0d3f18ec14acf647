"""Errors raised by the bot package, in one small tree.

    BotError
    ├── ConfigError        the bot's TOML configuration is missing, unreadable or invalid
    ├── UsageError         a command was typed wrong; the message is its usage line
    ├── NotFoundError      a clone, request or alert named in a command does not exist
    └── ButtonExpiredError an inline button refers to something the bot no longer holds
"""
from __future__ import annotations


class BotError(Exception):
    """Base class of every error the bot raises on purpose; its message is shown to the user."""


class ConfigError(BotError):
    """The configuration file cannot be read or holds an invalid value (the message names the key)."""


class UsageError(BotError):
    """A command with missing or malformed arguments; the message says how to type it."""


class NotFoundError(BotError):
    """The clone, request or alert a command names does not exist."""


class ButtonExpiredError(BotError):
    """A pressed button points at state the bot has forgotten (e.g. after a restart)."""
