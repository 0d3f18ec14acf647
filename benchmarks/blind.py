"""Blind judged precision: every tool's clones pooled, shuffled and judged without knowing which tool reported them.

    python -m benchmarks.blind sample [--seed S] [--codebot N] [--peers N]
        [--tools codebot,jscpd,jscpd-strong,symilar] [--heldout DIR] [--drift DIR] [--out DIR] [--force]
    python -m benchmarks.blind score [--dir DIR] [--results DIR]

Recall is measured by the benchmarks; precision needs people. ``sample`` reads
the tool reports that earlier runs left behind — ``python -m benchmarks.heldout``
(split B: ``DIR/manifest.json`` and the reports in ``DIR/work``, default
``benchmarks/out/heldout``) and ``python -m benchmarks.drift --set heldout``
(``DIR/drift-heldout-tree`` and ``DIR/drift-heldout-work``, default
``benchmarks/out``) — and draws, with a fixed seed, ``--codebot`` cases (default
60) from CodeBot and ``--peers`` cases (default 20) from each other tool, half
from each source. Only code the detector was not tuned on is drawn from:

- split B: clones on the real code (no fragment touching an injected copy,
  ``scoring.real_clones``) first; only when a tool has too few of those (and
  drift has none left either), clones that touch an injected copy without
  pairing it with its own original. A clone that pairs an injected copy with its
  original is never drawn: it is a copy by construction, already scored as
  recall, and judging it would only dilute the sample.
- drift: only clones whose fragments all lie inside one release folder
  (natural clones inside a library); a function paired with itself in the other
  release says nothing about precision.

The cases of all tools are shuffled together and numbered 1..N. Each shows the
first two fragments of its clone with line numbers (``scoring`` renders them;
over 120 lines a fragment is cut with a marker), sorted by path and line, and
nothing that names the tool or the size of its clone class.
Into ``--out`` (default ``benchmarks/results/blind``) go ``cases.md`` (what the
judges see: the rubric, ``benchmarks/PRECISION.md``, then the cases) and
``key.json`` (case number -> tool, source, pool, root, fragments; and the
sha256 of every report read). A judge answers one line per case, ``12: TRUE``
(TRUE, TRIVIAL or FALSE), into ``verdicts-judge1.md`` / ``verdicts-judge2.md``
beside them; other lines (headings, notes, a counts line) are ignored.

``score`` joins both judges' verdicts with the key and writes
``benchmarks/results/blind.json`` and ``blind.md``: per tool and judge the
TRUE/TRIVIAL/FALSE counts and fractions, the judges' agreement (the share of
cases with the same verdict, overall and on CodeBot's cases) and Cohen's kappa.
A missing, repeated, unknown or malformed verdict line is an error (exit 2)
naming the file and line: a sample is scored whole or not at all.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from benchmarks.corpus import Manifest, load_manifest
from benchmarks.drift import TOOL_LABELS, set_files
from benchmarks.scoring import _numbered as numbered_fragment  # the renderer the other samples use
from benchmarks.scoring import real_clones
from benchmarks.tools import ALL_TOOLS, REPO, Clone, Fragment, add_tools_option, parse_codebot, parse_jscpd, parse_symilar

BENCH = Path(__file__).resolve().parent
DEFAULT_HELDOUT = BENCH / "out" / "heldout"
DEFAULT_DRIFT = BENCH / "out"
DEFAULT_BLIND = BENCH / "results" / "blind"
RESULTS_DIR = BENCH / "results"
RUBRIC = BENCH / "PRECISION.md"
JUDGES = ("judge1", "judge2")
VERDICTS = ("TRUE", "TRIVIAL", "FALSE")
SOURCES = ("splitB", "drift")
CODEBOT = "codebot"
CODEBOT_CASES = 60
PEER_CASES = 20
# Where each tool's report lies in a work folder (as benchmarks.tools.run_tool leaves it).
REPORT_FILES = {
    "codebot": "codebot.json",
    "jscpd": "jscpd-report/jscpd-report.json",
    "jscpd-strong": "jscpd-strong-report/jscpd-report.json",
    "symilar": "symilar.txt",
}


class SampleError(RuntimeError):
    """The inputs of a sample or a score are missing or malformed; the message says which and how to fix it."""


class Case(NamedTuple):
    """One clone shown to the judges: who reported it and where (the key), and the two fragments shown."""

    tool: str
    source: str  # "splitB" or "drift"
    pool: str  # "real" / "touches-copy" (split B) or "one-release" (drift)
    root: Path  # the scanned tree the fragments' paths are relative to
    fragments: tuple[Fragment, Fragment]
    class_size: int


class Report(NamedTuple):
    """One tool's stored report on one source."""

    tool: str
    source: str
    path: Path
    clones: tuple[Clone, ...]


