"""No secret of the scanned code is stored or sent: a corpus of fake secrets (fixtures/secrets) is scanned
by the engine's CLI into a real SQLite file, which is then read byte by byte, and the bot shows every
clone of it through the Bot API stand-in, whose every received call is read too."""
from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import structlog

import metrics
from bot.app import build_application
from bot.config import BotConfig
from bot.testing import Call, FakeBotApi, polling
from engine.cli import main as engine_main

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ADMIN = 101
GROUP = -100555
# Every secret of fixtures/secrets, and of the long copies written below.
SECRETS = (
    "hunter2", "c0rrect-h0rse-battery", "tok_live_4eC39HqLyjWDarjtT1zdp7dc", "tok_test_Xq8Bn3MvR2kLwP5sT7yZ9aD1",
    "Zk9qTWx2bE5uUnBxV3h5ekFiQ2Q", "cVdFcnR5VWlPcEFzRGZHaEpr", "prod-9f2c1e7a4b8d3f6e0a5c",
    "stag-1a3e5c7b9d0f2e4a6c8b", "ak-prod-51b7c0d9e3f2a846", "ak-stag-0c9d8e7f6a5b4c3d",
    "ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfake0123", "ghp_STAGstagSTAGstagSTAGstagSTAGstag4567",
    "AKIAFAKEPRODKEY12345", "AKIAFAKESTAGKEY67890", "ops-lead@shop.example.com", "qa-lead@shop.example.com",
    "Pr0dDbPassw0rd", "St4gDbPassw0rd", "web-prod-7d1f3a9c5e2b8046", "web-stag-2e6a0b4d8f1c9357",
    "long-copy-secret-a", "long-copy-secret-b",
)
PATH_TOKEN = "FAKEpathTOKEN0123456789"


def found_in(blob: bytes | str) -> list[str]:
    """The secrets that occur in `blob`."""
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    return [secret for secret in SECRETS + (PATH_TOKEN,) if secret in text]


def long_copies(tree: Path) -> None:
    """Two long copies differing in a password: the bot sends their code as an HTML document."""
    for name, secret in (("long_a.py", "long-copy-secret-a"), ("long_b.py", "long-copy-secret-b")):
        body = "\n".join(f"    total_{i} = compute(value_{i}, factor={i}) + offset_{i}" for i in range(300))
        (tree / name).write_text(f'def work(compute):\n    password = "{secret}"\n{body}\n    return total_1\n')


@pytest.fixture
def scanned(tmp_path: Path) -> tuple[Path, Path, Path]:
    """fixtures/secrets scanned by `python -m engine scan` (in process): (tree, db, JSON report)."""
    tree = tmp_path / "repo"
    shutil.copytree(FIXTURES / "secrets", tree)
    long_copies(tree)
    db, report = tmp_path / "index.db", tmp_path / "report.json"
    assert engine_main(["scan", str(tree), "--db", str(db), "--format", "json", "--output", str(report)]) == 0
    structlog.reset_defaults()  # the CLI left its logging on a closed /dev/null stream
    return tree, db, report


def stored_bytes(db: Path) -> bytes:
    """The database file and its write-ahead log, as they are on disk."""
    return b"".join(path.read_bytes() for path in db.parent.glob(db.name + "*") if path.is_file())


def test_no_secret_is_stored_by_a_scan(scanned):
    """The suggestions name the differing secrets masked; the SQLite file holds none of them."""
    _, db, report = scanned
    clones = json.loads(report.read_text())["clones"]
    # The two settings dicts differ only in their values: data tables, not reported.
    assert len(clones) >= 4
    assert sum("[REDACTED" in clone["suggestion"] for clone in clones) >= 4
    assert found_in(report.read_text()) == []
    assert found_in(stored_bytes(db)) == []


def test_scan_root_is_sanitized_in_the_metrics(tmp_path):
    """A root whose path carries `token=...` is stored redacted in metric_scans and every metrics table."""
    tree = tmp_path / f"token={PATH_TOKEN}" / "repo"
    shutil.copytree(FIXTURES / "secrets" / "services", tree)
    db = tmp_path / "index.db"
    assert engine_main(["scan", str(tree), "--db", str(db), "--format", "json", "--output",
                        str(tmp_path / "r.json")]) == 0
    conn = sqlite3.connect(db)
    try:
        [root] = conn.execute("SELECT root FROM metric_scans").fetchone()
        tables = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'metric%'")]
        rows = [str(row) for table in tables for row in conn.execute(f"SELECT * FROM {table}")]
    finally:
        conn.close()
    assert PATH_TOKEN not in root and "[REDACTED" in root
    assert [row for row in rows if PATH_TOKEN in row] == []


