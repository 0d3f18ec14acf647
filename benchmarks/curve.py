"""Recall against judged precision at several near-miss thresholds: the point the default takes.

    python -m benchmarks.curve [--thresholds 0.80,0.85,0.90] [--results DIR]

Run after ``benchmarks.drift --set heldout``, ``benchmarks.heldout`` and a judged
``benchmarks.blind`` round: their trees, manifests and verdicts are the input. For
each threshold CodeBot scans the held-out drift tree and split B's corpus again
(``--threshold T``, a fresh index), and the table gives

- recall per band (held-out drift) and per level (split B), scored exactly as
  those benchmarks score it;
- judged precision per judge over the blind round's CodeBot cases still reported
  at that threshold (a case stays when a clone of the new report has its
  fragments). Only thresholds at or above the judged round's are judged this way:
  a lower one reports clones nobody judged, and its cells say so.

Writes ``curve.json`` and ``curve.md`` into ``--results`` (default benchmarks/results).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Mapping, Sequence

from benchmarks import drift
from benchmarks.blind import parse_verdicts
from benchmarks.corpus import load_manifest
from benchmarks.scoring import recall
from benchmarks.tools import Clone, run_codebot, scratch_dir

RESULTS_DIR = Path(__file__).resolve().parent / "results"
BLIND_DIR = RESULTS_DIR / "blind"
VERDICTS = ("TRUE", "TRIVIAL", "FALSE")
# The near-miss threshold of the CodeBot reports the committed blind round drew from
# (the default then), unless the key records one.
JUDGED_AT = 0.80


def _regions(clone: Clone) -> frozenset[tuple[str, int, int]]:
    return frozenset((f.path, f.start, f.end) for f in clone.fragments)


def still_reported(case: Mapping[str, Any], clones: Sequence[Clone]) -> bool:
    """A judged case is still in a report when one clone holds all its fragments."""
    wanted = {(f["path"], f["start"], f["end"]) for f in case["fragments"]}
    return any(wanted <= _regions(clone) for clone in clones)


def judged(cases: Mapping[str, Mapping[str, Any]], verdicts: Mapping[int, str],
           reported: Mapping[str, Sequence[Clone]]) -> dict[str, Any]:
    """Verdict counts of one judge over the CodeBot cases a run still reports."""
    counts = dict.fromkeys(VERDICTS, 0)
    for number, case in cases.items():
        if case["tool"] == "codebot" and still_reported(case, reported[case["source"]]):
            counts[verdicts[int(number)]] += 1
    total = sum(counts.values())
    return {"cases": total, **counts,
            **{f"{v.lower()}_fraction": round(counts[v] / total, 3) if total else None
               for v in VERDICTS}}


def run_threshold(threshold: float, drift_tree: Path, pairs: Sequence[drift.Pair],
                  manifest_path: Path) -> tuple[dict[str, Any], dict[str, Sequence[Clone]]]:
    """Recall on both held-out sets at one threshold, and the clones reported."""
    extra = ("--threshold", str(threshold))
    drift_run = run_codebot(drift_tree, scratch_dir(), extra=extra)
    manifest = load_manifest(manifest_path)
    split_run = run_codebot(Path(manifest.root), scratch_dir(), extra=extra)
    for run in (drift_run, split_run):
        if run.error:
            raise RuntimeError(f"CodeBot at --threshold {threshold}: {run.error}")
    bands = drift.score(drift_run, pairs).recall
    levels = recall(manifest, split_run.clones)
    row = {"threshold": threshold,
           "drift": {band: round(r.ratio, 3) for band, r in bands.items()},
           "split_b": {level: round(r.ratio, 3) for level, r in levels.items()},
           "clones": {"drift": len(drift_run.clones), "split_b": len(split_run.clones)}}
    return row, {"drift": drift_run.clones, "splitB": split_run.clones}


def render_markdown(results: Mapping[str, Any]) -> str:
    rows = results["rows"]
    bands = list(rows[0]["drift"])
    levels = list(rows[0]["split_b"])
    judges = list(rows[0]["judged"])
    head = (["Threshold"] + [f"drift {b}" for b in bands] + [f"split B {lv}" for lv in levels]
            + [f"{j} TRUE / TRIVIAL / FALSE" for j in judges])
    out = [f"Recall and blind-judged precision by near-miss threshold (held-out drift set and split B; "
           f"judged over the {results['judged_round']['codebot_cases']} CodeBot cases of the blind round, "
           f"sampled at threshold {results['judged_round']['threshold']:.2f}). "
           f"Default: {results['default']:.2f}.", "",
           "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [f"{row['threshold']:.2f}"]
        cells += [f"{row['drift'][b]:.2f}" for b in bands]
        cells += [f"{row['split_b'][lv]:.2f}" for lv in levels]
        for judge in judges:
            j = row["judged"][judge]
            cells.append("not judged" if j is None else
                         f"{j['true_fraction']:.2f} / {j['trivial_fraction']:.2f} / "
                         f"{j['false_fraction']:.2f} (of {j['cases']})")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.curve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--thresholds", default="0.80,0.85,0.90")
    parser.add_argument("--out", type=Path, default=drift.DEFAULT_OUT, help="the benchmarks' --out")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--heldout", type=Path, default=None,
                        help="split B's --out the round drew from (default OUT/heldout)")
    parser.add_argument("--blind", type=Path, default=BLIND_DIR,
                        help="the judged round: key.json and verdicts-judge{1,2}.md")
    parser.add_argument("--judged-at", type=float, default=None,
                        help="the threshold of the round's CodeBot reports (default: the key's, else the default)")
    args = parser.parse_args(argv)
    from engine.config import Settings
    key = json.loads((args.blind / "key.json").read_text(encoding="utf-8"))
    cases = key["cases"]
    verdicts = {name: parse_verdicts((args.blind / f"verdicts-{name}.md").read_text(encoding="utf-8"),
                                     map(int, cases), name)
                for name in ("judge1", "judge2")}
    round_threshold = args.judged_at or key.get("codebot_threshold", JUDGED_AT)
    drift_tree = args.out / "drift-heldout-tree"
    pairs = drift.truth(drift.HELDOUT_LIBRARIES, drift_tree)
    rows = []
    for threshold in sorted(float(t) for t in args.thresholds.split(",")):
        print(f"threshold {threshold:.2f} ...", file=sys.stderr)
        row, reported = run_threshold(threshold, drift_tree, pairs,
                                      (args.heldout or args.out / "heldout") / "manifest.json")
        row["judged"] = {name: (judged(cases, v, reported) if threshold >= round_threshold
                                else None) for name, v in verdicts.items()}
        rows.append(row)
    results = {"default": Settings().threshold, "rows": rows,
               "judged_round": {"threshold": round_threshold,
                                "codebot_cases": sum(c["tool"] == "codebot" for c in cases.values())}}
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "curve.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    report = render_markdown(results)
    (args.results / "curve.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
