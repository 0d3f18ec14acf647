"""Tests of metrics.playbook: actions per alert rule and likely causes of errors."""

from __future__ import annotations

from metrics.alerts import DEFAULT_RULES
from metrics.playbook import alert_actions, explain_error


def test_every_default_rule_has_its_own_actions():
    """Each rule of the default table has specific suggested actions."""
    assert DEFAULT_RULES
    for rule in DEFAULT_RULES:
        assert len(alert_actions(rule.name)) >= 2


def test_causes_come_from_type_code_or_message():
    """The error type, an errno code, or words in the message each select the matching explanation."""
    assert "does not exist" in explain_error("FileNotFoundError", None, None)[0]
    # A type the table does not name (a neutral one): only its errno code selects the cause.
    assert "does not exist" not in explain_error("vendor.LoadError", None, None)[0]
    assert "does not exist" in explain_error("vendor.LoadError", "ENOENT", None)[0]
    assert "locked" in explain_error("sqlite3.OperationalError", None, "database is locked")[0]
    assert "rate-limited" in explain_error("telegram.error.RetryAfter", None, "Flood control")[0]


def test_unknown_errors_still_get_a_cause_and_actions():
    """An unrecognised error is described by its type and message, with generic next steps."""
    cause, actions = explain_error("app.WeirdError", None, "gears slipped")
    assert cause == "WeirdError raised inside the operation: gears slipped"
    assert actions
