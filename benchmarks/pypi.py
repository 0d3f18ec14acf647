"""Pinned PyPI releases, downloaded once into a cache and checked by sha256, so a benchmark on real libraries runs offline.

A ``Pin`` names one file of one release: project, version, upload date, the
file's sha256 and its URL (files.pythonhosted.org). ``fetch(pin)`` returns the
cached file, downloading it with urllib only when it is not in the cache yet;
the download is checked against the pinned sha256 before it takes its place,
and a cached file whose sha256 differs is refused (never silently replaced).
``extract_package`` copies one import package's ``.py`` files out of a wheel or
an sdist, without its test folders.

The cache defaults to ``benchmarks/.cache/pypi/`` (gitignored); offline, a file
that is not cached yet is a ``PinError`` saying where to put it.
"""

from __future__ import annotations

import hashlib
import os
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import NamedTuple

CACHE_DIR = Path(__file__).resolve().parent / ".cache" / "pypi"
TIMEOUT_S = 60
TEST_FOLDERS = frozenset({"test", "tests", "testing"})


class Pin(NamedTuple):
    """One file of one release, as PyPI lists it."""

    project: str
    version: str
    released: str  # upload date, ISO yyyy-mm-dd
    sha256: str
    url: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1]


class PinError(RuntimeError):
    """A pinned file is missing and cannot be downloaded, or its content is not the pinned one."""


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_path(pin: Pin, cache: Path = CACHE_DIR) -> Path:
    """Where a pinned file lives in the cache."""
    return cache / pin.filename


def verify(pin: Pin, path: Path) -> None:
    """Refuse a file whose sha256 is not the pinned one: a changed or truncated file must not be measured."""
    actual = sha256_of(path)
    if actual != pin.sha256:
        raise PinError(
            f"{path} has sha256 {actual}, not the pinned {pin.sha256} of {pin.project} {pin.version}; "
            "delete it to download it again"
        )


def fetch(pin: Pin, cache: Path = CACHE_DIR) -> Path:
    """The pinned file from the cache, downloaded first if it is not there; its sha256 is always checked."""
    target = cached_path(pin, cache)
    if target.exists():
        verify(pin, target)
        return target
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".part-{os.getpid()}")
    try:
        with urllib.request.urlopen(pin.url, timeout=TIMEOUT_S) as response, open(partial, "wb") as handle:
            for block in iter(lambda: response.read(1 << 16), b""):
                handle.write(block)
        verify(pin, partial)
        partial.replace(target)
    except (urllib.error.URLError, OSError) as exc:
        raise PinError(
            f"cannot download {pin.project} {pin.version} from {pin.url} ({exc}); "
            f"offline, put {pin.filename} (sha256 {pin.sha256}) into {cache}"
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
    return target


def _members(archive: Path) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of every regular file of a wheel/zip or a tar sdist."""
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                if not info.is_dir():
                    yield info.filename, zipped.read(info)
        return
    with tarfile.open(archive) as tarred:
        for member in tarred.getmembers():
            if member.isfile():
                handle = tarred.extractfile(member)
                if handle is not None:
                    yield member.name, handle.read()


def package_path(member: str, package: str) -> PurePosixPath | None:
    """The path of an archive member inside ``package`` (``pkg/...`` in a wheel, ``proj-1.0/[src/]pkg/...``
    in an sdist), or None when it is outside the package, not a ``.py`` file, or in a test folder."""
    parts = PurePosixPath(member).parts
    for start in range(min(3, len(parts))):
        if parts[start] == package:
            inner = parts[start:]
            break
    else:
        return None
    if not inner[-1].endswith(".py") or any(p in TEST_FOLDERS for p in inner[1:-1]):
        return None
    if any(p in ("", ".", "..") for p in inner):
        return None
    return PurePosixPath(*inner)


def extract_package(archive: Path, package: str, dest: Path) -> list[Path]:
    """Write the ``.py`` files of import package ``package`` under ``dest/package/``; return them sorted."""
    written = []
    for member, data in _members(archive):
        inner = package_path(member, package)
        if inner is None:
            continue
        target = dest.joinpath(*inner.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        written.append(target)
    if not written:
        raise PinError(f"{archive.name} holds no .py file of package {package!r}")
    return sorted(written)
