"""Tests of the blind precision sample: tools hidden, the key maps back, only natural clones drawn, scoring strict."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks.blind import (
    Case,
    Report,
    SampleError,
    agreement,
    cohen_kappa,
    draw,
    drift_cases,
    main,
    parse_verdicts,
    score_json,
    split_b_cases,
)
from benchmarks.corpus import Injection, Manifest, Span, save_manifest
from benchmarks.tools import Clone, Fragment

TOOL_NAMES = re.compile(r"codebot|jscpd|symilar|pylint", re.IGNORECASE)


def _source(tag: str, lines: int = 40) -> str:
    """A file of distinct numbered lines, so a fragment's text tells where it came from."""
    return "".join(f"value_{tag}_{n} = {n}\n" for n in range(1, lines + 1))


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _codebot_report(root: Path, pairs: list[list[tuple[str, int, int]]]) -> str:
    clones = [{"id": i, "kind": "near", "similarity": 0.9, "lines": 5, "tokens": 50, "suggestion": "",
               "fragments": [{"path": p, "start_line": s, "end_line": e} for p, s, e in frags]}
              for i, frags in enumerate(pairs)]
    return json.dumps({"version": 1, "root": str(root), "stats": {}, "clones": clones})


def _jscpd_report(pairs: list[tuple[tuple[str, int, int], tuple[str, int, int]]]) -> str:
    dups = [{"firstFile": {"name": a[0], "start": a[1], "end": a[2]},
             "secondFile": {"name": b[0], "start": b[1], "end": b[2]}} for a, b in pairs]
    return json.dumps({"duplicates": dups})


# Split B: an original a.py 1-8 and its injected copy b.py 20-27.
INJECTION = Injection(0, "T2", Span("pkg/a.py", 1, 8), Span("pkg/b.py", 20, 27),
                      tuple(range(1, 9)), tuple(range(20, 28)), 0, False)
B_REAL = [("pkg/a.py", 10, 15), ("pkg/b.py", 1, 6)]
B_REPRODUCED = [("pkg/a.py", 1, 8), ("pkg/b.py", 20, 27)]
B_TOUCHES = [("pkg/b.py", 21, 26), ("pkg/a.py", 30, 35)]
# Drift: one natural clone inside release 1.0, a function matched with itself across releases, and a
# class of three with one fragment in the other release.
D_INSIDE = [("lib-1.0/pkg/m.py", 1, 5), ("lib-1.0/pkg/n.py", 10, 14)]
D_ACROSS = [("lib-1.0/pkg/m.py", 20, 25), ("lib-2.0/pkg/m.py", 20, 25)]
D_MIXED = [("lib-2.0/pkg/m.py", 1, 5), ("lib-2.0/pkg/n.py", 1, 5), ("lib-1.0/pkg/n.py", 30, 34)]


@pytest.fixture
def runs(tmp_path: Path) -> tuple[Path, Path]:
    """What ``benchmarks.heldout`` and ``benchmarks.drift --set heldout`` leave behind, in miniature."""
    heldout = tmp_path / "heldout"
    corpus = heldout / "corpus"
    _write(corpus, {"pkg/a.py": _source("a"), "pkg/b.py": _source("b")})
    save_manifest(Manifest(str(corpus), 1, 2, 80, (INJECTION,)), heldout / "manifest.json")
    work = heldout / "work"
    _write(work, {
        "codebot.json": _codebot_report(corpus, [B_REAL, B_REPRODUCED, B_TOUCHES]),
        "jscpd-report/jscpd-report.json": _jscpd_report([(B_REAL[0], B_REAL[1]), (B_REPRODUCED[0], B_REPRODUCED[1])]),
        "symilar.txt": "6 similar lines in 2 files\n==pkg/a.py:[9:15]\n==pkg/b.py:[0:6]\n   x = 1\n",
    })
    drift = tmp_path / "drift"
    tree = drift / "drift-heldout-tree"
    _write(tree, {f"lib-{v}/pkg/{m}.py": _source(f"{m}{v.replace('.', '')}") for v in ("1.0", "2.0") for m in "mn"})
    _write(drift / "drift-heldout-work", {
        "codebot.json": _codebot_report(tree, [D_INSIDE, D_ACROSS, D_MIXED]),
        "jscpd-report/jscpd-report.json": _jscpd_report([(D_ACROSS[0], D_ACROSS[1]), (D_INSIDE[0], D_INSIDE[1])]),
    })
    return heldout, drift


