"""Formatting for Telegram: escaping, the 4096-character split, documents, buttons, permissions."""
from __future__ import annotations

import pytest

from bot.config import BotConfig
from bot.commands.index import parse_duplicates_args
from bot.commands.scan import resolve_scan_path
from bot.exceptions import UsageError
from bot.render import Code, Report, button, esc, to_document, to_messages, to_text


def test_everything_is_escaped():
    """Angle brackets and ampersands in user data cannot open tags."""
    assert esc("<script>&x") == "&lt;script&gt;&amp;x"


def test_short_report_is_one_message():
    """A report that fits is sent as one message."""
    assert to_messages(Report("t", ("hello\nworld",))) == ["hello\nworld"]


def test_long_report_is_split_between_lines_under_the_limit():
    """Two screens of lines become two messages, each within 4096 characters, no line cut."""
    lines = [f"line {i} " + "x" * 60 for i in range(100)]
    messages = to_messages(Report("t", ("\n".join(lines),)))
    assert messages is not None and len(messages) == 2
    assert all(len(m) <= 4096 for m in messages)
    assert "\n".join(messages).split("\n") == lines


def test_code_block_is_never_cut_and_goes_to_a_document_when_too_big():
    """A code block over the limit makes the report a document with highlighted, numbered code."""
    code = Code("a.py:10–500", "python", "\n".join(f"x_{i} = {i}" for i in range(500)), 10)
    report = Report("Clone c123", ("head", code))
    assert to_messages(report) is None
    page = to_document(report).decode()
    assert "<style>" in page and 'class="code"' in page and ">10<" in page.replace(" ", "")


def test_callback_data_over_64_bytes_is_refused():
    """Buttons check Telegram's 64-byte callback data limit."""
    assert button("ok", "dup:1:0:5:=billing/").callback_data == "dup:1:0:5:=billing/"
    with pytest.raises(ValueError):
        button("too long", "x" * 64)


def test_plain_text_for_the_console():
    """HTML answers become plain text, entities unescaped."""
    assert to_text("<b>a &lt; b</b>\n<pre><code>x = 1</code></pre>") == "a < b\nx = 1"


def test_duplicates_arguments():
    """`[path-prefix] [top N]` parses in any order; a bad N is a usage error."""
    assert parse_duplicates_args([], 5) == ("", 5, "")
    assert parse_duplicates_args(["billing/", "top", "3"], 5) == ("billing/", 3, "")
    assert parse_duplicates_args(["top", "2", "web"], 5) == ("web", 2, "")
    assert parse_duplicates_args(["repo:shop", "web/", "top", "2"], 5) == ("web/", 2, "shop")
    with pytest.raises(UsageError):
        parse_duplicates_args(["top", "0"], 5)
    with pytest.raises(UsageError):
        parse_duplicates_args(["a", "b"], 5)


def test_scan_paths_stay_under_the_scan_root(tmp_path):
    """/scan refuses paths outside the configured root."""
    (tmp_path / "src").mkdir()
    assert resolve_scan_path(tmp_path, ["src"]) == tmp_path / "src"
    with pytest.raises(UsageError):
        resolve_scan_path(tmp_path, ["../"])


def test_default_permission_table():
    """user < power_user < admin, with the seed's defaults, and strangers have no role."""
    config = BotConfig(admins=(1,), power_users=(2,), users=(3,))
    assert config.allows(3, "duplicates") and not config.allows(3, "dashboard")
    assert config.allows(2, "dashboard") and not config.allows(2, "triage")
    assert config.allows(1, "scan") and not config.allows(99, "help")
    assert BotConfig(users=(3,), permissions={"dashboard": "user"}).allows(3, "dashboard")


def test_answers_are_sanitized_and_titles_capped():
    """Every value shown passes the sanitizer; a caption and a lone title stay within their limits."""
    from bot.render import CAPTION_LIMIT, caption, esc_clip

    assert esc("db postgres://app:s3cr3t@db/x") == "db postgres://app:[REDACTED:password]@db/x"
    assert "hunter2" not in esc_clip("x" * 290 + " password=hunter2", 300)
    assert esc_clip("/very/long/path/" + "a" * 300, 20, tail=True).startswith("…")
    long_title = Report("Duplicates " + "<&>" * 30_000, ("line",))
    assert len(caption(long_title)) <= CAPTION_LIMIT
    assert all(len(m) <= 4096 for m in to_messages(Report("t" * 100_000, ())))


def test_code_blocks_are_shown_as_given():
    """Code is escaped but not run through the log sanitizer, which would mangle `token == other`."""
    from bot.render import code_html

    assert "if token == other:" in code_html(Code("a.py:1–1", "python", "if token == other:"))


def test_numbers_and_durations_are_ascii_and_bounded():
    """Unicode digits, huge numbers and overlong durations are refused; echoes are capped and visible."""
    from bot.args import parse_int, parse_span, quoted

    assert parse_int("42", 1, 50) == 42
    assert [parse_int(t, 1, 50) for t in ("³", "①", "٣", "0", "51", "9" * 40, "-1", " 4", "")] == [None] * 9
    assert parse_span("2h", 1) == 7200 and parse_span("1.5m", 1) == 90
    assert [parse_span(t, 1) for t in ("9" * 25 + "s", "٣h", "366d", "0s", "-1h", "1e9h", "h")] == [None] * 7
    assert quoted("a\x00b") == "'a\\x00b'" and len(quoted("x" * 5000)) < 70


def test_an_alert_with_a_long_key_fits_one_message():
    """An alert about a very long root path is capped part by part, within one message."""
    from bot.alerts import alert_html
    from metrics.models import Alert

    path = "/srv/" + "deep/" * 2000
    alert = Alert(id=1, rule="duplication_rising", key=path, state="firing", severity="warning",
                  title=f"Duplication rising in {path}", description=f"{path} went up", operations=[],
                  snapshot={}, suggestions=[f"look at {path}"] * 20, runbook=path, value=1.0, threshold=0.5,
                  started_at=0.0, fired_at=0.0, last_notified_at=None, resolved_at=None, updated_at=0.0,
                  notifications=0)
    assert len(alert_html(alert, "firing")) <= 4096
