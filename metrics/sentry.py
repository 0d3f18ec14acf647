"""Forward failed requests to Sentry when SENTRY_DSN is set and sentry-sdk is installed (`codebot[sentry]`).

Errors are read back from the store, where every process (engine, bot, CLI)
writes them already sanitized, so one forwarder (`python -m metrics serve`)
covers all of them and sends nothing the store would not keep. Each failed
top-level request becomes one Sentry event: the request id as a tag, the
triage's first error as the exception (grouped by the stored error
fingerprint), and the request's event trail, its nested requests' included,
as breadcrumbs. `before_send` runs the sanitizer over the whole event once
more, so nothing the SDK adds can carry a secret either.

Without SENTRY_DSN nothing here runs and sentry-sdk is never imported; with a
DSN but without sentry-sdk, `setup` writes one warning line and returns False.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from metrics.exceptions import MetricsError
from metrics.models import TimelineEntry, TriageReport
from metrics.sanitize import sanitize, sanitize_value
from metrics.store import ERROR_STATUSES, Store
from metrics.triage import investigate

DSN_ENV = "SENTRY_DSN"
POLL_S = 2.0
# Sentry keeps 100 breadcrumbs by default; the last ones lead up to the error.
MAX_BREADCRUMBS = 100
FLUSH_S = 5.0

_LEVELS = {"warn": "warning", "critical": "fatal", "exception": "error", "notset": "debug"}

Capture = Callable[[dict[str, Any]], Any]


# -- setup -----------------------------------------------------------------------------


def scrub(event: dict[str, Any], hint: Any = None) -> dict[str, Any]:
    """Sentry's before_send: the sanitizer over everything the event carries."""
    return sanitize_value(event)  # type: ignore[no-any-return]


def setup(environ: Mapping[str, str], warn: TextIO) -> bool:
    """Start the Sentry client from SENTRY_DSN; False (and no import) when there is none or it cannot start."""
    dsn = (environ.get(DSN_ENV) or "").strip()
    if not dsn:
        return False
    try:
        import sentry_sdk
    except ImportError:
        warn.write(f"warning: {DSN_ENV} is set but sentry-sdk is not installed "
                   "(pip install 'codebot[sentry]'); errors are not forwarded to Sentry\n")
        return False
    try:
        # No default integrations: only the failures read from the store are sent, and no
        # local variables or request bodies, which could hold secrets the store never saw.
        sentry_sdk.init(dsn=dsn, default_integrations=False, include_local_variables=False,
                        before_send=scrub, max_breadcrumbs=MAX_BREADCRUMBS)
    except Exception as exc:  # noqa: BLE001 - sentry-sdk raises its own BadDsn; the DSN itself is not echoed
        warn.write(f"warning: {DSN_ENV} is not usable ({type(exc).__name__}); errors are not forwarded to Sentry\n")
        return False
    return True


def flush(timeout_s: float = FLUSH_S) -> None:
    """Send what is queued (call before the process exits)."""
    import sentry_sdk

    sentry_sdk.flush(timeout=timeout_s)


def _capture(event: dict[str, Any]) -> Any:
    import sentry_sdk

    return sentry_sdk.capture_event(event)


# -- events ----------------------------------------------------------------------------


def breadcrumb(entry: TimelineEntry) -> dict[str, Any]:
    """One stored event as a Sentry breadcrumb."""
    level = entry.level.lower()
    return {
        "timestamp": entry.ts, "type": "default", "category": entry.event, "message": entry.event,
        "level": _LEVELS.get(level, level if level in ("debug", "info", "warning", "error", "fatal") else "info"),
        "data": {"request_id": entry.request_id, **entry.fields},
    }


def _split_type(error_type: str) -> tuple[str | None, str]:
    module, _, name = error_type.rpartition(".")
    return (module or None), name


