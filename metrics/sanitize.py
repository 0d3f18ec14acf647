"""Redact secrets and personal data from text before it is stored or sent.

Patterns run in a fixed order: whole secrets with a recognisable shape first
(private keys, JWTs, Telegram bot tokens, provider API keys), then secrets
announced by their context (`password=...`, `Authorization: Bearer ...`,
credentials inside URLs), then card numbers (only Luhn-valid ones, so ids and
timestamps survive) and e-mail addresses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

REDACTED = "[REDACTED]"

# Words that make a key or a name secret, whatever its value looks like.
_SECRET_WORDS = (r"password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|"
                 r"private[_-]?key|authorization|auth|credentials?|cookie|session[_-]?id")
# Keys whose value is a secret whatever it looks like.
SECRET_KEYS = re.compile(rf"(?i)^(?:.*[_-])?(?:{_SECRET_WORDS})$")


class Pattern(NamedTuple):
    """One redaction rule: a compiled regex and its replacement."""

    name: str
    regex: re.Pattern[str]
    replace: str | Callable[[re.Match[str]], str]


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> str:
    digits = re.sub(r"[ -]", "", match.group(0))
    if 13 <= len(digits) <= 19 and _luhn_ok(digits):
        return "[REDACTED:card]"
    return match.group(0)


def _keep_key(label: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return f"{match.group('key')}[REDACTED:{label}]"

    return replace


PATTERNS: tuple[Pattern, ...] = (
    Pattern(
        "private_key",
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
            re.DOTALL,
        ),
        "[REDACTED:private_key]",
    ),
    Pattern(
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),
        "[REDACTED:jwt]",
    ),
    Pattern(
        "telegram_token",
        re.compile(r"(?<![\w])(?:bot)?\d{6,12}:[A-Za-z0-9_-]{30,40}(?![\w-])"),
        "[REDACTED:telegram_token]",
    ),
    Pattern(
        "api_key",
        re.compile(
            r"\b(?:sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"
            r"|(?:sk|pk|rk|tok)_(?:live|test)_[A-Za-z0-9]{16,}"
            r"|gh[pousr]_[A-Za-z0-9]{30,}"
            r"|github_pat_[A-Za-z0-9_]{30,}"
            r"|glpat-[A-Za-z0-9_-]{20,}"
            r"|xox[abprs]-[A-Za-z0-9-]{10,}"
            r"|AKIA[0-9A-Z]{16}"
            r"|AIza[0-9A-Za-z_-]{35})"
        ),
        "[REDACTED:api_key]",
    ),
    Pattern(
        "bearer",
        re.compile(r"(?i)(?P<key>\b(?:bearer|token|basic)[ \t]+)(?=[A-Za-z0-9._~+/=-]{16,})[A-Za-z0-9._~+/=-]+"),
        _keep_key("token"),
    ),
    Pattern(
        "url_credentials",
        re.compile(r"(?P<key>\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)", re.IGNORECASE),
        _keep_key("password"),
    ),
    Pattern(
        "assignment",
        re.compile(
            r"(?i)(?P<key>[\"']?\b[\w-]*(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey"
            r"|access[_-]?key|private[_-]?key|authorization|credentials?)[\"']?\s*[:=]\s*[\"']?)"
            r"(?!\[REDACTED|(?:bearer|basic|token)\s+\[REDACTED)[^\s\"',;&}]+"
        ),
        _keep_key("secret"),
    ),
    Pattern(
        "card",
        re.compile(r"(?<![\w.-])[2-6]\d{3}(?:[ -]?\d){9,15}(?![\w.-])"),
        _card,
    ),
    Pattern(
        "email",
        re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"),
        "[REDACTED:email]",
    ),
)


def sanitize(text: str) -> str:
    """Return `text` with tokens, passwords, API keys, card numbers and e-mails redacted."""
    if not text:
        return text
    for pattern in PATTERNS:
        text = pattern.regex.sub(pattern.replace, text)
    return text


def sanitize_value(value: Any, *, _depth: int = 0) -> Any:
    """Sanitize every string inside a JSON-like value; values under secret keys are dropped."""
    # Deeply nested input would otherwise recurse without bound.
    if _depth > 20:
        return REDACTED
    if isinstance(value, str):
        return sanitize(value)
    if isinstance(value, Mapping):
        clean: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if SECRET_KEYS.match(name) and item not in (None, ""):
                clean[name] = REDACTED
            else:
                clean[name] = sanitize_value(item, _depth=_depth + 1)
        return clean
    if isinstance(value, (list, tuple, set, frozenset)):
        return [sanitize_value(item, _depth=_depth + 1) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return sanitize(str(value))


# -- source code ---------------------------------------------------------------
# Code needs its own rule for secrets announced by context: the log rule above
# (`password=...`) would also eat `password == other` or `token = make()`. In
# code a secret is a string literal bound to a secret-looking name: assigned
# (`db_password = "..."`, `apiKey := "..."`), passed (`login(token="...")`),
# or a dict/object entry (`{"api_key": "..."}`, `auth: '...'`, `'pwd' => '...'`).

_CODE_PATTERNS = tuple(p for p in PATTERNS if p.name != "assignment")
_NAME_WORDS = re.compile(rf"(?:^|_)(?:{_SECRET_WORDS.replace('[_-]', '_')})s?(?:_|$)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# A name bound to what follows, on one line (a docstring after `-> Token:` is no value).
_BINDING = r"""(?<![\w$-])(?P<name>[A-Za-z_$][\w$-]*)
    ["'`]?\]?                                        # the end of a quoted key or a subscript
    (?:[ \t]*:[ \t]*[A-Za-z_][\w.\[\], |]{0,60}?(?=[ \t]*=[^=]))?   # a type annotation
    [ \t]*(?::=|==|!=|=>|=|:)[ \t]*
    (?:[rRbBuUfF]{1,2}(?=["']))?                     # a string prefix: not part of the literal
"""
_LITERAL = r"""(?P<literal>
      (?P<q3>\"\"\"|''')(?:\\.|(?!(?P=q3))[^\\])*(?P=q3)
    | (?P<q1>["'`])(?:\\.|(?!(?P=q1))[^\\\n])*(?P=q1))"""
_BOUND = re.compile(_BINDING + _LITERAL, re.VERBOSE)
_BOUND_BEFORE = re.compile(_BINDING + r"\Z", re.VERBOSE)
_BEFORE_WINDOW = 160  # characters before a literal that may hold its binding
MASKED_LITERAL = "[REDACTED:secret]"


def is_secret_name(name: str) -> bool:
    """Whether a name or key (`db_password`, `apiKey`, `X-Auth-Token`) announces a secret."""
    snake = _CAMEL.sub("_", name).replace("-", "_").lower()
    return bool(_NAME_WORDS.search(snake))


def mask_literal(literal: str) -> str:
    """A string literal with its content masked; its quotes and line breaks (so the
    line numbers of the code after it) are kept, and an empty one hides nothing."""
    quote = literal[:3] if literal[:3] in ('"""', "'''") else literal[:1]
    if len(literal) <= 2 * len(quote):
        return literal
    return quote + MASKED_LITERAL + "\n" * literal.count("\n") + quote


def binds_secret(code: str, literal: str) -> bool:
    """Whether `code` binds the string literal (quotes included, no prefix) to a secret-looking name."""
    at = code.find(literal) if literal[:1] in ("'", '"', "`") else -1
    while at >= 0:
        before = _BOUND_BEFORE.search(code, max(0, at - _BEFORE_WINDOW), at)
        if before and is_secret_name(before.group("name")):
            return True
        at = code.find(literal, at + 1)
    return False


def mask_code(code: str) -> str:
    """Source code with secret-bound literals and secret-shaped text (keys, tokens, e-mails) masked.

    Unlike `sanitize`, the code around a secret is left as it is, so the
    masked text still reads as the code it was.
    """
    if not code:
        return code
    pieces, at = [], 0
    for match in _BOUND.finditer(code):
        if is_secret_name(match.group("name")):
            start, end = match.span("literal")
            pieces += [code[at:start], mask_literal(match.group("literal"))]
            at = end
    code = "".join(pieces) + code[at:]
    for pattern in _CODE_PATTERNS:
        code = pattern.regex.sub(pattern.replace, code)
    return code
