"""`scan --cluster`: files fingerprinted on a real Dask cluster of two worker processes
give the same clone set as a local scan; a bad or unreachable cluster is bad usage (exit
2) that leaves the index as it was; without Dask installed, `--cluster` says what to
install. Each scan runs in a subprocess, so no cluster thread or process outlives it in
the test process."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, run_cli

pytest.importorskip("distributed")

STDLIB_PACKAGES = ("email", "json", "asyncio", "concurrent", "importlib", "logging",
                   "http", "xml", "urllib", "multiprocessing", "unittest", "ctypes", "idlelib")
STDLIB_FILES = 200


def _report(tree: Path, db: Path, *options: str) -> dict:
    """The JSON report of a scan, without what changes from run to run."""
    result = run_cli("scan", tree, "--format", "json", "--db", db, "--quiet", *options)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    report.pop("request_id", None)
    report["stats"].pop("duration_s")
    return report


def _descendants(pid: int) -> set[int]:
    """The ids of the processes `pid` started, and of those they started."""
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                           text=True)
    children = {int(line) for line in found.stdout.split()}
    return children.union(*(_descendants(child) for child in children))


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting to be reaped does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def stdlib_sample(tmp_path_factory) -> Path:
    """200 files of a few standard-library packages, copied with their folders."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(path for package in STDLIB_PACKAGES
                   for path in (stdlib / package).rglob("*.py")
                   if "__pycache__" not in path.parts and "test" not in path.parts)
    assert len(files) >= STDLIB_FILES
    target = tmp_path_factory.mktemp("stdlib")
    for path in files[:STDLIB_FILES]:
        copy = target / path.relative_to(stdlib)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, copy)
    return target


@pytest.fixture(scope="module")
def scheduler():
    """A running scheduler with two worker processes (a LocalCluster in a child process),
    for `--cluster tcp://...`; its address."""
    script = ("import sys, logging\n"
              "from distributed import LocalCluster\n"
              "with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,"
              " silence_logs=logging.ERROR) as cluster:\n"
              "    print(cluster.scheduler_address, flush=True)\n"
              "    sys.stdin.read()\n")
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        address = child.stdout.readline().strip()
        assert address.startswith("tcp://"), address
        yield address
    finally:
        child.stdin.close()
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def test_a_local_cluster_gives_the_local_report_on_the_fixture_tree(tmp_path):
    """The shop's clones, exact, renamed and token-level, found the same way."""
    local = _report(FIXTURES / "shop", tmp_path / "local.db")
    assert local["clones"]
    clustered = _report(FIXTURES / "shop", tmp_path / "cluster.db",
                        "--cluster", "local", "--workers", "2")
    assert clustered == local


def test_a_local_cluster_gives_the_local_report_on_stdlib_files(stdlib_sample, tmp_path):
    local = _report(stdlib_sample, tmp_path / "local.db")
    assert local["stats"]["files_parsed"] >= STDLIB_FILES - 5 and len(local["clones"]) > 20
    clustered = _report(stdlib_sample, tmp_path / "cluster.db",
                        "--cluster", "local", "--workers", "2")
    assert clustered == local


def test_a_running_scheduler_gives_the_local_report(stdlib_sample, scheduler, tmp_path):
    """Joining a scheduler by address: its workers read the tree by the same paths."""
    local = _report(stdlib_sample, tmp_path / "local.db")
    assert _report(stdlib_sample, tmp_path / "cluster.db", "--cluster", scheduler) == local


def test_a_rescan_on_the_cluster_reads_only_the_changed_file(tmp_path):
    tree = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", tree)
    db = tmp_path / "i.db"
    first = _report(tree, db, "--cluster", "local", "--workers", "2")
    with open(tree / "catalog" / "search.py", "a") as handle:
        handle.write("\n\ndef added():\n    return 1\n")
    second = _report(tree, db, "--cluster", "local", "--workers", "2")
    assert second["stats"]["files_parsed"] == 1
    assert second["stats"]["files_reused"] == first["stats"]["files"] - 1
    assert second["clones"] == _report(tree, tmp_path / "local.db")["clones"]


