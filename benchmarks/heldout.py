"""The held-out split B: recall of every tool on third-party code with copies made by the second model.

    python -m benchmarks.heldout [--copies N] [--seed S]
        [--tools codebot,jscpd,jscpd-strong,symilar] [--out DIR] [--results DIR] [--cache DIR]

Split A (``benchmarks.compare``, ``tests/test_recall.py``) is the standard
library with copies made by ``benchmarks/mutations.py``; the detector is tuned
on it. Split B takes another base corpus (``benchmarks/corpus_b.py``: pinned
wheels of ten third-party projects) and another mutation model
(``benchmarks/mutations_b.py``: other operators, written apart from the first),
and is only reported, never tuned on. The copies are injected by the same
``corpus.build_corpus`` and scored by the same ``scoring.recall`` (a copy is
found when one clone covers 70% of the code lines of both original and copy);
the tools run through the same ``tools.run_tool``.

Into ``--out`` (default ``benchmarks/out/heldout``) go the corpus, ``manifest.json``
(``corpus.load_manifest`` reads it), ``manifest-b.json`` (each copy with the
operators applied to it), ``heldout.json`` / ``heldout.md`` and, per tool,
``heldout-misses-<tool>.md``: every copy the tool missed, with its operators and
both code fragments. ``--results DIR`` also writes ``heldout.json`` and
``heldout.md`` there (the committed ones live in ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from benchmarks.corpus import Injection, Manifest, build_corpus, save_manifest
from benchmarks.corpus_b import CACHE_DIR, PINS, CorpusError, source_tree
from benchmarks.mutations_b import LEVELS, STRUCTURAL_OPERATORS, MutantB, mutate_b
from benchmarks.scoring import found_ids, recall
from benchmarks.tools import ToolRun, add_tools_option, run_tool

DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "heldout"
MAX_SHOWN_LINES = 60

LEVEL_DEFINITIONS = {
    "T1": "layout, comments and docstrings only (indentation unit, blank and comment lines, trailing comments, "
          "call arguments wrapped or joined, operator spacing, docstring reworded/extended/added/removed); "
          "the token sequence without docstrings is unchanged",
    "T2": "T1 + the same code with other names and values and equivalent surface syntax: consistent renaming "
          "of locals, parameters and the function name, literal values changed, keyword arguments reordered, "
          "%/str.format/f-string swapped",
    "T3-light": "T2 + structural edits touching ~10% of the code lines: independent statements reordered, "
                "variable extracted or inlined, if/else inverted, logging or guard line added, annotations added "
                "or removed, loop turned into a comprehension",
    "T3-heavy": "T2 + the same structural edits touching ~30% of the code lines",
}
_SURFACE_OPERATORS = ("rename", "literals", "keyword-order", "format-swap")


class Copy(NamedTuple):
    """One injected copy of split B: its manifest entry and the operators model B applied to it."""

    injection: Injection
    operators: tuple[str, ...]


class ToolScore(NamedTuple):
    """One tool's outcome on split B."""

    run: ToolRun
    found: frozenset[int]  # ids of the copies it found


# ---------------------------------------------------------------- building split B


def recording_mutator(log: dict[str, MutantB]) -> Callable[..., MutantB]:
    """``mutate_b`` that remembers each copy it makes by its text, to recover its operators after injection."""

    def mutator(text: str, kind: str, rng: random.Random, *, base_indent: str = "", method: bool = False) -> MutantB:
        mutant = mutate_b(text, kind, rng, base_indent=base_indent, method=method)
        log[mutant.text.rstrip("\n")] = mutant
        return mutant

    return mutator


def _fragment(root: Path, path: str, start: int, end: int) -> str:
    lines = (root / path).read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[start - 1: end])


