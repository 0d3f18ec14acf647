"""Natural clones: the same functions in two releases of real libraries, years apart, found or not.

    python -m benchmarks.drift [--set tuned|heldout|all] [--tools codebot,jscpd,jscpd-strong,symilar]
        [--out DIR] [--cache DIR] [--results DIR]

Injected copies (``benchmarks.compare``) are edited by rules; code that drifted
between two releases was edited by people. Each library in ``LIBRARIES`` is
pinned as two pure-Python wheels at least two years apart (version, upload
date, sha256: ``benchmarks.pypi``), downloaded once into the cache and offline
after that. The ``.py`` files of the import package itself (no test folders,
docs or packaging) of both releases are laid side by side in one tree,
``OUT/drift-tree/<project>-<version>/<package>/...``, for every library at
once, and every tool scans that one tree once, with identical input.

Truth: every function and method (classes nested in classes included,
functions nested in functions not: they are part of their outer function)
whose qualified name — module path inside the package, enclosing classes,
name, and ``#n`` for the n-th definition of one name in one scope (a
property's setter) — exists in both releases, with at least ``MIN_CODE_LINES``
code lines on both sides. Code lines hold a token other than a comment or
layout and lie outside docstrings; a function's span runs from its ``def`` line
to its last line (decorators left out). Each pair falls in one band by its
normalized tokens (no comments, layout or docstrings): ``identical`` (the same
token sequence), ``renamed`` (the same once every name and literal is a
placeholder), else by similarity 2*LCS/(len a + len b): ``0.90+``,
``0.75-0.90``, ``0.60-0.75``; below 0.60 the pair is counted but not scored.

Found: one reported clone has a fragment covering at least 70% of the code
lines of the old side and another fragment covering at least 70% of the new
side (a fragment spanning a whole class or file counts). Per tool: recall per
band, clones reported, wall time, peak memory. Into ``--out`` go each tool's
misses, ``drift-misses-<tool>.md``; the results go to
``benchmarks/results/drift.json`` and ``drift.md``.

Two library sets (``--set``): ``tuned`` (the default, ``LIBRARIES``) is the set
whose misses the detector has been tuned on, so its figures are in-sample;
``heldout`` (``HELDOUT_LIBRARIES``) is six other libraries, disjoint from the
tuned set and from split B's corpus (``benchmarks.corpus_b``), to be run only
once the detector is frozen; ``all`` is both. Each set has its own tree, work
folder, misses and results, so a held-out run never overwrites the tuned one:
``OUT/drift-heldout-tree``, ``drift-heldout-misses-<tool>.md``,
``drift-heldout.json`` / ``drift-heldout.md`` (``drift-all...`` for ``all``).
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import keyword
import os
import shutil
import subprocess
import sys
import time
import tokenize
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import NamedTuple

from rapidfuzz.distance import Indel

from benchmarks.mutations import is_docstring, span_code_lines
from benchmarks.pypi import CACHE_DIR, Pin, extract_package, fetch
from benchmarks.scoring import COVERAGE, Recall, by_path, coverage
from benchmarks.tools import REPO, Clone, ToolRun, add_tools_option, run_tool

MIN_CODE_LINES = 6
BANDS = ("identical", "renamed", "0.90+", "0.75-0.90", "0.60-0.75")
BELOW = "below-0.60"
MIN_SIMILARITY = 0.60
MIN_YEARS_APART = 2
MAX_DIFF_LINES = 12  # changed lines shown per missed pair
DEFAULT_OUT = Path(__file__).resolve().parent / "out"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
TOOL_LABELS = {
    "codebot": "CodeBot",
    "jscpd": "jscpd 5.3.2 default",
    "jscpd-strong": "jscpd 5.3.2 strongest",
    "symilar": "pylint symilar",
}

_PYPI = "https://files.pythonhosted.org/packages/"
_LAYOUT = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                     tokenize.DEDENT, tokenize.ENDMARKER})


class Library(NamedTuple):
    """A project, its import package, and the two pinned releases compared."""

    project: str
    package: str
    old: Pin
    new: Pin


def _pin(project: str, version: str, released: str, sha256: str, path: str) -> Pin:
    return Pin(project, version, released, sha256, _PYPI + path)


LIBRARIES = (
    Library("click", "click",
            _pin("click", "7.1.2", "2020-04-27", "dacca89f4bfadd5de3d7489b7c8a566eee0d3676333fbb50030263894c38c0dc",
                 "d2/3d/fa76db83bf75c4f8d338c2fd15c8d33fdd7ad23a9b5e57eb6c5de26b430e/click-7.1.2-py2.py3-none-any.whl"),
            _pin("click", "8.1.7", "2023-08-17", "ae74fb96c20a0277a1d615f1e4d73c8414f5a98db8b799a7931d1582f3390c28",
                 "00/2e/d53fa4befbf2cfa713304affc7ca780ce4fc1fd8710527771b58311a3229/click-8.1.7-py3-none-any.whl")),
    Library("flask", "flask",
            _pin("flask", "1.1.2", "2020-04-03", "8a4fdd8936eba2512e9c85df320a37e694c93945b33ef33c89946a340a238557",
                 "f2/28/2a03252dfb9ebf377f40fba6a7841b47083260bf8bd8e737b0c6952df83f/Flask-1.1.2-py2.py3-none-any.whl"),
            _pin("flask", "3.0.0", "2023-09-30", "21128f47e4e3b9d597a3e8521a329bf56909b690fcc3fa3e477725aa81367638",
                 "36/42/015c23096649b908c809c69388a805a571a3bea44362fe87e33fc3afa01f/flask-3.0.0-py3-none-any.whl")),
    Library("requests", "requests",
            _pin("requests", "2.24.0", "2020-06-17", "fe75cc94a9443b9246fc7049224f75604b113c36acb93f87b80ed42c44cbb898",
                 "45/1e/0c169c6a5381e241ba7404532c16a21d86ab872c9bed8bdcd4c423954103/requests-2.24.0-py2.py3-none-any.whl"),
            _pin("requests", "2.31.0", "2023-05-22", "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f",
                 "70/8e/0e2d847013cb52cd35b38c009bb167a1a26b2ce6cd6965bf26b47bc0bf44/requests-2.31.0-py3-none-any.whl")),
    Library("markdown", "markdown",
            _pin("markdown", "3.2.2", "2020-05-08", "c467cd6233885534bf0fe96e62e3cf46cfc1605112356c4f9981512b8174de59",
                 "a4/63/eaec2bd025ab48c754b55e8819af0f6a69e2b1e187611dd40cbbe101ee7f/Markdown-3.2.2-py3-none-any.whl"),
            _pin("markdown", "3.5.1", "2023-10-31", "5874b47d4ee3f0b14d764324d2c94c03ea66bee56f2d929da9f2508d65e722dc",
                 "70/58/2c5a654173937d9f540a4971c569b44dcd55e5424a484d954cdaeebcf79c/Markdown-3.5.1-py3-none-any.whl")),
    Library("itsdangerous", "itsdangerous",
            _pin("itsdangerous", "1.1.0", "2018-10-27", "b12271b2047cb23eeb98c8b5622e2e5c5e9abd9784a153e9d8ef9cb4dd09d749",
                 "76/ae/44b03b253d6fade317f32c24d100b3b35c2239807046a4c953c7b89fa49e/itsdangerous-1.1.0-py2.py3-none-any.whl"),
            _pin("itsdangerous", "2.1.2", "2022-03-24", "2c2349112351b88699d8d4b6b075022c0808887cb7ad10069318a8b0bc88db44",
                 "68/5f/447e04e828f47465eeab35b5d408b7ebaaaee207f48b7136c5a7267a30ae/itsdangerous-2.1.2-py3-none-any.whl")),
    Library("marshmallow", "marshmallow",
            _pin("marshmallow", "3.7.0", "2020-07-09", "0f3a630f6a2fd124929f1bdcb5df65bd14cc8f49f52a18d0bdcfa0c42414e4a7",
                 "c9/e3/afff202331777faa5b1c772a0b9f2f8c207fde0bef5733cc7ce9d7dbb71a/marshmallow-3.7.0-py2.py3-none-any.whl"),
            _pin("marshmallow", "3.20.1", "2023-07-20", "684939db93e80ad3561392f47be0230743131560a41c5110684c16e21ade0a5c",
                 "ed/3c/cebfdcad015240014ff08b883d1c0c427f2ba45ae8c6572851b6ef136cad/marshmallow-3.20.1-py3-none-any.whl")),
    Library("httpx", "httpx",
            _pin("httpx", "0.16.1", "2020-10-08", "9cffb8ba31fac6536f2c8cde30df859013f59e4bcc5b8d43901cb3654a8e0a5b",
                 "2d/c6/59aa4188e7eddb9e89ec67a51598ca6bfc09f1b38c9b45f7ee45af7a4df4/httpx-0.16.1-py3-none-any.whl"),
            _pin("httpx", "0.25.0", "2023-09-11", "181ea7f8ba3a82578be86ef4171554dd45fec26a02556a744db029a0a27b7100",
                 "33/0d/d9ce469af019741c8999711d36b270ff992ceb1a0293f73f9f34fdf131e9/httpx-0.25.0-py3-none-any.whl")),
    Library("tqdm", "tqdm",
            _pin("tqdm", "4.48.0", "2020-07-16", "fcb7cb5b729b60a27f300b15c1ffd4744f080fb483b88f31dc8654b082cc8ea5",
                 "af/88/7b0ea5fa8192d1733dea459a9e3059afc87819cb4072c43263f2ec7ab768/tqdm-4.48.0-py2.py3-none-any.whl"),
            _pin("tqdm", "4.66.1", "2023-08-10", "d302b3c5b53d47bce91fea46679d9c3c6508cf6332229aa1e7d8653723793386",
                 "00/e5/f12a80907d0884e6dff9c16d0c0114d81b8cd07dc3ae54c5e962cc83037e/tqdm-4.66.1-py3-none-any.whl")),
)


# Held out: never looked at while tuning. Not any tuned library nor a split-B project; chosen for
# varied code (HTTP client, linter, version parsing, validation, utilities, dates) with enough
# functions in both releases.
HELDOUT_LIBRARIES = (
    Library("urllib3", "urllib3",
            _pin("urllib3", "1.25.10", "2020-07-22", "e7983572181f5e1522d9c98453462384ee92a0be7fac5f1413a1e35c56cc0461",
                 "9f/f0/a391d1463ebb1b233795cabfc0ef38d3db4442339de68f847026199e69d7/urllib3-1.25.10-py2.py3-none-any.whl"),
            _pin("urllib3", "2.0.7", "2023-10-17", "fdb6d215c776278489906c2f8916e6e7d4f5a9b602ccbcfdf7f016fc8da0596e",
                 "d2/b2/b157855192a68541a91ba7b2bbcb91f1b4faa51f8bae38d8005c034be524/urllib3-2.0.7-py3-none-any.whl")),
    Library("pyflakes", "pyflakes",
            _pin("pyflakes", "2.2.0", "2020-04-10", "0d94e0e05a19e57a99444b6ddcf9a6eb2e5c68d3ca1e98e90707af8152c90a92",
                 "69/5b/fd01b0c696f2f9a6d2c839883b642493b431f28fa32b29abc465ef675473/pyflakes-2.2.0-py2.py3-none-any.whl"),
            _pin("pyflakes", "3.1.0", "2023-07-29", "4132f6d49cb4dae6819e5379898f2b8cce3c5f23994194c24b77d5da2e36f774",
                 "00/e9/1e1fd7fae559bfd07704991e9a59dd1349b72423c904256c073ce88a9940/pyflakes-3.1.0-py2.py3-none-any.whl")),
    Library("packaging", "packaging",
            _pin("packaging", "20.4", "2020-05-19", "998416ba6962ae7fbd6596850b80e17859a5753ba17c32284f67bfff33784181",
                 "46/19/c5ab91b1b05cfe63cccd5cfc971db9214c6dd6ced54e33c30d5af1d2bc43/packaging-20.4-py2.py3-none-any.whl"),
            _pin("packaging", "23.2", "2023-10-01", "8c491190033a9af7e1d931d0b5dacc2ef47509b34dd0de67ed209b5203fc88c7",
                 "ec/1a/610693ac4ee14fcdf2d9bf3c493370e4f2ef7ae2e19217d7a237ff42367d/packaging-23.2-py3-none-any.whl")),
    Library("jsonschema", "jsonschema",
            _pin("jsonschema", "3.2.0", "2019-11-18", "4e5b3cf8216f577bee9ce139cbe72eca3ea4f292ec60928ff24758ce626cd163",
                 "c5/8f/51e89ce52a085483359217bc72cdbf6e75ee595d5b1d4b5ade40c7e018b8/jsonschema-3.2.0-py2.py3-none-any.whl"),
            _pin("jsonschema", "4.19.1", "2023-09-20", "cd5f1f9ed9444e554b38ba003af06c0a8c2868131e56bfbef0550fb450c0330e",
                 "0f/bf/a84bc75f069f4f156e1c0d9892fb7325945106c6ecaad9f29d24360872af/jsonschema-4.19.1-py3-none-any.whl")),
    Library("boltons", "boltons",
            _pin("boltons", "20.2.1", "2020-08-12", "3dd8a8e3c1886e7f7ba3422b50f55a66e1700161bf01b919d098e7d96dd2d9b6",
                 "71/e1/e7979a4a6d4b296b5935e926549fff540f7670ddaf09bbf137e2b022c039/boltons-20.2.1-py2.py3-none-any.whl"),
            _pin("boltons", "23.1.1", "2023-11-01", "80a8cd930ff21fbf03545b9863e5799d0c3e7e0e3b2546bdaf2efccd7b3708cc",
                 "07/89/5330d7634333f8d6ba0fdcc5f12c0726b427b5cc3e3c97494cbb525c434f/boltons-23.1.1-py2.py3-none-any.whl")),
    Library("arrow", "arrow",
            _pin("arrow", "0.15.8", "2020-07-24", "271b8e05174d48e50324ed0dc5d74796c839c7e579a4f21cf1a7394665f9e94f",
                 "40/2a/9dd6a391e7813b9908b4dcaec7df0f2d365cfc0f071799f2ae5147707923/arrow-0.15.8-py2.py3-none-any.whl"),
            _pin("arrow", "1.3.0", "2023-09-30", "c728b120ebc00eb84e01882a6f5e7927a53960aa990ce7dd2b10f39005a67f80",
                 "f8/ed/e97229a566617f2ae958a6b13e7cc0f585470eac730a73e9e82c32a3cdd2/arrow-1.3.0-py3-none-any.whl")),
)

LIBRARY_SETS = {"tuned": LIBRARIES, "heldout": HELDOUT_LIBRARIES, "all": LIBRARIES + HELDOUT_LIBRARIES}
DEFAULT_SET = "tuned"  # the committed drift.json is the tuned set's


class SetFiles(NamedTuple):
    """Where one library set's run puts its tree, tool reports, misses and results."""

    tree: str  # folder under --out
    work: str  # folder under --out
    stem: str  # results are <stem>.json / <stem>.md, misses <stem>-misses-<tool>.md

    def misses(self, tool: str) -> str:
        return f"{self.stem}-misses-{tool}.md"


