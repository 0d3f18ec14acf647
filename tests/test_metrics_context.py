"""Tests of metrics.context: request ids in a contextvar and track_request in all its forms."""

from __future__ import annotations

import asyncio

import pytest

import metrics
from metrics.records import Status, is_request_id
from metrics.testing import configured


@pytest.fixture
def runtime(tmp_path, clock):
    with configured(tmp_path / "index.db", clock) as rt:
        yield rt


def only_row(runtime, request_id: str):
    metrics.flush()
    (row,) = runtime.store.rows_for_request(request_id)
    return row


def test_sync_context_manager_sets_and_clears_the_request_id(runtime, clock):
    """Inside the block the id is current; afterwards it is gone and one success row with the latency exists."""
    assert metrics.current_request_id() is None
    with metrics.track_request("scan", metadata={"root": "/repo"}) as request:
        assert is_request_id(request.request_id)
        assert metrics.current_request_id() == request.request_id == str(request)
        clock.advance(1.5)
    assert metrics.current_request_id() is None
    row = only_row(runtime, request.request_id)
    assert (row.operation, row.status, row.latency_ms, row.metadata) == ("scan", Status.SUCCESS, 1500.0, {"root": "/repo"})


def test_error_is_recorded_sanitized_and_re_raised(runtime):
    """The exception propagates unchanged and its type, errno code and sanitized message are stored."""
    error = FileNotFoundError(2, "No such file or directory (password=hunter2)", "/missing")
    with pytest.raises(FileNotFoundError) as caught:
        with metrics.track_request("scan") as request:
            raise error
    assert caught.value is error
    row = only_row(runtime, request.request_id)
    assert (row.status, row.error_type, row.error_code) == (Status.ERROR, "FileNotFoundError", "ENOENT")
    assert "hunter2" not in row.error_message and "/missing" in row.error_message
    assert row.fingerprint


def test_nested_requests_record_their_parent(runtime):
    """An operation tracked inside another stores the outer id as parent and inherits its user."""
    with metrics.track_request("bot.scan", user_id=7) as outer:
        with metrics.track_request("scan") as inner:
            assert metrics.current_request_id() == inner.request_id
        assert metrics.current_request_id() == outer.request_id
    row = only_row(runtime, inner.request_id)
    assert (row.parent_id, row.user_id) == (outer.request_id, "7")
    assert only_row(runtime, outer.request_id).parent_id is None


def test_decorator_tracks_each_call_of_sync_and_async_functions(runtime):
    """A decorated function gets a fresh request id per call and returns its own result."""
    seen: list[str | None] = []

    @metrics.track_request("sync.op")
    def work(x: int) -> int:
        seen.append(metrics.current_request_id())
        return x * 2

    @metrics.track_request("async.op")
    async def awork(x: int) -> int:
        seen.append(metrics.current_request_id())
        await asyncio.sleep(0)
        return x + 1

    assert work(2) == 4 and work(3) == 6
    assert asyncio.run(awork(1)) == 2
    assert len(set(seen)) == 3 and all(is_request_id(s) for s in seen)
    assert asyncio.iscoroutinefunction(awork)
    metrics.flush()
    ops = [r[0] for r in runtime.store.query("SELECT operation FROM metric_rows ORDER BY id")]
    assert ops == ["sync.op", "sync.op", "async.op"]


def test_concurrent_tasks_each_see_their_own_id(runtime):
    """Two asyncio tasks interleaving inside async with blocks never see each other's request id."""

    async def handler(name: str) -> tuple[str, list[str | None]]:
        ids = []
        async with metrics.track_request(name) as request:
            for _ in range(3):
                ids.append(metrics.current_request_id())
                await asyncio.sleep(0)
        return request.request_id, ids

    async def main():
        return await asyncio.gather(handler("a"), handler("b"))

    for request_id, ids in asyncio.run(main()):
        assert ids == [request_id] * 3


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (TimeoutError("scan took too long"), Status.TIMEOUT),
        (type("RetryAfter", (Exception,), {})("Flood control exceeded"), Status.RATE_LIMITED),
        (ValueError("bad"), Status.ERROR),
    ],
)
def test_exception_types_map_to_statuses(runtime, exc, status):
    """Timeouts, rate-limit errors and other exceptions get their own statuses."""
    with pytest.raises(type(exc)):
        with metrics.track_request("op") as request:
            raise exc
    assert only_row(runtime, request.request_id).status == status


def test_status_can_be_set_explicitly_and_clean_exit_counts_as_success(runtime):
    """set_status records a refusal without an exception, and SystemExit(0) is a success."""
    with metrics.track_request("bot.duplicates") as request:
        request.set_status("rate_limited", error_code="429")
    row = only_row(runtime, request.request_id)
    assert (row.status, row.error_code) == (Status.RATE_LIMITED, "429")
    with pytest.raises(SystemExit):
        with metrics.track_request("cli") as quitting:
            raise SystemExit(0)
    assert only_row(runtime, quitting.request_id).status == Status.SUCCESS


def test_lifecycle_events_are_stored_in_order(runtime):
    """A failed request stores request.started then request.failed, readable by its id."""
    with pytest.raises(KeyError):
        with metrics.track_request("scan") as request:
            raise KeyError("x")
    assert [e.event for e in metrics.events(request.request_id)] == ["request.started", "request.failed"]


def test_operation_name_is_required():
    """An empty operation is refused at once with a message saying what to pass."""
    with pytest.raises(ValueError, match="operation name"):
        metrics.track_request("")