def build_split_b(work_dir: Path, *, copies: int, seed: int, cache: Path = CACHE_DIR) -> tuple[Manifest, list[Copy]]:
    """Corpus B copied into ``work_dir`` with ``copies`` copies by model B; the manifest and each copy's operators."""
    log: dict[str, MutantB] = {}
    manifest = build_corpus(source_tree(cache), work_dir, copies=copies, seed=seed, mutator=recording_mutator(log))
    root = Path(manifest.root)
    result = []
    for inj in manifest.injections:
        mutant = log[_fragment(root, inj.copy.path, inj.copy.start, inj.copy.end)]
        result.append(Copy(inj, mutant.operators))
    return manifest, result


def operator_family(operator: str) -> str:
    """``format-swap:percent->fstring`` -> ``format-swap``; other operators are their own family."""
    return operator.split(":", 1)[0]


def operator_level(operator: str) -> str:
    """The level an operator first appears at: structural ones at T3, surface ones at T2, the rest at T1."""
    family = operator_family(operator)
    if family in STRUCTURAL_OPERATORS:
        return "T3"
    return "T2" if family in _SURFACE_OPERATORS else "T1"


def by_operator(copies: Sequence[Copy], found: frozenset[int]) -> dict[str, dict[str, int]]:
    """Found/total per operator family, each over the copies of its own level (T3: light and heavy)."""
    counts: dict[str, dict[str, int]] = {}
    for copy in copies:
        level = copy.injection.kind[:2]
        for family in sorted({operator_family(op) for op in copy.operators}):
            if operator_level(family) != level:
                continue
            entry = counts.setdefault(family, {"found": 0, "total": 0})
            entry["total"] += 1
            entry["found"] += copy.injection.id in found
    return dict(sorted(counts.items()))


# ---------------------------------------------------------------- reports


def results_json(manifest: Manifest, copies: Sequence[Copy], scores: Sequence[ToolScore], lines: int) -> dict:
    """Everything ``render_markdown`` needs, as plain JSON."""
    return {
        "split": "B",
        "corpus": {
            "packages": [{"project": p.project, "version": p.version, "sha256": p.sha256} for p in PINS],
            "files": manifest.files, "lines": lines, "copies": len(manifest.injections), "seed": manifest.seed,
        },
        "model": "benchmarks/mutations_b.py",
        "levels": LEVEL_DEFINITIONS,
        "tools": [
            {
                "tool": s.run.tool, "clones": len(s.run.clones), "wall_s": round(s.run.wall_s, 3),
                "peak_mib": round(s.run.peak_mib, 1), "returncode": s.run.returncode, "error": s.run.error,
                "recall": {k: {"found": v.found, "total": v.total, "ratio": round(v.ratio, 3)}
                           for k, v in recall(manifest, s.run.clones).items()},
                "by_operator": by_operator(copies, s.found),
            }
            for s in scores
        ],
    }


def _cell(entry: Mapping[str, float] | None) -> str:
    if not entry:
        return "-"
    ratio = entry["found"] / entry["total"] if entry["total"] else 0.0
    return f"{ratio:.2f} ({entry['found']}/{entry['total']})"