def set_files(name: str) -> SetFiles:
    """The file names of a library set: the tuned set keeps the names it always had."""
    stem = "drift" if name == "tuned" else f"drift-{name}"
    return SetFiles(f"{stem}-tree", f"{stem}-work", stem)


class Unit(NamedTuple):
    """One function or method of one release: where it is and what its code is."""

    qualname: str  # module.Class.name, "#n" for the n-th definition of one name in one scope
    path: str  # relative to the scanned tree
    start: int  # the def line
    end: int
    code: tuple[int, ...]  # code lines, numbered as in the file
    tokens: tuple[str, ...]  # normalized tokens


class Pair(NamedTuple):
    """A function present in both releases, and how far it drifted."""

    library: str
    qualname: str
    old: Unit
    new: Unit
    band: str
    similarity: float


class ToolScore(NamedTuple):
    """One tool's run scored against the truth."""

    run: ToolRun
    recall: dict[str, Recall]
    by_library: dict[str, dict[str, int]]  # library -> band -> found
    missed: tuple[Pair, ...]


# ---------------------------------------------------------------- truth: units of one release


def _padded(lines: Sequence[str], start: int, end: int) -> str:
    """The text of lines start..end, under ``if 1:`` when indented, so that a method tokenizes alone."""
    text = "\n".join(lines[start - 1: end]) + "\n"
    return "if 1:\n" + text if text[:1] in (" ", "\t") else text


