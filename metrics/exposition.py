"""Prometheus exposition: request counters, latency histograms and scan gauges read from the store.

The collector reads the hourly aggregates, so counters survive pruning of raw
rows and every process (the CLI, a scrape) sees the same totals.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from metrics.runtime import Runtime
from metrics.store import LATENCY_BUCKETS_MS


class StoreCollector(Collector):
    """A prometheus_client collector over the metrics store of one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        store = self.runtime.read_store()
        totals = store.hourly_totals()

        requests = CounterMetricFamily(
            "codebot_requests", "Tracked requests by operation and status.", labels=["operation", "status"]
        )
        for row in totals:
            requests.add_metric([row["operation"], row["status"]], row["count"])
        yield requests

        latency = HistogramMetricFamily(
            "codebot_request_latency_seconds", "Latency of tracked requests.", labels=["operation"]
        )
        per_operation: dict[str, dict[str, Any]] = {}
        for row in totals:
            acc = per_operation.setdefault(row["operation"], {"count": 0, "sum": 0.0, "buckets": [0] * len(LATENCY_BUCKETS_MS)})
            acc["count"] += row["count"]
            acc["sum"] += row["latency_sum"]
            for index, bound in enumerate(LATENCY_BUCKETS_MS):
                acc["buckets"][index] += row[f"b_{bound}"]
        for operation, acc in sorted(per_operation.items()):
            buckets = [(_le(bound / 1000.0), count) for bound, count in zip(LATENCY_BUCKETS_MS, acc["buckets"])]
            buckets.append(("+Inf", acc["count"]))
            latency.add_metric([operation], buckets, acc["sum"] / 1000.0)
        yield latency

        scans = store.recent_scans(None, limit=1000)
        latest: dict[str, Any] = {}
        for scan in scans:
            latest.setdefault(scan.root, scan)
        gauges = {
            "files": GaugeMetricFamily("codebot_scan_files", "Files in the last scan of each root.", labels=["root"]),
            "duplication_pct": GaugeMetricFamily(
                "codebot_duplication_percent", "Duplicated lines in the last scan, percent.", labels=["root"]
            ),
            "new_clones": GaugeMetricFamily("codebot_new_clones", "New clone classes in the last scan.", labels=["root"]),
            "duration_s": GaugeMetricFamily(
                "codebot_scan_duration_seconds", "Duration of the last scan.", labels=["root"]
            ),
        }
        for root, scan in sorted(latest.items()):
            for field, family in gauges.items():
                family.add_metric([root], float(getattr(scan, field)))
        yield from gauges.values()

        alerts = GaugeMetricFamily("codebot_alerts_open", "Open alerts by rule, state and severity.",
                                   labels=["rule", "state", "severity"])
        counts: dict[tuple[str, str, str], int] = {}
        for alert in store.open_alerts():
            key = (alert["rule"], alert["state"], alert["severity"] or "")
            counts[key] = counts.get(key, 0) + 1
        for key, count in sorted(counts.items()):
            alerts.add_metric(list(key), count)
        yield alerts


def _le(seconds: float) -> str:
    return repr(float(seconds)) if math.isfinite(seconds) else "+Inf"


def registry_for(runtime: Runtime) -> CollectorRegistry:
    """A fresh registry holding only the store collector of `runtime`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(runtime))
    return registry


def export_text(runtime: Runtime) -> str:
    """The store's metrics in the Prometheus text exposition format."""
    return generate_latest(registry_for(runtime)).decode("utf-8")


def serve(runtime: Runtime, port: int, host: str = "127.0.0.1") -> tuple[Any, threading.Thread]:
    """Serve /metrics on host:port in a background thread; returns (server, thread)."""
    return start_http_server(port, addr=host, registry=registry_for(runtime))
