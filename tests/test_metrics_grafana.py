"""Tests of metrics.grafana: the dashboard JSON against the real exposition, and links in alerts and /dashboard."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

import metrics
from metrics.clock import ManualClock
from metrics.exceptions import ConfigError
from metrics.exposition import export_text
from metrics.grafana import DASHBOARD_UID, dashboard, dashboard_json
from metrics.settings import dashboard_links
from metrics.notifiers import format_alert
from metrics.settings import load_settings, settings_from_table
from metrics.testing import RecordingNotifier, configured

GRAFANA = "https://grafana.example.com/sub"

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{([^}]*)\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_RANGES = re.compile(r"\[[^\]]*\]")
_IDENTIFIER = re.compile(r"(?<![\w$:])([A-Za-z_:][\w:]*)(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}


def promql_names(expr: str) -> tuple[set[str], set[str]]:
    """(metric names, label names) a PromQL expression (or a label_values() query) refers to."""
    labels: set[str] = set()
    for inner in _MATCHERS.findall(_STRINGS.sub('""', expr)):
        labels.update(m.group(1) for m in re.finditer(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", inner))
    text = _MATCHERS.sub(" ", _STRINGS.sub('""', expr))
    for inner in _GROUPING.findall(text):
        labels.update(name.strip() for name in inner.split(",") if name.strip())
    text = _RANGES.sub(" ", _GROUPING.sub(" ", text))
    if text.strip().startswith("label_values("):
        metric, label = (part.strip() for part in text.strip()[len("label_values("):-1].split(","))
        return {metric}, labels | {label}
    names = {m.group(1) for m in _IDENTIFIER.finditer(text) if not m.group(2) and m.group(1) not in _KEYWORDS}
    return names, labels


def queries(model: dict) -> list[str]:
    """Every PromQL expression of the dashboard: panel targets and variable queries."""
    found = [target["expr"] for panel in model["panels"] for target in panel["targets"]]
    found += [v["definition"] for v in model["templating"]["list"] if v["type"] == "query"]
    return found


@pytest.fixture
def exposition(tmp_path) -> str:
    """The exposition of a store with every kind of series: requests, an error, scans and a firing alert."""
    clock = ManualClock()
    with configured(tmp_path / "index.db", clock) as runtime:
        for _ in range(3):
            with metrics.track_request("scan"):
                clock.advance(0.05)
        with pytest.raises(OSError):
            with metrics.track_request("scan"):
                raise OSError("disk full")
        metrics.record_scan(files=12, duplication_pct=4.5, new_clones=2, duration_s=0.7, root="/repo")
        metrics.evaluate_alerts()
        assert metrics.open_alerts()
        yield export_text(runtime)


def test_the_parser_in_this_test_finds_metrics_and_labels():
    """The helper reads metric and label names out of the kinds of PromQL the dashboard uses."""
    names, labels = promql_names(
        'histogram_quantile(0.95, sum by (operation, le) (rate(x_bucket{operation=~"$op"}[$__rate_interval])))'
        ' / on (operation) sum(y{state="a,b"}) or vector(0)')
    assert names == {"x_bucket", "y"} and labels == {"operation", "le", "state"}


def test_every_query_names_only_series_the_exposition_emits(exposition):
    """Each PromQL target and variable query refers only to metric names and labels `metrics serve` exposes."""
    emitted: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            emitted.setdefault(sample.name, set()).update(sample.labels)
    exprs = queries(dashboard())
    assert len(exprs) >= 9
    for expr in exprs:
        names, labels = promql_names(expr)
        assert names, expr
        assert names <= set(emitted), f"{expr} names {names - set(emitted)}, not exposed"
        known = set().union(*(emitted[name] for name in names))
        assert labels <= known, f"{expr} uses labels {labels - known} its metrics do not carry"


def test_dashboard_is_an_importable_grafana_model():
    """uid, title, schemaVersion, a datasource variable, and panels whose targets all use it."""
    model = dashboard()
    assert model["uid"] == DASHBOARD_UID and model["title"] and isinstance(model["schemaVersion"], int)
    assert model["id"] is None  # Grafana assigns its own id on import
    variables = {v["name"]: v for v in model["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in model["panels"]]
    assert len(ids) == len(set(ids))
    titles = " ".join(panel["title"] for panel in model["panels"]).lower()
    for topic in ("request rate", "error rate", "p50", "p95", "p99", "duplication", "alerts"):
        assert topic in titles
    for panel in model["panels"]:
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"} and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        refs = [target["refId"] for target in panel["targets"]]
        assert refs and len(refs) == len(set(refs))
        for target in [panel, *panel["targets"]]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_dashboard_json_is_stable():
    """The same text on every call: sorted keys, fixed indent, newline at the end."""
    text = dashboard_json()
    assert text == dashboard_json() and text.endswith("}\n")
    assert json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n" == text


def test_dashboard_links_only_when_grafana_is_configured(tmp_path, monkeypatch):
    """/dashboard links point into the exported dashboard under grafana_url; without it there are none."""
    links = dashboard_links(settings_from_table({"metrics": {"grafana_url": GRAFANA + "/"}}))
    assert links and all(link.url.startswith(f"{GRAFANA}/d/{DASHBOARD_UID}/") for link in links)
    assert parse_qs(urlsplit(links[0].url).query) == {"from": ["now-1h"], "to": ["now"]}
    assert dashboard_links(settings_from_table({})) == []
    monkeypatch.chdir(tmp_path)
    assert dashboard_links() == []  # no pyproject.toml here
    (tmp_path / "pyproject.toml").write_text(f'[tool.codebot.metrics]\ngrafana_url = "{GRAFANA}"\n')
    assert dashboard_links() == links


@pytest.mark.parametrize("url", ["grafana.example.com", "ftp://grafana.example.com", "https://admin:pw@grafana.example.com"])
def test_a_bad_grafana_url_names_the_key(url):
    """Not an http(s) URL, or one carrying a password, is refused with the key named, globally or per rule."""
    with pytest.raises(ConfigError, match=r"tool\.codebot\.metrics\.grafana_url"):
        settings_from_table({"metrics": {"grafana_url": url}})
    with pytest.raises(ConfigError, match=r"tool\.codebot\.alerts\.error_rate\.dashboard"):
        settings_from_table({"alerts": {"error_rate": {"dashboard": url}}})


def test_alerts_sent_to_notifiers_link_to_the_dashboard(tmp_path):
    """With grafana_url set, a firing alert carries a dashboard link for its key and time; without, none."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[tool.codebot.metrics]\ngrafana_url = "{GRAFANA}"\n'
                         '[tool.codebot.alerts.new_clones]\ndashboard = "https://dash.example.com/d/mine?orgId=2"\n')
    for settings, expect_links in ((load_settings(pyproject), True), (None, False)):
        clock = ManualClock()
        notifier = RecordingNotifier()
        with configured(tmp_path / f"{expect_links}.db", clock, settings=settings, notifiers=[notifier]):
            with pytest.raises(OSError):
                with metrics.track_request("scan"):
                    raise OSError("disk full")
            metrics.record_scan(files=3, duplication_pct=1.0, new_clones=2, duration_s=0.1, root="/repo")
            metrics.evaluate_alerts()
        alerts = {alert.rule: alert for alert, event in notifier.sent if event == "firing"}
        assert {"scan_failures", "new_clones"} <= set(alerts)
        links = {rule: [s for s in alert.suggestions if "://" in s] for rule, alert in alerts.items()}
        if not expect_links:
            assert not any(links.values())
            continue
        (scan_link,) = links["scan_failures"]
        url = scan_link.split(": ", 1)[1]
        assert url.startswith(f"{GRAFANA}/d/{DASHBOARD_UID}/")
        query = parse_qs(urlsplit(url).query)
        now_ms = int(clock.time() * 1000)
        assert query["var-operation"] == ["scan"] and query["to"] == [str(now_ms)]
        assert int(query["from"][0]) == now_ms - 3600 * 1000  # the rule's one-hour window
        (clone_link,) = links["new_clones"]
        clone_query = parse_qs(urlsplit(clone_link.split(": ", 1)[1]).query)
        assert clone_link.split(": ", 1)[1].startswith("https://dash.example.com/d/mine?")
        assert clone_query["orgId"] == ["2"] and clone_query["var-root"] == ["/repo"]
        assert url in format_alert(alerts["scan_failures"], "firing")