def _docstring_rows(tree: ast.AST) -> set[int]:
    rows: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.body and is_docstring(node.body[0]):
                rows.update(range(node.body[0].lineno, node.body[0].end_lineno + 1))
    return rows


def normalized_tokens(lines: Sequence[str], start: int, end: int) -> tuple[str, ...]:
    """The tokens of lines start..end without comments, layout and docstrings: what the code says."""
    text = _padded(lines, start, end)
    docstrings = _docstring_rows(ast.parse(text))
    return tuple(
        _literal(tok.string) if tok.type == tokenize.STRING else tok.string
        for tok in tokenize.generate_tokens(io.StringIO(text).readline)
        if tok.type not in _LAYOUT and tok.start[0] not in docstrings
    )


def _literal(token: str) -> str:
    """A string literal by its value, so a change of quotes alone (a formatter's) changes nothing."""
    try:
        return repr(ast.literal_eval(token))
    except (ValueError, SyntaxError):
        return token  # an f-string: kept as written


def shape(tokens: Iterable[str]) -> tuple[str, ...]:
    """Tokens with every name and literal a placeholder: equal shapes differ only by renames."""
    out = []
    for tok in tokens:
        head = tok[:1]
        if head.isidentifier() and not keyword.iskeyword(tok):
            out.append("$" if tok[-1:] not in "'\"" else "'")  # a prefixed string (b'', f'') is a literal
        elif head.isdigit() or head in "'\"" or (head == "." and tok[1:2].isdigit()):
            out.append("'")
        else:
            out.append(tok)
    return tuple(out)


