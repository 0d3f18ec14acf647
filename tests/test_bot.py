"""End-to-end tests of the bot: python-telegram-bot's own HTTP stack against a local stand-in of the Bot API."""
from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

import metrics
from bot.app import build_application
from bot.config import BotConfig
from bot.testing import FakeBotApi, polling
from engine.config import load_settings
from engine.scan import scan

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ADMIN, POWER, USER, STRANGER = 101, 202, 303, 909
ALERT_CHAT = -100777


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The shop fixture scanned by the real engine into a real SQLite index: (tree, db)."""
    base = tmp_path_factory.mktemp("bot")
    tree = base / "shop"
    shutil.copytree(FIXTURES / "shop", tree)
    db = base / "index.db"
    scan([tree], load_settings(tree, {"jobs": 1}), db)
    return tree, db


@pytest.fixture
def db(indexed: tuple[Path, Path], tmp_path: Path) -> Path:
    """A private copy of the index, with the metrics configured on it."""
    path = tmp_path / "index.db"
    shutil.copy(indexed[1], path)
    metrics.configure(path, background=False, notifiers=[])
    yield path
    metrics.shutdown()


def config(tree: Path, **extra: Any) -> BotConfig:
    return BotConfig(admins=(ADMIN,), power_users=(POWER,), users=(USER,), scan_root=tree,
                     alert_interval=0, **extra)


@asynccontextmanager
async def running(api: FakeBotApi, cfg: BotConfig, db: Path) -> AsyncIterator[Any]:
    """The application polling the stand-in."""
    app = build_application(cfg, api.token, db, base_url=api.base_url, base_file_url=api.base_file_url)
    async with polling(app):
        yield app


async def until(api: FakeBotApi, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    return await asyncio.to_thread(api.wait_for, predicate, timeout)


async def ask(api: FakeBotApi, user: int, text: str, count: int = 1) -> list[Any]:
    """Send a command and wait for `count` more answers in the user's chat."""
    before = len(api.sent(chat_id=user))
    api.push_command(user, text)
    calls = await until(api, lambda: len(api.sent(chat_id=user)) >= before + count and api.sent(chat_id=user))
    return calls[before:]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_start_registers_commands_and_answers_duplicates(indexed, db):
    """At start the command menus are set; /duplicates lists the largest clones with code and page buttons."""
    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(indexed[0]), db):
                menus = api.sent("setMyCommands")
                assert {c.params["scope"]["type"] for c in menus} == {"default", "chat"}
                default = next(c for c in menus if c.params["scope"]["type"] == "default")
                assert [c["command"] for c in default.params["commands"]] == [
                    "start", "help", "status", "health", "duplicates"]
                [answer] = await ask(api, USER, "/duplicates top 2")
                assert answer.params["parse_mode"] == "HTML"
                text = answer.params["text"]
                assert "Showing 1–2 of" in text and "billing/invoice.py:10–21" in text
                buttons = [b for row in answer.params["reply_markup"]["inline_keyboard"] for b in row]
                assert [b["text"] for b in buttons] == ["Code 1", "Code 2", "Next ▶"]
                assert all(len(b["callback_data"].encode()) < 64 for b in buttons)
    run(scenario())


def test_paging_and_code_buttons(indexed, db):
    """Next edits the message to the following page; a Code button sends the clone's source."""
    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(indexed[0]), db):
                [first] = await ask(api, USER, "/duplicates top 1")
                message = {"message_id": 55, "date": 0, "chat": {"id": USER, "type": "private"},
                           "text": first.params["text"]}
                keyboard = first.params["reply_markup"]["inline_keyboard"]
                next_data = keyboard[-1][-1]["callback_data"]
                api.push_button(USER, next_data, message)
                edit = await until(api, lambda: api.sent("editMessageText", chat_id=USER))
                assert "Showing 2–2 of" in edit[0].params["text"]
                assert await until(api, lambda: api.sent("answerCallbackQuery"))
                api.push_button(USER, keyboard[0][0]["callback_data"], message)
                [code] = await until(api, lambda: api.sent("sendMessage", chat_id=USER)[1:])
                assert '<pre><code class="language-python">' in code.params["text"]
                assert "def " in code.params["text"]
    run(scenario())


def test_triage_explains_a_request_and_shows_a_clone(indexed, db):
    """/triage with a request id gives the metrics triage; with a clone id, the clone in full."""
    async def scenario() -> None:
        with pytest.raises(FileNotFoundError):
            with metrics.track_request("scan", request_id="req-0123456789ab"):
                raise FileNotFoundError(2, "No such file or directory", "/repo/gone.py")
        with FakeBotApi() as api:
            async with running(api, config(indexed[0]), db):
                [report] = await ask(api, ADMIN, "/triage req-0123456789ab")
                text = report.params["text"]
                assert "Root cause" in text and "FileNotFoundError" in text and "Timeline" in text
                [listing] = await ask(api, ADMIN, "/duplicates top 1")
                clone_id = listing.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"][5:]
                [clone] = await ask(api, ADMIN, f"/triage {clone_id}")
                assert clone_id in clone.params["text"] and "<pre><code" in clone.params["text"]
    run(scenario())


