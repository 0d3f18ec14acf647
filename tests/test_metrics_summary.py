"""Tests of metrics.summary and metrics.summarize: counts, error rates, percentiles and windows."""

from __future__ import annotations

import pytest

import metrics
from metrics.clock import ManualClock
from metrics.summary import percentile, summarize_latencies, total
from metrics.testing import configured


def test_percentile_is_nearest_rank():
    """p50/p95/p99 of 1..100 are 50, 95 and 99; an empty list has none."""
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, q) for q in (50, 95, 99, 100)] == [50.0, 95.0, 99.0, 100.0]
    assert percentile([], 95) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_rate_limited_requests_are_not_errors():
    """Error rate counts errors and timeouts; rate-limited refusals are counted apart."""
    summary = summarize_latencies(
        "bot", 60, [("success", 1.0), ("error", 2.0), ("timeout", 3.0), ("rate_limited", 4.0)]
    )
    assert (summary.count, summary.errors, summary.rate_limited, summary.error_rate) == (4, 2, 1, 0.5)
    assert (summary.avg_ms, summary.max_ms) == (2.5, 4.0)


def test_summarize_reads_the_window_and_groups_top_errors(tmp_path):
    """Only requests inside the window count, and repeated errors group under one fingerprint."""
    clock = ManualClock()
    with configured(tmp_path / "index.db", clock):
        with metrics.track_request("scan"):
            clock.advance(9)  # an old, slow request outside the window
        clock.advance("2h")
        for n in range(10):
            try:
                with metrics.track_request("scan"):
                    clock.advance(0.1 * (n + 1))
                    if n < 3:
                        raise FileNotFoundError(2, "No such file or directory", f"/repo/{n}")
            except FileNotFoundError:
                pass
        (scan,) = metrics.summarize(window="1h")
        assert (scan.count, scan.success, scan.errors) == (10, 7, 3)
        assert scan.error_rate == pytest.approx(0.3)
        assert scan.p50_ms == pytest.approx(500.0) and scan.max_ms == pytest.approx(1000.0)
        (group,) = scan.top_errors
        assert (group.count, group.error_type, group.error_code) == (3, "FileNotFoundError", "ENOENT")
        assert metrics.summarize("scan", window="3h")[0].count == 11
        assert metrics.summarize("nothing")[0].count == 0


def test_total_combines_operations():
    """The total line sums counts and takes the worst percentile of any operation."""
    a = summarize_latencies("a", 60, [("success", 10.0)] * 9 + [("error", 30.0)])
    b = summarize_latencies("b", 60, [("success", 100.0)] * 10)
    combined = total([a, b], 60)
    assert (combined.count, combined.errors, combined.p95_ms) == (20, 1, 100.0)
    assert combined.avg_ms == pytest.approx((9 * 10 + 30 + 1000) / 20)
