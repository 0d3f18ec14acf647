"""`refactor` end to end on fixtures/refactorable: each planted clone refactored in a copy,
the package's own tests still pass, a scan no longer finds it; bad input exits 2."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

PACKAGE = FIXTURES / "refactorable"
# (kind, files of the planted copies, what the refactoring does)
PLANTED = [
    ("renamed", {"ledger/invoices.py", "ledger/receipts.py"}, "format_amount"),
    ("renamed", {"ledger/invoices.py", "ledger/receipts.py"}, "parse_reference"),
    ("renamed", {"ledger/exporters.py"}, "method `rows`"),
    ("renamed", {"ledger/reports.py"}, "extract the statements"),
]


def _git(tree: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=tree, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                        "PATH": "/usr/bin:/bin"})


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    """A scanned copy of the fixture package in a git work tree with everything committed."""
    tree = tmp_path / "refactorable"
    shutil.copytree(PACKAGE, tree)
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-q", "-m", "ledger")
    return tree


def scanned(tree: Path) -> list[dict]:
    done = run_cli("scan", ".", "--format", "json", "--quiet", "--jobs", "1", cwd=tree)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["clones"]


def package_tests(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "tests", "-q", "-p", "no:cacheprovider"],
                          cwd=tree, capture_output=True, text=True, timeout=120)


def planted(clones: list[dict], files: set[str], kind: str) -> list[dict]:
    return [c for c in clones if c["kind"] == kind and {f["path"] for f in c["fragments"]} == files]


def test_the_fixture_package_passes_its_own_tests_and_has_its_clones(ledger):
    """Before any refactoring: the package's tests pass, and each planted clone is found."""
    assert package_tests(ledger).returncode == 0
    clones = scanned(ledger)
    for kind, files, what in PLANTED:
        assert planted(clones, files, kind), f"the planted {what} clone was not found"
    assert [c for c in clones if c["kind"] == "near"], "the planted near-miss was not found"


@pytest.mark.parametrize("kind, files, what", PLANTED, ids=[p[2] for p in PLANTED])
def test_apply_keeps_behaviour_and_removes_the_clone(ledger, kind, files, what):
    """Applied in a copy: the package's tests pass, the diff said what it does, the clone is gone."""
    clones = scanned(ledger)
    found = planted(clones, files, kind)
    assert found, f"the planted {what} clone was not found"
    for clone in found:  # two clones share invoices.py and receipts.py: the one that does `what`
        diff = run_cli("refactor", clone["id"], "--diff", cwd=ledger)
        if what not in diff.stderr:
            continue
        assert diff.returncode == 0 and diff.stdout.startswith("--- a/")
        check = subprocess.run(["git", "apply", "--check", "-"], input=diff.stdout, text=True,
                               cwd=ledger, capture_output=True)
        assert check.returncode == 0, check.stderr
        applied = run_cli("refactor", clone["id"], "--apply", cwd=ledger)
        assert applied.returncode == 0, applied.stderr
        assert f"clone {clone['id']} is gone" in applied.stdout
        assert package_tests(ledger).returncode == 0, package_tests(ledger).stdout
        assert clone["id"] not in {c["id"] for c in scanned(ledger)}
        return
    pytest.fail(f"no clone's refactoring does {what}")


def test_every_planted_copy_refactored_in_turn_keeps_the_tests_passing(ledger):
    """All four refactorings one after another (each re-scan refreshes the index for the next)."""
    for kind, files, what in PLANTED:
        clones = scanned(ledger)
        ids = [c["id"] for c in planted(clones, files, kind)]
        made = [run_cli("refactor", i, "--apply", cwd=ledger) for i in ids]
        assert any(m.returncode == 0 for m in made), [m.stderr for m in made]
        _git(ledger, "commit", "-q", "-am", what)
    assert package_tests(ledger).returncode == 0
    left = scanned(ledger)
    assert [c["kind"] for c in left] == ["near"], left  # only the near-miss stays


def test_near_miss_shows_what_differs_and_is_refused_with_the_reason(ledger):
    """The near-miss copies differ in a statement: side by side, then exit 1 with why."""
    [near] = [c for c in scanned(ledger) if c["kind"] == "near"]
    done = run_cli("refactor", near["id"], cwd=ledger)
    assert done.returncode == 1 and done.stdout == ""
    assert "what differs" in done.stderr and "ledger/alerts.py:5-14" in done.stderr
    assert "[print]" in done.stderr  # the inserted call, marked
    assert "an edited statement cannot become a parameter" in done.stderr


def test_apply_refuses_files_with_uncommitted_changes_unless_forced(ledger):
    """A file with changes git has not committed is not written to without --force."""
    clone = planted(scanned(ledger), {"ledger/exporters.py"}, "renamed")[0]
    exporters = ledger / "ledger" / "exporters.py"
    exporters.write_text(exporters.read_text() + "\n# local note\n")
    scanned(ledger)
    clone = planted(scanned(ledger), {"ledger/exporters.py"}, "renamed")[0]
    refused = run_cli("refactor", clone["id"], "--apply", cwd=ledger)
    assert refused.returncode == 2 and "uncommitted changes in ledger/exporters.py" in refused.stderr
    assert exporters.read_text().endswith("# local note\n") and "CsvExporter.rows(" not in exporters.read_text()
    forced = run_cli("refactor", clone["id"], "--apply", "--force", cwd=ledger)
    assert forced.returncode == 0, forced.stderr
    assert "return CsvExporter.rows(self, records)" in exporters.read_text()


def test_unknown_clone_id_is_bad_input(ledger):
    """An id the index does not hold: exit 2 and a message naming it."""
    scanned(ledger)
    done = run_cli("refactor", "c000000000000", cwd=ledger)
    assert done.returncode == 2 and "no clone c000000000000 in the index" in done.stderr


def test_a_file_changed_since_the_scan_is_a_stale_index(ledger):
    """The index saw other content: exit 2, scan again; nothing is written."""
    clone = planted(scanned(ledger), {"ledger/exporters.py"}, "renamed")[0]
    exporters = ledger / "ledger" / "exporters.py"
    changed = exporters.read_text().replace("Entries as CSV text.", "Entries as CSV.")
    exporters.write_text(changed)
    done = run_cli("refactor", clone["id"], "--apply", cwd=ledger)
    assert done.returncode == 2 and "changed since the scan" in done.stderr
    assert exporters.read_text() == changed


def test_a_clone_in_another_language_is_bad_input(tmp_path):
    """Only Python clones are refactored: a JavaScript clone gets exit 2."""
    body = "".join(f"  total = total + values[{i}] * {i + 1};\n" for i in range(8))
    for name in ("a.js", "b.js"):
        (tmp_path / name).write_text(f"function sum_{name[0]}(values) {{\n  let total = 0;\n"
                                     f"{body}  return total;\n}}\n")
    done = run_cli("scan", ".", "--format", "json", "--quiet", cwd=tmp_path)
    clones = json.loads(done.stdout)["clones"]
    assert clones, done.stderr
    refused = run_cli("refactor", clones[0]["id"], cwd=tmp_path)
    assert refused.returncode == 2 and "is not Python code" in refused.stderr


def test_no_index_is_bad_input(tmp_path):
    """Run where nothing was scanned: exit 2 with what to do."""
    done = run_cli("refactor", "c000000000000", cwd=tmp_path)
    assert done.returncode == 2 and "scan first" in done.stderr
