"""Grafana: the dashboard JSON over the metrics `metrics serve` exposes, and links into it.

`dashboard()` is importable into Grafana as it is (Dashboards → Import): every
query goes through a `datasource` variable, so no `__inputs` need mapping. Its
uid is fixed, so links built here find the imported dashboard once
`[tool.codebot.metrics] grafana_url` names the Grafana it lives in.

This module imports nothing else from metrics: settings and alerts import it to
build their links (`metrics.settings.dashboard_links` reads the configured URL).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


DASHBOARD_UID = "codebot-overview"
DASHBOARD_TITLE = "CodeBot"
DASHBOARD_SLUG = "codebot"
# Grafana 10.x; newer Grafana migrates older schema versions on import.
SCHEMA_VERSION = 39

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_OPERATION = 'operation=~"$operation"'
_ROOT = 'root=~"$root"'
_RATE = "[$__rate_interval]"
_ERROR_STATUSES = "error|timeout"  # the statuses the summaries count as errors


class DashboardLink(NamedTuple):
    """A titled link into the Grafana dashboard."""

    title: str
    url: str


# -- the dashboard JSON ----------------------------------------------------------------


def _target(expr: str, legend: str, ref: str, *, instant: bool = False) -> dict[str, Any]:
    return {
        "datasource": DATASOURCE, "editorMode": "code", "expr": expr, "legendFormat": legend,
        "range": not instant, "instant": instant, "refId": ref,
        **({"format": "table"} if instant else {}),
    }


def _panel(
    panel_id: int, title: str, kind: str, grid: tuple[int, int, int, int], targets: list[dict[str, Any]],
    *, unit: str, description: str, options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    x, y, w, h = grid
    return {
        "id": panel_id, "type": kind, "title": title, "description": description,
        "datasource": DATASOURCE, "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": options or {}, "targets": targets,
    }


def _requests(matchers: str) -> str:
    return f"sum by (operation) (rate(codebot_requests_total{{{matchers}}}{_RATE}))"


def _quantile(q: float) -> str:
    return (f"histogram_quantile({q}, sum by (operation, le) "
            f"(rate(codebot_request_latency_seconds_bucket{{{_OPERATION}}}{_RATE})))")


def panels() -> list[dict[str, Any]]:
    """The dashboard's panels: traffic, errors, latency, duplication and alerts."""
    every = _requests(_OPERATION)
    failed = _requests(f'{_OPERATION}, status=~"{_ERROR_STATUSES}"')
    return [
        _panel(1, "Request rate", "timeseries", (0, 0, 12, 8),
               [_target(every, "{{operation}}", "A")],
               unit="reqps", description="Tracked requests per second, per operation."),
        # `or ... * 0` gives operations without errors a 0 instead of a gap.
        _panel(2, "Error rate", "timeseries", (12, 0, 12, 8),
               [_target(f"({failed} or {every} * 0) / {every}", "{{operation}}", "A")],
               unit="percentunit", description="Share of requests that ended in error or timeout."),
        _panel(3, "Latency p50 / p95 / p99", "timeseries", (0, 8, 24, 9),
               [_target(_quantile(q), f"{{{{operation}}}} p{round(q * 100)}", ref)
                for q, ref in ((0.5, "A"), (0.95, "B"), (0.99, "C"))],
               unit="s", description="Latency percentiles per operation, from the request histogram."),
        _panel(4, "Duplication trend", "timeseries", (0, 17, 12, 8),
               [_target(f"codebot_duplication_percent{{{_ROOT}}}", "{{root}}", "A")],
               unit="percent", description="Duplicated lines in the last scan of each root."),
        _panel(5, "New clones per scan", "timeseries", (12, 17, 12, 8),
               [_target(f"codebot_new_clones{{{_ROOT}}}", "{{root}}", "A")],
               unit="short", description="New clone classes found by the last scan of each root."),
        _panel(6, "Firing alerts", "stat", (0, 25, 6, 6),
               [_target('sum(codebot_alerts_open{state="firing"}) or vector(0)', "firing", "A")],
               unit="short", description="Alerts firing now.",
               options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "background", "graphMode": "none"}),
        _panel(7, "Open alerts", "table", (6, 25, 18, 6),
               [_target("sum by (rule, state, severity) (codebot_alerts_open)", "", "A", instant=True)],
               unit="short", description="Pending and firing alerts by rule, state and severity.",
               options={"showHeader": True}),
    ]


def _query_variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name, "label": label, "type": "query", "datasource": DATASOURCE,
        "definition": query, "query": {"query": query, "refId": f"{name}-values", "qryType": 1},
        "includeAll": True, "multi": True, "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [], "refresh": 2, "regex": "", "sort": 1, "hide": 0,
    }


def dashboard() -> dict[str, Any]:
    """The Grafana dashboard model; the same every time, so the exported file diffs cleanly."""
    return {
        "id": None, "uid": DASHBOARD_UID, "title": DASHBOARD_TITLE, "version": 1,
        "schemaVersion": SCHEMA_VERSION, "editable": True, "graphTooltip": 1,
        "description": "CodeBot requests, errors, latency, duplication and alerts (python -m metrics serve).",
        "tags": ["codebot"], "timezone": "browser", "refresh": "1m",
        "time": {"from": "now-6h", "to": "now"}, "timepicker": {}, "links": [],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True,
            "hide": True, "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard",
        }]},
        "templating": {"list": [
            {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
             "current": {}, "options": [], "refresh": 1, "regex": "", "hide": 0},
            _query_variable("operation", "Operation", "label_values(codebot_requests_total, operation)"),
            _query_variable("root", "Scanned root", "label_values(codebot_duplication_percent, root)"),
        ]},
        "panels": panels(),
    }


def dashboard_json() -> str:
    """The dashboard as stable JSON text (sorted keys, fixed indent, final newline)."""
    return json.dumps(dashboard(), indent=2, sort_keys=True) + "\n"


# -- links -----------------------------------------------------------------------------


def dashboard_url(grafana_url: str) -> str:
    """The URL of the exported dashboard inside the Grafana at `grafana_url` (which may have a sub-path)."""
    return f"{grafana_url.rstrip('/')}/d/{DASHBOARD_UID}/{DASHBOARD_SLUG}"


def with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` added to its query string (replacing same-named ones), in a fixed order."""
    parts = urlsplit(url)
    query = {key: value for key, value in parse_qsl(parts.query, keep_blank_values=True) if key not in params}
    return urlunsplit(parts._replace(query=urlencode({**query, **params})))


def time_range_link(url: str, start: float, end: float, variables: dict[str, str] | None = None) -> str:
    """A dashboard link showing [start, end] (epoch seconds) with template variables set, e.g. an operation."""
    params = {"from": str(int(start * 1000)), "to": str(int(end * 1000))}
    params.update({f"var-{name}": value for name, value in sorted((variables or {}).items())})
    return with_query(url, params)


def links_for(grafana_url: str | None) -> list[DashboardLink]:
    """The dashboard links for a Grafana base URL; none when Grafana is not configured."""
    if not grafana_url:
        return []
    url = dashboard_url(grafana_url)
    return [
        DashboardLink("Grafana: last hour", with_query(url, {"from": "now-1h", "to": "now"})),
        DashboardLink("Grafana: last 24 hours", with_query(url, {"from": "now-24h", "to": "now"})),
        DashboardLink("Grafana: duplication, last 30 days", with_query(url, {"from": "now-30d", "to": "now"})),
    ]
