"""The Refactor button end to end: python-telegram-bot's HTTP stack against the Bot API stand-in
sends a clone's refactoring as a .patch that `git apply` takes, to power users and admins only."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import metrics
from bot.testing import FakeBotApi
from engine.config import load_settings
from engine.scan import scan
from tests.test_bot import ADMIN, FIXTURES, POWER, USER, ask, config, run, running, until


@pytest.fixture
def ledger(tmp_path: Path):
    """fixtures/refactorable scanned into a real index with the metrics on it: (tree, db, clone id)."""
    tree = tmp_path / "refactorable"
    shutil.copytree(FIXTURES / "refactorable", tree)
    db = tmp_path / "index.db"
    result = scan([tree], load_settings(tree, {"jobs": 1}), db)
    [rows] = [c for c in result.clones if {f.path for f in c.fragments} == {"ledger/exporters.py"}]
    metrics.configure(db, background=False, notifiers=[])
    yield tree, db, rows.id
    metrics.shutdown()


def buttons(call) -> list[dict]:
    markup = call.params.get("reply_markup") or {"inline_keyboard": []}
    return [b for row in markup["inline_keyboard"] for b in row]


def message_of(call, user: int) -> dict:
    return {"message_id": 77, "date": 0, "chat": {"id": user, "type": "private"},
            "text": call.params.get("text", "")}


def test_refactor_button_sends_a_patch_that_applies(ledger):
    """An admin's clone view has a Refactor button; pressing it sends <id>.patch with the diff."""
    tree, db, clone_id = ledger

    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(tree), db):
                [view] = await ask(api, ADMIN, f"/triage {clone_id}")
                [refactor] = [b for b in buttons(view) if b["text"] == "Refactor"]
                assert refactor["callback_data"] == f"ref:{clone_id}"
                api.push_button(ADMIN, refactor["callback_data"], message_of(view, ADMIN))
                [document] = await until(api, lambda: api.sent("sendDocument", chat_id=ADMIN))
                filename, content = document.files["document"]
                assert filename == f"{clone_id}.patch"
                assert "keep the method" in document.params["caption"]
                patch = content.decode()
                assert patch.startswith("--- a/ledger/exporters.py\n")
                assert "+        return CsvExporter.rows(self, records)" in patch
                checked = subprocess.run(["git", "apply", "--check", "-"], input=patch, text=True,
                                         cwd=tree, capture_output=True)
                assert checked.returncode == 0, checked.stderr
    run(scenario())


def test_refactor_button_is_for_power_users_and_admins(ledger):
    """A power user sees the button under a clone's code; a user neither sees nor may press it."""
    tree, db, clone_id = ledger

    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(tree), db):
                for user, shown in ((POWER, True), (USER, False)):
                    [listing] = await ask(api, user, "/duplicates top 5")
                    code = next(b for b in buttons(listing) if b["callback_data"] == f"code:{clone_id}")
                    before = len(api.sent(chat_id=user))
                    api.push_button(user, code["callback_data"], message_of(listing, user))
                    calls = await until(api, lambda: api.sent(chat_id=user)[before:])
                    labels = [b["text"] for call in calls for b in buttons(call)]
                    assert ("Refactor" in labels) is shown
                before = len(api.sent("answerCallbackQuery"))
                api.push_button(USER, f"ref:{clone_id}", message_of(listing, USER))
                answers = await until(api, lambda: api.sent("answerCallbackQuery")[before:])
                assert answers[0].params.get("text") == "Not allowed for your role"
                assert not api.sent("sendDocument", chat_id=USER)
    run(scenario())
