"""Tests for engine.scan: the golden report, incremental rescans, bad files."""
import json
import multiprocessing
import os
import shutil
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES
from engine.config import Settings
from engine.report import to_dict
from engine.pool import POOL_MIN_FILES
from engine.scan import scan

GOLDEN = FIXTURES / "shop.golden.json"


def stable(report: dict) -> dict:
    """The report without what changes from run to run."""
    report = json.loads(json.dumps(report))
    report.pop("root")
    report.pop("request_id", None)
    report["stats"].pop("duration_s")
    return report


def run(tree: Path, db: Path, **settings) -> dict:
    return to_dict(scan([tree], Settings(jobs=1, **settings), db))


def test_fixture_tree_matches_the_golden_report(shop, tmp_path, golden):
    """Known exact, renamed and token-level clones; no boilerplate reported."""
    report = stable(run(shop, tmp_path / "i.db"))
    golden(GOLDEN, json.dumps(report, indent=2) + "\n")


def test_golden_report_finds_the_planted_copies(shop, tmp_path):
    """The invoice/refund/shipping copies, the JS copy and the Python 2 copy are all there;
    the edited copy in credit.py joins the renamed three in one class, not a second class
    over the same regions."""
    clones = run(shop, tmp_path / "i.db")["clones"]
    places = [{f["path"] for f in c["fragments"]} for c in clones]
    assert {"billing/credit.py", "billing/invoice.py", "billing/refund.py",
            "shipping/rates.py"} in places
    assert {"web/cart.js", "web/checkout.js"} in places
    assert {"legacy/report_py2.py"} in places
    assert not any(p & {"catalog/models.py", "catalog/search.py", "shipping/carriers.py"}
                   for p in places)


def test_second_scan_parses_nothing_and_one_edit_parses_one(shop, tmp_path):
    """Unchanged files are reused from the index; an edited file is parsed again."""
    db = tmp_path / "i.db"
    first = run(shop, db)["stats"]
    assert first["files_parsed"] == first["files"] == 10
    second = run(shop, db)
    assert second["stats"]["files_parsed"] == 0 and second["stats"]["files_reused"] == 10
    assert stable(second)["clones"] == stable(run(shop, tmp_path / "fresh.db"))["clones"]
    target = shop / "shipping" / "carriers.py"
    target.write_text(target.read_text() + "\n\ndef extra():\n    return 1\n")
    third = run(shop, db)["stats"]
    assert third["files_parsed"] == 1 and third["files_reused"] == 9


def test_touched_but_unchanged_file_is_not_parsed(shop, tmp_path):
    """A new mtime with the same content is recognised by its hash."""
    db = tmp_path / "i.db"
    run(shop, db)
    os.utime(shop / "billing" / "invoice.py", ns=(1, 1))
    stats = run(shop, db)["stats"]
    assert stats["files_parsed"] == 0 and stats["files_reused"] == 10


def test_a_new_copy_found_after_an_edit(shop, tmp_path):
    """Copying a function into another file adds a clone on the rescan."""
    db = tmp_path / "i.db"
    before = run(shop, db)["clones"]
    source = (shop / "shipping" / "carriers.py").read_text()
    (shop / "catalog" / "copy.py").write_text(source.replace("Carrier", "Courier"))
    after = run(shop, db)["clones"]
    assert len(after) == len(before) + 1


def test_bad_files_are_counted_and_skipped(shop, tmp_path):
    """Binary, undecodable and unreadable files are reported, not fatal."""
    (shop / "blob.py").write_bytes(b"\x00\x01binary\x00" * 20)
    (shop / "latin.py").write_bytes("name = 'café'\n".encode("latin-1"))
    (shop / "broken.py").write_bytes(b"x = '\xff\xfe'\n")
    os.symlink("/proc/self/mem", shop / "unreadable.py")  # EIO even for root
    result = scan([shop], Settings(jobs=1), tmp_path / "i.db")
    reasons = {s.path: s.reason for s in result.skipped}
    assert reasons["blob.py"].startswith("binary")
    assert reasons["latin.py"].startswith("undecodable")
    assert reasons["broken.py"].startswith("undecodable")
    assert reasons["unreadable.py"].startswith("unreadable")
    assert result.stats.files_skipped == 4 and result.stats.files == 10


