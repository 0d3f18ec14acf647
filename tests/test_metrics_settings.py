"""Tests of metrics.settings: [tool.codebot] overrides of retention and alert rules."""

from __future__ import annotations

import pytest

from metrics.alerts import DEFAULT_RULES
from metrics.exceptions import ConfigError
from metrics.settings import apply_overrides, load_settings, settings_from_table


def test_overrides_from_pyproject_change_the_rules(tmp_path):
    """Thresholds, durations and retention from pyproject.toml replace the defaults."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        "[tool.codebot]\nmin-lines = 5\n"
        "[tool.codebot.metrics]\nretention = \"7d\"\n"
        "[tool.codebot.alerts.error_rate]\nwarning = 0.1\ncritical = 0.3\nfor = \"10m\"\n"
        "[tool.codebot.alerts.new_clones]\nenabled = false\n"
    )
    settings = load_settings(pyproject)
    assert settings.retention_s == 7 * 86400
    rules = {r.name: r for r in apply_overrides(DEFAULT_RULES, settings.alerts)}
    assert (rules["error_rate"].warning, rules["error_rate"].critical, rules["error_rate"].for_s) == (0.1, 0.3, 600)
    assert rules["new_clones"].enabled is False
    assert rules["p95_latency"] == DEFAULT_RULES[1]


def test_missing_file_gives_defaults(tmp_path):
    """No pyproject.toml means the default settings."""
    assert load_settings(tmp_path / "pyproject.toml").retention_s == 30 * 86400


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"alerts": {"error_rat": {"warning": 0.1}}}, r"tool\.codebot\.alerts\.error_rat: unknown alert rule"),
        ({"alerts": {"error_rate": {"warn": 0.1}}}, r"tool\.codebot\.alerts\.error_rate\.warn"),
        ({"alerts": {"error_rate": {"for": "soon"}}}, r"tool\.codebot\.alerts\.error_rate\.for.*duration"),
        ({"metrics": {"retention": "0s"}}, r"tool\.codebot\.metrics\.retention"),
    ],
)
def test_bad_values_name_the_key(table, message):
    """Every invalid setting is a ConfigError whose message names the offending key."""
    with pytest.raises(ConfigError, match=message):
        settings_from_table(table)


def test_warning_above_critical_is_refused():
    """A warning threshold above the critical one is a mistake reported with both values."""
    settings = settings_from_table({"alerts": {"p95_latency": {"warning": 9000, "critical": 100}}})
    with pytest.raises(ConfigError, match="warning \\(9000\\) must not exceed critical \\(100\\)"):
        apply_overrides(DEFAULT_RULES, settings.alerts)