def sentry_event(report: TriageReport) -> dict[str, Any]:
    """A Sentry event for a failed request's triage report (which must have a root cause)."""
    cause = report.root_cause
    if cause is None:
        raise ValueError(f"{report.request_id} has no error to forward")
    module, name = _split_type(cause.error_type or "error")
    failed = next((row for row in report.metrics if row["request_id"] == report.request_id), None)
    tags = {"request_id": report.request_id, "operation": failed["operation"] if failed else cause.operation}
    if cause.error_code:
        tags["error_code"] = cause.error_code
    if cause.request_id != report.request_id:
        tags["failed_request_id"] = cause.request_id
    return {
        "level": "error",
        "logger": "codebot.metrics",
        "timestamp": failed["ts"] if failed else cause.last_seen,
        "exception": {"values": [{"type": name, "value": cause.message or cause.likely_cause,
                                  **({"module": module} if module else {})}]},
        "tags": tags,
        # The stored fingerprint already groups the same failure on different inputs.
        "fingerprint": [cause.fingerprint] if cause.fingerprint else ["{{ default }}"],
        "breadcrumbs": {"values": [breadcrumb(e) for e in report.timeline[-MAX_BREADCRUMBS:]]},
        "extra": {"likely_cause": cause.likely_cause, "evidence": cause.evidence,
                  "suggestions": report.suggestions, "occurrences": cause.occurrences},
    }


# -- forwarding ------------------------------------------------------------------------

_FAILED = (f"SELECT id, request_id FROM metric_rows WHERE id > ? AND parent_id IS NULL "
           f"AND status IN ({', '.join('?' * len(ERROR_STATUSES))}) ORDER BY id LIMIT 500")


class Forwarder:
    """Sends each failed top-level request stored after it started, once."""

    def __init__(self, store: Store, capture: Capture = _capture) -> None:
        self.store = store
        self.capture = capture
        self.last_id = self._max_id()

    def _max_id(self) -> int:
        return int(self.store.query("SELECT COALESCE(MAX(id), 0) FROM metric_rows")[0][0])

    def poll(self) -> list[str]:
        """Forward the failures stored since the last poll; returns their request ids."""
        if self._max_id() < self.last_id:
            self.last_id = 0  # every row was pruned and ids start again
        sent = []
        for row in self.store.query(_FAILED, (self.last_id, *ERROR_STATUSES)):
            self.last_id = int(row["id"])
            report = investigate(self.store, row["request_id"])
            if report.root_cause is not None:
                self.capture(sentry_event(report))
                sent.append(row["request_id"])
        return sent


class ForwardLoop:
    """Polls for failures through a store that may come and go (a server started before its store)."""

    def __init__(self, store: Callable[[], Store], warn: TextIO, capture: Capture = _capture) -> None:
        self.store = store
        self.warn = warn
        self.capture = capture
        self.forwarder: Forwarder | None = None
        self._last_warning = ""

    def begin(self) -> None:
        """Note where the stored failures end, so only later ones are sent; writes nothing.

        A store that cannot be read yet is left to `step`, which says so once.
        """
        try:
            self.forwarder = Forwarder(self.store(), self.capture)
        except MetricsError:
            self.forwarder = None

    def step(self) -> list[str]:
        """Forward what is new; the first step with a store only notes where the stored failures end."""
        try:
            current = self.store()
            if self.forwarder is None or self.forwarder.store is not current:
                self.forwarder = Forwarder(current, self.capture)
                sent: list[str] = []
            else:
                sent = self.forwarder.poll()
        except MetricsError as exc:
            warning = f"warning: errors are not forwarded to Sentry while the store fails: {sanitize(str(exc))}\n"
            if warning != self._last_warning:  # once per distinct failure, not every poll
                self.warn.write(warning)
                self._last_warning = warning
            return []
        self._last_warning = ""
        return sent

    def run(self, stop: threading.Event, interval_s: float = POLL_S) -> None:
        """Step every `interval_s` until `stop` is set."""
        while not stop.wait(interval_s):
            self.step()


def forward_request(store: Store, request_id: str, capture: Capture = _capture) -> bool:
    """Send one failed request now (a command forwarding its own failure before it exits);
    False when the store holds no error for it."""
    report = investigate(store, request_id)
    if report.root_cause is None:
        return False
    capture(sentry_event(report))
    return True


def start_forwarding(store: Callable[[], Store], stop: threading.Event, warn: TextIO,
                     interval_s: float = POLL_S) -> threading.Thread:
    """Begin now (failures stored before this call are not sent), then poll in a daemon thread."""
    loop = ForwardLoop(store, warn)
    loop.begin()
    thread = threading.Thread(target=loop.run, args=(stop, interval_s), name="sentry-forwarder", daemon=True)
    thread.start()
    return thread