def test_unparsable_python_falls_back_to_tokens(shop, tmp_path):
    """A syntax error does not stop the file from being compared."""
    result = scan([shop], Settings(jobs=1), tmp_path / "i.db")
    assert any(f.path == "legacy/report_py2.py" for c in result.clones for f in c.fragments)


def test_an_empty_folder_scans_to_an_empty_report(tmp_path):
    """No files: zero stats, no clones, no error."""
    (tmp_path / "empty").mkdir()
    report = run(tmp_path / "empty", tmp_path / "i.db")
    assert report["clones"] == [] and report["stats"]["files"] == 0


def _scan_with_two_workers(tree: Path, db: Path, log: Path, out: Path) -> None:
    """Scan with two workers (in a forked, single-threaded child of the test: its pool
    forks too, and inherits the audit hook); every other process that opens a file
    of the tree appends its pid and the path to `log`. Writes the JSON report to `out`."""
    main = os.getpid()
    record = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    prefix = str(tree) + os.sep

    def opened(event: str, args: tuple) -> None:
        if event == "open" and os.getpid() != main and str(args[0]).startswith(prefix):
            os.write(record, f"{os.getpid()} {args[0]}\n".encode())

    sys.addaudithook(opened)
    out.write_text(json.dumps(to_dict(scan([tree], Settings(jobs=2), db))))


def test_the_process_pool_gives_the_same_report(shop, tmp_path):
    """Two workers find exactly what one does, and the files really are read in the workers."""
    for i in range(POOL_MIN_FILES):  # with the shop's own files, more than the pool needs
        shutil.copy(shop / "catalog" / "search.py", shop / "catalog" / f"search_{i}.py")
    one = stable(to_dict(scan([shop], Settings(jobs=1), tmp_path / "a.db")))
    assert one["stats"]["files_parsed"] > POOL_MIN_FILES
    log, out = tmp_path / "opened.log", tmp_path / "two.json"
    child = multiprocessing.get_context("fork").Process(
        target=_scan_with_two_workers, args=(shop, tmp_path / "b.db", log, out))
    child.start()
    child.join(timeout=120)
    if child.exitcode is None:
        child.kill()
        child.join()
    assert child.exitcode == 0
    assert stable(json.loads(out.read_text())) == one
    readers: dict[str, set[int]] = {}
    for line in log.read_text().splitlines():
        pid, path = line.split(" ", 1)
        readers.setdefault(path, set()).add(int(pid))
    # Every scanned file was opened by a worker process (the audit hook ignores the
    # scanning process itself), by one of at most two workers.
    assert len(readers) == one["stats"]["files"]
    workers = set().union(*readers.values())
    assert 1 <= len(workers) <= 2 and child.pid not in workers


@pytest.mark.parametrize("settings", [{"report_imports": True},
                                      {"report_boilerplate": True, "report_data": True}])
def test_noise_settings_report_more(shop, tmp_path, settings):
    """Turning a noise kind back on reports the boilerplate too."""
    quiet = run(shop, tmp_path / "a.db", min_tokens=10, min_lines=3)
    loud = run(shop, tmp_path / "b.db", min_tokens=10, min_lines=3, **settings)
    assert len(loud["clones"]) > len(quiet["clones"])


def test_a_scan_from_a_worker_thread_finishes(shop, tmp_path):
    """With other threads running (the bot's /scan), the pool starts from a fork server."""
    import threading

    for i in range(70):
        shutil.copy(shop / "catalog" / "search.py", shop / "catalog" / f"search_{i}.py")
    results = []
    worker = threading.Thread(target=lambda: results.append(
        scan([shop], Settings(jobs=2), tmp_path / "i.db")))
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive() and results[0].stats.files_parsed == 80
