"""A corpus of real Python code with mutated copies of its functions injected, for measuring recall.

The pipeline, one pure step at a time:

1. ``copy_corpus`` copies the ``.py`` files of a tree (by default the standard
   library of the running interpreter, without test suites, their data and
   site-packages) into a work directory.
2. ``find_candidates`` lists the functions and methods worth copying: 8 to 60
   code lines, not stubs, ``@overload``s, ``__init__`` bodies that only store
   their arguments, or literal tables.
3. ``mutations.mutate`` makes a copy of each picked function, as clone type
   T1, T2, T3-light or T3-heavy (in turn, so the types are equally common).
4. ``build_corpus`` places each copy in another file of the corpus (a new
   top-level function, or a new method at the end of a class), writes the
   files, and returns a manifest with the final line spans and code lines of
   every original and copy.

Everything is drawn from one seeded ``random.Random``: the same corpus, seed
and count give the same manifest.
"""

from __future__ import annotations

import ast
import io
import json
import random
import shutil
import sysconfig
import tokenize
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from benchmarks.mutations import CLONE_TYPES, Mutant, indent_of, is_docstring, mutate, span_code_lines

MIN_CODE_LINES = 8
MAX_CODE_LINES = 60

# Folders never copied: third-party packages and caches. Test suites (``test``,
# ``tests``) and test data (idlelib's and lib2to3's) only on request.
EXCLUDED_DIRS = frozenset({"site-packages", "__pycache__"})
TEST_DIRS = frozenset({"test", "tests", "idle_test"})
TEST_DATA = ("idlelib/idle_test/", "lib2to3/tests/")

_FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


class Span(NamedTuple):
    """A line range of one file: path relative to the corpus root, 1-based, inclusive."""

    path: str
    start: int
    end: int


class Candidate(NamedTuple):
    """A function or method that may be copied."""

    path: str
    start: int  # first decorator line, else the def line
    end: int
    name: str
    class_name: str | None  # the enclosing top-level class of a method
    code_lines: int


class Injection(NamedTuple):
    """One manifest entry: where an original is, where its copy went, and their code lines."""

    id: int
    kind: str
    original: Span
    copy: Span
    original_code: tuple[int, ...]
    copy_code: tuple[int, ...]
    edits: int
    as_method: bool


class Manifest(NamedTuple):
    """The injected corpus: its root, size and every injected copy."""

    root: str
    seed: int
    files: int
    lines: int
    injections: tuple[Injection, ...]


class SourceFile(NamedTuple):
    """A corpus file that copies may be taken from or put into: UTF-8, parses, spaces only."""

    path: str
    text: str
    tree: ast.Module


# ---------------------------------------------------------------- corpus files


def default_source() -> Path:
    """The standard library directory of the running interpreter."""
    return Path(sysconfig.get_paths()["stdlib"])


def corpus_files(source: Path, *, tests: bool = False, test_data: bool = False) -> list[Path]:
    """The ``.py`` files under ``source`` (relative paths, sorted), without excluded folders.

    ``tests`` keeps test suites, ``test_data`` also idlelib's and lib2to3's test
    trees (all of it is the standard library as shipped: about 1,800 files on 3.11).
    """
    found = []
    for path in source.rglob("*.py"):
        rel = path.relative_to(source)
        folders = rel.parts[:-1]
        if any(part in EXCLUDED_DIRS for part in folders) or path.is_symlink() or not path.is_file():
            continue
        if not test_data and any(rel.as_posix().startswith(prefix) for prefix in TEST_DATA):
            continue
        if not tests and not test_data and any(part in TEST_DIRS for part in folders):
            continue
        found.append(rel)
    return sorted(found)


def copy_corpus(source: Path, dest: Path, *, tests: bool = False, test_data: bool = False) -> list[Path]:
    """Copy the corpus files of ``source`` into a fresh ``dest``; return their relative paths."""
    if dest.exists():
        shutil.rmtree(dest)
    files = corpus_files(source, tests=tests, test_data=test_data)
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, target)
    return files


