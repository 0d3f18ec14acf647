"""The SARIF 2.1.0 report, as GitHub code scanning reads it: one result per pair of fragments.

Each clone of k fragments gives k - 1 results: fragment i (i >= 1) is the
primary location and fragment 0 its related location, so every copy is
annotated where it is and points at what it copies. `partialFingerprints`
carries the clone's id and the two paths, not line numbers, so an alert keeps
its identity when code moves. A clone refactored with `--diffs` carries the
change as `fixes` (each file's changed lines as replacements), so a code-scanning
UI can offer it.
"""
from __future__ import annotations

import difflib
import hashlib
import json
from importlib import metadata
from typing import TYPE_CHECKING, Any, Sequence

from engine.records import Clone, Fragment, Repo, ScanResult
from engine.repos import place, repo_of, repos_of

if TYPE_CHECKING:
    from engine.refactor import FileChange, Refactoring
    from engine.report import Refactorings

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_ROOT = "%SRCROOT%"
RULES = {
    "exact": ("CB001", "exact-copy", "Identical code (layout and comments aside) in two places."),
    "renamed": ("CB002", "renamed-copy", "The same code with other names or literals."),
    "near": ("CB003", "near-miss-copy", "Nearly the same code, with edited statements."),
}


def render_sarif(result: ScanResult, refactorings: Refactorings | None = None) -> str:
    """The report as a SARIF 2.1.0 log with one run."""
    return json.dumps(to_sarif(result, refactorings), indent=2, ensure_ascii=False) + "\n"


def to_sarif(result: ScanResult, refactorings: Refactorings | None = None) -> dict[str, Any]:
    """The SARIF log as plain data."""
    rule_index = {kind: i for i, kind in enumerate(RULES)}
    results = [_result(clone, number, rule_index, clone.id in result.new_clone_ids, result.repos)
               for clone in result.clones for number in range(1, len(clone.fragments))]
    for found in results:
        made = (refactorings or {}).get(found["properties"]["cloneId"])
        if made is not None and not isinstance(made, str):
            found["fixes"] = [fix(made)]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "CodeBot",
                "version": _version(),
                "rules": [_rule(kind) for kind in RULES],
            }},
            "originalUriBaseIds": {_ROOT: {"uri": result.root.as_uri() + "/"}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def _rule(kind: str) -> dict[str, Any]:
    rule_id, name, text = RULES[kind]
    return {
        "id": rule_id,
        "name": name,
        "shortDescription": {"text": f"Duplicated code: {name.replace('-', ' ')}"},
        "fullDescription": {"text": text + " Extract the shared code into one function."},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["maintainability", "duplicated-code"]},
    }


def _location(fragment: Fragment, **extra: Any) -> dict[str, Any]:
    return {**extra, "physicalLocation": {
        "artifactLocation": {"uri": fragment.path, "uriBaseId": _ROOT},
        "region": {"startLine": fragment.start_line, "endLine": fragment.end_line},
    }}


def _result(clone: Clone, number: int, rule_index: dict[str, int], new: bool,
            repos: Sequence[Repo] = ()) -> dict[str, Any]:
    """The result for fragment `number` of a clone, related to fragment 0 (with the
    repositories of both in its properties when the scan named repositories)."""
    primary, copied = clone.fragments[number], clone.fragments[0]
    rule_id = RULES[clone.kind][0]
    others = len(clone.fragments) - 1
    also = f" ({others} copies in all)" if others > 1 else ""
    identity = hashlib.sha256(
        f"{clone.id}\0{number}\0{primary.path}\0{copied.path}".encode()).hexdigest()
    return {
        "ruleId": rule_id,
        "ruleIndex": rule_index[clone.kind],
        "level": "warning",
        "message": {"text": (
            f"Lines {primary.start_line}-{primary.end_line} duplicate "
            f"[{place(copied, repos)}](1){also}: {clone.kind} copy, "
            f"{clone.lines} lines, similarity {clone.similarity:.2f}. {clone.suggestion}")},
        "locations": [_location(primary)],
        "relatedLocations": [_location(copied, id=1, message={"text": "the other copy"})],
        "partialFingerprints": {"codebotClone/v1": identity},
        "properties": {"cloneId": clone.id, "kind": clone.kind, "new": new,
                       "similarity": clone.similarity, "lines": clone.lines,
                       "tokens": clone.tokens,
                       **({"repo": repo_of(primary.path, repos),
                           "repos": repos_of(clone, repos)} if repos else {})},
    }


def fix(made: Refactoring) -> dict[str, Any]:
    """A refactoring as a SARIF fix: per file, each run of changed lines replaced."""
    return {"description": {"text": made.summary},
            "artifactChanges": [{"artifactLocation": {"uri": change.path, "uriBaseId": _ROOT},
                                 "replacements": _replacements(change)}
                                for change in made.changes]}


def _replacements(change: FileChange) -> list[dict[str, Any]]:
    """Changed lines as (character offset, length) regions of the original text and their new text."""
    before = change.before.splitlines(keepends=True)
    after = change.after.splitlines(keepends=True)
    offsets = [0]
    for line in before:
        offsets.append(offsets[-1] + len(line))
    found = []
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        found.append({"deletedRegion": {"charOffset": offsets[i1], "charLength": offsets[i2] - offsets[i1]},
                      "insertedContent": {"text": "".join(after[j1:j2])}})
    return found


def _version() -> str:
    try:
        return metadata.version("codebot")
    except metadata.PackageNotFoundError:
        return "0.0.0"
