"""The text of reported fragments, read from disk once per file."""
from __future__ import annotations

from pathlib import Path

from engine.records import Fragment


class FragmentTexts:
    """Reads the files of reported fragments, each file once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cache: dict[str, list[str]] = {}

    def lines(self, fragment: Fragment, limit: int | None = None) -> list[str]:
        """The fragment's lines (at most `limit`), without line ends; [] if the file is gone."""
        lines = self.cache.get(fragment.path)
        if lines is None:
            lines = self.cache[fragment.path] = self._read(fragment.path)
        last = fragment.end_line if limit is None else \
            min(fragment.end_line, fragment.start_line + limit - 1)
        return lines[fragment.start_line - 1:last]

    def get(self, fragment: Fragment) -> str:
        """The fragment's text."""
        lines = self.lines(fragment)
        return "\n".join(lines) + "\n" if lines else ""

    def _read(self, path: str) -> list[str]:
        """A file's lines without their ends (cut where `str.splitlines` cuts), once for
        all the fragments of the file."""
        try:
            data = (self.root / path).read_bytes()
        except OSError:
            return []
        return [line.rstrip("\r\n")
                for line in data.decode("utf-8", errors="replace").splitlines(keepends=True)]
