"""The base corpus of split B: pinned third-party pure-Python packages, not the standard library.

    python -m benchmarks.corpus_b [--cache DIR]     # download (once), extract, print its size

Split A (``benchmarks.compare``, ``tests/test_recall.py``) mutates the standard
library with the first mutation model and is what the detector is tuned on.
Split B (``benchmarks.heldout``) mutates this corpus with the second model, so
its recall is measured on code and edits the tuning never saw.

Every package is one wheel pinned by version and sha256 (as PyPI lists it). A
wheel is downloaded once into ``benchmarks/.cache/corpus-b/wheels/`` (gitignored),
checked against its sha256 before it takes its place, and a cached wheel whose
sha256 differs is refused, never replaced silently. The import packages'
``.py`` files, without test folders, are extracted into
``benchmarks/.cache/corpus-b/src/``. Offline with nothing cached, ``CorpusError``
says which file to put where.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from benchmarks.pypi import Pin as PypiPin
from benchmarks.pypi import PinError, fetch

CACHE_DIR = Path(__file__).resolve().parent / ".cache" / "corpus-b"
TEST_FOLDERS = frozenset({"test", "tests", "testing"})
_FILES = "https://files.pythonhosted.org/packages/"


class Pin(NamedTuple):
    """One pure-Python wheel of one release and the import packages taken from it."""

    project: str
    version: str
    sha256: str
    url: str
    packages: tuple[str, ...]

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


# About 275,000 lines in 650 files; chosen for varied styles (algorithms, terminal UI,
# templating, web, parsers), none of them in the standard library or another benchmark.
PINS: tuple[Pin, ...] = (
    Pin("networkx", "3.7", "e3fd2c13a7814cee3746340d8d7f8598a67f16a58bf47fb7f8793fab6efca1b0",
        _FILES + "7e/cd/fe58041e9011f307c490e3e17dd48cc516448f7c698a3f2d9d9d65d7e6a8/networkx-3.7-py3-none-any.whl",
        ("networkx",)),
    Pin("prompt-toolkit", "3.0.53", "01c0891d7f9237d5e339f7d3e42cdae80b7534abb1c7c0e3352efba6231492f2",
        _FILES + "54/6f/84908cad2d6aa5144abcf7b42709fe4fdb459bc640ec7ac5786e7693dabc/prompt_toolkit-3.0.53-py3-none-any.whl",
        ("prompt_toolkit",)),
    Pin("rich", "15.0.0", "33bd4ef74232fb73fe9279a257718407f169c09b78a87ad3d296f548e27de0bb",
        _FILES + "82/3b/64d4899d73f91ba49a8c18a8ff3f0ea8f1c1d75481760df8c68ef5235bf5/rich-15.0.0-py3-none-any.whl",
        ("rich",)),
    Pin("werkzeug", "3.1.9", "6392e50c78460ba618e5b21f08a71f59c99ce99cdc6cf6e3dd7e6ccca8754fab",
        _FILES + "a1/38/df03f564f43cec2684823f3cccae1a652ee7face1cbaa76fb223096e64d7/werkzeug-3.1.9-py3-none-any.whl",
        ("werkzeug",)),
    Pin("jinja2", "3.1.6", "85ece4451f492d0c13c5dd7c13a64681a86afae63a5f347908daf103ce6d2f67",
        _FILES + "62/a1/3d680cbfd5f4b8f15abc1d571870c5fc3e594bb582bc3b64ea099db13e56/jinja2-3.1.6-py3-none-any.whl",
        ("jinja2",)),
    Pin("pyparsing", "3.3.3", "ece8c00a69cf01b45d0b1dedabb469c90d8caf996d4fda40f147627a122849a4",
        _FILES + "38/bb/d215ee7c73b61497b28a5503f9f53523f294fcc936762b7caf90e0c1c2b5/pyparsing-3.3.3-py3-none-any.whl",
        ("pyparsing",)),
    Pin("more-itertools", "11.2.1", "35a7377edd1dd6608dcb2cdf534ded55ea32d49448875ad042cd3f879fb1ded0",
        _FILES + "5d/57/3c4b1c6f2e0cc29ba023802458ea3d2a996f87085559e4a5f2192d549532/more_itertools-11.2.1-py3-none-any.whl",
        ("more_itertools",)),
    Pin("tomlkit", "0.15.2", "05562412163a3037b94497385fb7f9204c637bc605af7a48199e41cf2272f437",
        _FILES + "da/46/7d84138a60a8bd796825b2d38ebe92d0d16501ca57d501b7c5d677401bbc/tomlkit-0.15.2-py3-none-any.whl",
        ("tomlkit",)),
    Pin("attrs", "26.1.0", "c647aa4a12dfbad9333ca4e71fe62ddc36f4e63b2d260a37a8b83d2f043ac309",
        _FILES + "64/b4/17d4b0b2a2dc85a6df63d1157e028ed19f90d4cd97c36717afef2bc2f395/attrs-26.1.0-py3-none-any.whl",
        ("attr", "attrs")),
    Pin("sqlparse", "0.6.1", "3be5a72d04c873d690d7c6dedd33d6fae2ef82759881ceec02fc2efd0cba564f",
        _FILES + "df/ff/2fee788e82e75be8f210c65c5d103bf44c880e3769c884652a4cd911b8ba/sqlparse-0.6.1-py3-none-any.whl",
        ("sqlparse",)),
)


# A pinned wheel is missing and cannot be downloaded, or its content is not the pinned one.
CorpusError = PinError


# ---------------------------------------------------------------- the wheel cache


def fetch_wheel(pin: Pin, cache: Path = CACHE_DIR) -> Path:
    """The pinned wheel from the cache (``cache/wheels``), downloaded first when it is not
    there; its sha256 is always checked (``benchmarks.pypi``)."""
    return fetch(PypiPin(pin.project, pin.version, "", pin.sha256, pin.url), cache / "wheels")


# ---------------------------------------------------------------- extraction


def package_member(member: str, packages: Sequence[str]) -> PurePosixPath | None:
    """The path of a wheel member that is a ``.py`` file of one of ``packages`` outside test folders, else None."""
    parts = PurePosixPath(member).parts
    if not parts or parts[0] not in packages or not parts[-1].endswith(".py"):
        return None
    if any(part in TEST_FOLDERS for part in parts[1:-1]) or any(part in ("", ".", "..") for part in parts):
        return None
    return PurePosixPath(*parts)


def extract_wheel(wheel: Path, packages: Sequence[str], dest: Path) -> list[Path]:
    """Write the package files of one wheel under ``dest``; return them sorted."""
    written = []
    with zipfile.ZipFile(wheel) as zipped:
        for info in zipped.infolist():
            inner = package_member(info.filename, packages) if not info.is_dir() else None
            if inner is None:
                continue
            target = dest.joinpath(*inner.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(zipped.read(info))
            written.append(target)
    if not written:
        raise CorpusError(f"{wheel.name} holds no .py file of {', '.join(packages)}")
    return sorted(written)


def _pins_digest(pins: Sequence[Pin]) -> str:
    return hashlib.sha256("\n".join(f"{p.project} {p.sha256} {p.packages}" for p in pins).encode()).hexdigest()[:12]


def source_tree(cache: Path = CACHE_DIR, pins: Sequence[Pin] = PINS) -> Path:
    """The extracted corpus (one folder per import package), built from the cached wheels on first use."""
    root = cache / f"src-{_pins_digest(pins)}"
    done = root / ".complete"
    if done.exists():
        return root
    wheels = [(pin, fetch_wheel(pin, cache)) for pin in pins]
    partial = root.with_name(f"{root.name}.part-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    for pin, wheel in wheels:
        extract_wheel(wheel, pin.packages, partial)
    (partial / ".complete").write_text("".join(f"{p.project}=={p.version}\n" for p in pins), encoding="utf-8")
    shutil.rmtree(root, ignore_errors=True)
    partial.replace(root)
    return root


def describe(pins: Sequence[Pin] = PINS) -> str:
    """The pinned packages, one ``project version`` each, comma-separated."""
    return ", ".join(f"{p.project} {p.version}" for p in pins)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the corpus and print its size per package."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.corpus_b", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help="cache folder (default benchmarks/.cache/corpus-b)")
    args = parser.parse_args(argv)
    try:
        root = source_tree(args.cache)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total_files = total_lines = 0
    for pin in PINS:
        files = [f for pkg in pin.packages for f in sorted((root / pkg).rglob("*.py"))]
        lines = sum(f.read_bytes().count(b"\n") for f in files)
        total_files, total_lines = total_files + len(files), total_lines + lines
        print(f"{pin.project:16} {pin.version:8} {len(files):4} files {lines:7} lines")
    print(f"{'total':25} {total_files:4} files {total_lines:7} lines in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
