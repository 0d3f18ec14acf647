"""The baseline of accepted clones: kept in the index and in the committed `.codebot-baseline.json`.

A clone is accepted when its content key (which survives line moves) is in
the baseline and it has no more fragments than were recorded: a third copy of
an accepted pair is new. The committed file wins over the index, so CI on a
fresh clone gates against what the team accepted.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from engine.atomic import write_atomically
from engine.exceptions import UsageError
from engine.records import Clone, KeyedClone

if TYPE_CHECKING:
    from engine.store import Store

BASELINE_FILE = ".codebot-baseline.json"

# Clone content key -> the paths of its fragments (one per fragment, sorted).
Accepted = dict[str, tuple[str, ...]]


def accepted_of(keyed: Iterable[KeyedClone]) -> Accepted:
    """The baseline that accepts exactly these clones."""
    return {key: tuple(sorted(f.path for f in clone.fragments)) for clone, key in keyed}


def is_accepted(clone: Clone, key: str, accepted: Accepted) -> bool:
    """Whether the baseline covers this clone: its key is there, with as many fragments."""
    paths = accepted.get(key)
    return paths is not None and len(clone.fragments) <= len(paths)


def new_keys(keyed: Iterable[KeyedClone], accepted: Accepted | None,
             reported: frozenset[str]) -> frozenset[str]:
    """The keys of the clones that are new: not accepted by the baseline when there is one,
    else not in the last reported scan (`reported`, its clone keys)."""
    if accepted is not None:
        return frozenset(k for c, k in keyed if not is_accepted(c, k, accepted))
    return frozenset(k for _, k in keyed if k not in reported)


def dumps(accepted: Accepted) -> str:
    """The file's text: small, sorted, stable under re-recording."""
    clones = {key: list(paths) for key, paths in sorted(accepted.items())}
    return json.dumps({"version": 1, "clones": clones}, indent=2, sort_keys=True) + "\n"


def loads(text: str, where: str) -> Accepted:
    """Parse the file's text (`{"version": 1, "clones": {key: [path, ...]}}`); a bad file
    is a usage error that says how to fix it."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        problem = f"not JSON: {exc}"
    else:
        problem = _shape_problem(data)
    if problem:
        raise UsageError(f"{where} is not a CodeBot baseline ({problem}); "
                         "fix it or rewrite it with `scan --update-baseline`")
    return {key: tuple(paths) for key, paths in data["clones"].items()}


def _shape_problem(data: Any) -> str:
    """What keeps parsed JSON from being a baseline, or ""."""
    if not isinstance(data, dict) or set(data) != {"version", "clones"}:
        return 'expected exactly the keys "version" and "clones"'
    if data["version"] != 1 or isinstance(data["version"], bool):
        return f"version {data['version']!r} is not 1"
    clones = data["clones"]
    if not isinstance(clones, dict) or not all(
            isinstance(paths, list) and all(isinstance(p, str) for p in paths)
            for paths in clones.values()):
        return '"clones" must map each clone key to a list of paths'
    return ""


def read_file(root: Path) -> Accepted | None:
    """The committed baseline under `root`, or None when there is none."""
    path = root / BASELINE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the baseline {path}: {exc}") from exc
    return loads(text, str(path))


def write_file(root: Path, accepted: Accepted) -> Path:
    """Write `root/.codebot-baseline.json` atomically; return its path."""
    path = root / BASELINE_FILE
    try:
        write_atomically(path, dumps(accepted))
    except OSError as exc:
        raise UsageError(f"cannot write the baseline {path}: {exc.strerror}") from exc
    return path


def load(root: Path, store: Store) -> Accepted | None:
    """The baseline in force: the committed file if present, else the index's, else None."""
    from_file = read_file(root)
    return from_file if from_file is not None else store.baseline(str(root))


def record(root: Path, store: Store, keyed: Iterable[KeyedClone]) -> Accepted:
    """Accept these clones: store them in the index and export the file."""
    accepted = accepted_of(keyed)
    store.save_baseline(str(root), accepted)
    write_file(root, accepted)
    return accepted