def _defs(body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
    """The defs and classes of a scope, also those under if/try/with/for/while (a conditional definition)."""
    for stmt in body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield stmt
        elif isinstance(stmt, (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)):
            for field in ("body", "orelse", "finalbody"):
                yield from _defs(getattr(stmt, field, []))
            for handler in getattr(stmt, "handlers", []):
                yield from _defs(handler.body)


def _walk(body: Sequence[ast.stmt], prefix: str) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(qualified name, def) of the functions of a scope and of its classes, nested classes included."""
    seen: dict[str, int] = {}
    for node in _defs(body):
        seen[node.name] = seen.get(node.name, 0) + 1
        name = f"{prefix}.{node.name}" + (f"#{seen[node.name]}" if seen[node.name] > 1 else "")
        if isinstance(node, ast.ClassDef):
            yield from _walk(node.body, name)
        else:
            yield name, node


def module_name(relative: Path) -> str:
    """The module path of a file inside its package: ``click/core.py`` -> ``click.core``."""
    parts = relative.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def file_units(source: str, module: str, path: str) -> list[Unit]:
    """The functions and methods of one file; a file that does not parse gives none."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.splitlines()
    units = []
    for qualname, node in _walk(tree.body, module):
        code = tuple(sorted(span_code_lines(lines, node.lineno, node.end_lineno)))
        units.append(Unit(qualname, path, node.lineno, node.end_lineno, code,
                          normalized_tokens(lines, node.lineno, node.end_lineno)))
    return units


def release_units(tree: Path, release: str) -> dict[str, Unit]:
    """Every function and method of the release folder ``tree/release``, by qualified name."""
    units: dict[str, Unit] = {}
    base = tree / release
    for file in sorted(base.rglob("*.py")):
        relative = file.relative_to(base)
        source = file.read_text(encoding="utf-8", errors="replace")
        for unit in file_units(source, module_name(relative), (Path(release) / relative).as_posix()):
            units.setdefault(unit.qualname, unit)
    return units


# ---------------------------------------------------------------- truth: pairs and bands


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """2*LCS/(len a + len b) of two token sequences (difflib's ratio, computed exactly)."""
    return float(Indel.normalized_similarity(a, b))


def band_of(a: Sequence[str], b: Sequence[str]) -> tuple[str, float]:
    """The band of a pair of token sequences, and their similarity."""
    ratio = similarity(a, b)
    if tuple(a) == tuple(b):
        return "identical", 1.0
    if shape(a) == shape(b):
        return "renamed", ratio
    for band, floor in (("0.90+", 0.90), ("0.75-0.90", 0.75), ("0.60-0.75", MIN_SIMILARITY)):
        if ratio >= floor:
            return band, ratio
    return BELOW, ratio


def pairs_of(library: str, old: dict[str, Unit], new: dict[str, Unit], min_lines: int = MIN_CODE_LINES) -> list[Pair]:
    """The functions in both releases with at least ``min_lines`` code lines on both sides, banded."""
    pairs = []
    for qualname in sorted(old.keys() & new.keys()):
        a, b = old[qualname], new[qualname]
        if len(a.code) < min_lines or len(b.code) < min_lines:
            continue
        band, ratio = band_of(a.tokens, b.tokens)
        pairs.append(Pair(library, qualname, a, b, band, ratio))
    return pairs


# ---------------------------------------------------------------- found or not


def best_cover(pair: Pair, clones: Iterable[Clone]) -> tuple[float, float]:
    """The coverage (old, new) of the one clone that covers the pair best (by its weaker side)."""
    best = (0.0, 0.0)
    for clone in clones:
        olds = [(i, coverage(f, pair.old.path, pair.old.code)) for i, f in enumerate(clone.fragments)]
        news = [(i, coverage(f, pair.new.path, pair.new.code)) for i, f in enumerate(clone.fragments)]
        for i, a in olds:
            for j, b in news:
                if i != j and min(a, b) > min(best):
                    best = (a, b)
    return best


def is_found(pair: Pair, clones: Iterable[Clone], threshold: float = COVERAGE) -> bool:
    """Whether one clone has a fragment over the old side and another over the new side, each covering ``threshold``."""
    return min(best_cover(pair, clones)) >= threshold


def score(run: ToolRun, pairs: Sequence[Pair]) -> ToolScore:
    """Recall per band, found per library and band, and the missed pairs of one tool's run."""
    index = by_path(run.clones)
    found = dict.fromkeys(BANDS, 0)
    total = dict.fromkeys(BANDS, 0)
    by_library: dict[str, dict[str, int]] = {}
    missed = []
    for pair in pairs:
        if pair.band not in total:
            continue
        total[pair.band] += 1
        near = [c for c in index.get(pair.old.path, []) if any(f.path == pair.new.path for f in c.fragments)]
        if is_found(pair, near):
            found[pair.band] += 1
            counts = by_library.setdefault(pair.library, dict.fromkeys(BANDS, 0))
            counts[pair.band] += 1
        else:
            missed.append(pair)
    return ToolScore(run, {b: Recall(found[b], total[b]) for b in BANDS}, by_library, tuple(missed))


# ---------------------------------------------------------------- building the tree


def release_dir(library: Library, pin: Pin) -> str:
    """The folder of one release in the scanned tree."""
    return f"{library.project}-{pin.version}"


def years_apart(old: Pin, new: Pin) -> float:
    """Years between two upload dates."""
    return (date.fromisoformat(new.released) - date.fromisoformat(old.released)).days / 365.25


def build_tree(libraries: Sequence[Library], tree: Path, cache: Path = CACHE_DIR) -> None:
    """Both releases of every library under ``tree``, fetched (or read from the cache) and extracted afresh."""
    if tree.exists():
        shutil.rmtree(tree)
    for library in libraries:
        for pin in (library.old, library.new):
            extract_package(fetch(pin, cache), library.package, tree / release_dir(library, pin))


def truth(libraries: Sequence[Library], tree: Path) -> list[Pair]:
    """Every pair of every library, in library order."""
    pairs = []
    for library in libraries:
        old = release_units(tree, release_dir(library, library.old))
        new = release_units(tree, release_dir(library, library.new))
        pairs.extend(pairs_of(library.project, old, new))
    return pairs


def tree_size(tree: Path) -> tuple[int, int]:
    """Files and lines of the scanned tree."""
    files = sorted(tree.rglob("*.py"))
    return len(files), sum(len(f.read_bytes().splitlines()) for f in files)


# ---------------------------------------------------------------- results


def band_counts(pairs: Iterable[Pair]) -> dict[str, int]:
    """Pairs per band, the unscored ones below 0.60 included."""
    counts = dict.fromkeys((*BANDS, BELOW), 0)
    for pair in pairs:
        counts[pair.band] += 1
    return counts


def checkout_state(repo: Path = REPO) -> dict:
    """The commit CodeBot ran from, and the engine files edited on top of it (the scan runs the work tree)."""
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
        return done.stdout if done.returncode == 0 else ""

    return {"commit": git("rev-parse", "HEAD").strip(),
            "engine_edits": sorted(line[3:] for line in git("status", "--porcelain", "--", "engine").splitlines())}


def results_json(libraries: Sequence[Library], pairs: Sequence[Pair], scores: Sequence[ToolScore],
                 tree: Path, checkout: dict | None = None, library_set: str = DEFAULT_SET) -> dict:
    """Everything the tables need, machine-readable."""
    files, lines = tree_size(tree)
    return {
        "benchmark": "drift",
        "set": library_set,
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "checkout": checkout or {},
        "coverage": COVERAGE,
        "min_code_lines": MIN_CODE_LINES,
        "bands": list(BANDS),
        "tree": {"files": files, "lines": lines},
        "libraries": [
            {
                "project": lib.project, "package": lib.package,
                "old": {**lib.old._asdict(), "filename": lib.old.filename},
                "new": {**lib.new._asdict(), "filename": lib.new.filename},
                "pairs": band_counts(p for p in pairs if p.library == lib.project),
            }
            for lib in libraries
        ],
        "pairs": band_counts(pairs),
        "tools": [
            {
                "tool": s.run.tool, "clones": len(s.run.clones),
                "wall_s": round(s.run.wall_s, 2), "peak_mib": round(s.run.peak_mib, 1),
                "returncode": s.run.returncode, "error": s.run.error,
                "recall": {b: {"found": r.found, "total": r.total, "ratio": round(r.ratio, 3)} for b, r in s.recall.items()},
                "found_by_library": s.by_library,
            }
            for s in scores
        ],
    }


def _cell(recall: dict) -> str:
    return f"{recall['ratio']:.2f}" if recall["total"] else "-"


def render_markdown(results: dict) -> str:
    """The README tables from ``drift.json``: recall per band per tool, then the pairs per library."""
    bands = results["bands"]
    totals = results["pairs"]
    head = ["Tool", *[f"{b} (n={totals[b]})" for b in bands], "Clones", "Wall s", "Peak MiB"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for tool in results["tools"]:
        label = TOOL_LABELS.get(tool["tool"], tool["tool"])
        if tool["error"] and not tool["clones"]:
            rows.append(f"| {label} | " + " | ".join(["-"] * (len(head) - 1)) + " |")
            continue
        cells = [label, *[_cell(tool["recall"][b]) for b in bands], str(tool["clones"]),
                 f"{tool['wall_s']:.1f}", f"{tool['peak_mib']:.0f}"]
        rows.append("| " + " | ".join(cells) + " |")
    libs = ["| Library | Old | New | " + " | ".join(bands) + f" | {BELOW} |",
            "|" + "---|" * (len(bands) + 4)]
    for lib in results["libraries"]:
        counts = lib["pairs"]
        libs.append(
            f"| {lib['project']} | {lib['old']['version']} ({lib['old']['released'][:7]}) | "
            f"{lib['new']['version']} ({lib['new']['released'][:7]}) | "
            + " | ".join(str(counts[b]) for b in bands) + f" | {counts[BELOW]} |"
        )
    tree = results["tree"]
    # A results file without "set" predates the held-out set: it is the tuned one, rendered as before.
    label = {"heldout": "Held-out set (libraries apart from the tuned set): ", "all": "Tuned and held-out sets: "}
    intro = (
        label.get(results.get("set", DEFAULT_SET), "")
        + f"{len(results['libraries'])} libraries, two releases each: {tree['files']} files, {tree['lines']} lines; "
        f"{sum(totals[b] for b in bands)} functions and methods in both releases with at least "
        f"{results['min_code_lines']} code lines, by band of normalized-token similarity "
        f"({totals[BELOW]} more below 0.60, not scored). Found: one clone covers "
        f"{results['coverage']:.0%} of the code lines of both sides. "
        f"{results['date']}, {results['cpus']} CPUs."
    )
    return "\n".join([intro, "", *rows, "", *libs]) + "\n"


def _span(unit: Unit) -> str:
    return f"`{unit.path}:{unit.start}-{unit.end}` ({len(unit.code)} code lines, {len(unit.tokens)} tokens)"


def _diff(pair: Pair, tree: Path, limit: int = MAX_DIFF_LINES) -> list[str]:
    """The changed code lines between the two sides (no context, no docstrings), cut at ``limit``: what drifted."""
    def text(unit: Unit) -> list[str]:
        lines = (tree / unit.path).read_text(encoding="utf-8", errors="replace").splitlines()
        return [lines[row - 1].strip() for row in unit.code]

    changed = [line for line in difflib.unified_diff(text(pair.old), text(pair.new), n=0, lineterm="")
               if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    shown = changed[:limit] + ([f"... {len(changed) - limit} more changed lines"] if len(changed) > limit else [])
    return ["  ```diff", *(f"  {line}" for line in shown), "  ```"] if shown else []


def render_misses(score_: ToolScore, clones: Sequence[Clone], tree: Path) -> str:
    """One tool's missed pairs per band: spans, sizes, the best partial coverage any one clone gave, and the diff."""
    index = by_path(clones)
    out = [f"# Missed by {score_.run.tool}", "",
           "Coverage: the one clone with fragments on both sides that covers the weaker side best (old / new).", ""]
    for band in BANDS:
        missed = [p for p in score_.missed if p.band == band]
        out += [f"## {band}: {len(missed)} missed of {score_.recall[band].total}", ""]
        for pair in missed:
            near = [c for c in index.get(pair.old.path, []) if any(f.path == pair.new.path for f in c.fragments)]
            a, b = best_cover(pair, near)
            out.append(f"- `{pair.qualname}` ({pair.library}) similarity {pair.similarity:.3f}: "
                       f"old {_span(pair.old)}, new {_span(pair.new)}; best clone covers {a:.0%} / {b:.0%}")
            out += _diff(pair, tree)
        out.append("")
    return "\n".join(out)


# ---------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.drift", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_tools_option(parser)
    parser.add_argument("--set", dest="library_set", choices=tuple(LIBRARY_SETS), default=DEFAULT_SET,
                        help="libraries compared: tuned (default; results drift.json), heldout (drift-heldout.json), "
                             "or all (drift-all.json)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="scanned tree, tool reports and misses (default benchmarks/out)")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="downloaded wheels (default benchmarks/.cache/pypi)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where drift[-SET].json and .md go (default benchmarks/results)")
    args = parser.parse_args(argv)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Fetch, lay out, extract the truth, run every tool, print and save the tables; 0 when every tool ran."""
    args = parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    libraries = LIBRARY_SETS[args.library_set]
    names = set_files(args.library_set)
    tree = out / names.tree
    build_tree(libraries, tree, args.cache)
    pairs = truth(libraries, tree)
    print(f"truth: {len(pairs)} pairs {band_counts(pairs)}", file=sys.stderr)
    scores = []
    for tool in args.tools:
        print(f"running {tool} ...", file=sys.stderr)
        run = run_tool(tool, tree, out / names.work)
        if run.error:
            print(f"{tool}: {run.error}", file=sys.stderr)
        scored = score(run, pairs)
        (out / names.misses(tool)).write_text(render_misses(scored, run.clones, tree), encoding="utf-8")
        scores.append(scored)
    results = results_json(libraries, pairs, scores, tree, checkout_state(), args.library_set)
    report = render_markdown(results)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{names.stem}.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (args.results / f"{names.stem}.md").write_text(report, encoding="utf-8")
    print(report)
    return 0 if all(not s.run.error for s in scores) else 1


if __name__ == "__main__":
    sys.exit(main())
