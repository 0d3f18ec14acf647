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


# -- code ---------------------------------------------------------------------------

from metrics.sanitize import MASKED_LITERAL, binds_secret, is_secret_name, mask_code, mask_literal  # noqa: E402


@pytest.mark.parametrize(
    ("code", "secret"),
    [
        ('DB_PASSWORD = "hunter2"', "hunter2"),
        ("password: str = 'hunter2'", "hunter2"),
        ('login(user="bob", password="hunter2", timeout=3)', "hunter2"),
        ('settings = {"api_key": "k-1234", "name": "shop"}', "k-1234"),
        ('headers = {"X-Auth-Token": "tkn-99"}', "tkn-99"),
        ('headers["Authorization"] = "Basic Ym9iOmh1bnRlcjI="', "Ym9iOmh1bnRlcjI="),
        ('apiKey := "go-secret-1"', "go-secret-1"),
        ("const privateKey = `pk-js-77`;", "pk-js-77"),
        ("$conf = ['passwd' => 'php-pw'];", "php-pw"),
        ('client_secret = r"raw-secret"', "raw-secret"),
        ('if token == "let-me-in":', "let-me-in"),
        ('charge(source="tok_live_4eC39HqLyjWDarjtT1zdp7dc")', "tok_live_4eC39HqLyjWDarjtT1zdp7dc"),
        ('db = "postgres://app:s3cr3tpw@db:5432/x"', "s3cr3tpw"),
        ('KEY = """-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"""', "MIIEow"),
        ('send(to="ops-lead@shop.example.com")', "ops-lead@shop.example.com"),
    ],
)
def test_mask_code_hides_secret_literals_and_shapes(code, secret):
    """Literals bound to secret names (assignments, keywords, dict entries) and shaped secrets are masked."""
    masked = mask_code(code)
    assert secret not in masked
    assert "[REDACTED" in masked


@pytest.mark.parametrize(
    "code",
    [
        "token = make_token(user)",
        "if password == other_password:\n    return token",
        'author = "Jane Doe"',
        'settings = {"name": "shop", "oauth_url": "https://example.com/authorize"}',
        'def tokens(source) -> Tokens:\n    """Tokenize a whole file."""',
        "for token in stream:\n    yield token\n    self.remaining_budget_value -= 1",
        'empty_password = ""',
        "total = price * 4111111111111112",
    ],
)
def test_mask_code_leaves_ordinary_code_alone(code):
    """Names about secrets without a literal, other names' literals and prose stay as they are."""
    assert mask_code(code) == code


def test_masked_code_keeps_its_lines():
    """A masked multi-line literal keeps its line breaks, so the line numbers after it still hold."""
    code = 'secret = """one\ntwo\nthree"""\nnext_line = 1\n'
    masked = mask_code(code)
    assert masked.count("\n") == code.count("\n") and "one" not in masked
    assert mask_literal("'x'") == f"'{MASKED_LITERAL}'" and mask_literal('""') == '""'


def test_bound_literals_and_secret_names():
    """A literal is known as bound to a secret name wherever it occurs; names split on case and dashes."""
    code = 'name = "b2"\nlog("a1")\npassword = "a1"\n'
    assert binds_secret(code, '"a1"') and not binds_secret(code, '"b2"')
    assert all(map(is_secret_name, ["db_password", "apiKey", "X-Auth-Token", "SECRET_KEY", "auth"]))
    assert not any(map(is_secret_name, ["author", "oauth_url", "tokenizer", "keyboard"]))
