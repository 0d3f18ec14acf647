"""Triage of one request id: its metrics, a timeline of its events, the root cause and related requests.

Like a Sentry issue page: the first error is the root cause, the events
before it are the breadcrumbs, and the error fingerprint links the request
to every other occurrence (count, first and last seen).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from metrics.models import Alert, RelatedRequest, RootCause, TimelineEntry, TriageReport
from metrics.playbook import explain_error
from metrics.records import EventRow, MetricRow, Status
from metrics.store import Store

EVIDENCE_EVENTS = 5
RELATED_LIMIT = 10


def _row_dict(row: MetricRow) -> dict[str, Any]:
    data = row._asdict()
    data["status"] = str(row.status)
    return data


def timeline(events: Sequence[EventRow], start: float) -> list[TimelineEntry]:
    """Events as timeline entries, in order, with their offset from the request start."""
    return [
        TimelineEntry(
            ts=event.ts, offset_ms=round((event.ts - start) * 1000.0, 3), source="event",
            request_id=event.request_id, level=event.level, event=event.event, fields=event.fields,
        )
        for event in events
    ]


def _describe_event(entry: TimelineEntry) -> str:
    interesting = {k: v for k, v in entry.fields.items() if k not in ("operation",) and v not in (None, "", {})}
    detail = " ".join(f"{k}={v}" for k, v in list(interesting.items())[:6])
    return f"{entry.level} {entry.event}" + (f" {detail}" if detail else "")


def first_error(rows: Sequence[MetricRow]) -> MetricRow | None:
    """The earliest-finishing failed row: an inner operation fails before the one that wraps it."""
    failed = [row for row in rows if row.status != Status.SUCCESS]
    # On a tie the innermost request (started last) is the origin.
    return min(failed, key=lambda row: (row.ts, -row.started_at)) if failed else None


def root_cause(store: Store, error: MetricRow, entries: Sequence[TimelineEntry]) -> RootCause:
    """Explain the first error from its type, code, message and the events just before it."""
    before = [e for e in entries if e.ts <= error.ts and e.event != "request.failed"]
    evidence = [_describe_event(e) for e in before[-EVIDENCE_EVENTS:]]
    likely, _ = explain_error(error.error_type or str(error.status), error.error_code, error.error_message, evidence)
    stats = store.fingerprint_stats(error.fingerprint) if error.fingerprint else {}
    return RootCause(
        request_id=error.request_id, operation=error.operation, error_type=error.error_type or str(error.status),
        error_code=error.error_code, message=error.error_message, fingerprint=error.fingerprint,
        likely_cause=likely, evidence=evidence, occurrences=stats.get("count") or 1,
        first_seen=stats.get("first_seen"), last_seen=stats.get("last_seen"),
    )


def related_requests(store: Store, row: MetricRow, error: MetricRow | None, window_s: float) -> list[RelatedRequest]:
    """Requests with the same error fingerprint, and same user or operation within ±window."""
    found: dict[str, RelatedRequest] = {}
    exclude = row.request_id

    def add(rows: Sequence[MetricRow], reason: str) -> None:
        for other in rows:
            if other.request_id == exclude:
                continue
            if other.request_id in found:
                item = found[other.request_id]
                if reason not in item.reasons:
                    found[other.request_id] = item.model_copy(update={"reasons": [*item.reasons, reason]})
                continue
            if len(found) >= RELATED_LIMIT:
                return
            found[other.request_id] = RelatedRequest(
                request_id=other.request_id, operation=other.operation, status=str(other.status),
                ts=other.ts, user_id=other.user_id, reasons=[reason],
            )

    start, end = row.started_at - window_s, row.ts + window_s
    if error is not None and error.fingerprint:
        add(store.nearby_rows(start=float("-inf"), end=float("inf"), exclude=exclude,
                              fingerprint=error.fingerprint, limit=5), "same_error")
    if row.user_id is not None:
        add(store.nearby_rows(start=start, end=end, exclude=exclude, user_id=row.user_id, limit=5), "same_user")
    add(store.nearby_rows(start=start, end=end, exclude=exclude, operation=row.operation, limit=5), "same_operation")
    return list(found.values())


def covering_alerts(open_alerts: Sequence[Alert], operations: set[str]) -> list[Alert]:
    """Open alerts whose key or affected operations include one of the request's operations."""
    return [a for a in open_alerts if a.key in operations or operations.intersection(a.operations)]


def investigate(
    store: Store, request_id: str, open_alerts: Sequence[Alert] = (), *, window_s: float = 900.0,
    retention_s: float | None = None,
) -> TriageReport:
    """Build the triage report of one request id; `found` is False when nothing is stored for it."""
    rows = store.rows_for_request(request_id)
    children = [child for row in rows for child in store.child_rows(row)]
    ids = [request_id, *dict.fromkeys(child.request_id for child in children)]
    events = store.events_for_request(ids)
    if not rows and not events:
        kept = f" (metrics are kept for {retention_s / 86400:g} days)" if retention_s else ""
        return TriageReport(
            request_id=request_id, found=False, metrics=[], timeline=[], root_cause=None, related=[], alerts=[],
            suggestions=[
                f"No metrics or events are stored for {request_id}{kept}.",
                "Check the id (it looks like req- and 12 hex digits) and that --db points at the right store.",
            ],
        )
    start = min([r.started_at for r in rows + children] + [e.ts for e in events])
    entries = timeline(events, start)
    everything = rows + children
    error = first_error(everything)
    cause = root_cause(store, error, entries) if error is not None else None
    main = rows[0] if rows else None
    related = related_requests(store, main, error, window_s) if main is not None else []
    alerts = covering_alerts(open_alerts, {r.operation for r in everything})

    suggestions: list[str] = []
    if error is not None:
        _, actions = explain_error(
            error.error_type or str(error.status), error.error_code, error.error_message,
            cause.evidence if cause else (),
        )
        suggestions.extend(actions)
        if cause is not None and cause.occurrences > 1:
            suggestions.append(
                f"This error has happened {cause.occurrences} times; see the related requests with reason same_error."
            )
    elif main is None:
        suggestions.append("Only events are stored for this id; the request may still be running or was cut short.")
    else:
        suggestions.append("The request succeeded; if its result looked wrong, compare it with the related requests.")
    for alert in alerts:
        suggestions.extend(alert.suggestions)
    return TriageReport(
        request_id=request_id, found=True, metrics=[_row_dict(r) for r in everything], timeline=entries,
        root_cause=cause, related=related, alerts=alerts, suggestions=list(dict.fromkeys(suggestions)),
    )
