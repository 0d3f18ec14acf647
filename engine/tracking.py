"""Each engine command runs as one tracked request of the metrics module.

The metrics tables live in the index file itself, so a scan's request id,
latency, error and figures can be read back by id (`python -m metrics triage`).
`metrics` is imported here, lazily: a command pays for it only when it runs.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from engine.records import ScanResult

# The engine's suggested actions for the alert rules (metrics names only its own commands).
PLAYBOOK = {
    "p95_latency": (
        "Check whether the incremental index is reused (files_reused in the scan report); "
        "a cold index re-parses everything.",
        "Look for very large or generated files and exclude them with --exclude.",
        "Lower --jobs if the machine is shared.",
    ),
    "duplication_rising": (
        "List the new clone classes: `python -m engine scan --format markdown` and compare "
        "with the previous report.",
        "Refactor the largest new clone using the suggested extracted function.",
        "Turn on `--max-duplication` in CI so the trend cannot grow unnoticed.",
    ),
    "new_clones": (
        "Enable the pre-commit hook (`python -m engine check`) so copies are caught before "
        "merge.",
    ),
}


def register_playbook() -> None:
    """Give the alert rules the engine's suggested actions."""
    from metrics.playbook import register_actions

    register_actions(PLAYBOOK)


@contextmanager
def tracked(operation: str, db_path: Path, lock_timeout: float = 30.0,
            **metadata: Any) -> Iterator[str | None]:
    """Run the body as one request recorded in `db_path`; yields its request id.

    An error inside is recorded with the request id and re-raised. When the
    metrics tables cannot be opened (a corrupt or foreign file, a folder that
    cannot be made), the body runs untracked and yields None: the engine's own
    error then says what is wrong. A failure to store the figures afterwards is
    a warning on stderr, never the command's outcome.
    """
    # The events go straight to the store (`log_event`), not through structlog: the
    # engine logs two lines a command, and stdout is the report.
    from metrics.context import track_request
    from metrics.exceptions import MetricsError
    from metrics.runtime import configure, shutdown

    register_playbook()
    try:
        runtime = configure(db_path, background=False, busy_timeout=lock_timeout)
    except (MetricsError, OSError):
        yield None
        return
    request_id = None
    failed = False
    try:
        with track_request(operation, metadata=metadata) as request:
            request_id = request.request_id
            runtime.log_event(f"{operation}.started", **metadata)
            yield request_id
    except Exception:
        failed = True
        raise
    finally:
        try:
            shutdown()
        except MetricsError as exc:
            print(f"codebot: warning: the request's metrics were not stored: {exc}",
                  file=sys.stderr)
        else:
            if failed and request_id and os.environ.get("SENTRY_DSN"):
                _forward_to_sentry(db_path, request_id)


def _forward_to_sentry(db_path: Path, request_id: str) -> None:
    """Send the failed request, as stored (sanitized, with its event trail), to Sentry."""
    from metrics import sentry
    from metrics.exceptions import MetricsError
    from metrics.store import Store

    if not sentry.setup(os.environ, sys.stderr):
        return
    try:
        with Store(db_path) as store:
            sentry.forward_request(store, request_id)
        sentry.flush()
    except MetricsError as exc:
        print(f"codebot: warning: the error was not sent to Sentry: {exc}", file=sys.stderr)


def record_scan(result: ScanResult) -> None:
    """Report a finished scan's figures for the duplication and new-clone alert rules."""
    from metrics.runtime import get_runtime

    stats = result.stats
    runtime = get_runtime()
    runtime.record_scan(files=stats.files, duplication_pct=stats.duplication_pct,
                        new_clones=len(result.new_clone_ids), duration_s=stats.duration_s,
                        root=str(result.root), request_id=result.request_id)
    runtime.log_event("scan.finished", files=stats.files, parsed=stats.files_parsed,
                      reused=stats.files_reused, skipped=stats.files_skipped,
                      clones=len(result.clones), duplication_pct=stats.duplication_pct,
                      duration_s=stats.duration_s)
