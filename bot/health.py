"""Health checks behind /status and /health: the database, the last scan, disk space, GitHub's rate limit."""
from __future__ import annotations

import shutil
import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

import httpx

from bot.render import ago
from metrics.health import LOW_DISK_FRACTION, STALE_SCAN_S

State = Literal["ok", "warn", "fail", "off"]
# GitHub's limit changes slowly; asking once a minute keeps /health fast and spares the quota.
GITHUB_CACHE_S = 60.0
GITHUB_TIMEOUT_S = 3.0


class Check(NamedTuple):
    """The outcome of one health check, as shown in /health."""

    name: str
    state: State
    detail: str


def database(path: Path) -> Check:
    """Can the shared SQLite file be opened and read, and how fast."""
    if not path.exists():
        return Check("Database", "fail", f"{path} does not exist yet; run /scan")
    started = time.perf_counter()
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2.0)
        try:
            tables = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return Check("Database", "fail", f"{path}: {exc}")
    ms = (time.perf_counter() - started) * 1000
    size = path.stat().st_size / 1e6
    return Check("Database", "ok", f"{path.name}: {tables} tables, {size:,.1f} MB, read in {ms:.1f} ms")


def disk(path: Path) -> Check:
    """Free space where the database lives."""
    folder = path.parent if path.parent.exists() else Path(".")
    usage = shutil.disk_usage(folder)
    free = usage.free / usage.total if usage.total else 0.0
    state: State = "warn" if free < LOW_DISK_FRACTION else "ok"
    return Check("Disk", state, f"{usage.free / 1e9:,.1f} GB free of {usage.total / 1e9:,.0f} GB ({free:.0%})")


def scan_age(started_at: str | None, now: float) -> Check:
    """How old the last scan is."""
    if started_at is None:
        return Check("Last scan", "warn", "no scan yet; run /scan")
    age = now - datetime.fromisoformat(started_at).timestamp()
    state: State = "warn" if age > STALE_SCAN_S else "ok"
    return Check("Last scan", state, f"{ago(age)} ago")


class GithubCache(NamedTuple):
    """GitHub's core rate limit as last fetched, kept between /health calls."""

    fetched_at: float
    core: dict[str, Any]


class RateLimit(NamedTuple):
    """The GitHub check, and the cache to keep for the next one."""

    check: Check
    cache: GithubCache | None


async def github_rate_limit(token: str | None, api: str, cache: GithubCache | None, now: float) -> RateLimit:
    """GitHub's core rate limit for the configured token (cached for a minute)."""
    if not token:
        return RateLimit(Check("GitHub API", "off", "no token configured"), cache)
    if cache is None or now - cache.fetched_at > GITHUB_CACHE_S:
        try:
            async with httpx.AsyncClient(timeout=GITHUB_TIMEOUT_S) as client:
                response = await client.get(f"{api.rstrip('/')}/rate_limit", headers={
                    "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"})
            response.raise_for_status()
            cache = GithubCache(now, response.json()["resources"]["core"])
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            return RateLimit(Check("GitHub API", "fail", f"rate limit unavailable: {type(exc).__name__}"), cache)
    core = cache.core
    remaining, limit = int(core.get("remaining", 0)), int(core.get("limit", 0)) or 1
    reset_in = max(0.0, float(core.get("reset", now)) - now)
    state: State = "warn" if remaining / limit < 0.1 else "ok"
    return RateLimit(Check("GitHub API", state, f"{remaining:,}/{limit:,} requests left, resets in {ago(reset_in)}"),
                     cache)