# ---------------------------------------------------------------- reading the stored reports


def read_report(tool: str, work: Path, root: Path) -> tuple[Clone, ...]:
    """The clones of one tool's report in ``work``, with paths relative to ``root`` (``tools`` parses them)."""
    path = work / REPORT_FILES[tool]
    text = path.read_text(encoding="utf-8", errors="replace")
    if tool == "codebot":
        return parse_codebot(text, root)
    if tool == "symilar":
        return parse_symilar(text)
    return parse_jscpd(text, root)


def _load(tool: str, source: str, work: Path, root: Path) -> Report | None:
    path = work / REPORT_FILES[tool]
    if not path.exists():
        return None
    try:
        return Report(tool, source, path, read_report(tool, work, root))
    except (ValueError, KeyError, TypeError) as exc:
        raise SampleError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc


def split_b_root(heldout: Path) -> tuple[Manifest, Path]:
    """Split B's manifest and scanned root (the corpus beside the manifest when its recorded root has moved)."""
    manifest_path = heldout / "manifest.json"
    if not manifest_path.exists():
        raise SampleError(f"{manifest_path} is missing: run `python -m benchmarks.heldout` first")
    manifest = load_manifest(manifest_path)
    root = Path(manifest.root)
    return manifest, root if root.is_dir() else heldout / "corpus"


# ---------------------------------------------------------------- candidate cases


def shown_pair(clone: Clone) -> tuple[Fragment, Fragment]:
    """The two fragments a judge sees: the clone's first two, in path and line order (not the tool's)."""
    a, b = clone.fragments[:2]
    return (a, b) if (a.path, a.start, a.end) <= (b.path, b.start, b.end) else (b, a)


def _overlaps(fragment: Fragment, path: str, start: int, end: int) -> bool:
    return fragment.path == path and fragment.start <= end and start <= fragment.end


def reproduces_injection(clone: Clone, manifest: Manifest) -> bool:
    """Whether one fragment overlaps an injected copy and another its own original: a copy by construction."""
    frags = clone.fragments
    return any(
        _overlaps(f, *inj.copy) and any(j != i and _overlaps(g, *inj.original) for j, g in enumerate(frags))
        for inj in manifest.injections for i, f in enumerate(frags)
    )


def _readable(root: Path, clone: Clone) -> bool:
    return all((root / f.path).is_file() for f in clone.fragments[:2])


def split_b_cases(report: Report, manifest: Manifest, root: Path) -> dict[str, list[Case]]:
    """Split B's candidates of one tool, by pool: ``real`` (no injected copy touched) and ``touches-copy``
    (an injected copy touched, but not paired with its own original)."""
    real = set(real_clones(report.clones, manifest))
    pools: dict[str, list[Case]] = {"real": [], "touches-copy": []}
    for clone in report.clones:
        if len(clone.fragments) < 2 or not _readable(root, clone):
            continue
        if clone in real:
            pool = "real"
        elif reproduces_injection(clone, manifest):
            continue
        else:
            pool = "touches-copy"
        pools[pool].append(Case(report.tool, "splitB", pool, root, shown_pair(clone), len(clone.fragments)))
    return pools


