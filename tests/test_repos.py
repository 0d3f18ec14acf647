"""Many repositories in one index: `scan --repo NAME=PATH` / `--repos FILE.toml`, the reports'
`repo` of each fragment with cross-repository clones first, the index that keeps them, and
the bot's `/duplicates repo:NAME` (python-telegram-bot against the local Bot API stand-in)."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

import metrics
from bot.testing import FakeBotApi
from engine.queries import Index
from engine.records import Clone, Fragment, Repo
from engine.repos import cross_repo_first, repo_of, repos_of
from engine.store import Store
from tests.conftest import FIXTURES, run_cli
from tests.test_bot import USER, ask, config, run, running, until



def make_repos(base: Path) -> Path:
    """Two repositories under `base`: `billing` (the shop fixture's billing package) and
    `shop` (the rest of the shop, plus a copy of billing's refund module): returns base."""
    shutil.copytree(FIXTURES / "shop" / "billing", base / "billing" / "billing")
    shutil.copytree(FIXTURES / "shop", base / "shop", ignore=shutil.ignore_patterns("billing"))
    shutil.copy(FIXTURES / "shop" / "billing" / "refund.py", base / "shop" / "legacy" / "refunds.py")
    return base


def test_a_fragment_belongs_to_the_repository_whose_folder_holds_it():
    """`repo_of` matches whole folders (`shop` does not hold `shopping/`); a repository at
    the root holds everything; cross-repository clones move first, the rest keep order."""
    named = (Repo("shop", "shop"), Repo("shopping", "shopping"))
    assert repo_of("shop/a.py", named) == "shop" and repo_of("shopping/a.py", named) == "shopping"
    assert repo_of("other/a.py", named) is None and repo_of("a.py", (Repo("all", ""),)) == "all"
    inside = Clone("c1", "exact", 1.0, 6, 40, (Fragment("shop/a.py", 1, 6),
                                                Fragment("shop/b.py", 1, 6)), "")
    across = inside._replace(id="c2", fragments=(Fragment("shop/a.py", 1, 6),
                                                 Fragment("shopping/a.py", 1, 6)))
    assert repos_of(across, named) == ["shop", "shopping"]
    assert cross_repo_first([inside, across], named) == (across, inside)
    assert cross_repo_first([inside, across], ()) == (inside, across)


def scan_json(cwd: Path, *args: str) -> dict:
    done = run_cli("scan", *args, "--format", "json", "-q", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def repos(tmp_path: Path) -> Path:
    return make_repos(tmp_path)


def test_json_names_each_fragments_repo_and_lists_cross_repo_clones_first(repos):
    """Every fragment carries the repository whose folder holds it; a clone says which
    repositories it spans; those across two come before all others."""
    report = scan_json(repos, "--repo", "billing=billing", "--repo", "shop=shop")
    assert report["root"] == str(repos) and report["repos"] == {"billing": "billing", "shop": "shop"}
    clones = report["clones"]
    for clone in clones:
        assert list(clone["fragments"][0]) == ["path", "repo", "start_line", "end_line"]
        assert [f["repo"] for f in clone["fragments"]] == [
            f["path"].split("/")[0] for f in clone["fragments"]]
        assert clone["repos"] == sorted({f["repo"] for f in clone["fragments"]})
    spans = [len(c["repos"]) for c in clones]
    assert spans[0] == 2 and 1 in spans and spans == sorted(spans, reverse=True)
    cross = [c for c in clones if len(c["repos"]) == 2]
    assert any({f["path"] for f in c["fragments"]} == {"billing/billing/refund.py",
                                                       "shop/legacy/refunds.py"} for c in cross)


def test_text_markdown_html_and_sarif_show_the_repo(repos):
    """Each report names the repository beside the path."""
    args = ("--repo", "billing=billing", "--repo", "shop=shop", "-q")
    text = run_cli("scan", *args, cwd=repos).stdout
    assert "across repositories billing, shop" in text
    assert "[billing] billing/billing/refund.py:" in text and "[shop] shop/legacy/refunds.py:" in text
    assert "`[shop] shop/legacy/refunds.py:" in run_cli("scan", *args, "--format", "markdown",
                                                        cwd=repos).stdout
    assert "across billing, shop" in run_cli("scan", *args, "--format", "html", cwd=repos).stdout
    sarif = json.loads(run_cli("scan", *args, "--format", "sarif", cwd=repos).stdout)
    first = sarif["runs"][0]["results"][0]["properties"]
    assert first["repos"] == ["billing", "shop"] and first["repo"] in ("billing", "shop")


def test_a_toml_list_with_paths_relative_to_it_is_the_same_scan(repos):
    """`--repos FILE` names the same repositories as `--repo`, its paths taken from its folder."""
    (repos / "conf").mkdir()
    (repos / "conf" / "repos.toml").write_text(
        '[[repo]]\nname = "billing"\npath = "../billing"\n\n'
        '[[repo]]\nname = "shop"\npath = "../shop"\n')
    by_options = scan_json(repos, "--repo", "billing=billing", "--repo", "shop=shop")
    by_file = scan_json(repos / "conf", "--repos", "repos.toml")
    assert by_file["repos"] == by_options["repos"]
    assert [c["id"] for c in by_file["clones"]] == [c["id"] for c in by_options["clones"]]


def test_a_rescan_reuses_the_index_that_keeps_the_repositories(repos):
    """The second scan reads nothing again and finds the same clones; the index stores the
    repositories with the scan, relative to the root."""
    args = ("--repo", "billing=billing", "--repo", "shop=shop")
    first, second = scan_json(repos, *args), scan_json(repos, *args)
    assert second["stats"]["files_parsed"] == 0
    assert second["stats"]["files_reused"] == first["stats"]["files"]
    assert second["clones"] == first["clones"]
    with sqlite3.connect(repos / ".codebot" / "index.db") as conn:
        stored = conn.execute("SELECT repos FROM scans ORDER BY id").fetchall()
    assert [json.loads(r) for (r,) in stored] == [[["billing", "billing"], ["shop", "shop"]]] * 2


def test_an_index_from_before_repositories_still_reads(repos, tmp_path):
    """An index of schema 3 (no `repos` column) reads in the bot's reader as scans of plain
    paths, and a scan brings it up to date."""
    db = tmp_path / "old.db"
    assert run_cli("scan", "shop", "--db", db, "-q", cwd=repos).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE scans DROP COLUMN repos")
        conn.execute("UPDATE schema_versions SET version = 3 WHERE component = 'engine'")
    index = Index(db)
    scan = index.latest_scan()
    assert scan is not None and scan.repos == () and index.clones_page(scan).total > 0
    index.close()
    with Store(db) as store:
        assert "repos" in {row[1] for row in store.conn.execute("PRAGMA table_info(scans)")}


@pytest.mark.parametrize("args, message", [
    (["--repo", "bill/ing=billing"], "repository name 'bill/ing' must be letters"),
    (["--repo", "billing"], "expected NAME=PATH"),
    (["--repo", "a=billing", "--repo", "a=shop"], "repository name 'a' is given twice"),
    (["--repo", "a=missing"], "does not exist"),
    (["--repo", "a=shop", "--repo", "b=shop/legacy"], "is inside (or is) repository 'a'"),
    (["--repo", "a=billing", "shop"], "either PATH arguments or --repo/--repos"),
    (["--repos", "nowhere.toml"], "cannot read the repository list nowhere.toml"),
    (["--repos", "broken.toml"], "broken.toml is not valid TOML"),
    (["--repos", "nameless.toml"], 'repo 1: needs name = "..." and path = "..."'),
    (["--repos", "empty.toml"], "expected a list of [[repo]] tables"),
])
def test_bad_repositories_are_usage_errors(repos, args, message):
    """Each mistake is exit 2 with a message saying what to fix, and nothing is written."""
    (repos / "broken.toml").write_text("[[repo]\nname = 'x'\n")
    (repos / "nameless.toml").write_text('[[repo]]\npath = "shop"\n')
    (repos / "empty.toml").write_text('title = "no repositories"\n')
    done = run_cli("scan", *args, "-q", cwd=repos)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert not (repos / ".codebot").exists()


@pytest.fixture
def repo_db(tmp_path: Path) -> tuple[Path, Path]:
    """The two repositories scanned into a real index, metrics configured on it: (root, db)."""
    root = make_repos(tmp_path / "work")
    db = tmp_path / "index.db"
    done = run_cli("scan", "--repo", "billing=billing", "--repo", "shop=shop", "--db", db,
                   "-q", cwd=root)
    assert done.returncode == 0, done.stderr
    metrics.configure(db, background=False, notifiers=[])
    yield root, db
    metrics.shutdown()


def test_the_bot_filters_by_repository_and_lists_cross_repo_clones_first(repo_db):
    """`/duplicates repo:NAME` lists only that repository's clones, those shared with another
    repository first; its Next button keeps the filter."""
    root, db = repo_db

    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(root), db):
                [every] = await ask(api, USER, "/duplicates")
                assert "across repositories first" in every.params["text"]
                assert every.params["text"].index("🔀 across billing, shop") < \
                    every.params["text"].index("2. ")
                [shop] = await ask(api, USER, "/duplicates repo:shop top 1")
                text = shop.params["text"]
                assert "in repository <b>shop</b>" in text and "🔀 across billing, shop" in text
                assert "[shop] <code>shop/legacy/refunds.py:" in text
                keyboard = shop.params["reply_markup"]["inline_keyboard"]
                next_data = keyboard[-1][-1]["callback_data"]
                assert "@shop=" in next_data and len(next_data.encode()) < 64
                message = {"message_id": 7, "date": 0, "chat": {"id": USER, "type": "private"},
                           "text": text}
                api.push_button(USER, next_data, message)
                [edit] = await until(api, lambda: api.sent("editMessageText", chat_id=USER))
                assert "in repository <b>shop</b>" in edit.params["text"]
                assert "Showing 2–2 of" in edit.params["text"]
                assert "[shop] <code>" in edit.params["text"]
    run(scenario())


def test_the_bot_names_the_known_repositories_for_an_unknown_one(repo_db):
    """An unknown repository gets a reply listing the ones the last scan named."""
    root, db = repo_db

    async def scenario() -> None:
        with FakeBotApi() as api:
            async with running(api, config(root), db):
                [answer] = await ask(api, USER, "/duplicates repo:payments")
                assert answer.params["text"] == (
                    "No repository 'payments' in the last scan; its repositories: billing, shop.")
                [bad] = await ask(api, USER, "/duplicates repo:a/b")
                assert "one repo:NAME at most" in bad.params["text"]
    run(scenario())