def test_long_report_arrives_as_an_html_document(indexed, db, tmp_path):
    """A clone too long for one message is sent as an HTML document with pygments-highlighted code."""
    async def scenario() -> None:
        tree = tmp_path / "long"
        tree.mkdir()
        body = "\n".join(f"    total_{i} = compute(value_{i}, factor={i}) + offset_{i}" for i in range(400))
        for name in ("a.py", "b.py", "c.py"):
            (tree / name).write_text(f"def work():\n{body}\n    return total_1\n")
        with FakeBotApi() as api:
            async with running(api, config(tree), db):
                await ask(api, ADMIN, "/scan", count=2)
                await until(api, lambda: any("Scan finished" in c.params.get("text", "")
                                             for c in api.sent("sendMessage", chat_id=ADMIN)))
                [listing] = await ask(api, ADMIN, "/duplicates top 1")
                clone_id = listing.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"][5:]
                [document] = await ask(api, ADMIN, f"/triage {clone_id}")
                assert document.method == "sendDocument"
                filename, content = document.files["document"]
                assert filename.endswith(".html") and b'class="code"' in content
                assert b"<span" in content and len(document.params["caption"]) <= 1024
    run(scenario())


def test_refusals_are_polite_and_audited(indexed, db):
    """A stranger and an under-privileged user are refused, and each refusal is in the audit trail."""
    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(indexed[0]), db):
                [stranger] = await ask(api, STRANGER, "/status")
                assert "only answers its team" in stranger.params["text"] and str(STRANGER) in stranger.params["text"]
                [user] = await ask(api, USER, "/errors")
                assert "needs the admin role" in user.params["text"]
                [power] = await ask(api, POWER, "/dashboard")
                assert "Latency, last hour" in power.params["text"]
    run(scenario())
    trail = metrics.get_runtime().read_store().audit_log(limit=10)
    refused = {(row["action"], row["user_id"]) for row in trail if row["outcome"] == "refused"}
    assert refused == {("/status", str(STRANGER)), ("/errors", str(USER))}
    assert all(row["request_id"].startswith("req-") for row in trail)


def test_malformed_commands_get_their_usage(indexed, db):
    """/triage without an id and /silence x y are answered with the command's usage."""
    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(indexed[0]), db):
                [triage] = await ask(api, ADMIN, "/triage")
                assert triage.params["text"].startswith("usage: /triage &lt;request_id|clone_id&gt;")
                [silence] = await ask(api, ADMIN, "/silence x y")
                assert "usage: /silence" in silence.params["text"]
                [top] = await ask(api, USER, "/duplicates top many")
                assert "usage: /duplicates" in top.params["text"]
    run(scenario())


def test_alert_is_pushed_with_a_silence_button(indexed, db):
    """A failing scan fires an alert into the alert chat; its button silences it."""
    async def scenario() -> None:
        with pytest.raises(PermissionError):
            with metrics.track_request("scan"):
                raise PermissionError(13, "Permission denied", "/repo/secret")
        cfg = config(indexed[0]).model_copy(update={"alert_chat_id": ALERT_CHAT, "alert_interval": 0.2})
        with FakeBotApi() as api:
            async with running(api, cfg, db):
                [alert] = await until(api, lambda: api.sent("sendMessage", chat_id=ALERT_CHAT))
                assert "FIRING" in alert.params["text"] and "Scans are failing" in alert.params["text"]
                silence = alert.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                assert silence.startswith("sil:")
                message = {"message_id": 9, "date": 0, "chat": {"id": ALERT_CHAT, "type": "group", "title": "t"}}
                api.push_button(ADMIN, silence, message)
                done = await until(api, lambda: [c for c in api.sent("sendMessage", chat_id=ALERT_CHAT)
                                                 if "Silenced" in c.params["text"]])
                assert "scan_failures" in done[0].params["text"]
    run(scenario())


def test_status_health_and_github_rate_limit(indexed, db):
    """/status and /health report the index, the database, disk space and GitHub's rate limit."""
    async def scenario() -> None:
        with FakeBotApi() as api:
            cfg = config(indexed[0], github_token="ghp_test", github_api=api.github_api)
            async with running(api, cfg, db):
                [status] = await ask(api, USER, "/status")
                assert "CodeBot status" in status.params["text"] and "% duplicated" in status.params["text"]
                [health] = await ask(api, USER, "/health")
                text = health.params["text"]
                assert "Database" in text and "Disk" in text and "4,321/5,000 requests left" in text
    run(scenario())


def test_failing_store_answers_with_a_request_id_that_triage_explains(indexed, db):
    """When the index cannot be read the user gets the request id, and /triage of it names the cause."""
    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(indexed[0]), db):
                conn = sqlite3.connect(db)
                conn.execute("DROP TABLE fragments")
                conn.commit()
                conn.close()
                [failed] = await ask(api, ADMIN, "/duplicates")
                text = failed.params["text"]
                assert "Sorry, that failed" in text and "no such table: fragments" in text
                request_id = text.split("<code>")[1].split("</code>")[0]
                [report] = await ask(api, ADMIN, f"/triage {request_id}")
                assert "Root cause" in report.params["text"] and "StoreError" in report.params["text"]
    run(scenario())


def test_no_update_is_lost_under_a_burst(indexed, db):
    """Forty commands from four users at once get forty answers, and every update is confirmed."""
    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(indexed[0]), db):
                for n in range(10):
                    for user in (ADMIN, POWER, USER, STRANGER):
                        api.push_command(user, "/status" if n % 2 else "/duplicates top 1")
                await until(api, lambda: len(api.sent(("sendMessage",))) >= 40, timeout=20)
            assert api.confirmed == api.pushed == 40
    run(scenario())


def test_dashboard_links_to_grafana_when_configured(indexed, db, tmp_path, monkeypatch):
    """With grafana_url in [tool.codebot.metrics], /dashboard ends with links into Grafana."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.codebot.metrics]\ngrafana_url = "https://grafana.example.com"\n')
    monkeypatch.chdir(project)

    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(indexed[0]), db):
                [answer] = await ask(api, POWER, "/dashboard")
                text = answer.params["text"]
                assert "<b>Grafana</b>" in text and 'href="https://grafana.example.com/d/' in text
    run(scenario())