def release_of(path: str) -> str:
    """The release folder of a path in the drift tree: ``urllib3-2.0.7/urllib3/util/url.py`` -> ``urllib3-2.0.7``."""
    return Path(path).parts[0] if Path(path).parts else ""


def drift_cases(report: Report, root: Path) -> list[Case]:
    """Drift's candidates of one tool: clones whose fragments all lie in one release folder."""
    cases = []
    for clone in report.clones:
        if len(clone.fragments) < 2 or len({release_of(f.path) for f in clone.fragments}) != 1:
            continue
        if _readable(root, clone):
            cases.append(Case(report.tool, "drift", "one-release", root, shown_pair(clone), len(clone.fragments)))
    return cases


# ---------------------------------------------------------------- drawing


def shuffled(cases: Iterable[Case], seed: str) -> list[Case]:
    """The cases in a seeded random order, from a stable order: the same inputs always give the same draw."""
    ordered = sorted(set(cases), key=lambda c: (c.fragments, c.class_size))
    random.Random(seed).shuffle(ordered)
    return ordered


def take_evenly(by_source: Mapping[str, Sequence[Case]], quota: int) -> list[Case]:
    """Up to ``quota`` cases, shared evenly among the sources; a source short of its share leaves it to the others."""
    sources = [s for s in by_source if by_source[s]]
    if not sources:
        return []
    take = {s: min(len(by_source[s]), quota // len(sources) + (i < quota % len(sources))) for i, s in enumerate(sources)}
    short = quota - sum(take.values())
    for source in sources:
        extra = min(short, len(by_source[source]) - take[source])
        take[source] += extra
        short -= extra
    return [case for source in sources for case in by_source[source][:take[source]]]


def draw(tiers: Sequence[Mapping[str, Sequence[Case]]], quota: int) -> list[Case]:
    """``quota`` cases from the preferred tier first (each already shuffled), then from the next while short."""
    chosen: list[Case] = []
    for tier in tiers:
        if len(chosen) >= quota:
            break
        chosen += take_evenly(tier, quota - len(chosen))
    return chosen


class Pools(NamedTuple):
    """One tool's candidates: per tier (preferred first), per source, already in their seeded order."""

    tool: str
    tiers: tuple[dict[str, list[Case]], ...]

    def sizes(self) -> dict[str, int]:
        sizes: dict[str, int] = {}
        for tier in self.tiers:
            for cases in tier.values():
                for case in cases:
                    sizes[f"{case.source}/{case.pool}"] = sizes.get(f"{case.source}/{case.pool}", 0) + 1
        return sizes


def tool_pools(tool: str, split_b: dict[str, list[Case]], drift: Sequence[Case], seed: int) -> Pools:
    """Tier 1: split B's real-code clones and drift's one-release clones; tier 2: split B's clones touching a copy."""
    def order(cases: Sequence[Case], source: str, pool: str) -> list[Case]:
        return shuffled(cases, f"{seed}/{tool}/{source}/{pool}")

    first = {"splitB": order(split_b.get("real", []), "splitB", "real"), "drift": order(drift, "drift", "one-release")}
    second = {"splitB": order(split_b.get("touches-copy", []), "splitB", "touches-copy")}
    return Pools(tool, (first, second))


def quota_of(tool: str, codebot: int, peers: int) -> int:
    return codebot if tool == CODEBOT else peers


def number(cases: Sequence[Case], seed: int) -> list[Case]:
    """All tools' cases in one seeded shuffle: case n of the file is ``result[n - 1]``."""
    ordered = list(cases)
    random.Random(seed).shuffle(ordered)
    return ordered


# ---------------------------------------------------------------- the judges' file and the key


ANSWER_FORMAT = """\
## How to answer

Judge every case below on its own, from the code alone, with the rubric above.
Write your verdicts into a file with one line per case, the case number, a colon
and the verdict: TRUE, TRIVIAL or FALSE, for example

```
1: TRUE
2: FALSE
3: TRIVIAL
```

Every case needs exactly one line. Other lines (headings, notes, a final counts
line) are ignored: the rubric's closing counts line is optional here, the
verdicts are counted from the per-case lines. The cases come from several detectors, shuffled; which one
reported a case is deliberately not shown.
"""


def render_cases(cases: Sequence[Case], rubric: str) -> str:
    """What the judges see: the rubric, how to answer, then case 1..N with both fragments and their line numbers."""
    out = [f"# Blind precision sample: {len(cases)} cases", "", rubric.strip(), "", ANSWER_FORMAT]
    for n, case in enumerate(cases, 1):
        out += [f"## Case {n}", ""]
        for label, fragment in zip("AB", case.fragments):
            out += [f"**{label}** `{fragment.path}` lines {fragment.start}-{fragment.end}", "",
                    "```python", numbered_fragment(case.root, fragment), "```", ""]
    return "\n".join(out)


def _shown_root(root: Path) -> str:
    """A root as the key records it: relative to the repository when inside it, so the key is not tied to one machine."""
    try:
        return root.resolve().relative_to(REPO).as_posix()
    except ValueError:
        return str(root)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def key_json(cases: Sequence[Case], reports: Sequence[Report], pools: Sequence[Pools], seed: int,
             quotas: Mapping[str, int]) -> dict:
    """The key: each case number to its tool, source and fragments; and what the sample was drawn from."""
    return {
        "seed": seed,
        "quotas": dict(quotas),
        "reports": [{"tool": r.tool, "source": r.source, "path": _shown_root(r.path), "sha256": _sha256(r.path),
                     "clones": len(r.clones)} for r in reports],
        "pools": {p.tool: p.sizes() for p in pools},
        "cases": {
            str(n): {"tool": c.tool, "source": c.source, "pool": c.pool, "root": _shown_root(c.root),
                     "class_size": c.class_size, "fragments": [f._asdict() for f in c.fragments]}
            for n, c in enumerate(cases, 1)
        },
    }


# ---------------------------------------------------------------- scoring


_VERDICT_LINE = re.compile(r"^\s*(?:[-*]\s*)?(\d+)\s*(?::\s*(\S+)?)?(.*)$")


def parse_verdicts(text: str, cases: Iterable[int], name: str = "verdicts") -> dict[int, str]:
    """Case number -> verdict from lines ``N: VERDICT`` (trailing words allowed: a judge's note); lines that do not
    start with a number (after a list bullet) are ignored. A malformed, unknown, repeated or missing case is a SampleError."""
    expected = set(cases)
    verdicts: dict[int, str] = {}
    for row, line in enumerate(text.splitlines(), 1):
        match = _VERDICT_LINE.match(line)
        if not match:
            continue
        case, verdict = int(match.group(1)), (match.group(2) or "").strip(".,;").upper()
        where = f"{name} line {row} ({line.strip()!r})"
        if match.group(2) is None:
            raise SampleError(f"{where}: expected 'N: TRUE|TRIVIAL|FALSE'")
        if verdict not in VERDICTS:
            raise SampleError(f"{where}: unknown verdict {match.group(2)!r}; use TRUE, TRIVIAL or FALSE")
        if case not in expected:
            raise SampleError(f"{where}: there is no case {case} in the key")
        if case in verdicts:
            raise SampleError(f"{where}: case {case} was already judged {verdicts[case]}")
        verdicts[case] = verdict
    missing = sorted(expected - verdicts.keys())
    if missing:
        shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
        raise SampleError(f"{name}: {len(missing)} case(s) without a verdict: {shown}")
    return verdicts


class Tally(NamedTuple):
    """One judge's verdicts on one tool's cases."""

    true: int
    trivial: int
    false: int

    @property
    def total(self) -> int:
        return self.true + self.trivial + self.false

    def as_json(self) -> dict:
        share = (lambda n: round(n / self.total, 3)) if self.total else (lambda n: None)
        return {"cases": self.total, "counts": {"TRUE": self.true, "TRIVIAL": self.trivial, "FALSE": self.false},
                "fractions": {"TRUE": share(self.true), "TRIVIAL": share(self.trivial), "FALSE": share(self.false)}}


def tally(verdicts: Mapping[int, str], cases: Iterable[int]) -> Tally:
    """Counts of each verdict over ``cases``."""
    chosen = [verdicts[n] for n in cases]
    return Tally(*(chosen.count(v) for v in VERDICTS))


def agreement(a: Mapping[int, str], b: Mapping[int, str], cases: Sequence[int]) -> float | None:
    """The share of ``cases`` both judges gave the same verdict (None for no cases)."""
    return sum(a[n] == b[n] for n in cases) / len(cases) if cases else None


def cohen_kappa(a: Mapping[int, str], b: Mapping[int, str], cases: Sequence[int]) -> float | None:
    """Cohen's kappa of two judges over ``cases``: agreement beyond what their verdict rates give by chance.
    None when undefined (no cases, or both judges gave one and the same verdict throughout)."""
    if not cases:
        return None
    observed = agreement(a, b, cases) or 0.0
    chance = sum((sum(a[n] == v for n in cases) / len(cases)) * (sum(b[n] == v for n in cases) / len(cases))
                 for v in VERDICTS)
    return None if chance >= 1.0 else (observed - chance) / (1.0 - chance)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def score_json(key: Mapping, judged: Mapping[str, Mapping[int, str]]) -> dict:
    """Per tool (and per tool and source) each judge's tallies, and the judges' agreement and kappa."""
    cases = {int(n): entry for n, entry in key["cases"].items()}
    tools = [t for t in ALL_TOOLS if any(e["tool"] == t for e in cases.values())]
    tools += sorted({e["tool"] for e in cases.values()} - set(tools))
    first, second = (judged[j] for j in list(judged)[:2])

    def numbers(tool: str | None = None, source: str | None = None) -> list[int]:
        return sorted(n for n, e in cases.items()
                      if (tool is None or e["tool"] == tool) and (source is None or e["source"] == source))

    def agree(selected: list[int]) -> dict:
        return {"cases": len(selected), "agreement": _round(agreement(first, second, selected)),
                "kappa": _round(cohen_kappa(first, second, selected))}

    return {
        "benchmark": "blind",
        "judges": list(judged),
        "cases": len(cases),
        "seed": key.get("seed"),
        "tools": [
            {"tool": tool,
             "judges": {j: tally(v, numbers(tool)).as_json() for j, v in judged.items()},
             "by_source": {s: {j: tally(v, numbers(tool, s)).as_json() for j, v in judged.items()}
                           for s in SOURCES if numbers(tool, s)},
             **agree(numbers(tool))}
            for tool in tools
        ],
        "agreement": {"all": agree(numbers()), CODEBOT: agree(numbers(CODEBOT))},
    }


def _cell(entry: Mapping, verdict: str) -> str:
    fraction = entry["fractions"][verdict]
    return "-" if fraction is None else f"{fraction:.2f} ({entry['counts'][verdict]})"


def render_score(results: Mapping) -> str:
    """The judged-precision table: one row per tool and judge, then the judges' agreement."""
    def num(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    out = [f"Blind judged precision: {results['cases']} cases from split B and the held-out drift libraries, "
           f"all tools shuffled together, tool hidden; judged by {', '.join(results['judges'])} with "
           "benchmarks/PRECISION.md. Fractions of each tool's cases (counts).", "",
           "| Tool | Judge | Cases | TRUE | TRIVIAL | FALSE | Agreement | Kappa |", "|---|---|---|---|---|---|---|---|"]
    for tool in results["tools"]:
        for judge, entry in tool["judges"].items():
            out.append(f"| {TOOL_LABELS.get(tool['tool'], tool['tool'])} | {judge} | {entry['cases']} | "
                       + " | ".join(_cell(entry, v) for v in VERDICTS)
                       + f" | {num(tool['agreement'])} | {num(tool['kappa'])} |")
    overall, codebot = results["agreement"]["all"], results["agreement"][CODEBOT]
    out += ["", f"Judges agree on {num(overall['agreement'])} of all {overall['cases']} cases "
                f"(Cohen's kappa {num(overall['kappa'])}) and on {num(codebot['agreement'])} of "
                f"CodeBot's {codebot['cases']} (kappa {num(codebot['kappa'])})."]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- commands


def collect(tools: Sequence[str], heldout: Path, drift_dir: Path, seed: int) -> tuple[list[Report], list[Pools]]:
    """Every requested tool's stored reports on both sources and its candidate pools."""
    manifest, b_root = split_b_root(heldout)
    names = set_files("heldout")
    d_root, d_work = drift_dir / names.tree, drift_dir / names.work
    reports: list[Report] = []
    pools: list[Pools] = []
    for tool in tools:
        b_report = _load(tool, "splitB", heldout / "work", b_root)
        d_report = _load(tool, "drift", d_work, d_root) if d_root.is_dir() else None
        if b_report is None and d_report is None:
            raise SampleError(
                f"no report of {tool}: neither {heldout / 'work' / REPORT_FILES[tool]} nor {d_work / REPORT_FILES[tool]} "
                "exists; run `python -m benchmarks.heldout` and `python -m benchmarks.drift --set heldout` "
                f"with {tool} among --tools, or leave it out of --tools")
        reports += [r for r in (b_report, d_report) if r is not None]
        split_b = split_b_cases(b_report, manifest, b_root) if b_report else {}
        drift = drift_cases(d_report, d_root) if d_report else []
        pools.append(tool_pools(tool, split_b, drift, seed))
    return reports, pools


Judged = dict[str, list[tuple[tuple[str, int, int], ...]]]


def judged_before(keys: Sequence[Path]) -> Judged:
    """The cases of earlier rounds' keys: per source, each case's shown fragments."""
    seen: Judged = defaultdict(list)
    for path in keys:
        try:
            cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
        except (OSError, ValueError, KeyError) as exc:
            raise SampleError(f"{path}: not a key written by `blind sample` ({exc})") from exc
        for case in cases.values():
            seen[case["source"]].append(tuple((f["path"], f["start"], f["end"]) for f in case["fragments"]))
    return seen


def without(pool: Pools, seen: Judged) -> Pools:
    """A tool's pools less the cases judged before (a new round judges new cases): a case
    each of whose fragments overlaps one of an earlier case's is the same pair of regions,
    even when a later detector reports them a few lines longer or shorter."""
    def fresh(case: Case) -> bool:
        return not any(all(any(_overlaps(f, *place) for place in earlier) for f in case.fragments)
                       for earlier in seen.get(case.source, ()))

    return Pools(pool.tool, tuple({source: [c for c in cases if fresh(c)] for source, cases in tier.items()}
                                  for tier in pool.tiers))


def sample_command(args: argparse.Namespace) -> int:
    out: Path = args.out
    judged = [out / f"verdicts-{j}.md" for j in JUDGES if (out / f"verdicts-{j}.md").exists()]
    if judged and not args.force:
        raise SampleError(f"{', '.join(map(str, judged))} exist: a new sample would not match them; "
                          "move them away or pass --force")
    reports, pools = collect(args.tools, args.heldout, args.drift, args.seed)
    if args.exclude:
        seen = judged_before(args.exclude)
        pools = [without(pool, seen) for pool in pools]
    quotas = {p.tool: quota_of(p.tool, args.codebot, args.peers) for p in pools}
    drawn = []
    for pool in pools:
        chosen = draw(pool.tiers, quotas[pool.tool])
        if len(chosen) < quotas[pool.tool]:
            print(f"warning: {pool.tool}: only {len(chosen)} cases of {quotas[pool.tool]} to draw from "
                  f"({pool.sizes()})", file=sys.stderr)
        drawn += chosen
    cases = number(drawn, args.seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "cases.md").write_text(render_cases(cases, args.rubric.read_text(encoding="utf-8")), encoding="utf-8")
    key = key_json(cases, reports, pools, args.seed, quotas)
    (out / "key.json").write_text(json.dumps(key, indent=1) + "\n", encoding="utf-8")
    counts = {t: sum(c.tool == t for c in cases) for t in quotas}
    print(f"{len(cases)} cases {counts} -> {out / 'cases.md'}, key {out / 'key.json'}", file=sys.stderr)
    return 0


def score_command(args: argparse.Namespace) -> int:
    key_path = args.dir / "key.json"
    if not key_path.exists():
        raise SampleError(f"{key_path} is missing: run `python -m benchmarks.blind sample` first")
    key = json.loads(key_path.read_text(encoding="utf-8"))
    numbers = [int(n) for n in key["cases"]]
    judged = {}
    for judge in JUDGES:
        path = args.dir / f"verdicts-{judge}.md"
        if not path.exists():
            raise SampleError(f"{path} is missing: each judge writes one 'N: VERDICT' line per case of cases.md")
        judged[judge] = parse_verdicts(path.read_text(encoding="utf-8"), numbers, path.name)
    results = score_json(key, judged)
    report = render_score(results)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "blind.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (args.results / "blind.md").write_text(report, encoding="utf-8")
    print(report)
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.blind", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="draw, shuffle and write cases.md and key.json")
    sample.add_argument("--seed", type=int, default=1, help="seed of the draw and the shuffle (default 1)")
    sample.add_argument("--codebot", type=int, default=CODEBOT_CASES, help=f"CodeBot cases (default {CODEBOT_CASES})")
    sample.add_argument("--peers", type=int, default=PEER_CASES, help=f"cases of each other tool (default {PEER_CASES})")
    add_tools_option(sample)
    sample.add_argument("--heldout", type=Path, default=DEFAULT_HELDOUT, help="split B's --out (default benchmarks/out/heldout)")
    sample.add_argument("--drift", type=Path, default=DEFAULT_DRIFT, help="drift's --out (default benchmarks/out)")
    sample.add_argument("--out", type=Path, default=DEFAULT_BLIND, help="where cases.md and key.json go")
    sample.add_argument("--rubric", type=Path, default=RUBRIC, help="the rubric shown first (default benchmarks/PRECISION.md)")
    sample.add_argument("--force", action="store_true", help="sample again even where verdicts exist")
    sample.add_argument("--exclude", type=Path, action="append", default=[], metavar="KEY.json",
                        help="leave out the cases of an earlier round's key (repeatable)")
    score = commands.add_parser("score", help="join the judges' verdicts with the key; write blind.json and blind.md")
    score.add_argument("--dir", type=Path, default=DEFAULT_BLIND, help="key.json and verdicts-judge{1,2}.md")
    score.add_argument("--results", type=Path, default=RESULTS_DIR, help="where blind.json and blind.md go")
    args = parser.parse_args(argv)
    if args.command == "sample" and (args.codebot < 0 or args.peers < 0):
        parser.error("--codebot and --peers must be at least 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """``sample`` or ``score``; 0 when done, 2 with a message when an input is missing or malformed."""
    args = parse_args(argv)
    try:
        return sample_command(args) if args.command == "sample" else score_command(args)
    except SampleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
