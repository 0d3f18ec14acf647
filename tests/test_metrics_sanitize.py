"""Tests of metrics.sanitize: every secret pattern is redacted and ordinary text is left alone."""

from __future__ import annotations

import pytest

from metrics.sanitize import REDACTED, sanitize, sanitize_value

TELEGRAM = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"


@pytest.mark.parametrize(
    ("text", "secret", "label"),
    [
        (f"starting bot with {TELEGRAM}", TELEGRAM, "telegram_token"),
        (f"GET https://api.telegram.org/bot{TELEGRAM}/getMe", TELEGRAM, "telegram_token"),
        ("login failed: password=hunter2 for bob", "hunter2", "secret"),
        ('{"password": "hunter2", "user": "bob"}', "hunter2", "secret"),
        ("API_KEY: 9f8e7d6c5b4a39281706", "9f8e7d6c5b4a39281706", "secret"),
        ("export OPENAI=sk-abcdefghijklmnopqrstuvwxyz123456", "sk-abcdefghijklmnopqrstuvwxyz123456", "api_key"),
        ("aws AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE", "api_key"),
        ("push with ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "api_key"),
        ("Authorization: Bearer abcdef1234567890abcdef", "abcdef1234567890abcdef", "token"),
        ("db postgres://admin:s3cr3tpw@db.example.com:5432/app", "s3cr3tpw", "password"),
        ("paid with 4111 1111 1111 1111 today", "4111 1111 1111 1111", "card"),
        ("card 5500-0055-5555-5559", "5500-0055-5555-5559", "card"),
        ("amex 378282246310005", "378282246310005", "card"),
        ("contact bob.smith+ci@example.co.uk now", "bob.smith+ci@example.co.uk", "email"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
         "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt"),
        ("key -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- end", "MIIEow", "private_key"),
    ],
)
def test_each_secret_pattern_is_redacted(text, secret, label):
    """A secret of each kind disappears and a labelled marker takes its place."""
    clean = sanitize(text)
    assert secret not in clean
    assert f"[REDACTED:{label}]" in clean


@pytest.mark.parametrize(
    "text",
    [
        "req-0123456789ab finished in 12.5 ms",
        "commit 9c85b1f3a2d4e5f60718293a4b5c6d7e8f901234 on main",
        "src/engine/scan.py:120: duplicated 14 lines (3.25%)",
        "python 3.11.7 at 1700000000 and 1700000000123 ms",
        "order 4111111111111112 is not a Luhn-valid card",
        "the token count is 512; see the password reset docs",
        "user 42 ran /duplicates top 10",
        "",
    ],
)
def test_ordinary_text_is_untouched(text):
    """Ids, hashes, paths, versions, timestamps and prose about secrets stay as they are."""
    assert sanitize(text) == text


def test_sanitize_value_walks_structures_and_drops_secret_keys():
    """Nested values are sanitized and any value under a secret-looking key is replaced whole."""
    value = {
        "token": 12345,
        "headers": {"Authorization": "Basic xyz", "X-Trace": "ok"},
        "attempts": ["mail bob@example.com", 3, None],
        "db_password": "",
    }
    assert sanitize_value(value) == {
        "token": REDACTED,
        "headers": {"Authorization": REDACTED, "X-Trace": "ok"},
        "attempts": ["mail [REDACTED:email]", 3, None],
        "db_password": "",
    }