def _sample(runs: tuple[Path, Path], out: Path, *extra: str) -> int:
    heldout, drift = runs
    return main(["sample", "--heldout", str(heldout), "--drift", str(drift), "--out", str(out),
                 "--tools", "codebot,jscpd,symilar", "--codebot", "10", "--peers", "10", *extra])


def _key_pairs(key: dict) -> list[tuple[str, str, tuple[tuple[str, int, int], ...]]]:
    return sorted((c["tool"], c["source"], tuple((f["path"], f["start"], f["end"]) for f in c["fragments"]))
                  for c in key["cases"].values())


# ---------------------------------------------------------------- sample


def test_cases_never_name_the_tool(runs: tuple[Path, Path], tmp_path: Path) -> None:
    """The judges' file holds the rubric and the code, and no tool name, report path or clone class size."""
    out = tmp_path / "blind"
    assert _sample(runs, out) == 0
    text = (out / "cases.md").read_text()
    assert "## Case 1" in text and "TRUE" in text and "TRIVIAL" in text
    assert not TOOL_NAMES.search(text)
    assert "work" not in text and "clone class" not in text
    assert TOOL_NAMES.search((out / "key.json").read_text())  # the key, not the cases, says who


def test_the_key_maps_each_case_back_to_its_tool_and_fragments(runs: tuple[Path, Path], tmp_path: Path) -> None:
    """Each case's section shows the key's two fragments; the key holds every eligible clone of every tool."""
    out = tmp_path / "blind"
    assert _sample(runs, out) == 0
    key = json.loads((out / "key.json").read_text())
    text = (out / "cases.md").read_text()
    sections = re.split(r"^## Case (\d+)\n", text, flags=re.MULTILINE)
    shown = {int(sections[i]): sections[i + 1] for i in range(1, len(sections), 2)}
    assert sorted(shown) == sorted(int(n) for n in key["cases"]) == list(range(1, len(key["cases"]) + 1))
    for n, case in key["cases"].items():
        heads = re.findall(r"\*\*[AB]\*\* `([^`]+)` lines (\d+)-(\d+)", shown[int(n)])
        assert heads == [(f["path"], str(f["start"]), str(f["end"])) for f in case["fragments"]]
        first = case["fragments"][0]
        tag = Path(first["path"]).stem + (first["path"].split("/")[0][4:].replace(".", "")
                                         if case["source"] == "drift" else "")
        assert f"value_{tag}_{first['start']} = " in shown[int(n)]  # the code shown is that fragment's
    assert _key_pairs(key) == sorted([
        ("codebot", "splitB", tuple(B_REAL)),
        ("codebot", "splitB", tuple(sorted(B_TOUCHES))),  # shown in path order
        ("codebot", "drift", tuple(D_INSIDE)),
        ("jscpd", "splitB", tuple(B_REAL)),
        ("jscpd", "drift", tuple(D_INSIDE)),
        ("symilar", "splitB", tuple(B_REAL)),
    ])


def test_drift_clones_across_two_releases_are_not_drawn(runs: tuple[Path, Path], tmp_path: Path) -> None:
    """A function matched with itself in the other release, or a class reaching into it, is no precision case."""
    heldout, drift = runs
    tree = drift / "drift-heldout-tree"
    clones = tuple(Clone(tuple(Fragment(*f) for f in frags)) for frags in (D_INSIDE, D_ACROSS, D_MIXED))
    cases = drift_cases(Report("codebot", "drift", tree, clones), tree)
    assert [c.fragments for c in cases] == [tuple(Fragment(*f) for f in D_INSIDE)]
    out = tmp_path / "blind"
    assert _sample(runs, out) == 0
    for case in json.loads((out / "key.json").read_text())["cases"].values():
        if case["source"] == "drift":
            assert len({f["path"].split("/")[0] for f in case["fragments"]}) == 1


def test_split_b_prefers_real_code_and_never_draws_an_injected_pair(runs: tuple[Path, Path]) -> None:
    """Real-code clones and clones touching a copy are separate pools; a copy with its original is not a case."""
    heldout, _ = runs
    root = heldout / "corpus"
    manifest = Manifest(str(root), 1, 2, 80, (INJECTION,))
    clones = tuple(Clone(tuple(Fragment(*f) for f in frags)) for frags in (B_REAL, B_REPRODUCED, B_TOUCHES))
    pools = split_b_cases(Report("codebot", "splitB", root, clones), manifest, root)
    assert [c.fragments for c in pools["real"]] == [tuple(Fragment(*f) for f in B_REAL)]
    assert [c.fragments for c in pools["touches-copy"]] == [tuple(Fragment(*f) for f in sorted(B_TOUCHES))]


