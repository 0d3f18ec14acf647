"""Hostile input through the whole bot: python-telegram-bot's HTTP stack against the Bot API stand-in,
which refuses what Telegram refuses (oversize texts and captions, unparsable HTML)."""
from __future__ import annotations

import asyncio
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs
from telegram.ext import AIORateLimiter

import metrics
from bot.app import build_application
from bot.config import BotConfig
from bot.commands import COMMANDS
from bot.testing import CAPTION_LIMIT, TEXT_LIMIT, Call, FakeBotApi, polling, refusal, utf16_length, visible_text
from engine.config import load_settings
from engine.scan import scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ADMIN = 101
SEED = 20261130
LINES = 1000
FIRST_CHAT = 10_000  # each line is sent from its own private chat, so its answers can be told apart
FAILED = ("Sorry, that failed", "internal error")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[BotConfig, Path]:
    """A small tree scanned into a real index with the metrics on it; the bot may /scan under it."""
    tree = tmp_path / "repo"
    shutil.copytree(FIXTURES / "shop" / "billing", tree / "billing")
    db = tmp_path / "index.db"
    scan([tree], load_settings(tree, {"jobs": 1}), db)
    metrics.configure(db, background=False, notifiers=[])
    yield BotConfig(admins=(ADMIN,), scan_root=tree, alert_interval=0), db
    metrics.shutdown()


# -- the hostile lines ------------------------------------------------------------------

UNICODE_DIGITS = ["³", "①", "٣", "５", "𝟗", "⁹", "Ⅻ", "½", "٣٤", "০", "߁", "𝟘𝟙"]
HUGE_NUMBERS = ["99999999999999999999999", "9" * 60, "-1", "0", "1e309", "1e9", "nan", "inf", "-0",
                "0x1F", "1_000", "+5", "007", "18446744073709551616", "9223372036854775808", "3.5"]
DURATIONS = ["9999999999999999999999999s", "1e9h", "-1h", "0s", "1.5h", "١h", "³h", "1hh", "h", "ms",
             "10000000000w", "1.0000001s", "999999999w", "366d", "1h", "30m", "7d", "0.0001ms", "∞s"]
CONTROL = ["\x00", "\x01", "\x1b[31mred", "\u202eevil", "\u200b", "\x7f", "\x08\x08", "\ufeff", "\u2028", "\x85"]
HTML = ["<b>", "</code>", "<script>alert(1)</script>", "&amp;", "&#0;", "<a href='x'>y</a>", "]]>", "<pre>",
        "&", "<", ">", "<br/>", '"><img src=x>', "&lt;b&gt;"]
PATHS = ["../../etc/passwd", "/etc/passwd", "~", ".", "..", "%2e%2e%2f", "C:\\Windows", "file:///etc",
         "//server/share", "billing/../../..", "./././", "\\..\\..", "billing", "billing/", "/", "billing/*",
         "billing/invoice.py", "-rf", "--help", "$(id)", "`id`", "billing/%s%n"]
IDS = ["req-0123456789ab", "req-zzzzzzzzzzzz", "req-", "c" + "f" * 40, "cdeadbeef", "c" * 50, "error_rate",
       "scan_failures", "*", "top"]
UNKNOWN = ["/foo", "/dup", "/duplicates@other_bot", "/DUPLICATES", "/scan@codebot_test_bot", "/ßcan", "/1234",
           "/", "/start@", "/help@@", "/𝟗", "/press"]


def _long(rng: random.Random) -> str:
    alphabet = "a/.<>&'\"\\%${}0123456789³①٣ \u202e\x00xyzé漢😀"
    if rng.random() < 0.3:
        return "a/" * rng.randint(200, 2000)
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(100, 4000))).replace(" ", "_")


