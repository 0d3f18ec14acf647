"""Liveness and readiness of `metrics serve`: the JSON bodies of /healthz and /readyz.

/healthz says the process is up. /readyz checks what the process needs to
answer: the SQLite file opens read-only and answers a query within a bound,
how old the last recorded scan is, and the free disk space beside the file.
Any failed check makes it 503; a warning (an old scan, disk getting full)
is reported with 200. The checks open their own read-only connection, so they
see the file as it is now, not a connection opened at start.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any, Literal, NamedTuple

State = Literal["ok", "warn", "fail"]

DB_BOUND_S = 1.0
STALE_SCAN_S = 7 * 86400
LOW_DISK_FRACTION = 0.10
# Below this SQLite cannot be relied on to write a batch or checkpoint the WAL.
MIN_FREE_BYTES = 50 * 1024 * 1024


class Check(NamedTuple):
    """The outcome of one readiness check, with its figures."""

    name: str
    state: State
    detail: str
    figures: dict[str, Any]


# -- pure checks -----------------------------------------------------------------------


def scan_age_check(last_scan_ts: float | None, now: float, stale_s: float = STALE_SCAN_S) -> Check:
    """How old the last successful scan is; old or missing is a warning, never unready."""
    if last_scan_ts is None:
        return Check("last_scan", "warn", "no scan recorded yet", {"age_s": None, "ts": None})
    age = max(0.0, now - last_scan_ts)
    state: State = "warn" if age > stale_s else "ok"
    return Check("last_scan", state, f"last scan {age:,.0f} s ago", {"age_s": round(age, 3), "ts": last_scan_ts})


def disk_check(free: int, total: int) -> Check:
    """Free space where the database lives: too little to write fails, under 10% warns."""
    fraction = free / total if total else 0.0
    state: State = "fail" if free < MIN_FREE_BYTES else ("warn" if fraction < LOW_DISK_FRACTION else "ok")
    return Check("disk", state, f"{free / 1e9:,.2f} GB free ({fraction:.0%})",
                 {"free_bytes": free, "total_bytes": total, "free_fraction": round(fraction, 4)})


def overall(checks: list[Check]) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body of /readyz for a list of checks."""
    ready = all(check.state != "fail" for check in checks)
    body = {
        "status": "ready" if ready else "not_ready",
        "checks": {c.name: {"state": c.state, "detail": c.detail, **c.figures} for c in checks},
    }
    return (200 if ready else 503), body


# -- probes ----------------------------------------------------------------------------


def probe_database(path: Path, bound_s: float = DB_BOUND_S) -> tuple[Check, float | None]:
    """Open the file read-only, read the last scan time, all within `bound_s`; returns the check and that time."""
    started = time.monotonic()
    deadline = started + bound_s
    if not path.is_file():
        what = "is a folder, not a database file" if path.is_dir() else "does not exist"
        return Check("database", "fail", f"{path} {what}", {"path": str(path)}), None
    try:
        # mode=ro: a readiness probe must never create or change the file.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=bound_s,
                               check_same_thread=False)
    except sqlite3.Error as exc:
        return Check("database", "fail", f"{path} does not open: {exc}", {"path": str(path)}), None
    try:
        # Aborts a query still running at the deadline, whatever it waits on.
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        last = _last_scan(conn)
    except sqlite3.Error as exc:
        late = time.monotonic() > deadline
        detail = f"did not answer within {bound_s:g} s" if late else f"does not answer: {exc}"
        return Check("database", "fail", f"{path} {detail}", {"path": str(path)}), None
    finally:
        conn.close()
    ms = (time.monotonic() - started) * 1000.0
    return Check("database", "ok", f"answered in {ms:.1f} ms", {"path": str(path), "ms": round(ms, 3)}), last


def _last_scan(conn: sqlite3.Connection) -> float | None:
    # Reading the schema is what fails on a damaged file or one that is not SQLite.
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "metric_scans" not in tables:
        return None
    row = conn.execute("SELECT MAX(ts) FROM metric_scans WHERE status = 'success'").fetchone()
    return None if row is None or row[0] is None else float(row[0])


def probe_disk(path: Path) -> Check:
    """Free space on the file system holding `path` (or its nearest existing folder)."""
    folder = path if path.is_dir() else path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    usage = shutil.disk_usage(folder)
    return disk_check(usage.free, usage.total)


def readiness(path: Path, now: float | None = None, *, bound_s: float = DB_BOUND_S) -> tuple[int, dict[str, Any]]:
    """Status and body of /readyz for the store at `path`."""
    now = time.time() if now is None else now
    database, last_scan = probe_database(path, bound_s)
    checks = [database]
    if database.state == "ok":
        checks.append(scan_age_check(last_scan, now))
    checks.append(probe_disk(path))
    return overall(checks)


def liveness(started_at: float, now: float | None = None) -> tuple[int, dict[str, Any]]:
    """Status and body of /healthz: the process answers."""
    now = time.time() if now is None else now
    return 200, {"status": "ok", "pid": os.getpid(), "uptime_s": round(max(0.0, now - started_at), 3)}
