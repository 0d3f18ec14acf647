"""Tests of the comparison harness: report parsers, measurement, sample rendering and the table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks.compare import ToolResult, parse_args, table
from benchmarks.measure import measure
from benchmarks.scoring import Recall, Verdicts, read_verdicts, render_sample, sample
from benchmarks.tools import Clone, Fragment, ToolRun, parse_codebot, parse_jscpd, parse_symilar

SYMILAR_REPORT = """
7 similar lines in 3 files
==./pkg/a.py:[9:16]
==pkg/b.py:[0:7]
==c.py:[20:27]
   def f(x):
       return x

4 similar lines in 2 files
==a.py:[1:5]
==b.py:[2:6]
   y = 1
TOTAL lines=100 duplicates=18 percent=18.00
"""


def test_parse_symilar_turns_zero_based_ranges_into_lines() -> None:
    """symilar's 0-based, end-exclusive ranges become 1-based inclusive fragments, grouped per block."""
    clones = parse_symilar(SYMILAR_REPORT)
    assert clones[0].fragments == (
        Fragment("pkg/a.py", 10, 16), Fragment("pkg/b.py", 1, 7), Fragment("c.py", 21, 27),
    )
    assert clones[1].fragments == (Fragment("a.py", 2, 5), Fragment("b.py", 3, 6))
    assert len(clones) == 2


def test_parse_jscpd_reads_pairs(tmp_path: Path) -> None:
    """Each jscpd duplicate becomes a two-fragment clone with paths relative to the root."""
    report = {"duplicates": [{
        "format": "python", "kind": "renamed", "lines": 10,
        "firstFile": {"name": "os.py", "start": 52, "end": 61},
        "secondFile": {"name": str(tmp_path / "sub" / "x.py"), "start": 72, "end": 81},
    }]}
    clones = parse_jscpd(json.dumps(report), tmp_path)
    assert clones == (Clone((Fragment("os.py", 52, 61), Fragment("sub/x.py", 72, 81)), "renamed"),)


def test_parse_codebot_reads_the_json_contract(tmp_path: Path) -> None:
    """CodeBot's JSON report (SPEC.md §1) gives one clone class per entry."""
    report = {"version": 1, "root": str(tmp_path), "stats": {}, "clones": [{
        "id": "c1", "kind": "near", "similarity": 0.8, "lines": 12, "tokens": 90,
        "fragments": [{"path": "a.py", "start_line": 3, "end_line": 14},
                      {"path": "b/c.py", "start_line": 30, "end_line": 41},
                      {"path": "d.py", "start_line": 1, "end_line": 12}],
        "suggestion": "",
    }]}
    (clone,) = parse_codebot(json.dumps(report), tmp_path)
    assert clone.kind == "near" and len(clone.fragments) == 3
    assert clone.fragments[1] == Fragment("b/c.py", 30, 41)


def test_measure_reports_time_memory_and_exit_code(tmp_path: Path) -> None:
    """The wrapper measures a child's wall time, its peak RSS and its exit code."""
    code = "x = bytearray(64 * 1024 * 1024); import sys; print('hi'); sys.exit(3)"
    result = measure([sys.executable, "-c", code], stdout=tmp_path / "out.txt")
    assert result.returncode == 3
    assert result.peak_mib >= 64
    assert 0 < result.wall_s < 10
    assert (tmp_path / "out.txt").read_text().strip() == "hi"


def test_render_sample_shows_both_fragments_numbered(tmp_path: Path) -> None:
    """The sample file shows each case's two fragments with their line numbers."""
    (tmp_path / "a.py").write_text("".join(f"line{i}\n" for i in range(1, 21)))
    clone = Clone((Fragment("a.py", 2, 4), Fragment("a.py", 10, 12)))
    text = render_sample([clone], tmp_path, "Sample")
    assert "## Case 1" in text
    assert "\n2  line2\n" in text and "\n12  line12\n" in text
    assert "line5" not in text


def test_sample_is_fixed_by_the_seed() -> None:
    """The same clones and seed give the same sample; it never exceeds the clones there are."""
    clones = [Clone((Fragment("a.py", i, i + 5), Fragment("b.py", i, i + 5))) for i in range(1, 200)]
    assert sample(clones, 50, 7) == sample(list(reversed(clones)), 50, 7)
    assert len(sample(clones[:10], 50, 7)) == 10


def test_read_verdicts_takes_the_last_counts(tmp_path: Path) -> None:
    """A judged sample's last count line gives the precision."""
    path = tmp_path / "verdicts-jscpd.md"
    path.write_text("Case 1: TRUE\n...\nTRUE 10, TRIVIAL 15, FALSE 25\n")
    verdicts = read_verdicts(path)
    assert verdicts == Verdicts(10, 15, 25)
    assert verdicts.precision == pytest.approx(0.2)
    assert read_verdicts(tmp_path / "missing.md") is None


def test_table_has_one_row_per_tool() -> None:
    """The Markdown table shows recall per type, clone counts, time and memory for each tool."""
    run = ToolRun("jscpd", (Clone((Fragment("a.py", 1, 9), Fragment("b.py", 1, 9))),), 1.234, 300.4, 0)
    failed = ToolRun("codebot", (), 0.0, 0.0, -1, "engine missing")
    rows = [
        ToolResult(run, {"T1": Recall(3, 4), "T2": Recall(1, 4)}, 1, 1, None),
        ToolResult(failed, {}, 0, 0, None),
    ]
    text = table(rows)
    assert "| jscpd | 0.75 (3/4) | 0.25 (1/4) | - | - | 1 | 1 | not judged | 1.23 | 300 |" in text
    assert "| codebot | - |" in text


def test_cli_rejects_unknown_tools(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown tool name is a usage error that lists the known ones."""
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--tools", "codebot,pmd"])
    assert exit_info.value.code == 2
    assert "pmd" in capsys.readouterr().err