def test_an_unreachable_scheduler_is_exit_2_quickly_and_keeps_the_index(tmp_path):
    tree = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", tree)
    db = tmp_path / "i.db"
    before = _report(tree, db)
    (tree / "catalog" / "search.py").unlink()
    started = time.monotonic()
    result = run_cli("scan", tree, "--db", db, "--cluster", "tcp://127.0.0.1:1")
    assert time.monotonic() - started < 10
    assert result.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr
    shutil.copytree(FIXTURES / "shop", tree, dirs_exist_ok=True)  # the tree as it was
    again = _report(tree, db)
    assert again["stats"]["files_reused"] == before["stats"]["files"]  # nothing re-read
    assert again["clones"] == before["clones"]


@pytest.mark.parametrize("options, message", [
    (("--cluster", "yarn"), "--cluster must be 'local' or a scheduler address"),
    (("--cluster", "tcp://host"), "--cluster must be 'local' or a scheduler address"),
    (("--cluster", "local", "--workers", "0"), "--workers must be 1 or more"),
    (("--workers", "2"), "--workers needs --cluster local"),
    (("--cluster", "tcp://127.0.0.1:8786", "--workers", "2"), "--workers applies to"),
])
def test_bad_cluster_options_are_exit_2(tmp_path, options, message):
    result = run_cli("scan", FIXTURES / "shop", "--db", tmp_path / "i.db", *options)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_without_dask_the_cluster_option_says_what_to_install(tmp_path):
    """Dask made unimportable in the scanning process: the option names the extra."""
    probe = ("import sys; sys.modules['distributed'] = None; sys.modules['dask'] = None\n"
             "from engine.cli import main\n"
             f"sys.exit(main(['scan', {str(FIXTURES / 'shop')!r}, '--db', "
             f"{str(tmp_path / 'i.db')!r}, '--cluster', 'local']))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert "pip install 'codebot[cluster]'" in result.stderr
    assert "Traceback" not in result.stderr
    # and without --cluster, the same process scans as always
    probe = probe.replace(", '--cluster', 'local'", ", '--quiet'")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True,
                          timeout=120).returncode == 0


