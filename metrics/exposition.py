"""Prometheus exposition: request counters, latency histograms and scan gauges read from the store.

The collector reads the hourly aggregates, so counters survive pruning of raw
rows and every process (the CLI, a scrape) sees the same totals. `serve`
answers /metrics, /healthz and /readyz (see metrics.health).
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.registry import Collector

from metrics.exceptions import MetricsError
from metrics.health import liveness, readiness
from metrics.runtime import Runtime
from metrics.store import LATENCY_BUCKETS_MS

# Where a served process gets its runtime; it raises MetricsError while the store cannot be used.
RuntimeSource = Callable[[], Runtime]


class StoreCollector(Collector):
    """A prometheus_client collector over the metrics store of one runtime."""

    def __init__(self, runtime: Runtime | RuntimeSource) -> None:
        self.source: RuntimeSource = (lambda: runtime) if isinstance(runtime, Runtime) else runtime

    def collect(self) -> Iterator[Metric]:
        store = self.source().read_store()
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


def registry_for(runtime: Runtime | RuntimeSource) -> CollectorRegistry:
    """A fresh registry holding only the store collector of `runtime`."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(runtime))
    return registry


def export_text(runtime: Runtime) -> str:
    """The store's metrics in the Prometheus text exposition format."""
    return generate_latest(registry_for(runtime)).decode("utf-8")


# -- the HTTP server -------------------------------------------------------------------

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_REASONS = {200: "200 OK", 503: "503 Service Unavailable"}


def _json_response(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    data = (json.dumps(body, sort_keys=True) + "\n").encode("utf-8")
    start_response(_REASONS[status], [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                                      ("Cache-Control", "no-store")])
    return [data]


def health_app(metrics_app: WSGIApp, db_path: Path, started_at: float) -> WSGIApp:
    """/healthz and /readyz as JSON in front of the Prometheus app; a store error on /metrics is a 503."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            return _json_response(start_response, *liveness(started_at))
        if path == "/readyz":
            return _json_response(start_response, *readiness(db_path))
        try:
            # The Prometheus app collects before it starts the response, so a failure can still become a 503.
            return metrics_app(environ, start_response)
        except MetricsError as exc:
            data = f"# metrics store unavailable: {exc}\n".encode()
            start_response(_REASONS[503], [("Content-Type", "text/plain; charset=utf-8"),
                                           ("Content-Length", str(len(data)))])
            return [data]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Scrapes and probes come every few seconds; logging each is noise."""


def _server_class(host: str, port: int) -> tuple[type[ThreadingWSGIServer], str]:
    # An IPv6 address needs an AF_INET6 socket; the class attribute decides it.
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    return type("Server", (ThreadingWSGIServer,), {"address_family": family}), address[0]


def serve(
    runtime: Runtime | RuntimeSource, port: int, host: str = "127.0.0.1", *, db_path: Path | None = None,
) -> tuple[Any, threading.Thread]:
    """Serve /metrics, /healthz and /readyz on host:port in a background thread; returns (server, thread).

    `runtime` may be a function giving the runtime, so a server started while the
    store is unusable answers /healthz and a 503 /readyz, and recovers when it opens.
    `db_path` (the store's file) is required then; readiness checks that file.
    """
    if db_path is None:
        if not isinstance(runtime, Runtime) or runtime.store is None:
            raise ValueError("serve needs db_path when it is not given a runtime with a store")
        db_path = runtime.store.path
    server_class, address = _server_class(host, port)
    app = health_app(make_wsgi_app(registry_for(runtime)), db_path, time.time())
    server = make_server(address, port, app, server_class, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-serve", daemon=True)
    thread.start()
    return server, thread
