"""Summaries of metric rows: counts, error rate and nearest-rank latency percentiles."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from metrics.models import ErrorGroup, OperationSummary
from metrics.records import Status

_ERRORS = frozenset({Status.ERROR.value, Status.TIMEOUT.value})


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of an ascending sequence; None when empty."""
    if not sorted_values:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize_latencies(operation: str, window_s: float, rows: Iterable[tuple[str, float]]) -> OperationSummary:
    """Summarize (status, latency_ms) pairs of one operation."""
    latencies: list[float] = []
    success = errors = limited = 0
    for status, latency in rows:
        latencies.append(latency)
        if status == Status.SUCCESS.value:
            success += 1
        elif status in _ERRORS:
            errors += 1
        elif status == Status.RATE_LIMITED.value:
            limited += 1
    latencies.sort()
    count = len(latencies)
    return OperationSummary(
        operation=operation,
        window_s=window_s,
        count=count,
        success=success,
        errors=errors,
        rate_limited=limited,
        error_rate=errors / count if count else 0.0,
        avg_ms=sum(latencies) / count if count else None,
        p50_ms=percentile(latencies, 50),
        p95_ms=percentile(latencies, 95),
        p99_ms=percentile(latencies, 99),
        max_ms=latencies[-1] if latencies else None,
    )


def summarize_rows(rows: Iterable[tuple[str, str, float]], window_s: float) -> dict[str, OperationSummary]:
    """Group (operation, status, latency_ms) rows by operation and summarize each."""
    by_operation: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for operation, status, latency in rows:
        by_operation[operation].append((status, latency))
    return {op: summarize_latencies(op, window_s, pairs) for op, pairs in sorted(by_operation.items())}


def total(summaries: Iterable[OperationSummary], window_s: float) -> OperationSummary:
    """Combine per-operation summaries into one line; percentiles are the worst operation's."""
    items = list(summaries)
    count = sum(s.count for s in items)
    errors = sum(s.errors for s in items)

    def worst(name: str) -> float | None:
        values = [getattr(s, name) for s in items if getattr(s, name) is not None]
        return max(values) if values else None

    weighted = sum((s.avg_ms or 0.0) * s.count for s in items)
    return OperationSummary(
        operation="*",
        window_s=window_s,
        count=count,
        success=sum(s.success for s in items),
        errors=errors,
        rate_limited=sum(s.rate_limited for s in items),
        error_rate=errors / count if count else 0.0,
        avg_ms=weighted / count if count else None,
        p50_ms=worst("p50_ms"),
        p95_ms=worst("p95_ms"),
        p99_ms=worst("p99_ms"),
        max_ms=worst("max_ms"),
    )


def error_group(record: dict) -> ErrorGroup:  # type: ignore[type-arg]
    """Build an ErrorGroup from a store row of `Store.error_groups`."""
    return ErrorGroup(
        fingerprint=record["fingerprint"],
        operation=record["operation"],
        error_type=record["error_type"],
        error_code=record["error_code"],
        message=record["error_message"],
        count=record["count"],
        first_seen=record["first_seen"],
        last_seen=record["last_seen"],
        last_request_id=record["last_request_id"],
    )
