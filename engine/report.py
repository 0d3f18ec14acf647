"""Render a scan's result: text and the JSON contract here; SARIF, Markdown and HTML in their modules."""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Union

from engine.records import Clone, Repo, ScanResult, count
from engine.repos import place, repo_of, repos_of
from engine.sources import FragmentTexts

if TYPE_CHECKING:
    from engine.refactor import Refactoring

# A clone's refactoring as `--diffs N` computed it, or the reason there is none.
Refactorings = Mapping[str, Union["Refactoring", str]]

JSON_VERSION = 1
_SNIPPET_LINES = 6


def to_dict(result: ScanResult) -> dict[str, Any]:
    """The JSON report: {"version", "root", "stats", "clones"} (+ "request_id" when tracked).

    A scan of named repositories adds "repos" (name -> folder relative to the root), and
    to each clone the "repos" it spans and to each fragment its "repo"; a scan of plain
    paths has none of these keys, so its report is what it always was.
    """
    report: dict[str, Any] = {
        "version": JSON_VERSION,
        "root": str(result.root),
        "stats": result.stats._asdict(),
        "clones": [_clone_dict(c, result.repos) for c in result.clones],
    }
    if result.repos:
        report["repos"] = {r.name: r.path for r in result.repos}
    if result.request_id:
        report["request_id"] = result.request_id
    return report


def _clone_dict(clone: Clone, repos: Sequence[Repo]) -> dict[str, Any]:
    return {
        "id": clone.id,
        "kind": clone.kind,
        "similarity": clone.similarity,
        "lines": clone.lines,
        "tokens": clone.tokens,
        **({"repos": repos_of(clone, repos)} if repos else {}),
        "fragments": [{"path": f.path,
                       **({"repo": repo_of(f.path, repos)} if repos else {}),
                       "start_line": f.start_line, "end_line": f.end_line}
                      for f in clone.fragments],
        "suggestion": clone.suggestion,
    }


def render_json(result: ScanResult, refactorings: Refactorings | None = None) -> str:
    # No indent: only the compact form goes through json's C encoder, 10x faster.
    return json.dumps(to_dict(result), ensure_ascii=False) + "\n"


def render_text(result: ScanResult, refactorings: Refactorings | None = None) -> str:
    stats = result.stats
    out = [
        f"{count(len(result.clones), 'clone')} in {count(stats.files, 'file')}: "
        f"{stats.duplicated_lines} of "
        f"{stats.lines} lines duplicated ({stats.duplication_pct:.2f}%) — "
        f"{stats.files_parsed} parsed, {stats.files_reused} reused, {stats.files_skipped} skipped, "
        f"{stats.duration_s:.2f}s",
    ]
    texts = FragmentTexts(result.root)
    for number, clone in enumerate(result.clones, 1):
        new = " NEW" if clone.id in result.new_clone_ids else ""
        out.append("")
        out.append(f"{number}. {clone.id} {clone.kind}, {clone.lines} lines, {clone.tokens} tokens,"
                   f" similarity {clone.similarity:.2f}, {count(len(clone.fragments), 'place')}{new}")
        if len(repos_of(clone, result.repos)) > 1:
            out.append(f"   across repositories {', '.join(repos_of(clone, result.repos))}")
        for fragment in clone.fragments:
            out.append(f"   {place(fragment, result.repos)}")
        snippet = _snippet(texts, clone)
        if snippet:
            out.extend(f"   | {line}" for line in snippet)
        out.append(f"   → {clone.suggestion}")
        if refactorings and clone.id in refactorings:
            out.extend(refactoring_lines(refactorings[clone.id]))
    if result.skipped:
        out.append("")
        out.append(f"skipped {count(len(result.skipped), 'file')}:")
        out.extend(f"   {s.path}: {s.reason}" for s in result.skipped)
    return "\n".join(out) + "\n"


def refactoring_lines(made: Refactoring | str) -> list[str]:
    """A clone's refactoring under it in the text report: what it does and its diff, or why
    there is none."""
    if isinstance(made, str):
        return [f"   ⇒ no refactoring: {made}"]
    return [f"   ⇒ refactoring: {made.summary}",
            *(f"     {line}" for line in made.diff.splitlines())]


def _snippet(texts: FragmentTexts, clone: Clone) -> list[str]:
    fragment = clone.fragments[0]
    shown = texts.lines(fragment, _SNIPPET_LINES)
    if shown and fragment.end_line - fragment.start_line + 1 > _SNIPPET_LINES:
        shown.append("...")
    return [line.rstrip()[:100] for line in shown]


def render_sarif(result: ScanResult, refactorings: Refactorings | None = None) -> str:
    from engine.sarif import render_sarif as render  # loaded when asked for: startup stays fast

    return render(result, refactorings)


def render_markdown(result: ScanResult, refactorings: Refactorings | None = None) -> str:
    from engine.markdown import render_markdown as render

    return render(result, refactorings)


def render_html(result: ScanResult, refactorings: Refactorings | None = None) -> str:
    from engine.html import render_html as render  # pygments' formatter and styles are slow to load

    return render(result, refactorings)


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif,
             "markdown": render_markdown, "html": render_html}
