"""benchmarks.curve: which judged cases a run at another threshold still reports, and their tally."""
from benchmarks.curve import judged, render_markdown, still_reported
from benchmarks.tools import Clone, Fragment

CASES = {
    "1": {"tool": "codebot", "source": "splitB",
          "fragments": [{"path": "a.py", "start": 1, "end": 9}, {"path": "b.py", "start": 3, "end": 11}]},
    "2": {"tool": "codebot", "source": "drift",
          "fragments": [{"path": "x-1/m.py", "start": 5, "end": 20}, {"path": "x-1/n.py", "start": 5, "end": 19}]},
    "3": {"tool": "jscpd", "source": "splitB",
          "fragments": [{"path": "a.py", "start": 1, "end": 9}, {"path": "b.py", "start": 3, "end": 11}]},
}


def clone(*fragments: tuple[str, int, int]) -> Clone:
    return Clone(tuple(Fragment(*f) for f in fragments))


def test_a_case_is_still_reported_when_one_clone_holds_all_its_fragments():
    case = CASES["1"]
    assert still_reported(case, [clone(("a.py", 1, 9), ("b.py", 3, 11), ("c.py", 2, 10))])
    assert not still_reported(case, [clone(("a.py", 1, 9), ("c.py", 2, 10)),
                                     clone(("b.py", 3, 11), ("c.py", 2, 10))])
    assert not still_reported(case, [clone(("a.py", 1, 8), ("b.py", 3, 11))])


def test_only_codebot_cases_still_reported_are_tallied():
    reported = {"splitB": [clone(("a.py", 1, 9), ("b.py", 3, 11))], "drift": []}
    tally = judged(CASES, {1: "FALSE", 2: "TRUE", 3: "TRUE"}, reported)
    assert (tally["cases"], tally["TRUE"], tally["FALSE"], tally["false_fraction"]) == (1, 0, 1, 1.0)


def test_the_table_marks_unjudged_thresholds():
    row = {"drift": {"identical": 1.0}, "split_b": {"T1": 0.98}, "clones": {}}
    judge = {"cases": 2, "true_fraction": 0.5, "trivial_fraction": 0.0, "false_fraction": 0.5}
    text = render_markdown({"default": 0.85, "judged_round": {"threshold": 0.8, "codebot_cases": 60},
                            "rows": [{**row, "threshold": 0.75, "judged": {"judge1": None}},
                                     {**row, "threshold": 0.85, "judged": {"judge1": judge}}]})
    assert "| 0.75 | 1.00 | 0.98 | not judged |" in text
    assert "| 0.85 | 1.00 | 0.98 | 0.50 / 0.00 / 0.50 (of 2) |" in text
