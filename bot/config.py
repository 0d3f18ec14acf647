"""The bot's configuration: who may do what, where alerts go, and the defaults of each command.

Read from a TOML file (`--config`); every key is optional:

    admins = [111111111]              # Telegram user ids
    power_users = [222222222]
    users = [333333333]
    alert_chat_id = -1001234567890    # where alerts are pushed; none: alerts are not pushed
    github_token = "ghp_..."          # optional; else $GITHUB_TOKEN; shown in /health
    scan_root = "/srv/repo"           # /scan PATH is resolved under it (default: the current folder)
    alert_interval = "30s"            # how often the alert rules are evaluated; "0s" turns it off
    page_size = 5                     # clones per /duplicates page
    unmask_code_in_private = false    # true: code shown in a private chat keeps its secret literals

    [permissions]                     # override the default role of a command
    dashboard = "user"
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.catalog import ACTIONS, CATALOG, ROLES, Role
from bot.exceptions import ConfigError


# The user id the console acts as when the configuration names no admin.
CONSOLE_USER_ID = 1


def default_roles() -> Mapping[str, Role]:
    """Each command's least role as the catalog (`bot.catalog.CATALOG`) states it, in its order."""
    return _DEFAULT_ROLES


_DEFAULT_ROLES: Mapping[str, Role] = MappingProxyType(
    {name: entry.role for name, entry in CATALOG.items()})


class BotConfig(BaseModel):
    """Everything the bot is told by its configuration file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    admins: tuple[int, ...] = ()
    power_users: tuple[int, ...] = ()
    users: tuple[int, ...] = ()
    alert_chat_id: int | None = None
    github_token: str | None = Field(None, repr=False)
    github_api: str = "https://api.github.com"
    scan_root: Path = Path(".")
    alert_interval: float = Field(30.0, ge=0.0, description="seconds between alert evaluations")
    page_size: int = Field(5, ge=1, le=20)
    # Code views mask secret literals in every chat; a team may let a private chat see them.
    unmask_code_in_private: bool = False
    permissions: dict[str, Role] = Field(default_factory=dict)

    @field_validator("alert_interval", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        from metrics.clock import parse_duration
        from metrics.exceptions import ConfigError as DurationError

        try:
            return parse_duration(value)
        except DurationError as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("permissions")
    @classmethod
    def _known_commands(cls, value: dict[str, Role]) -> dict[str, Role]:
        known = {**default_roles(), **ACTIONS}
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"unknown command(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return value

    def role_of(self, user_id: int | None) -> Role | None:
        """The highest role the user id is listed under, or None for a stranger."""
        if user_id is None:
            return None
        for role, ids in (("admin", self.admins), ("power_user", self.power_users),
                          ("user", self.users)):
            if user_id in ids:
                return role  # type: ignore[return-value]
        return None

    def required_role(self, command: str) -> Role:
        """The least role that may run a command or press a button's action (unknown ones need admin)."""
        return self.permissions.get(command) or default_roles().get(command) \
            or ACTIONS.get(command, "admin")

    def allows(self, user_id: int | None, command: str) -> bool:
        """Whether the user may run the command."""
        role = self.role_of(user_id)
        return role is not None and ROLES.index(role) >= ROLES.index(self.required_role(command))

    def commands_for(self, role: Role) -> list[str]:
        """The commands a role may run, in the order of the help text."""
        rank = ROLES.index(role)
        return [c for c in default_roles() if ROLES.index(self.required_role(c)) <= rank]

    def console_user(self) -> ConsoleUser:
        """This config and the admin id the console speaks as (a stand-in admin when none is set)."""
        if self.admins:
            return ConsoleUser(self, self.admins[0])
        return ConsoleUser(self.model_copy(update={"admins": (CONSOLE_USER_ID,)}), CONSOLE_USER_ID)

    @property
    def github(self) -> str | None:
        """The GitHub token from the file, else from $GITHUB_TOKEN."""
        return self.github_token or os.environ.get("GITHUB_TOKEN") or None


class ConsoleUser(NamedTuple):
    """What the console runs with: the configuration and the admin id it speaks as."""

    config: BotConfig
    user_id: int


def load_config(path: Path | None) -> BotConfig:
    """Read and validate the TOML file; None gives the defaults (nobody may use the bot)."""
    if path is None:
        return BotConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"configuration file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the configuration file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    try:
        config = BotConfig(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: bad value for '{key}': {first['msg']}") from exc
    if not config.scan_root.is_absolute():
        config = config.model_copy(update={"scan_root": (path.parent / config.scan_root).resolve()})
    return config
