"""Tests for engine.markdown and engine.html: golden reports of the shop fixture, and --format."""
import re

import pytest

from conftest import FIXTURES, run_cli
from engine.config import Settings
from engine.html import render_html
from engine.markdown import render_markdown
from engine.records import Clone, Fragment, ScanResult, ScanStats
from engine.scan import scan

GOLDEN_MD = FIXTURES / "shop.golden.md"
GOLDEN_HTML = FIXTURES / "shop.golden.html"


@pytest.fixture
def shop_result(shop, tmp_path) -> ScanResult:
    return scan([shop], Settings(jobs=1), tmp_path / "i.db")


def test_markdown_matches_the_golden_file(shop_result, golden):
    """The Markdown summary of the shop fixture is as recorded."""
    golden(GOLDEN_MD, render_markdown(shop_result))


def test_html_matches_the_golden_file(shop_result, golden):
    """The HTML page of the shop fixture is as recorded."""
    golden(GOLDEN_HTML, render_html(shop_result))


def test_markdown_cells_cannot_break_the_table():
    """Pipes and newlines in a suggestion are escaped inside its cell."""
    clone = Clone("c1", "renamed", 0.9, 6, 60, (Fragment("a|b.py", 1, 6), Fragment("c.py", 1, 6)),
                  "use a | b\nthen")
    result = ScanResult(FIXTURES, ScanStats(2, 12, 120, 12, 100.0, 0.1, 0, 2, 0), (clone,), (),
                        frozenset({"c1"}))
    row = [line for line in render_markdown(result).splitlines() if line.startswith("| 1 ")][0]
    assert row.count(" | ") == 6 and "use a \\| b then" in row and "**new**" in row


def test_html_is_self_contained_and_marks_differences(shop_result):
    """No external resources; renamed copies show their differing names marked."""
    page = render_html(shop_result)
    assert not re.search(r"""(src|href)=['"]?(https?:|//)""", page)
    assert "<script" not in page
    assert "<mark><span class='nf'>invoice_total</span></mark>" in page
    assert page.count("class='fragment'") == sum(min(4, len(c.fragments)) for c in shop_result.clones)


def test_every_format_works_for_scan_and_check(shop, tmp_path):
    """--format markdown and html are accepted by both commands."""
    db = tmp_path / "i.db"
    (shop / "pyproject.toml").write_text("")
    done = run_cli("scan", shop, "--format", "markdown", "--db", db)
    assert done.returncode == 0 and done.stdout.startswith("### CodeBot")
    done = run_cli("check", "web/cart.js", "--format", "html", "--db", db, cwd=shop)
    assert done.returncode == 1 and "web/checkout.js" in done.stdout and "<!DOCTYPE html>" in done.stdout