def render_markdown(results: dict) -> str:
    """The split-B table (as in the README) and recall per operator, from ``heldout.json``'s content."""
    corpus = results["corpus"]
    packages = ", ".join(f"{p['project']} {p['version']}" for p in corpus["packages"])
    out = [
        f"Split B (held out): {corpus['lines']:,} lines in {corpus['files']} files of {packages}; "
        f"{corpus['copies']} copies made by the second mutation model ({results['model']}), seed {corpus['seed']}.",
        "",
        "| Tool | " + " | ".join(f"Recall {k}" for k in LEVELS) + " | Clones | Wall s | Peak MiB |",
        "|---|" + "---|" * (len(LEVELS) + 3),
    ]
    for tool in results["tools"]:
        if tool["error"] and not tool["clones"]:
            out.append(f"| {tool['tool']} | " + " | ".join(["-"] * (len(LEVELS) + 3)) + " |")
            continue
        cells = [_cell(tool["recall"].get(k)) for k in LEVELS]
        out.append(f"| {tool['tool']} | " + " | ".join(cells)
                   + f" | {tool['clones']} | {tool['wall_s']:.2f} | {tool['peak_mib']:.0f} |")
    out += ["", "Levels (cumulative):", ""]
    out += [f"- **{k}**: {v}" for k, v in results["levels"].items()]
    families = sorted({f for t in results["tools"] for f in t["by_operator"]},
                      key=lambda f: (operator_level(f), f))
    if families:
        out += ["", "Recall by operator (T1 operators over T1 copies, T2 operators over T2 copies, "
                    "structural operators over T3-light and T3-heavy copies):", "",
                "| Operator | Level | " + " | ".join(t["tool"] for t in results["tools"]) + " |",
                "|---|---|" + "---|" * len(results["tools"])]
        for family in families:
            cells = [_cell(t["by_operator"].get(family)) for t in results["tools"]]
            out.append(f"| {family} | {operator_level(family)} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def _numbered(root: Path, path: str, start: int, end: int) -> str:
    lines = _fragment(root, path, start, end).split("\n")
    shown = lines[:MAX_SHOWN_LINES]
    body = "\n".join(f"{start + i:>5}  {line}" for i, line in enumerate(shown))
    return body + (f"\n... ({len(lines) - len(shown)} more lines)" if len(lines) > len(shown) else "")


def render_misses(tool: str, copies: Sequence[Copy], found: frozenset[int], root: Path) -> str:
    """Every copy a tool missed, with the operators applied and both fragments, for detector work."""
    missed = [c for c in copies if c.injection.id not in found]
    out = [f"# Split B: {len(missed)} of {len(copies)} copies missed by {tool}", ""]
    for copy in missed:
        inj = copy.injection
        out += [f"## Copy {inj.id}: {inj.kind}, {inj.edits} structural lines", "",
                "Operators: " + ", ".join(f"`{op}`" for op in copy.operators), ""]
        for label, span in (("Original", inj.original), ("Copy", inj.copy)):
            out += [f"**{label}** `{span.path}` lines {span.start}-{span.end}", "", "```python",
                    _numbered(root, span.path, span.start, span.end), "```", ""]
    return "\n".join(out)


def _write_manifest_b(path: Path, copies: Sequence[Copy]) -> None:
    data = {
        "model": "B",
        "copies": [
            {"id": c.injection.id, "kind": c.injection.kind, "edits": c.injection.edits,
             "operators": list(c.operators), "original": c.injection.original._asdict(),
             "copy": c.injection.copy._asdict()}
            for c in copies
        ],
    }
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


# ---------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heldout", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=200, help="copies to inject, shared among the 4 levels (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="seed of every random choice (default 1)")
    add_tools_option(parser)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the corpus and reports go")
    parser.add_argument("--results", type=Path, help="also write heldout.json and heldout.md here")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="cache of the pinned wheels")
    args = parser.parse_args(argv)
    if args.copies < 1:
        parser.error("--copies must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Build split B, run the tools, print and write the results; 0 when every tool ran."""
    args = parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        manifest, copies = build_split_b(out / "corpus", copies=args.copies, seed=args.seed, cache=args.cache)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    save_manifest(manifest, out / "manifest.json")
    _write_manifest_b(out / "manifest-b.json", copies)
    root = Path(manifest.root)
    lines = sum(p.read_bytes().count(b"\n") for p in sorted(root.rglob("*.py")))
    print(f"split B: {manifest.files} files, {lines} lines; {len(copies)} copies by model B "
          f"(seed {args.seed}) in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    scores = []
    for tool in args.tools:
        print(f"running {tool} ...", file=sys.stderr)
        run = run_tool(tool, root, out / "work")
        if run.error:
            print(f"{tool}: {run.error}", file=sys.stderr)
        found = frozenset(found_ids(manifest, run.clones))
        scores.append(ToolScore(run, found))
        (out / f"heldout-misses-{tool}.md").write_text(render_misses(tool, copies, found, root), encoding="utf-8")
    results = results_json(manifest, copies, scores, lines)
    report = render_markdown(results)
    for folder in [out] + ([args.results] if args.results else []):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "heldout.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
        (folder / "heldout.md").write_text(report, encoding="utf-8")
    print(report)
    return 0 if all(not s.run.error for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
