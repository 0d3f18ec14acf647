"""Stage 1 of a scan: which files to read, which to take from the index as they are,
and which the index holds that are gone from the tree."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from engine.config import Settings
from engine.records import Job, KnownFile, SourceFile


class Plan(NamedTuple):
    """The work of one scan."""

    reused: list[str]  # same size and mtime, same settings: not read
    jobs: list[Job]  # to read (and, unless the content hash is the stored one, to parse)
    vanished: list[str]  # in the index under the scanned paths, not on disk


def plan(files: list[SourceFile], known: dict[str, KnownFile], settings: Settings,
         tops: list[Path]) -> Plan:
    """Split the discovered files into reused ones and jobs; find the vanished ones."""
    reused: list[str] = []
    jobs: list[Job] = []
    fingerprint_key = settings.fingerprint_key()
    policy = settings.noise_policy
    for file in files:
        path = str(file.path)
        row = known.get(path)
        fresh = row is not None and row.fingerprint_key == fingerprint_key \
            and row.language == file.language
        if fresh and row.size == file.size and row.mtime_ns == file.mtime_ns:
            reused.append(path)
        else:
            jobs.append(Job(path, file.language, row.hash if fresh else "",
                            settings.max_file_size, policy, file.size))
    present = {str(f.path) for f in files}
    vanished = [p for p in known if p not in present
                and any(Path(p).is_relative_to(top) for top in tops)]
    return Plan(reused, jobs, vanished)
