"""The cluster scaling benchmark's table and its worked estimate, from a synthetic result;
and its pure helpers (the clone set compared, the medians, the largest class)."""
from __future__ import annotations

import json

import pytest

from benchmarks.cluster_scaling import (
    Run, clone_set, count_code_lines, largest_class, ratio, summarize,
)
from benchmarks.report import cluster_estimate, render_cluster_scaling


def _mode(wall: float, cpu: float, client: float, other: float) -> dict:
    return {"runs": 3, "errors": [], "wall_s": wall, "cpu_s": cpu, "client_peak_mib": client,
            "largest_other_mib": other, "tree_peak_mib": client + 2 * other}


def _size(factor: int, matching_tasks: float, identical: bool = True) -> dict:
    lines = 100_000 * factor
    return {"factor": factor, "files": 100 * factor, "lines": lines * 12 // 10,
            "local": _mode(10.0 * factor, 18.0 * factor, 200.0 * factor, 60.0),
            "cluster": _mode(12.0 * factor, 20.0 * factor, 220.0 * factor, 90.0),
            "identical": identical, "ratio_wall": 1.2, "code_lines": lines,
            "files_scanned": 100 * factor, "clones": 50 * factor, "largest_class": 2 * factor,
            "stages": {"reading_s": 5.0 * factor, "reading_client_cpu_s": 1.0 * factor,
                       "matching_s": 2.0 * factor, "matching_client_cpu_s": 0.5 * factor,
                       "storing_s": 0.5 * factor, "total_s": 8.0 * factor,
                       "index_mib": 20.0 * factor,
                       "worker_compute_s": {"fingerprint_batch": 9.0 * factor,
                                            "partition_runs": matching_tasks / 2,
                                            "pair_similarities": matching_tasks / 2,
                                            "_advise": 3.0 * factor, "other": 99.0}}}


DATA = {"date": "2026-12-01", "runs": 3, "cpus": 2, "python": "3.11.7", "platform": "Linux",
        "workers": 2, "dask": "2026.8.0", "distributed": "2026.8.0",
        "sizes": [_size(1, 1.0), _size(3, 9.0), _size(10, 100.0)]}


def test_the_estimate_grows_each_cost_as_it_grew_and_spreads_the_workers_share():
    e = cluster_estimate(DATA, lines=250e6, cores=64, machine_cores=16)
    fingerprinting, k = e["workers"]["fingerprinting"]
    assert k == pytest.approx(1.0) and fingerprinting == pytest.approx(90.0 * 250)
    matching, k = e["workers"]["matching"]
    assert k == pytest.approx(2.0) and matching == pytest.approx(100.0 * 250 ** 2)
    assert e["workers"]["suggestions"] == (pytest.approx(30.0 * 250), pytest.approx(1.0))
    assert e["worker_wall_s"] == pytest.approx((90 * 250 + 100 * 250 ** 2 + 30 * 250) / 64)
    assert e["client_exponent"] == pytest.approx(1.0)
    assert e["client_s"] == pytest.approx((10.0 + 5.0) * 250)
    assert e["files"] == pytest.approx(250_000)
    assert e["storing_s"] == pytest.approx(0.005 * 250_000)
    assert e["index_gib"] == pytest.approx(200.0 * 250 / 1024)
    assert e["client_gib"] == pytest.approx(2200.0 * 250 / 1024)
    assert e["machines"] == 4 and e["largest_class"] == 20
    assert e["bound"] == "the workers' share" and e["total_s"] == e["worker_wall_s"]


def test_one_size_assumes_linear_growth():
    e = cluster_estimate({**DATA, "sizes": DATA["sizes"][:1]}, lines=1e6)
    assert e["workers"]["matching"] == (pytest.approx(10.0), 1.0)
    assert e["bound"] == "the client's own work"  # (1 + 0.5) × 10 + 0.005 × 1,000 s


def test_the_table_and_the_paragraph():
    text = render_cluster_scaling(DATA)
    assert ("| 10x | 1,000,000 | 100.00 | 180.00 | 2000 | 120.00 | 200.00 | 2200 | 90 "
            "| 1.20 | yes |") in text
    assert "| 10x | 1,000 | 50.00 | 20.00 | 5.00 | 10.00 / 5.00 | 90.00 / 100.00 / 30.00 " \
        "| 200 |" in text
    assert "Estimate for 250 M lines on 64 worker cores** (4 machines of 16 cores)" in text
    assert "matching 27.1 h (∝ lines^2.00)" in text  # 100 s × 250² / 64 cores
    assert "Bound: **the workers' share**" in text and "20 fragments" in text
    assert "about 537 GiB at this size" in text
    assert "| cluster wall / local wall at 10x | ≤ 1.3 | 1.20 | met |" in text
    assert "| largest process of the cluster scan at 10x | ≤ 1024 MiB | 2200 MiB (client " \
        "2200, largest worker 90) | **missed** |" in text
    assert "| the same clones as a local scan, every size | all | yes | met |" in text


def test_a_differing_clone_set_or_a_failed_run_shows():
    broken = _size(1, 1.0, identical=False)
    broken["cluster"]["errors"] = ["exit 2: cannot reach the scheduler"]
    text = render_cluster_scaling({**DATA, "sizes": [broken]})
    assert "**no**; failed: exit 2: cannot reach the scheduler |" in text


def test_the_clone_set_leaves_out_what_changes_from_run_to_run(tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    report = {"version": 1, "stats": {"files": 3, "duration_s": 1.5}, "clones": [
        {"id": "x", "fragments": [{"path": "a.py"}, {"path": "b.py"}, {"path": "c.py"}]}]}
    first.write_text(json.dumps({**report, "request_id": "r1"}))
    second.write_text(json.dumps({**report, "request_id": "r2",
                                  "stats": {"files": 3, "duration_s": 9.0}}))
    assert clone_set(first) == clone_set(second) is not None
    assert clone_set(tmp_path / "missing.json") is None
    assert largest_class(clone_set(first)) == 3 and largest_class(None) == 0


def test_medians_skip_failed_runs():
    runs = [Run(1.0, 2.0, 100, 50, 200, 0), Run(3.0, 4.0, 300, 70, 400, 1),
            Run(9.0, 9.0, 9, 9, 9, 2, "exit 2: boom")]
    row = summarize(runs)
    assert row["wall_s"] == 2.0 and row["client_peak_mib"] == 200 and row["runs"] == 3
    assert row["errors"] == ["exit 2: boom"]
    assert summarize([runs[2]])["wall_s"] is None
    assert ratio(3.0, 2.0) == 1.5 and ratio(None, 2.0) is None and ratio(1.0, 0.0) is None


def test_code_lines_leave_out_blank_and_comment_lines(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        '"""Doc."""\n\n# a comment\n  # another\nx = 1  # kept\n')
    (tmp_path / "b.py").write_text("def f():\n\n    return 2\n")
    (tmp_path / "notes.txt").write_text("not python\n")
    assert count_code_lines(tmp_path) == 4
