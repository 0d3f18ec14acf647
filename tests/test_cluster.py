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
