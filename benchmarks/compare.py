"""Side-by-side comparison: CodeBot, jscpd and symilar on one corpus with injected copies, in one run.

    python -m benchmarks.compare [CORPUS] [--copies N] [--seed S]
        [--tools codebot,jscpd,jscpd-strong,symilar] [--out DIR]

Builds the corpus (``benchmarks.corpus``), runs each tool on it, and prints one
Markdown table: recall per clone type, clones reported, wall time, peak memory,
and precision where a judged sample exists. Into ``--out`` it writes the
manifest, each tool's clones and missed copies, ``sample-<tool>.md`` (50 real-code clones to
judge with PRECISION.md) and ``results.md`` / ``results.json``. A judged copy of
a sample saved as ``verdicts-<tool>.md`` (ending ``TRUE a, TRIVIAL b, FALSE c``)
adds that tool's precision to the table on the next run.

Example: ``python -m benchmarks.compare --copies 200 --tools jscpd-strong,symilar``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from benchmarks.corpus import Manifest, build_corpus, default_source, save_manifest
from benchmarks.mutations import CLONE_TYPES
from benchmarks.scoring import (
    SAMPLE_SIZE,
    Recall,
    Verdicts,
    found_ids,
    read_verdicts,
    real_clones,
    recall,
    render_sample,
    sample,
)
from benchmarks.tools import ToolRun, add_tools_option, run_tool

DEFAULT_OUT = Path(__file__).resolve().parent / "out"


class ToolResult(NamedTuple):
    """One tool's row of the comparison."""

    run: ToolRun
    recall: dict[str, Recall]
    real: int  # clones that touch no injected copy
    sampled: int
    verdicts: Verdicts | None


def evaluate(run: ToolRun, manifest: Manifest, out: Path, seed: int) -> ToolResult:
    """Score one tool's run and write its clones and its sample for judging."""
    scores = recall(manifest, run.clones)
    real = real_clones(run.clones, manifest)
    cases = sample(real, SAMPLE_SIZE, seed)
    title = f"Sample of {len(cases)} of {len(real)} clones reported on real code by {run.tool}"
    (out / f"sample-{run.tool}.md").write_text(render_sample(cases, Path(manifest.root), title), encoding="utf-8")
    (out / f"sample-{run.tool}.json").write_text(
        json.dumps([[f._asdict() for f in c.fragments] for c in cases], indent=1) + "\n", encoding="utf-8"
    )
    (out / f"clones-{run.tool}.json").write_text(
        json.dumps([{"kind": c.kind, "fragments": [list(f) for f in c.fragments]} for c in run.clones]) + "\n",
        encoding="utf-8",
    )
    found = found_ids(manifest, run.clones)
    misses = [
        {"id": inj.id, "kind": inj.kind, "original": list(inj.original), "copy": list(inj.copy)}
        for inj in manifest.injections if inj.id not in found
    ]
    (out / f"misses-{run.tool}.json").write_text(json.dumps(misses, indent=1) + "\n", encoding="utf-8")
    return ToolResult(run, scores, len(real), len(cases), read_verdicts(out / f"verdicts-{run.tool}.md"))


def _pct(value: Recall | None) -> str:
    return f"{value.ratio:.2f} ({value.found}/{value.total})" if value else "-"


def table(results: Sequence[ToolResult]) -> str:
    """The comparison as one Markdown table."""
    head = ["Tool", *[f"Recall {k}" for k in CLONE_TYPES], "Clones", "Real-code clones",
            "Precision (judged)", "Wall s", "Peak MiB"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for res in results:
        run = res.run
        if run.error and not run.clones:
            rows.append(f"| {run.tool} | " + " | ".join(["-"] * (len(head) - 1)) + " |")
            continue
        v = res.verdicts
        precision = f"{v.precision:.2f} (T{v.true}/t{v.trivial}/F{v.false})" if v else "not judged"
        cells = [run.tool, *[_pct(res.recall.get(k)) for k in CLONE_TYPES], str(len(run.clones)),
                 str(res.real), precision, f"{run.wall_s:.2f}", f"{run.peak_mib:.0f}"]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _results_json(manifest: Manifest, results: Sequence[ToolResult]) -> dict:
    return {
        "corpus": {"root": manifest.root, "files": manifest.files, "lines": manifest.lines,
                   "copies": len(manifest.injections), "seed": manifest.seed},
        "tools": [
            {
                "tool": r.run.tool, "clones": len(r.run.clones), "real_clones": r.real,
                "wall_s": round(r.run.wall_s, 3), "peak_mib": round(r.run.peak_mib, 1),
                "returncode": r.run.returncode, "error": r.run.error,
                "recall": {k: {"found": v.found, "total": v.total, "ratio": round(v.ratio, 3)} for k, v in r.recall.items()},
                "verdicts": r.verdicts._asdict() if r.verdicts else None,
            }
            for r in results
        ],
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", nargs="?", type=Path, help="a tree of Python code (default: this interpreter's stdlib)")
    parser.add_argument("--copies", type=int, default=200, help="mutated copies to inject, shared among the 4 types (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice (default 1)")
    add_tools_option(parser)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where reports go (default benchmarks/out)")
    parser.add_argument("--with-tests", action="store_true", help="keep test suites (test/, tests/; not idlelib's and lib2to3's test data) in the corpus")
    args = parser.parse_args(argv)
    if args.copies < 1:
        parser.error("--copies must be at least 1")
    if args.corpus is not None and not args.corpus.is_dir():
        parser.error(f"corpus {args.corpus} is not a directory")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Build the corpus, run the tools, print the table; 0 when every tool ran."""
    args = parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    source = args.corpus or default_source()
    started = time.perf_counter()
    manifest = build_corpus(source, out / "corpus", copies=args.copies, seed=args.seed, tests=args.with_tests)
    save_manifest(manifest, out / "manifest.json")
    print(
        f"corpus: {manifest.files} files, {manifest.lines} lines from {source}; "
        f"{len(manifest.injections)} copies injected (seed {args.seed}) in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    results = []
    for tool in args.tools:
        print(f"running {tool} ...", file=sys.stderr)
        run = run_tool(tool, Path(manifest.root), out / "work")
        if run.error:
            print(f"{tool}: {run.error}", file=sys.stderr)
        results.append(evaluate(run, manifest, out, args.seed))
    report = table(results)
    header = (
        f"Corpus: {manifest.files} files, {manifest.lines} lines ({source}), "
        f"{len(manifest.injections)} injected copies, seed {args.seed}.\n\n"
    )
    (out / "results.md").write_text(header + report + "\n", encoding="utf-8")
    (out / "results.json").write_text(json.dumps(_results_json(manifest, results), indent=1) + "\n", encoding="utf-8")
    print(header + report)
    return 0 if all(not r.run.error for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