def _case(source: str, n: int) -> Case:
    return Case("codebot", source, "real", Path("."), (Fragment(f"{source}.py", n, n + 5), Fragment("x.py", n, n + 5)), 2)


def test_draw_shares_evenly_then_tops_up_then_falls_back_a_tier() -> None:
    """Half from each source; a short source leaves its share to the other; a lower tier only fills what is left."""
    b, d, extra = [_case("b", n) for n in range(10)], [_case("d", n) for n in range(3)], [_case("t", n) for n in range(9)]
    assert draw([{"splitB": b, "drift": d}], 6) == b[:3] + d[:3]
    assert draw([{"splitB": b, "drift": d}], 8) == b[:5] + d[:3]
    assert draw([{"splitB": b[:2], "drift": d}, {"splitB": extra}], 8) == b[:2] + d[:3] + extra[:3]


def test_the_sample_is_seeded(runs: tuple[Path, Path], tmp_path: Path) -> None:
    """The same seed gives the same cases and key, byte for byte."""
    assert _sample(runs, tmp_path / "one") == 0 and _sample(runs, tmp_path / "two") == 0
    for name in ("cases.md", "key.json"):
        assert (tmp_path / "one" / name).read_text() == (tmp_path / "two" / name).read_text()


def test_sampling_again_over_verdicts_needs_force(runs: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    """Judged verdicts would stop matching a new sample: it is refused unless --force."""
    out = tmp_path / "blind"
    out.mkdir()
    (out / "verdicts-judge1.md").write_text("1: TRUE\n")
    assert _sample(runs, out) == 2 and "--force" in capsys.readouterr().err
    assert _sample(runs, out, "--force") == 0


def test_a_tool_without_reports_is_a_clear_error(runs: tuple[Path, Path], tmp_path: Path, capsys) -> None:
    """jscpd-strong never ran: the error names the reports looked for and the commands that write them."""
    heldout, drift = runs
    code = main(["sample", "--heldout", str(heldout), "--drift", str(drift), "--out", str(tmp_path / "b"),
                 "--tools", "jscpd-strong"])
    err = capsys.readouterr().err
    assert code == 2 and "no report of jscpd-strong" in err and "benchmarks.drift --set heldout" in err


# ---------------------------------------------------------------- score


KEY = {"seed": 1, "cases": {
    str(n): {"tool": tool, "source": source, "pool": "real", "root": ".", "class_size": 2, "fragments": []}
    for n, tool, source in ((1, "codebot", "splitB"), (2, "codebot", "drift"), (3, "codebot", "splitB"),
                            (4, "codebot", "drift"), (5, "jscpd", "splitB"), (6, "jscpd", "drift"))}}
JUDGE1 = "# judge 1\n\n1: TRUE\n2: TRUE\n3: FALSE\n4: TRIVIAL\n5: true  (same template)\n6: FALSE\n\nTRUE 3, TRIVIAL 1, FALSE 2\n"
JUDGE2 = "6: TRUE\n5: TRUE\n4: TRIVIAL\n3: FALSE\n2: FALSE\n1: TRUE\n"


def test_scores_counts_agreement_and_kappa_by_hand() -> None:
    """Counts per tool and judge; agreement 4/6 overall (kappa 5/11), 3/4 on CodeBot's cases (kappa 7/11)."""
    first, second = (parse_verdicts(t, range(1, 7)) for t in (JUDGE1, JUDGE2))
    assert first == {1: "TRUE", 2: "TRUE", 3: "FALSE", 4: "TRIVIAL", 5: "TRUE", 6: "FALSE"}
    results = score_json(KEY, {"judge1": first, "judge2": second})
    codebot, jscpd = results["tools"]
    assert codebot["tool"] == "codebot" and jscpd["tool"] == "jscpd"
    assert codebot["judges"]["judge1"]["counts"] == {"TRUE": 2, "TRIVIAL": 1, "FALSE": 1}
    assert codebot["judges"]["judge1"]["fractions"] == {"TRUE": 0.5, "TRIVIAL": 0.25, "FALSE": 0.25}
    assert codebot["judges"]["judge2"]["counts"] == {"TRUE": 1, "TRIVIAL": 1, "FALSE": 2}
    assert codebot["by_source"]["drift"]["judge2"]["counts"] == {"TRUE": 0, "TRIVIAL": 1, "FALSE": 1}
    assert jscpd["judges"]["judge2"]["counts"] == {"TRUE": 2, "TRIVIAL": 0, "FALSE": 0}
    assert results["agreement"]["all"] == {"cases": 6, "agreement": 0.667, "kappa": round(5 / 11, 3)}
    assert results["agreement"]["codebot"] == {"cases": 4, "agreement": 0.75, "kappa": round(7 / 11, 3)}
    assert jscpd["agreement"] == 0.5


def test_kappa_is_undefined_when_both_judges_never_vary() -> None:
    """All TRUE from both: agreement 1, kappa undefined (None), not a division by zero."""
    same = dict.fromkeys(range(1, 4), "TRUE")
    assert agreement(same, same, [1, 2, 3]) == 1.0 and cohen_kappa(same, same, [1, 2, 3]) is None


def test_score_command_writes_json_and_markdown(tmp_path: Path) -> None:
    """``score`` reads the key and both verdict files and writes blind.json and blind.md."""
    (tmp_path / "key.json").write_text(json.dumps(KEY))
    (tmp_path / "verdicts-judge1.md").write_text(JUDGE1)
    (tmp_path / "verdicts-judge2.md").write_text(JUDGE2)
    assert main(["score", "--dir", str(tmp_path), "--results", str(tmp_path / "r")]) == 0
    assert json.loads((tmp_path / "r" / "blind.json").read_text())["cases"] == 6
    table = (tmp_path / "r" / "blind.md").read_text()
    assert "| CodeBot | judge1 | 4 | 0.50 (2) | 0.25 (1) | 0.25 (1) | 0.75 | 0.64 |" in table


@pytest.mark.parametrize(("text", "message"), [
    ("1: TRUE\n2: MAYBE\n", "unknown verdict 'MAYBE'"),
    ("1: TRUE\n", "1 case(s) without a verdict: 2"),
    ("1: TRUE\n2: FALSE\n1: FALSE\n", "case 1 was already judged TRUE"),
    ("1: TRUE\n2: FALSE\n3: TRUE\n", "no case 3"),
    ("1 TRUE\n2: FALSE\n", "expected 'N: TRUE|TRIVIAL|FALSE'"),
    ("1:\n2: FALSE\n", "expected 'N: TRUE|TRIVIAL|FALSE'"),
])
def test_malformed_verdicts_are_errors(text: str, message: str) -> None:
    """An unknown, missing, repeated, extra or malformed verdict stops the score with the line it is on."""
    with pytest.raises(SampleError, match=re.escape(message)):
        parse_verdicts(text, [1, 2], "verdicts-judge1.md")


def test_score_command_fails_on_a_malformed_file(tmp_path: Path, capsys) -> None:
    """Exit 2 and a message naming the file; nothing is written."""
    (tmp_path / "key.json").write_text(json.dumps(KEY))
    (tmp_path / "verdicts-judge1.md").write_text(JUDGE1)
    (tmp_path / "verdicts-judge2.md").write_text(JUDGE2.replace("4: TRIVIAL", "4: TRIVAL"))
    assert main(["score", "--dir", str(tmp_path), "--results", str(tmp_path / "r")]) == 2
    assert "verdicts-judge2.md line 3" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_a_new_round_leaves_out_the_cases_of_an_earlier_key(tmp_path):
    """`sample --exclude KEY.json`: a case judged before (same source, same fragments) is not drawn again."""
    from benchmarks.blind import Case, Pools, judged_before, without
    from benchmarks.tools import Fragment as ToolFragment

    def case(path: str) -> Case:
        return Case("codebot", "splitB", "real", tmp_path,
                    (ToolFragment(path, 1, 9), ToolFragment("b.py", 3, 11)), 2)

    old, new = case("a.py"), case("c.py")
    key = tmp_path / "key.json"
    key.write_text(json.dumps({"cases": {"1": {"source": "splitB", "fragments": [
        {"path": "a.py", "start": 1, "end": 9}, {"path": "b.py", "start": 3, "end": 11}]}}}))
    pool = Pools("codebot", ({"splitB": [old, new], "drift": []},))
    assert without(pool, judged_before([key])).tiers[0]["splitB"] == [new]
    # The same regions reported a few lines longer by a later detector were judged too;
    # a pair sharing only one region with a judged case was not.
    longer = Case("codebot", "splitB", "real", tmp_path,
                  (ToolFragment("a.py", 1, 12), ToolFragment("b.py", 2, 11)), 2)
    half = Case("codebot", "splitB", "real", tmp_path,
                (ToolFragment("a.py", 1, 9), ToolFragment("d.py", 3, 11)), 2)
    pool = Pools("codebot", ({"splitB": [longer, half], "drift": []},))
    assert without(pool, judged_before([key])).tiers[0]["splitB"] == [half]
