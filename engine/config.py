"""Scan settings: defaults, `[tool.codebot]` in the scanned repo's pyproject.toml, then options."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from engine.discover import LANGUAGES
from engine.exceptions import ConfigError
from engine.fingerprint import FINGERPRINT_VERSION
from engine.python_units import NoisePolicy


METRICS_TABLES = ("metrics", "alerts")


class Settings(BaseModel):
    """Everything a scan can be told; field names are the `[tool.codebot]` keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_lines: int = Field(6, ge=2, description="lines of code a clone must have")
    min_tokens: int = Field(35, ge=5, description="tokens a clone must have")
    threshold: float = Field(0.85, ge=0.0, le=1.0, description="near-miss similarity")
    lang: tuple[str, ...] = Field((), description="languages to scan; empty means all")
    exclude: tuple[str, ...] = Field((), description="gitignore-style patterns to skip")
    jobs: int | None = Field(None, ge=1, description="worker processes; default: the cores")
    fail_on_new: bool = False
    max_duplication: float | None = Field(None, ge=0.0, le=100.0)
    max_file_size: int = Field(1_000_000, ge=1, description="bytes; larger files are skipped")
    report_imports: bool = False
    report_data: bool = False
    report_stubs: bool = False
    report_boilerplate: bool = False
    report_delegations: bool = False

    @field_validator("lang")
    @classmethod
    def _known_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = set(LANGUAGES.values())
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown language {', '.join(unknown)}; "
                             f"known: {', '.join(sorted(known))}")
        return value

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
    try:
        Settings(**from_file)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, f"{root / 'pyproject.toml'} [tool.codebot]")) from exc
    merged = {**from_file, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, "option")) from exc


def _explain(exc: ValidationError, where: str) -> str:
    problems = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "?"
        problems.append(f"{where} {key}: {error['msg']}")
    return "; ".join(problems)
