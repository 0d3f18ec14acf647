"""Scan settings: defaults, `[tool.codebot]` in the scanned repo's pyproject.toml, then options."""
from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from dataclasses import asdict, dataclass, fields

from engine.discover import LANGUAGES
from engine.exceptions import ConfigError
from engine.fingerprint import FINGERPRINT_VERSION
from engine.python_units import NoisePolicy


METRICS_TABLES = ("metrics", "alerts")


@dataclass(frozen=True)
class Settings:
    """Everything a scan can be told; field names are the `[tool.codebot]` keys.

    A plain checked dataclass, not a pydantic model: every command builds one, and
    importing pydantic would cost an unchanged rescan a fifth of its time."""

    min_lines: int = 6  # lines of code a clone must have
    min_tokens: int = 35  # tokens a clone must have
    threshold: float = 0.85  # near-miss similarity
    lang: tuple[str, ...] = ()  # languages to scan; empty means all
    exclude: tuple[str, ...] = ()  # gitignore-style patterns to skip
    jobs: int | None = None  # worker processes; default: the cores
    fail_on_new: bool = False
    max_duplication: float | None = None
    max_file_size: int = 1_000_000  # bytes; larger files are skipped
    report_imports: bool = False
    report_data: bool = False
    report_stubs: bool = False
    report_boilerplate: bool = False
    report_delegations: bool = False

    def __post_init__(self) -> None:
        problems = [problem for field in fields(self)
                    if (problem := _check(field.name, getattr(self, field.name)))]
        if problems:
            raise ValueError("; ".join(problems))
        for name in ("threshold", "max_duplication"):  # 1 in TOML means 1.0
            value = getattr(self, name)
            if isinstance(value, int):
                object.__setattr__(self, name, float(value))

    @property
    def noise_policy(self) -> NoisePolicy:
        return NoisePolicy(self.report_imports, self.report_data, self.report_stubs,
                           self.report_boilerplate, self.report_delegations)

    @property
    def worker_count(self) -> int:
        return self.jobs or os.cpu_count() or 1

    def fingerprint_key(self) -> str:
        """What stored fingerprints and skip verdicts depend on: a change here means reading
        and parsing again."""
        return (",".join(str(int(flag)) for flag in self.noise_policy)
                + f";max{self.max_file_size};v{FINGERPRINT_VERSION}")

    def detection_key(self) -> str:
        """The settings stored clones depend on, besides the fingerprints."""
        return json.dumps({k: v for k, v in asdict(self).items()
                           if k in ("min_lines", "min_tokens", "threshold")},
                          separators=(",", ":"))


# Per field: the type it must have and its bounds (inclusive; None: unbounded).
_RULES: dict[str, tuple[type | tuple[type, ...], float | None, float | None]] = {
    "min_lines": (int, 2, None), "min_tokens": (int, 5, None), "threshold": (float, 0.0, 1.0),
    "jobs": (int, 1, None), "max_duplication": (float, 0.0, 100.0),
    "max_file_size": (int, 1, None),
}


def _check(name: str, value: Any) -> str:
    """What is wrong with one field's value, or ""."""
    if name in ("lang", "exclude"):
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            return f"{name}: expected a list of strings"
        known = set(LANGUAGES.values())
        unknown = [v for v in value if name == "lang" and v not in known]
        return (f"{name}: unknown language {', '.join(unknown)}; known: "
                f"{', '.join(sorted(known))}") if unknown else ""
    if name not in _RULES:
        return "" if isinstance(value, bool) else f"{name}: expected true or false"
    kind, low, high = _RULES[name]
    if value is None and name in ("jobs", "max_duplication"):
        return ""
    number = kind is float and isinstance(value, int) and not isinstance(value, bool)
    if not (isinstance(value, kind) and not isinstance(value, bool)) and not number:
        return f"{name}: expected {'a number' if kind is float else 'an integer'}"
    if low is not None and value < low:
        return f"{name}: must be at least {low:g}"
    if high is not None and value > high:
        return f"{name}: must be at most {high:g}"
    return ""


def pyproject_settings(root: Path) -> dict[str, Any]:
    """The `[tool.codebot]` table of `root/pyproject.toml`, or {}."""
    path = root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    table = data.get("tool", {}).get("codebot", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.codebot] must be a table")
    # [tool.codebot.metrics] and [tool.codebot.alerts.*] belong to the metrics package.
    return {key.replace("-", "_"): value for key, value in table.items()
            if key not in METRICS_TABLES}


def load_settings(root: Path, overrides: dict[str, Any]) -> Settings:
    """Defaults, then pyproject.toml, then the command line (values that are not None)."""
    from_file = pyproject_settings(root)
    _settings(from_file, f"{root / 'pyproject.toml'} [tool.codebot]")
    merged = {**from_file, **{k: v for k, v in overrides.items() if v is not None}}
    return _settings(merged, "option")


def _settings(values: dict[str, Any], where: str) -> Settings:
    """Settings from raw values (TOML lists become tuples); a ConfigError naming `where`."""
    names = {field.name for field in fields(Settings)}
    unknown = sorted(values.keys() - names)
    if unknown:
        raise ConfigError("; ".join(f"{where} {key}: unknown setting" for key in unknown))
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return Settings(**values)
    except ValueError as exc:
        raise ConfigError("; ".join(f"{where} {problem}"
                                    for problem in str(exc).split("; "))) from exc