def load_source(root: Path, rel: str) -> SourceFile | None:
    """A corpus file fit for injection, or None (other encodings, tabs, syntax errors: left alone)."""
    try:
        data = (root / rel).read_bytes()
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        if encoding not in ("utf-8", "utf-8-sig"):
            return None
        text = data.decode("utf-8")
        if "\t" in text or "\f" in text or "\r" in text:
            return None  # mixed indentation and odd line ends would make injection fragile
        return SourceFile(rel, text, ast.parse(text))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None


# ---------------------------------------------------------------- candidates


def _decorator_names(node: _FunctionNode) -> set[str]:
    names = set()
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


# The picker's notion of a stub or boilerplate is its own, not imported from the
# engine: the benchmark must not borrow the detector's rules to choose its copies.
def _is_stub_statement(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Pass) or is_docstring(stmt):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return True  # `...`
    if isinstance(stmt, ast.Raise):
        exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _is_plain_store(stmt: ast.stmt) -> bool:
    """An assignment of a name, attribute or constant to names or attributes: boilerplate."""
    if isinstance(stmt, ast.Assign):
        targets, value = stmt.targets, stmt.value
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        targets, value = [stmt.target], stmt.value
    else:
        return False
    simple = (ast.Name, ast.Attribute, ast.Constant)
    return all(isinstance(t, (ast.Name, ast.Attribute)) for t in targets) and isinstance(value, simple)


def is_worth_copying(node: _FunctionNode) -> bool:
    """Whether a function is real logic rather than a stub, an overload, boilerplate or a table."""
    if _decorator_names(node) & {"overload", "abstractmethod", "abstractproperty"}:
        return False
    body = [s for s in node.body if not is_docstring(s)]
    if not body or all(_is_stub_statement(s) for s in body) or all(_is_plain_store(s) for s in body):
        return False
    statements = 0
    for sub in ast.walk(node):
        if isinstance(sub, ast.stmt):
            statements += 1
        if isinstance(sub, (ast.ClassDef, ast.Global, ast.Nonlocal)):
            return False  # scoping the renamer does not model
        elts = sub.values if isinstance(sub, ast.Dict) else getattr(sub, "elts", None)
        if elts and len(elts) >= 6 and all(isinstance(e, ast.Constant) for e in elts):
            return False  # a literal table: its copies are data, not logic
    return statements > 4


def _function_start(node: _FunctionNode) -> int:
    return min([node.lineno] + [d.lineno for d in node.decorator_list])


def _functions_and_methods(tree: ast.Module) -> Iterator[tuple[_FunctionNode, str | None]]:
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node, None
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield sub, node.name


def _rough_candidates(source: SourceFile) -> list[tuple[Candidate, _FunctionNode]]:
    """Functions and methods whose line span could hold 8 to 60 code lines (cheap: no tokenizing)."""
    found = []
    for node, class_name in _functions_and_methods(source.tree):
        start, end = _function_start(node), node.end_lineno
        if MIN_CODE_LINES <= end - start + 1 <= 4 * MAX_CODE_LINES:
            found.append((Candidate(source.path, start, end, node.name, class_name, 0), node))
    return found


def _qualify(cand: Candidate, node: _FunctionNode, source: SourceFile) -> Candidate | None:
    """The candidate with its code lines counted, if it is worth copying and of the right size."""
    if not is_worth_copying(node):
        return None
    n_code = len(span_code_lines(source.text.split("\n"), cand.start, cand.end))
    if not MIN_CODE_LINES <= n_code <= MAX_CODE_LINES:
        return None
    return cand._replace(code_lines=n_code)


def find_candidates(source: SourceFile) -> list[Candidate]:
    """The top-level functions and methods of one file that are worth copying."""
    qualified = (_qualify(cand, node, source) for cand, node in _rough_candidates(source))
    return [cand for cand in qualified if cand is not None]


