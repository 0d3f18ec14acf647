"""Tests of metrics.records: request ids and error fingerprints."""

from __future__ import annotations

from metrics.records import error_fingerprint, is_request_id, new_request_id


def test_request_ids_have_the_documented_shape_and_are_unique():
    """Ids are 'req-' plus 12 lowercase hex digits, and do not repeat."""
    ids = {new_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(is_request_id(i) for i in ids)
    assert not is_request_id("req-XYZ") and not is_request_id("clone-12")


def test_fingerprint_groups_the_same_error_on_different_inputs():
    """Messages differing only in numbers, paths and quoted names share one fingerprint."""
    a = error_fingerprint("scan", "FileNotFoundError", "ENOENT", "[Errno 2] No such file: '/a/b.py' line 3")
    b = error_fingerprint("scan", "FileNotFoundError", "ENOENT", "[Errno 2] No such file: '/x/y.py' line 9")
    other = error_fingerprint("scan", "PermissionError", "EACCES", "[Errno 13] Permission denied: '/a/b.py'")
    assert a == b != other
    assert a != error_fingerprint("check", "FileNotFoundError", "ENOENT", "[Errno 2] No such file: '/a/b.py' line 3")
