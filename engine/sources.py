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
            try:
                data = (self.root / fragment.path).read_bytes()
                lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
            except OSError:
                lines = []
            self.cache[fragment.path] = lines
        last = fragment.end_line if limit is None else \
            min(fragment.end_line, fragment.start_line + limit - 1)
        return [line.rstrip("\r\n") for line in lines[fragment.start_line - 1:last]]

    def get(self, fragment: Fragment) -> str:
        """The fragment's text."""
        return "".join(line + "\n" for line in self.lines(fragment))
