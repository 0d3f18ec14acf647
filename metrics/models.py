"""Pydantic models for data that leaves the package: summaries, alerts and triage reports."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["warning", "critical"]
AlertState = Literal["pending", "firing", "resolved", "inactive"]
AlertEvent = Literal["firing", "repeat", "escalated", "resolved"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorGroup(_Model):
    """Errors with one fingerprint: what failed, how often, first and last seen."""

    fingerprint: str
    operation: str
    error_type: str | None
    error_code: str | None
    message: str | None
    count: int
    first_seen: float
    last_seen: float
    last_request_id: str


class OperationSummary(_Model):
    """Counts, error rate and latency percentiles of one operation over a window."""

    operation: str
    window_s: float
    count: int
    success: int
    errors: int
    rate_limited: int
    error_rate: float
    avg_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    top_errors: list[ErrorGroup] = Field(default_factory=list)


class Alert(_Model):
    """One alert instance of a rule for one key, with its lifecycle times."""

    id: int
    rule: str
    key: str
    state: AlertState
    severity: Severity | None
    title: str
    description: str
    operations: list[str]
    snapshot: dict[str, Any]
    suggestions: list[str]
    runbook: str | None
    value: float | None
    threshold: float | None
    started_at: float
    fired_at: float | None
    last_notified_at: float | None
    resolved_at: float | None
    updated_at: float
    notifications: int


class Silence(_Model):
    """A silence: notifications of a rule (optionally one key) are held back until it expires."""

    id: int
    rule: str
    key: str | None
    created_at: float
    expires_at: float
    created_by: str | None
    reason: str | None


class TimelineEntry(_Model):
    """One step of a request's timeline: a stored event or the start/end of a metric row."""

    ts: float
    offset_ms: float
    source: Literal["event", "metric"]
    request_id: str | None
    level: str
    event: str
    fields: dict[str, Any]


class RootCause(_Model):
    """The first error of a request and what probably caused it."""

    request_id: str
    operation: str
    error_type: str | None
    error_code: str | None
    message: str | None
    fingerprint: str | None
    likely_cause: str
    evidence: list[str]
    occurrences: int
    first_seen: float | None
    last_seen: float | None


class RelatedRequest(_Model):
    """Another request worth a look, and why it is related."""

    request_id: str
    operation: str
    status: str
    ts: float
    user_id: str | None
    reasons: list[str]


class TriageReport(_Model):
    """Everything known about one request id, in the order a person would read it."""

    request_id: str
    found: bool
    metrics: list[dict[str, Any]]
    timeline: list[TimelineEntry]
    root_cause: RootCause | None
    related: list[RelatedRequest]
    alerts: list[Alert]
    suggestions: list[str]
