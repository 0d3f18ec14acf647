"""Tests of metrics.exposition: the Prometheus text format, parsed back with prometheus_client's parser."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import metrics
from metrics.clock import ManualClock
from metrics.exposition import export_text, serve
from metrics.testing import configured


@pytest.fixture
def runtime(tmp_path):
    clock = ManualClock()
    with configured(tmp_path / "index.db", clock) as rt:
        for latency in (0.003, 0.040, 0.200, 2.0):
            with metrics.track_request("scan"):
                clock.advance(latency)
        with pytest.raises(OSError):
            with metrics.track_request("scan"):
                raise OSError("disk full")
        metrics.record_scan(files=12, duplication_pct=4.5, new_clones=2, duration_s=0.7, root="/repo")
        yield rt


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_exposition_parses_back_with_counters_histograms_and_gauges(runtime):
    """Counters per status, a cumulative latency histogram and the last scan's gauges round-trip."""
    text = export_text(runtime)
    values = samples(text)
    assert values[("codebot_requests_total", (("operation", "scan"), ("status", "success")))] == 4
    assert values[("codebot_requests_total", (("operation", "scan"), ("status", "error")))] == 1
    bucket = "codebot_request_latency_seconds_bucket"
    assert values[(bucket, (("le", "0.005"), ("operation", "scan")))] == 2  # 3 ms and the instant failure
    assert values[(bucket, (("le", "0.25"), ("operation", "scan")))] == 4
    assert values[(bucket, (("le", "+Inf"), ("operation", "scan")))] == 5
    assert values[("codebot_request_latency_seconds_count", (("operation", "scan"),))] == 5
    assert values[("codebot_request_latency_seconds_sum", (("operation", "scan"),))] == pytest.approx(2.243)
    assert values[("codebot_duplication_percent", (("root", "/repo"),))] == 4.5
    assert values[("codebot_new_clones", (("root", "/repo"),))] == 2
    types = {f.name: f.type for f in text_string_to_metric_families(text)}
    assert types["codebot_requests"] == "counter" and types["codebot_request_latency_seconds"] == "histogram"


def test_counters_survive_retention_pruning(runtime):
    """Pruning every raw row leaves the exported counters unchanged, since they come from hourly aggregates."""
    before = samples(export_text(runtime))
    runtime.store.prune(before=runtime.clock.time() + 1)
    assert runtime.store.count_rows() == 0
    assert samples(export_text(runtime))[("codebot_requests_total", (("operation", "scan"), ("status", "success")))] == \
        before[("codebot_requests_total", (("operation", "scan"), ("status", "success")))]


def test_served_metrics_are_scrapable_over_http(runtime):
    """The /metrics endpoint on 127.0.0.1 answers with the same exposition."""
    server, thread = serve(runtime, 0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5) as response:
            body = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert samples(body)[("codebot_scan_files", (("root", "/repo"),))] == 12