def test_a_scan_without_cluster_imports_no_dask(tmp_path):
    probe = ("import sys\nfrom engine.cli import main\n"
             f"code = main(['scan', {str(FIXTURES / 'shop')!r}, '--db', "
             f"{str(tmp_path / 'i.db')!r}, '--quiet'])\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('dask', 'distributed', 'tornado', 'cloudpickle')))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_an_interrupted_cluster_scan_leaves_no_process_behind(tmp_path, stdlib_sample):
    """Ctrl-C at a terminal (SIGINT to the whole process group) while the workers
    fingerprint: exit 130 with one line, the index keeps the previous scan, and the
    LocalCluster's processes are gone with the scan."""
    db = tmp_path / "i.db"
    scan = subprocess.Popen([sys.executable, "-m", "engine", "scan", str(stdlib_sample),
                             "--db", str(db), "--cluster", "local", "--workers", "2",
                             "--progress"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    for line in scan.stderr:
        if line.startswith("codebot: reading and fingerprinting"):
            break
    started = _descendants(scan.pid)
    assert len(started) >= 2, "the cluster's worker processes run"
    os.killpg(scan.pid, signal.SIGINT)
    rest = scan.stderr.read()
    assert scan.wait(timeout=60) == 130, rest
    assert rest == "codebot: interrupted; the index keeps the previous scan\n"
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in started if _alive(pid)]


def test_an_unchanged_rescan_starts_no_local_cluster(tmp_path):
    """Nothing to fingerprint or match: the LocalCluster is never started."""
    from engine.cluster import cluster_spec, connected
    from engine.config import Settings
    from engine.scan import scan

    tree = tmp_path / "shop"
    shutil.copytree(FIXTURES / "shop", tree)
    db = tmp_path / "i.db"
    first = scan([tree], Settings(), db)
    with connected(cluster_spec("local", 1)) as cluster:
        again = scan([tree], Settings(), db, cluster=cluster)
        assert not cluster.started
    assert again.clones == first.clones and again.stats.files_reused == first.stats.files


def test_a_worker_lost_during_matching_is_a_cluster_error(scheduler):
    """A partition lives on one worker only: its worker killed while the partition's task
    runs, the step fails as a ClusterError (exit 2) instead of hanging or passing."""
    from engine.cluster import cluster_spec, connected, spread_on
    from engine.exceptions import ClusterError

    with connected(cluster_spec(scheduler, None)) as cluster:
        client = cluster.client()

        def payloads():
            yield 3  # time.sleep(3) on a worker
            [address] = {address for addresses in client.who_has().values()
                         for address in addresses}
            os.kill(client.run(os.getpid, workers=[address])[address], signal.SIGKILL)

        started = time.monotonic()
        with pytest.raises(ClusterError, match="the index keeps the previous scan"):
            spread_on(cluster).run(time.sleep, payloads())
        assert time.monotonic() - started < 30
        client.wait_for_workers(2, timeout=30)  # the nanny brings the worker back


# In a process of its own: a LocalCluster of two worker processes (each under a nanny),
# and a scan of argv[1] into the index argv[2] on it whose progress callback SIGKILLs a
# worker that is running a fingerprinting task as the first file comes back. Prints
# "killed PID" once the worker is killed, and writes the report and the facts to argv[3].
_SCAN_KILLING_A_WORKER = """\
import json, logging, os, signal, sys
from pathlib import Path
from distributed import Client, LocalCluster
from engine.cluster import cluster_spec, connected
from engine.config import load_settings
from engine.report import to_dict
from engine.scan import scan

tree, db, out = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
logging.getLogger("distributed").setLevel(logging.CRITICAL)  # the lost worker's warnings
with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                  silence_logs=logging.CRITICAL) as cluster, \\
        Client(cluster, set_as_default=False) as client:
    workers = client.run(os.getpid)  # address -> pid of each worker process
    killed = {}

    def progress(phase, done, total):
        if phase != "reading" or killed:
            return
        busy = {address: len(keys) for address, keys in client.processing().items() if keys}
        victim = max(busy, key=busy.get) if busy else min(workers)
        os.kill(workers[victim], signal.SIGKILL)
        killed.update(pid=workers[victim], done=done, total=total,
                      running=busy.get(victim, 0))
        print("killed", workers[victim], flush=True)

    with connected(cluster_spec(cluster.scheduler_address, None)) as on_cluster:
        result = scan([tree], load_settings(tree, {}), db, progress=progress,
                      cluster=on_cluster)
    client.wait_for_workers(2, timeout=30)  # the nanny started a new worker process
    after = client.run(os.getpid)
    out.write_text(json.dumps({"killed": killed, "workers": list(workers.values()),
                               "workers_after": list(after.values()),
                               "report": to_dict(result)}))
"""


@pytest.mark.faults
def test_a_worker_killed_mid_scan_is_replaced_and_the_report_is_the_local_one(
        tmp_path, stdlib_sample):
    """A worker process SIGKILLed while it fingerprints, with most files still to come
    back: Dask runs its tasks again on the other worker (a task is given up only after it
    has killed `distributed.scheduler.allowed-failures` workers, 3 by default), its nanny
    starts a new worker, and the scan completes with the local scan's report. No process
    of the cluster outlives the scan."""
    out, stderr = tmp_path / "outcome.json", tmp_path / "stderr"
    with open(stderr, "w") as errors:
        helper = subprocess.Popen(
            [sys.executable, "-c", _SCAN_KILLING_A_WORKER, str(stdlib_sample),
             str(tmp_path / "cluster.db"), str(out)],
            stdout=subprocess.PIPE, stderr=errors, text=True, start_new_session=True)
    # Bounded in time: the whole process group is killed if it takes more than 2 minutes.
    watchdog = threading.Timer(120, os.killpg, (helper.pid, signal.SIGKILL))
    watchdog.start()
    try:
        said = helper.stdout.readline()
        started = _descendants(helper.pid)  # the workers, the new one perhaps, helpers
        helper.stdout.read()
        helper.wait()
    finally:
        watchdog.cancel()
        if helper.poll() is None:
            os.killpg(helper.pid, signal.SIGKILL)
            helper.wait()
    assert helper.returncode == 0, stderr.read_text()[-3000:]
    outcome = json.loads(out.read_text())
    killed = outcome["killed"]
    assert said.split() == ["killed", str(killed["pid"])]
    # Mid-scan, not after: the worker was running a task, and few files were back.
    assert killed["running"] >= 1
    assert killed["done"] < killed["total"] / 2 and killed["total"] >= STDLIB_FILES - 5
    assert killed["pid"] in outcome["workers"]
    assert killed["pid"] not in outcome["workers_after"] and len(outcome["workers_after"]) == 2
    report = outcome["report"]
    report.pop("request_id", None)
    report["stats"].pop("duration_s")
    assert report == _report(stdlib_sample, tmp_path / "local.db")
    leftover = started | set(outcome["workers"]) | set(outcome["workers_after"])
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in leftover) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in leftover if _alive(pid)]
