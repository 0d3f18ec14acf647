"""The Markdown report: a summary and one table row per clone, sized for a pull-request comment."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from engine.records import Clone, Repo, ScanResult, count
from engine.repos import place, repos_of

if TYPE_CHECKING:
    from engine.report import Refactorings

# A PR comment is capped (GitHub: 65,536 characters); the rest is counted, not listed.
MAX_ROWS = 50


def render_markdown(result: ScanResult, refactorings: Refactorings | None = None) -> str:
    """A heading, the figures, a table of the clones (new ones marked), and the refactorings
    `--diffs` asked for, each diff folded."""
    stats = result.stats
    new = len(result.new_clone_ids)
    out = [
        "### CodeBot: duplicated code",
        "",
        f"**{count(len(result.clones), 'clone')}** ({new} new) in {count(stats.files, 'file')}: "
        f"{stats.duplicated_lines} of {stats.lines} lines duplicated "
        f"(**{stats.duplication_pct:.2f}%**).",
        "",
    ]
    if result.clones:
        out += ["| # | Clone | Kind | Lines | Similarity | Places | Suggestion |",
                "|---:|---|---|---:|---:|---|---|"]
        for number, clone in enumerate(result.clones[:MAX_ROWS], 1):
            out.append(_row(number, clone, clone.id in result.new_clone_ids, result.repos))
        if len(result.clones) > MAX_ROWS:
            out += ["", f"…and {count(len(result.clones) - MAX_ROWS, 'more clone')} (see the full report)."]
    else:
        out.append("No clones. :tada:")
    if refactorings:
        out += ["", "#### Refactorings", ""]
        for clone in result.clones:
            if clone.id in refactorings:
                out += _refactoring(clone, refactorings[clone.id])
    if result.skipped:
        out += ["", f"<details><summary>{count(len(result.skipped), 'file')} skipped</summary>", ""]
        out += [f"- `{_code(s.path)}`: {_cell(s.reason)}" for s in result.skipped]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _row(number: int, clone: Clone, new: bool, repos: Sequence[Repo]) -> str:
    places = "<br>".join(f"`{_code(place(f, repos))}`" for f in clone.fragments)
    spans = repos_of(clone, repos)
    label = f"`{clone.id}`" + (" **new**" if new else "") + \
        (f" across {', '.join(spans)}" if len(spans) > 1 else "")
    return (f"| {number} | {label} | {clone.kind} | {clone.lines} | {clone.similarity:.2f} | "
            f"{places} | {_cell(clone.suggestion)} |")


def _refactoring(clone: Clone, made: object) -> list[str]:
    """One clone's refactoring folded under its summary (a diff block), or why there is none."""
    if isinstance(made, str):
        return [f"- `{clone.id}`: no refactoring: {_cell(made)}", ""]
    diff = made.diff  # type: ignore[attr-defined]
    fence = "````" if "```" in diff else "```"
    return [f"<details><summary><code>{clone.id}</code>: {_cell(made.summary)}</summary>",  # type: ignore[attr-defined]
            "", f"{fence}diff", diff.rstrip("\n"), fence, "", "</details>", ""]


def _cell(text: str) -> str:
    """Text safe inside a table cell: no pipes or newlines break the row."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    return text.replace("`", "'").replace("|", "\\|")
