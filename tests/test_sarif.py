"""Tests for engine.sarif: a SARIF 2.1.0 log that the official schema accepts."""
import json

import jsonschema
import pytest

from conftest import FIXTURES, run_cli
from engine.config import Settings
from engine.records import ScanResult, ScanStats
from engine.sarif import to_sarif
from engine.scan import scan

SCHEMA = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())


@pytest.fixture
def shop_result(shop, tmp_path) -> ScanResult:
    return scan([shop], Settings(jobs=1), tmp_path / "i.db")


def test_log_is_valid_against_the_official_schema(shop_result):
    """The whole log validates against the SARIF 2.1.0 JSON schema."""
    jsonschema.validate(to_sarif(shop_result), SCHEMA)


def test_one_result_per_fragment_pair_with_both_locations(shop_result):
    """A clone of k fragments gives k - 1 results, each with a primary and a related location."""
    log = to_sarif(shop_result)
    results = log["runs"][0]["results"]
    assert len(results) == sum(len(c.fragments) - 1 for c in shop_result.clones)
    first = shop_result.clones[0]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        first.fragments[1].path
    related = results[0]["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"] == first.fragments[0].path
    assert related["region"] == {"startLine": first.fragments[0].start_line,
                                 "endLine": first.fragments[0].end_line}


def test_rules_levels_and_fingerprints(shop_result):
    """Every result names a defined rule, has a level and a unique partial fingerprint."""
    run = to_sarif(shop_result)["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    prints = [r["partialFingerprints"]["codebotClone/v1"] for r in run["results"]]
    assert all(r["ruleId"] == rule_ids[r["ruleIndex"]] and r["level"] == "warning"
               for r in run["results"])
    assert len(set(prints)) == len(prints)


def test_fingerprints_survive_a_line_move(shop, tmp_path):
    """Moving the code down keeps each alert's fingerprint (GitHub then tracks it as one)."""
    db = tmp_path / "i.db"
    before = to_sarif(scan([shop], Settings(jobs=1), db))["runs"][0]["results"]
    js = shop / "web" / "cart.js"
    js.write_text("\n\n\n" + js.read_text())
    after = to_sarif(scan([shop], Settings(jobs=1), db))["runs"][0]["results"]
    assert {r["partialFingerprints"]["codebotClone/v1"] for r in before} == \
        {r["partialFingerprints"]["codebotClone/v1"] for r in after}


def test_empty_report_is_valid():
    """No clones is still a valid log with one run and no results."""
    from pathlib import Path
    empty = ScanResult(Path("/repo"), ScanStats(0, 0, 0, 0, 0.0, 0.0, 0, 0, 0), (), (), frozenset())
    log = to_sarif(empty)
    jsonschema.validate(log, SCHEMA)
    assert log["runs"][0]["results"] == []


def test_cli_writes_sarif(shop, tmp_path):
    """`scan --format sarif` prints the log."""
    done = run_cli("scan", shop, "--format", "sarif", "--db", tmp_path / "i.db")
    assert done.returncode == 0, done.stderr
    jsonschema.validate(json.loads(done.stdout), SCHEMA)
