"""`--diffs N` in the reports: the text and Markdown show each diff, the HTML highlights it,
SARIF results carry it as fixes that rebuild the refactored file; nothing without the option."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import FIXTURES, run_cli

SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("surfaces") / "refactorable"
    shutil.copytree(FIXTURES / "refactorable", tree)
    assert run_cli("scan", ".", "--quiet", "--jobs", "1", cwd=tree).returncode == 0
    return tree


def report(tree: Path, *args: str) -> str:
    done = run_cli("scan", ".", "--quiet", *args, cwd=tree)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_text_report_shows_diffs_only_when_asked(ledger):
    """Without --diffs no diff is computed; with it, each of the top clones has one or a reason."""
    assert "⇒" not in report(ledger)
    text = report(ledger, "--diffs", "5")
    assert text.count("⇒ refactoring:") == 4 and text.count("⇒ no refactoring:") == 1
    assert "     +from ledger.invoices import format_amount" in text


def test_markdown_folds_each_diff(ledger):
    text = report(ledger, "--format", "markdown", "--diffs", "2")
    assert "#### Refactorings" in text and text.count("```diff") == 2
    assert "<details><summary><code>c" in text


def test_html_highlights_the_diff_with_the_diff_lexer(ledger):
    page = report(ledger, "--format", "html", "--diffs", "5")
    assert page.count("class='refactoring'") == 5
    assert '<span class="gd">-' in page and '<span class="gi">+' in page  # deleted, inserted lines


def test_sarif_fixes_are_valid_and_rebuild_the_refactored_file(ledger):
    """Applying a result's replacements to the file gives the refactored text the diff shows."""
    log = json.loads(report(ledger, "--format", "sarif", "--diffs", "5"))
    jsonschema.validate(log, SCHEMA)
    fixed = [r for r in log["runs"][0]["results"] if "fixes" in r]
    assert len(fixed) == 4
    for result in fixed:
        for change in result["fixes"][0]["artifactChanges"]:
            text = (ledger / change["artifactLocation"]["uri"]).read_text()
            for replacement in reversed(change["replacements"]):
                region = replacement["deletedRegion"]
                start = region["charOffset"]
                text = text[:start] + replacement["insertedContent"]["text"] + \
                    text[start + region["charLength"]:]
            compile(text, change["artifactLocation"]["uri"], "exec")
    rows = next(r for r in fixed if r["properties"]["cloneId"] and "rows" in r["fixes"][0]["description"]["text"])
    [change] = rows["fixes"][0]["artifactChanges"]
    assert any("CsvExporter.rows(self, records)" in r["insertedContent"]["text"] for r in change["replacements"])