def everything_received(api: FakeBotApi) -> str:
    """Every call the stand-in received: parameters and uploaded files."""
    return "\n".join(json.dumps(call.params) + "".join(f"{name}:{data.decode('utf-8', 'replace')}"
                                                       for name, data in call.files.values())
                     for call in api.calls)


async def _show_everything(api: FakeBotApi, cfg: BotConfig, db: Path) -> list[Call]:
    """List the clones, open each one's code (by button and by /triage), rescan, list again; in a group."""
    app = build_application(cfg, api.token, db, base_url=api.base_url, base_file_url=api.base_file_url)

    async def ask(text: str, count: int = 1) -> list[Call]:
        before = len(api.sent(chat_id=GROUP))
        api.push_command(ADMIN, text, chat_id=GROUP)
        return (await asyncio.to_thread(api.wait_for, lambda: len(api.sent(chat_id=GROUP)) >= before + count
                                        and api.sent(chat_id=GROUP)))[before:]

    async with polling(app):
        [listing] = await ask("/duplicates top 20")
        buttons = [b["callback_data"] for row in listing.params["reply_markup"]["inline_keyboard"] for b in row]
        message = {"message_id": 7, "date": 0, "chat": {"id": GROUP, "type": "group", "title": "team"}}
        for data in [b for b in buttons if b.startswith("code:")]:
            before = len(api.sent(chat_id=GROUP))
            api.push_button(ADMIN, data, message)
            await asyncio.to_thread(api.wait_for, lambda: len(api.sent(chat_id=GROUP)) > before)
            await ask(f"/triage {data[5:]}")
        await ask("/scan", count=2)
        await asyncio.to_thread(api.wait_for, lambda: any(
            "Scan finished" in c.params.get("text", "") for c in api.sent(chat_id=GROUP)))
        await ask("/duplicates")
    return api.sent(chat_id=GROUP)


def test_no_secret_is_sent_by_the_bot(scanned):
    """Listings, suggestions, code views (messages and an HTML document), a rescan: no secret in any call."""
    tree, db, _ = scanned
    metrics.configure(db, background=False, notifiers=[])
    try:
        with FakeBotApi() as api:
            cfg = BotConfig(admins=(ADMIN,), scan_root=tree, alert_interval=0)
            sent = asyncio.run(asyncio.wait_for(_show_everything(api, cfg, db), 60))
            received = everything_received(api)
    finally:
        metrics.shutdown()
    assert any(c.method == "sendDocument" for c in sent), "a long clone goes as an HTML document"
    assert sum('<pre><code class="language-' in c.params.get("text", "") for c in sent) >= 4
    assert "[REDACTED:secret]" in received
    print(f"\ncalls received by the stand-in: {len(api.calls)}; secrets found: {len(found_in(received))}")
    assert found_in(received) == []
    assert found_in(stored_bytes(db)) == []


def test_a_private_chat_may_see_code_unmasked_when_configured(scanned):
    """With `unmask_code_in_private`, a private chat sees the code as it is; a group still sees it masked,
    and suggestions stay masked everywhere."""
    tree, db, _ = scanned
    metrics.configure(db, background=False, notifiers=[])
    cfg = BotConfig(admins=(ADMIN,), scan_root=tree, alert_interval=0, unmask_code_in_private=True)

    async def scenario(api: FakeBotApi) -> tuple[str, str]:
        app = build_application(cfg, api.token, db, base_url=api.base_url, base_file_url=api.base_file_url)
        async with polling(app):
            clone = next(c for c in json.loads((db.parent / "report.json").read_text())["clones"]
                         if any(f["path"] == "services/orders_db.py" for f in c["fragments"]))
            views = []
            for chat in (ADMIN, GROUP):
                api.push_command(ADMIN, f"/triage {clone['id']}", chat_id=chat)
                [view] = await asyncio.to_thread(api.wait_for, lambda: api.sent(chat_id=chat))
                views.append(view.params["text"])
            return views[0], views[1]

    try:
        with FakeBotApi() as api:
            private, group = asyncio.run(asyncio.wait_for(scenario(api), 30))
    finally:
        metrics.shutdown()
    assert 'db_password = "hunter2"' in private
    assert "hunter2" not in group and 'db_password = "[REDACTED:secret]"' in group
    for view in (private, group):
        suggestion = view.split("💡", 1)[1].split("\n", 1)[0]
        assert "[REDACTED:secret]" in suggestion and "hunter2" not in suggestion