def _argument(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return _long(rng)
    pool = [UNICODE_DIGITS, HUGE_NUMBERS, DURATIONS, CONTROL, HTML, PATHS, IDS, ["top"]][kind - 1]
    return rng.choice(pool)


def hostile_lines(seed: int = SEED, count: int = LINES) -> list[str]:
    """`count` command lines built to break a bot: every command with odd arguments, unknown commands."""
    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        command = rng.choice(UNKNOWN) if rng.random() < 0.12 else "/" + rng.choice(list(COMMANDS))
        args = [_argument(rng) for _ in range(rng.choice((0, 1, 1, 2, 2, 2, 3, 4)))]
        line = " ".join([command, *args])
        while utf16_length(line) > TEXT_LIMIT:  # Telegram delivers no longer message
            line = line[:-100]
        lines.append(line)
    return lines


# -- checks -----------------------------------------------------------------------------------


def answers(api: FakeBotApi, chat: int) -> list[Call]:
    return api.sent(("sendMessage", "sendDocument"), chat_id=chat)


def answered(api: FakeBotApi) -> set[int]:
    return {int(c.params["chat_id"]) for c in api.sent(("sendMessage", "sendDocument"))}


def within_limits(call: Call) -> bool:
    """What Telegram shows of the call is within its limits (the stand-in checks it too)."""
    field, limit = ("caption", CAPTION_LIMIT) if call.method == "sendDocument" else ("text", TEXT_LIMIT)
    return utf16_length(visible_text(str(call.params.get(field, "")), call.params.get("parse_mode"))) <= limit


def failures(api: FakeBotApi, logs: list[dict[str, Any]]) -> list[str]:
    """Every sign of an internal error: refused calls, failure answers, errors logged, audited errors."""
    found = [f"refused {c.method}: {c.description}" for c in api.rejected()]
    found += [f"answer: {c.params.get('text', '')[:120]}" for c in api.sent()
              if any(word in str(c.params.get("text", "")) for word in FAILED)]
    found += [f"log: {e}" for e in logs if e.get("log_level") in ("error", "critical", "exception")]
    metrics.flush()
    trail = metrics.get_runtime().read_store().audit_log(limit=100_000)
    found += [f"audit: {row['action']} {row['outcome']}" for row in trail if row["outcome"] == "error"]
    return found


async def _send_all(api: FakeBotApi, cfg: BotConfig, db: Path, lines: list[str]) -> None:
    # Telegram's 30 messages a second would make this take a minute; the stand-in has no such limit.
    app = build_application(cfg, api.token, db, base_url=api.base_url, base_file_url=api.base_file_url,
                            rate_limiter=AIORateLimiter(overall_max_rate=0, group_max_rate=0))
    async with polling(app):
        for number, line in enumerate(lines):
            api.push_command(ADMIN, line, chat_id=FIRST_CHAT + number)
        chats = set(range(FIRST_CHAT, FIRST_CHAT + len(lines)))
        await asyncio.to_thread(api.wait_for, lambda: chats <= answered(api), 120)


# -- tests ----------------------------------------------------------------------------------------


def test_generated_lines_are_reproducible_and_hostile():
    """The same seed gives the same lines, all within Telegram's message size, of every kind asked for."""
    lines = hostile_lines()
    assert lines == hostile_lines() and len(lines) == LINES
    assert all(utf16_length(line) <= TEXT_LIMIT for line in lines)
    text = "\n".join(lines)
    for sample in ("³", "①", "99999999999999999999999", "\x00", "<script>", "../", "/foo", "a/a/a/"):
        assert sample in text


def test_a_thousand_hostile_lines_get_answers_within_limits_and_no_internal_error(setup):
    """1,000 seeded hostile command lines: every one answered, every answer within Telegram's limits,
    no internal error anywhere (answers, logs, audit trail), nothing refused by the stand-in."""
    cfg, db = setup
    lines = hostile_lines()
    with capture_logs() as logs, FakeBotApi() as api:
        asyncio.run(asyncio.wait_for(_send_all(api, cfg, db, lines), 240))
        sent = api.sent(("sendMessage", "sendDocument", "editMessageText"))
        problems = failures(api, logs)
    chats = answered(api)
    unanswered = [line[:80] for n, line in enumerate(lines) if FIRST_CHAT + n not in chats]
    print(f"\nhostile lines sent: {len(lines)}; answers: {len(sent)}; refused by the stand-in: "
          f"{len(api.rejected())}; internal errors: {len(problems)}")
    assert not unanswered
    assert not problems, problems[:10]
    assert all(within_limits(call) for call in sent)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/silence 99999999999999999999999 1h", "is not an alert id"),
        ("/silence error_rate 9999999999999999999999999s", "is not a duration of 1s to 365d"),
        ("/silence error_rate ٣h", "is not a duration"),
        ("/duplicates top ³", "N is 1..50"),
        ("/duplicates top ①", "N is 1..50"),
        ("/duplicates top 99999999999999999999", "N is 1..50"),
        ("/errors 99999999999999999999999999h", "is not a window"),
        ("/scan " + "a/" * 2000, "is not a path the scan root can hold"),
        ("/scan " + "a/" * 500, "does not exist under the scan root"),
        ("/scan bad\x00name", "is not a path the scan root can hold"),
        ("/triage " + "<&>" * 1300, "is neither a request id"),
        ("/silence " + "x" * 4000 + " 1h", "is not an alert id"),
        ("/" + "y" * 4000, "I don't know"),
        ("/duplicates " + "p" * 4000, "No clone classes here"),
    ],
)
def test_reported_inputs_get_a_clear_answer(setup, line, expected):
    """The inputs of the issue: numbers beyond bounds or in other scripts, a path too long for the
    system, arguments echoed back — each answered plainly, capped, and within the limits."""
    cfg, db = setup

    async def scenario(api: FakeBotApi) -> list[Call]:
        app = build_application(cfg, api.token, db, base_url=api.base_url, base_file_url=api.base_file_url)
        async with polling(app):
            api.push_command(ADMIN, line)
            return await asyncio.to_thread(api.wait_for, lambda: answers(api, ADMIN))

    with capture_logs() as logs, FakeBotApi() as api:
        [answer] = asyncio.run(asyncio.wait_for(scenario(api), 30))
        assert not failures(api, logs)
    shown = answer.params.get("text") or answer.params.get("caption", "")
    assert expected in visible_text(shown, "HTML")
    assert within_limits(answer) and utf16_length(shown) <= 1000


