"""The README's figures are generated from the committed benchmark results: each section
between `<!-- results:NAME -->` markers must be what `benchmarks.report` renders from
`benchmarks/results/` (run `python -m benchmarks.report` after a benchmark)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from benchmarks import report

README = report.README


def test_readme_sections_match_the_committed_results():
    text = README.read_text(encoding="utf-8")
    assert {"speed", "breakdown", "scaling"} <= set(report.sections(text))
    rendered = report.rewrite(text)
    assert rendered == text, "README is out of step with benchmarks/results: run " \
        "python -m benchmarks.report\n" + report.diff(text, rendered)


def test_every_section_has_a_result_file():
    for name, renderer in report.RENDERERS.items():
        assert (report.RESULTS / renderer.source).exists(), name


def test_check_finds_a_stale_readme_and_a_rewrite_fixes_it(tmp_path, capsys):
    readme = tmp_path / "README.md"
    shutil.copyfile(README, readme)
    text = readme.read_text(encoding="utf-8")
    start = text.index("<!-- results:speed -->")
    stale = text[:start] + text[start:].replace("| CodeBot cold scan | ", "| CodeBot cold scan | 9", 1)
    assert stale != text
    readme.write_text(stale, encoding="utf-8")
    assert report.main(["--check", "--readme", str(readme)]) == 1
    out = capsys.readouterr().out
    assert "-| CodeBot cold scan | 9" in out and "+| CodeBot cold scan | " in out
    assert report.main(["--readme", str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == text
    assert report.main(["--check", "--readme", str(readme)]) == 0


def test_text_outside_the_markers_is_left_alone(tmp_path):
    (tmp_path / "stdlib_scan.json").write_text((report.RESULTS / "stdlib_scan.json").read_text())
    text = "# Title\n\nHand-written.\n\n<!-- results:speed -->\nstale text\n<!-- /results:speed -->\n\nEnd.\n"
    new = report.rewrite(text, tmp_path)
    assert new.startswith("# Title\n\nHand-written.\n\n<!-- results:speed -->\n")
    assert new.endswith("\n<!-- /results:speed -->\n\nEnd.\n")
    assert "stale text" not in new and "CodeBot cold scan" in new


def test_a_new_table_is_one_registry_entry(tmp_path, monkeypatch):
    (tmp_path / "drift.json").write_text('{"rows": [["a", 1], ["b", 2]]}')
    monkeypatch.setitem(report.RENDERERS, "drift", report.Renderer(
        "drift.json", lambda data: "\n".join(f"| {k} | {v} |" for k, v in data["rows"])))
    text = "<!-- results:drift -->\n<!-- /results:drift -->\n"
    assert report.rewrite(text, tmp_path) == \
        "<!-- results:drift -->\n| a | 1 |\n| b | 2 |\n<!-- /results:drift -->\n"


def test_an_unknown_section_is_an_error():
    with pytest.raises(KeyError, match="no renderer"):
        report.rewrite("<!-- results:nothing -->\n<!-- /results:nothing -->\n")
