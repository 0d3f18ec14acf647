"""Settings of the metrics package, read from `[tool.codebot.metrics]` and `[tool.codebot.alerts.<rule>]`.

Example (pyproject.toml):

    [tool.codebot.metrics]
    retention = "30d"
    grafana_url = "https://grafana.example.com"   # alerts and /dashboard then link to the dashboard

    [tool.codebot.alerts.error_rate]
    warning = 0.10
    critical = 0.30
    for = "10m"
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from metrics.alerts import DEFAULT_RULES, Rule
from metrics.clock import parse_duration
from metrics.exceptions import ConfigError
from metrics.grafana import DashboardLink, dashboard_url, links_for


def _seconds(value: Any) -> float | None:
    return None if value is None else parse_duration(value)


def _http_url(value: Any) -> str | None:
    if value is None:
        return None
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("expected an http(s) URL such as https://grafana.example.com")
    # Links go into chat messages and logs; a password in them would leak.
    if parts.username or parts.password:
        raise ValueError("must not contain credentials")
    return str(value).strip().rstrip("/")


class RuleOverride(BaseModel):
    """Overrides for one alert rule; every field is optional."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    enabled: bool | None = None
    warning: float | None = None
    critical: float | None = None
    for_s: float | None = Field(default=None, alias="for")
    repeat_s: float | None = Field(default=None, alias="repeat")
    window_s: float | None = Field(default=None, alias="window")
    min_count: int | None = Field(default=None, ge=0)
    runbook: str | None = None
    dashboard: str | None = None

    _durations = field_validator("for_s", "repeat_s", "window_s", mode="before")(_seconds)
    _dashboard = field_validator("dashboard", mode="before")(_http_url)


class MetricsSettings(BaseModel):
    """Retention, the Grafana address and alert-rule overrides."""

    model_config = ConfigDict(extra="forbid")

    retention_s: float = Field(default=30 * 86400, alias="retention", gt=0)
    grafana_url: str | None = None
    alerts: dict[str, RuleOverride] = Field(default_factory=dict)

    _retention = field_validator("retention_s", mode="before")(_seconds)
    _grafana = field_validator("grafana_url", mode="before")(_http_url)

    @model_validator(mode="after")
    def _link_rules_to_grafana(self) -> MetricsSettings:
        # Every rule's alerts link to the dashboard unless the rule names its own; this
        # travels with the rule overrides, which is what configure() hands the alert manager.
        if self.grafana_url:
            url = dashboard_url(self.grafana_url)
            for rule in DEFAULT_RULES:
                override = self.alerts.get(rule.name) or RuleOverride()
                if override.dashboard is None:
                    self.alerts[rule.name] = override.model_copy(update={"dashboard": url})
        return self


def _where(error: Any) -> str:
    return ".".join(str(part) for part in error["loc"])


def settings_from_table(codebot: Mapping[str, Any]) -> MetricsSettings:
    """Validate the `[tool.codebot]` table's metrics and alerts parts."""
    data: dict[str, Any] = dict(codebot.get("metrics") or {})
    if "alerts" in codebot:
        data["alerts"] = codebot["alerts"]
    try:
        settings = MetricsSettings.model_validate(data)
    except (ValidationError, ConfigError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = _where(first)
            section = "tool.codebot.alerts" if where.startswith("alerts") else "tool.codebot.metrics"
            key = where.removeprefix("alerts.") if where.startswith("alerts") else where
            raise ConfigError(f"{section}.{key}: {first['msg']}") from exc
        raise
    known = {rule.name for rule in DEFAULT_RULES}
    for name in settings.alerts:
        if name not in known:
            raise ConfigError(
                f"tool.codebot.alerts.{name}: unknown alert rule; known rules: {', '.join(sorted(known))}"
            )
    return settings


def load_settings(pyproject: str | Path) -> MetricsSettings:
    """Read settings from a pyproject.toml; a missing file or table gives the defaults."""
    path = Path(pyproject)
    if not path.is_file():
        return MetricsSettings()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    return settings_from_table(document.get("tool", {}).get("codebot", {}))


def apply_overrides(rules: Sequence[Rule], overrides: Mapping[str, RuleOverride]) -> tuple[Rule, ...]:
    """Rules with thresholds and timings replaced by the overrides; checks warning <= critical."""
    result = []
    for rule in rules:
        override = overrides.get(rule.name)
        if override is not None:
            changes = {k: v for k, v in override.model_dump().items() if v is not None}
            rule = rule._replace(**changes)
        if rule.warning > rule.critical:
            raise ConfigError(
                f"tool.codebot.alerts.{rule.name}: warning ({rule.warning:g}) must not exceed "
                f"critical ({rule.critical:g})"
            )
        result.append(rule)
    return tuple(result)


def dashboard_links(settings: MetricsSettings | None = None) -> list[DashboardLink]:
    """Links for the bot's /dashboard: empty unless `grafana_url` is set in [tool.codebot.metrics].

    Without `settings`, they are read from ./pyproject.toml, as `python -m bot` and
    `python -m metrics` read them.
    """
    if settings is None:
        settings = load_settings(Path("pyproject.toml"))
    return links_for(settings.grafana_url)