@pytest.mark.parametrize("data", ["dup:99999999999999999999:0:5:=", "dup:1:³:5:=", "dup:1:0:0:=", "dup:1:0:5",
                                  "dup:1:0:5:#nothing", "sil:1:9999999999999999h", "sil:①:1h", "code:../../etc",
                                  "nonsense", ""])
def test_forged_buttons_are_answered_as_damaged(setup, data):
    """Callback data nobody's button carries is refused as damaged or unknown, never an internal error."""
    cfg, db = setup

    async def scenario(api: FakeBotApi) -> list[Call]:
        app = build_application(cfg, api.token, db, base_url=api.base_url, base_file_url=api.base_file_url)
        async with polling(app):
            message = {"message_id": 5, "date": 0, "chat": {"id": ADMIN, "type": "private"}, "text": "x"}
            api.push_button(ADMIN, data, message)
            return await asyncio.to_thread(api.wait_for, lambda: answers(api, ADMIN))

    with capture_logs() as logs, FakeBotApi() as api:
        [answer] = asyncio.run(asyncio.wait_for(scenario(api), 30))
        assert not failures(api, logs)
    assert any(word in answer.params["text"] for word in ("damaged", "not known", "No clone", "restart"))


def test_stand_in_refuses_what_telegram_refuses():
    """Over 4096 visible characters, a caption over 1024, broken HTML, empty text, long callback data."""
    assert refusal("sendMessage", {"text": "&lt;" * 4096, "parse_mode": "HTML"}) is None
    assert refusal("sendMessage", {"text": "x" * 4097}) == "Bad Request: message is too long"
    assert refusal("sendMessage", {"text": "😀" * 2049}) == "Bad Request: message is too long"
    assert refusal("editMessageText", {"text": "x" * 4097}) == "Bad Request: MESSAGE_TOO_LONG"
    assert refusal("sendDocument", {"caption": "x" * 1025}) == "Bad Request: message caption is too long"
    assert refusal("sendMessage", {"text": "<b>open", "parse_mode": "HTML"}).startswith(
        "Bad Request: can't parse entities")
    assert refusal("sendMessage", {"text": "<br/>", "parse_mode": "HTML"}).startswith(
        "Bad Request: can't parse entities")
    assert refusal("sendMessage", {"text": "  "}) == "Bad Request: message text is empty"
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]}
    assert refusal("sendMessage", {"text": "x", "reply_markup": markup}) == "Bad Request: BUTTON_DATA_INVALID"
