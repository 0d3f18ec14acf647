"""The HTML report: one self-contained page, the summary, then each clone's fragments side by side.

Code is highlighted with pygments (its CSS inlined, no scripts, no external
files). Tokens that differ between a fragment and the first one (the second
one, for the first) are marked, found by aligning the two token sequences
with difflib, whitespace and comments aside.
"""
from __future__ import annotations

from difflib import SequenceMatcher
from html import escape
from typing import TYPE_CHECKING, Sequence

from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import PythonLexer, TextLexer, get_lexer_by_name
from pygments.token import STANDARD_TYPES, Comment, Text, _TokenType
from pygments.util import ClassNotFound

from engine.discover import language_of
from engine.records import Clone, Fragment, Repo, ScanResult, count
from engine.repos import place, repos_of
from engine.sources import FragmentTexts

if TYPE_CHECKING:
    from engine.report import Refactorings

# Past these the page gets too big to read; the rest is counted, not shown.
MAX_CLONES = 200
MAX_SIDE_BY_SIDE = 4
MAX_FRAGMENT_LINES = 400

Token = tuple[str, str]  # (css class, text)

_PAGE_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1f2328; background: #fff; }
h1 { font-size: 22px; margin: 0 0 8px; }
.summary { display: flex; gap: 24px; flex-wrap: wrap; padding: 12px 16px; background: #f6f8fa;
           border: 1px solid #d0d7de; border-radius: 6px; margin-bottom: 20px; }
.summary b { display: block; font-size: 20px; }
.clone { border: 1px solid #d0d7de; border-radius: 6px; margin: 0 0 20px; }
.clone > header { padding: 8px 12px; background: #f6f8fa; border-bottom: 1px solid #d0d7de; }
.clone > header h2 { font-size: 15px; margin: 0 0 4px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 10px; font-size: 12px;
         background: #ddf4ff; color: #0969da; margin-left: 6px; }
.badge.new { background: #ffebe9; color: #cf222e; }
.suggestion { color: #57606a; margin: 0; }
.fragments { display: grid; grid-auto-flow: column; grid-auto-columns: minmax(0, 1fr); }
.fragment { border-right: 1px solid #d0d7de; min-width: 0; }
.fragment:last-child { border-right: 0; }
.fragment h3 { font: 600 13px ui-monospace, monospace; margin: 0; padding: 6px 10px;
               border-bottom: 1px solid #d0d7de; background: #fff; }
.code { margin: 0; padding: 6px 0; overflow-x: auto; font: 12px/1.5 ui-monospace, monospace; }
.code .ln { display: inline-block; width: 4em; padding-right: 8px; text-align: right;
            color: #8c959f; user-select: none; }
.code mark { background: #fff1a8; outline: 1px solid #e3b341; border-radius: 2px; }
.more { padding: 6px 12px; color: #57606a; border-top: 1px solid #d0d7de; }
.skipped { color: #57606a; }
.refactoring { border-top: 1px solid #d0d7de; padding: 6px 12px; }
.refactoring p { margin: 0 0 6px; color: #57606a; }
"""


def render_html(result: ScanResult, refactorings: Refactorings | None = None) -> str:
    """The whole page as one string (with each refactoring `--diffs` asked for under its clone)."""
    stats = result.stats
    css = HtmlFormatter(style="default").get_style_defs(".code")
    texts = FragmentTexts(result.root)
    sections = [_clone_section(texts, number, clone, clone.id in result.new_clone_ids,
                               (refactorings or {}).get(clone.id), result.repos)
                for number, clone in enumerate(result.clones[:MAX_CLONES], 1)]
    if len(result.clones) > MAX_CLONES:
        sections.append(f"<p class='more'>…and {len(result.clones) - MAX_CLONES} more clones "
                        "(see the JSON report).</p>")
    figures = [
        (len(result.clones), "clones"), (len(result.new_clone_ids), "new"),
        (stats.files, "files"), (stats.lines, "lines"),
        (stats.duplicated_lines, "duplicated lines"), (f"{stats.duplication_pct:.2f}%", "duplicated"),
    ]
    summary = "".join(f"<div><b>{escape(str(value))}</b>{label}</div>" for value, label in figures)
    skipped = ""
    if result.skipped:
        items = "".join(f"<li><code>{escape(s.path)}</code>: {escape(s.reason)}</li>"
                        for s in result.skipped)
        skipped = f"<details class='skipped'><summary>{count(len(result.skipped), 'file')} skipped" \
                  f"</summary><ul>{items}</ul></details>"
    body = "\n".join(sections) if sections else "<p>No clones.</p>"
    return (
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        "<title>CodeBot: duplicated code</title>\n"
        f"<style>{_PAGE_CSS}\n{css}\n</style>\n</head>\n<body>\n"
        "<h1>CodeBot: duplicated code</h1>\n"
        f"<div class='summary'>{summary}</div>\n{body}\n{skipped}\n</body>\n</html>\n"
    )


def _clone_section(texts: FragmentTexts, number: int, clone: Clone, new: bool,
                   made: object = None, repos: Sequence[Repo] = ()) -> str:
    shown = clone.fragments[:MAX_SIDE_BY_SIDE]
    streams = [_tokens(texts, fragment) for fragment in shown]
    marks = _differences(streams)
    columns = "".join(_fragment_column(place(f, repos), f, tokens, marked)
                      for f, tokens, marked in zip(shown, streams, marks))
    more = ""
    if len(clone.fragments) > len(shown):
        rest = ", ".join(place(f, repos) for f in clone.fragments[len(shown):])
        more = f"<div class='more'>Also at {escape(rest)}</div>"
    badges = f"<span class='badge'>{clone.kind}</span>" + \
        ("<span class='badge new'>new</span>" if new else "")
    spans = repos_of(clone, repos)
    if len(spans) > 1:  # a copy between repositories: shown first, and marked
        badges += f"<span class='badge'>across {escape(', '.join(spans))}</span>"
    return (
        f"<section class='clone' id='{escape(clone.id)}'>\n<header><h2>{number}. "
        f"{escape(clone.id)}{badges} — {clone.lines} lines, {clone.tokens} tokens, "
        f"similarity {clone.similarity:.2f}, {len(clone.fragments)} places</h2>"
        f"<p class='suggestion'>{escape(clone.suggestion)}</p></header>\n"
        f"<div class='fragments'>{columns}</div>{more}{_refactoring(made)}\n</section>"
    )


def _refactoring(made: object) -> str:
    """A refactoring's summary and its diff highlighted by pygments' diff lexer, or why
    there is none ('' when none was asked for)."""
    if made is None:
        return ""
    if isinstance(made, str):
        return f"<div class='refactoring'><p>No refactoring: {escape(made)}</p></div>"
    from pygments import highlight
    from pygments.lexers import DiffLexer

    shown = highlight(made.diff, DiffLexer(), HtmlFormatter(cssclass="code"))  # type: ignore[attr-defined]
    return (f"<div class='refactoring'><p>Refactoring: {escape(made.summary)}</p>"  # type: ignore[attr-defined]
            f"{shown}</div>")


def _fragment_column(title: str, fragment: Fragment, tokens: list[Token],
                     marked: set[int]) -> str:
    lines: list[str] = []
    current: list[str] = []
    for index, (css, text) in enumerate(tokens):
        pieces = text.split("\n")
        for position, piece in enumerate(pieces):
            if position:
                lines.append("".join(current))
                current = []
            if piece:
                html = escape(piece, quote=False)
                html = f"<span class='{css}'>{html}</span>" if css else html
                current.append(f"<mark>{html}</mark>" if index in marked else html)
    if current:
        lines.append("".join(current))
    numbered = "\n".join(f"<span class='ln'>{fragment.start_line + i}</span>{line}"
                         for i, line in enumerate(lines))
    return (f"<div class='fragment'><h3>{escape(title)}</h3>"
            f"<pre class='code'>{numbered}</pre></div>")


def _tokens(texts: FragmentTexts, fragment: Fragment) -> list[Token]:
    """The highlighted tokens of a fragment's lines (nothing when the file is gone)."""
    text = "\n".join(texts.lines(fragment, MAX_FRAGMENT_LINES))
    return [(_css_class(kind), value)
            for kind, value in _lexer(fragment.path).get_tokens(text)]


def _differences(streams: list[list[Token]]) -> list[set[int]]:
    """For each fragment, the indexes of its tokens that differ from its reference fragment."""
    if len(streams) < 2:
        return [set() for _ in streams]
    marks = []
    for number, tokens in enumerate(streams):
        reference = streams[1 if number == 0 else 0]
        mine = _significant(tokens)
        theirs = _significant(reference)
        matcher = SequenceMatcher(None, [t for _, t in mine], [t for _, t in theirs],
                                  autojunk=False)
        same: set[int] = set()
        for block in matcher.get_matching_blocks():
            same.update(mine[i][0] for i in range(block.a, block.a + block.size))
        marks.append({index for index, _ in mine if index not in same})
    return marks


def _significant(tokens: list[Token]) -> list[tuple[int, str]]:
    """(index, text) of the tokens that carry code: no whitespace, no comments."""
    return [(i, text) for i, (css, text) in enumerate(tokens)
            if text.strip() and not css.startswith("c")]


def _lexer(path: str) -> Lexer:
    language = language_of(path)
    if language == "python":
        return PythonLexer(stripnl=False, ensurenl=False)
    try:
        return get_lexer_by_name(language or "text", stripnl=False, ensurenl=False)
    except ClassNotFound:
        return TextLexer(stripnl=False, ensurenl=False)


def _css_class(kind: _TokenType) -> str:
    if kind in Comment:
        return STANDARD_TYPES.get(kind) or "c"
    if kind in Text:
        return ""
    while kind not in STANDARD_TYPES:
        kind = kind.parent
    return STANDARD_TYPES[kind]