# ---------------------------------------------------------------- destinations


class _Destination(NamedTuple):
    """Where a copy can go: after line ``after``, indented by ``indent``, beside ``names``."""

    after: int
    indent: str
    names: set[str]  # taken names there; a copy's name is added when it lands


def _class_destinations(source: SourceFile) -> dict[str, _Destination]:
    """The end of each top-level class whose body is indented with spaces."""
    lines = source.text.split("\n")
    found = {}
    for node in source.tree.body:
        if not isinstance(node, ast.ClassDef) or not node.body:
            continue
        first = node.body[0]
        indent = indent_of(lines[first.lineno - 1])
        if first.lineno == node.lineno or not indent or indent != " " * first.col_offset:
            continue  # a one-line class or odd indentation
        names = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        names |= {t.id for n in node.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        found[node.name] = _Destination(node.end_lineno, indent, names)
    return found


def _module_destination(source: SourceFile) -> _Destination:
    """The end of the file, beside its top-level names."""
    names = set()
    for node in source.tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return _Destination(len(source.text.rstrip("\n").split("\n")), "", names)


class _Placement(NamedTuple):
    """A planned copy: its original, the mutant and where it goes (original numbering)."""

    seq: int
    candidate: Candidate
    mutant: Mutant
    path: str
    after: int
    as_method: bool


def _plan_one(
    seq: int,
    cand: Candidate,
    kind: str,
    sources: dict[str, SourceFile],
    paths: Sequence[str],
    modules: dict[str, _Destination],
    classes: dict[str, dict[str, _Destination]],
    rng: random.Random,
    mutator: Callable[..., Mutant] = mutate,
) -> _Placement | None:
    """Mutate one candidate and choose where its copy goes; None when that does not work out."""
    lines = sources[cand.path].text.split("\n")
    snippet = "\n".join(lines[cand.start - 1: cand.end]) + "\n"
    for _ in range(8):
        target = rng.choice(paths)
        if target == cand.path:
            continue
        as_method = cand.class_name is not None and bool(classes[target]) and rng.random() < 0.6
        dest = classes[target][rng.choice(sorted(classes[target]))] if as_method else modules[target]
        try:
            mutant = mutator(
                snippet, kind, random.Random(rng.random()),
                base_indent=dest.indent, method=cand.class_name is not None,
            )
        except (ValueError, SyntaxError, tokenize.TokenError):
            return None  # a function the mutator cannot handle: pick another
        if mutant.name in dest.names:
            continue  # would shadow a name already there
        dest.names.add(mutant.name)
        return _Placement(seq, cand, mutant, target, dest.after, as_method)
    return None


# ---------------------------------------------------------------- building


def build_corpus(
    source: Path,
    work_dir: Path,
    *,
    copies: int = 200,
    seed: int = 1,
    tests: bool = False,
    kinds: Sequence[str] = CLONE_TYPES,
    mutator: Callable[..., Mutant] = mutate,
) -> Manifest:
    """Copy the corpus into ``work_dir``, inject ``copies`` mutated copies and return the manifest.

    ``mutator`` makes each copy (``mutations.mutate`` by default; the held-out split
    plugs in its second model) with ``mutate``'s signature, returning a ``Mutant``-shaped record.
    """
    rng = random.Random(seed)
    files = [p.as_posix() for p in copy_corpus(source, work_dir, tests=tests)]
    sources = {s.path: s for s in (load_source(work_dir, rel) for rel in files) if s is not None}
    paths = sorted(sources)
    # Candidates are qualified lazily, in random order: counting code lines of all is slow.
    candidates = [pair for rel in paths for pair in _rough_candidates(sources[rel])]
    rng.shuffle(candidates)
    modules = {rel: _module_destination(sources[rel]) for rel in paths}
    classes = {rel: _class_destinations(sources[rel]) for rel in paths}
    planned: list[_Placement] = []
    for rough, node in candidates:
        if len(planned) >= copies:
            break
        cand = _qualify(rough, node, sources[rough.path])
        if cand is None:
            continue
        kind = kinds[len(planned) % len(kinds)]
        placement = _plan_one(len(planned), cand, kind, sources, paths, modules, classes, rng, mutator)
        if placement is not None:
            planned.append(placement)
    if len(planned) < copies:
        raise ValueError(f"only {len(planned)} functions could be copied; ask for fewer copies")
    texts = {rel: src.text for rel, src in sources.items()}
    injections = _inject(work_dir, texts, planned)
    total_lines = 0
    for rel in files:
        with open(work_dir / rel, "rb") as handle:
            total_lines += sum(1 for _ in handle)
    return Manifest(str(work_dir), seed, len(files), total_lines, tuple(injections))


def _inject(work_dir: Path, texts: dict[str, str], planned: Sequence[_Placement]) -> list[Injection]:
    """Write the planned copies into their files; return the manifest entries in final line numbers."""
    by_file: dict[str, list[_Placement]] = {}
    for placement in planned:
        by_file.setdefault(placement.path, []).append(placement)
    copy_spans: dict[int, Span] = {}
    inserted: dict[str, list[tuple[int, int]]] = {}  # path -> (after line, lines inserted)
    for path, items in by_file.items():
        lines = texts[path].rstrip("\n").split("\n")
        # At one line (the end of a file whose last statement is a class), methods go
        # before functions: a function first would close the class they belong to.
        items.sort(key=lambda p: (p.after, not p.as_method, p.seq))
        out: list[str] = []
        cursor = 0
        for item in items:
            out.extend(lines[cursor: item.after])
            cursor = item.after
            lead = [""] if item.as_method else ["", ""]
            block = lead + item.mutant.text.rstrip("\n").split("\n")
            out.extend(block)
            copy_spans[item.seq] = Span(path, len(out) - len(block) + len(lead) + 1, len(out))
            inserted.setdefault(path, []).append((item.after, len(block)))
        out.extend(lines[cursor:])
        text = "\n".join(out) + "\n"
        ast.parse(text)  # a broken injection must fail loudly, not skew the results
        (work_dir / path).write_text(text, encoding="utf-8")
        texts[path] = text

    def moved(path: str, line: int) -> int:
        return line + sum(n for after, n in inserted.get(path, []) if after < line)

    injections = []
    for item in planned:
        cand = item.candidate
        original = Span(cand.path, moved(cand.path, cand.start), moved(cand.path, cand.end))
        copy = copy_spans[item.seq]
        injections.append(
            Injection(
                id=item.seq,
                kind=item.mutant.kind,
                original=original,
                copy=copy,
                original_code=tuple(sorted(span_code_lines(texts[original.path].split("\n"), original.start, original.end))),
                copy_code=tuple(sorted(span_code_lines(texts[copy.path].split("\n"), copy.start, copy.end))),
                edits=item.mutant.edits,
                as_method=item.as_method,
            )
        )
    return injections


# ---------------------------------------------------------------- manifest file


def save_manifest(manifest: Manifest, path: Path) -> None:
    """Write the manifest as JSON."""
    data = manifest._asdict()
    data["injections"] = [
        {**inj._asdict(), "original": inj.original._asdict(), "copy": inj.copy._asdict()}
        for inj in manifest.injections
    ]
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def load_manifest(path: Path) -> Manifest:
    """Read a manifest written by ``save_manifest``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    injections = tuple(
        Injection(
            **{
                **inj,
                "original": Span(**inj["original"]),
                "copy": Span(**inj["copy"]),
                "original_code": tuple(inj["original_code"]),
                "copy_code": tuple(inj["copy_code"]),
            }
        )
        for inj in data["injections"]
    )
    return Manifest(data["root"], data["seed"], data["files"], data["lines"], injections)
