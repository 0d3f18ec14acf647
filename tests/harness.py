"""Clone detection over in-memory sources, through the real engine.

`clones_of({"a.py": src, "b.py": src2}, **settings)` writes the sources to a
temporary folder, fingerprints each file with `engine.fingerprint.fingerprint_file`
(the per-file work of a scan: parse or lex, noise policy, `# codebot: ignore`),
builds the corpus from the packed fingerprints as a scan does, and runs
`engine.detect.detect` (exact, renamed and near-miss classes, nested ones
dropped, near-miss copies of already reported spans left out). Only the index,
discovery and the report are skipped.

`assert_clones(sources, expected, **settings)` compares the exact set of clone
classes found with `expected`, a list of `(kind, [(path, start_line, end_line), ...])`:
no class more, none less, every fragment in place.
"""
from __future__ import annotations

import tempfile
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path

from engine.config import Settings
from engine.detect import detect
from engine.discover import language_of
from engine.fingerprint import fingerprint_file, unpack_columns
from engine.match import Corpus
from engine.records import Clone

Place = tuple[str, int, int]


def clones_of(sources: Mapping[str, str], **settings) -> list[Clone]:
    """Every clone the engine reports for these files (paths relative to one root).

    Each source is dedented first, so it may be written indented in the test.
    `settings` are `engine.config.Settings` fields; `jobs` defaults to 1.
    """
    config = Settings(**{"jobs": 1, **settings})
    with tempfile.TemporaryDirectory(prefix="codebot-harness-") as folder:
        root = Path(folder)
        corpus = Corpus()
        for path in sorted(sources):
            language = language_of(path)
            assert language is not None, f"{path}: no language reads a file named so"
            file = root / path
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(textwrap.dedent(sources[path]))
            result = fingerprint_file(str(file), language, "", config.max_file_size,
                                      config.noise_policy)
            assert result.status.fingerprinted, (path, result.status, result.error)
            if result.blob:
                corpus.add_file(path, *unpack_columns(result.blob))
        return [clone for clone, _ in detect(corpus, config, root)]


def places(clones: Iterable[Clone]) -> list[tuple[str, list[Place]]]:
    """Clones as sorted `(kind, [(path, start_line, end_line), ...])`, fragments sorted."""
    return sorted((clone.kind, sorted((f.path, f.start_line, f.end_line) for f in clone.fragments))
                  for clone in clones)


def assert_clones(sources: Mapping[str, str], expected: Iterable[tuple[str, Iterable[Place]]],
                  **settings) -> list[Clone]:
    """Assert that the engine finds exactly the `expected` clone classes; return the clones
    (in the engine's order) for further checks such as their similarity."""
    found = clones_of(sources, **settings)
    wanted = sorted((kind, sorted(map(tuple, fragments))) for kind, fragments in expected)
    assert places(found) == wanted
    return found
