"""Inspection in worker processes: the scanner opens each file, a worker gets the descriptor.

The workers are real forked processes; a content check (which runs in the worker, after
matching) is how these tests look inside one or make one die.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

import pytest

from fim.config import loader as config_mod
from fim.core.model import FileState, RuleMatch, ScanReport, Severity
from fim.detect import rules
from fim.scanner.fair_queue import FairQueue, Job
from fim.scanner.pipeline import Scanner
from fim.store.database import Store

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_POST['x']); ?>"
SCANNER_PID = os.getpid()


def engine_for(marker_rules: Path) -> rules.YaraEngine:
    return rules.YaraEngine.build(rules.discover([marker_rules], bundled=False))


def scanner(marker_rules: Path, store: Store, *, processes: bool, checks=(), jobs: int = 2) -> Scanner:
    return Scanner(
        config=config_mod.from_dict({}), engine=engine_for(marker_rules), store=store, checks=checks,
        jobs=jobs, processes=processes,
    )  # fmt: skip


def scan(marker_rules: Path, root: Path, *, processes: bool, checks=(), jobs: int = 2) -> ScanReport:
    with Store.memory() as store:
        s = scanner(marker_rules, store, processes=processes, checks=checks, jobs=jobs)
        try:
            return s.scan([bytes(root)])
        finally:
            s.close()


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    for d in range(4):
        (root / f"d{d}").mkdir(parents=True)
        for f in range(15):
            (root / f"d{d}" / f"f{f}.php").write_bytes(b"<?php echo %d;" % f)
    (root / "d1" / "shell.php").write_bytes(SHELL)
    (root / "d2" / b"caf\xe9.php".decode("utf-8", "surrogateescape")).write_bytes(SHELL)
    return root


def summary(report: ScanReport) -> tuple:
    found = sorted((f.path, f.match.rule, f.state.sha256 if f.state else None) for f in report.findings)
    s = report.stats
    return found, s.files_seen, s.files_read, s.bytes_read, s.errors


def test_worker_processes_reach_the_same_verdicts_as_threads(site, marker_rules):
    in_processes = scan(marker_rules, site, processes=True)
    in_threads = scan(marker_rules, site, processes=False)
    assert summary(in_processes) == summary(in_threads)
    assert len(in_processes.findings) == 2  # the non-UTF-8 name too, its bytes intact
    assert in_processes.stats.files_read == 62 and in_processes.stats.errors == 0


@dataclass(frozen=True)
class DieOn:
    """A check that kills the worker process inspecting a file with this name."""

    name: bytes
    version: str = "die-on"

    def check(self, path: bytes, head: bytes, state: FileState) -> list[RuleMatch]:
        if os.getpid() != SCANNER_PID and os.path.basename(path) == self.name:
            os.kill(os.getpid(), signal.SIGKILL)
        return []


def test_a_worker_killed_mid_file_costs_that_file_an_error_and_the_scan_goes_on(site, marker_rules):
    report = scan(marker_rules, site, processes=True, checks=[DieOn(b"f7.php")])
    # f7.php in each of the four directories; a file waiting behind it goes to another worker
    assert report.stats.errors == 4
    assert {p.path.rsplit(b"/", 1)[1] for p in report.problems} == {b"f7.php"}
    assert all("killed by signal 9" in p.reason for p in report.problems)
    assert report.stats.files_read == 58
    assert len(report.findings) == 2


@dataclass(frozen=True)
class OpenDescriptors:
    """Reports, as a match, what the process inspecting the file holds open."""

    version: str = "fds"

    def check(self, path: bytes, head: bytes, state: FileState) -> list[RuleMatch]:
        held = []
        for fd in sorted(int(n) for n in os.listdir("/proc/self/fd")):
            try:
                held.append(f"{fd}={os.readlink(b'/proc/self/fd/%d' % fd).decode('utf-8', 'replace')}")
            except OSError:
                pass  # the listing's own descriptor, closed by now
        return [RuleMatch("fds", "test", Severity.LOW, description="\n".join(held))]


def test_a_worker_holds_only_files_passed_to_it_and_no_directory_of_the_tree(site, marker_rules):
    report = scan(marker_rules, site, processes=True, checks=[OpenDescriptors()])
    target = bytes(site / "d3" / "f3.php")
    (finding,) = [f for f in report.findings if f.path == target and f.match.rule == "fds"]
    held = dict(item.split("=", 1) for item in finding.match.description.splitlines())
    inside = [t for t in held.values() if t.startswith(str(site))]
    # the file it inspects, and files of its batch still to come: descriptors passed to it
    assert os.fsdecode(target) in inside
    assert all(os.path.isfile(t) and not os.path.isdir(t) for t in inside)
    # each file's descriptor is closed once that file is done: none of the batch's earlier ones
    assert len(inside) <= 64


def deep_file(root: Path, depth: int, content: bytes) -> bytes:
    """A file below ``depth`` directories of 200-byte names (its path far past PATH_MAX)."""
    root.mkdir()
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    path = bytes(root)
    try:
        for level in range(depth):
            name = b"%03d" % level + b"d" * 197
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
            path += b"/" + name
        out = os.open(b"shell.php", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, content)
        os.close(out)
    finally:
        os.close(fd)
    return path + b"/shell.php"


def test_a_path_longer_than_a_socket_message_reaches_the_worker_and_its_verdict_comes_back(
    tmp_path, marker_rules
):
    path = deep_file(tmp_path / "deep", 200, SHELL)  # about 40 KB
    assert len(path) > 32 << 10
    report = scan(marker_rules, tmp_path / "deep", processes=True)
    assert [f.path for f in report.findings] == [path]
    assert report.stats.errors == 0


def test_one_worker_still_scans_everything(site, marker_rules):
    assert summary(scan(marker_rules, site, processes=True, jobs=1)) == summary(
        scan(marker_rules, site, processes=False, jobs=1)
    )


def job(tenant: str, expensive: bool) -> Job:
    return Job(None, None, None, 0, tenant, expensive)  # type: ignore[arg-type]


def test_fair_queue_with_depth_two_still_keeps_one_worker_from_a_tenants_large_files():
    queue = FairQueue(2, depth=2)
    for _ in range(4):
        queue.add(job("alice", expensive=True))
    queue.add(job("bob", expensive=False))
    taken = [queue.take(), queue.take(), queue.take()]
    assert [[j.tenant for j in b] if b else None for b in taken] == [["alice"], ["bob"], None]


def test_daemon_walks_look_up_a_slice_of_files_in_one_query_and_read_no_unchanged_file(site, marker_rules):
    with Store.memory() as store:
        s = scanner(marker_rules, store, processes=True)
        try:
            s.scan([bytes(site)])
            queries: list[int] = []
            lookup = store.lookup_identities
            store.lookup_identities = lambda paths, ruleset: (
                queries.append(len(paths)) or lookup(paths, ruleset)
            )  # type: ignore[method-assign]
            store.lookup = None  # type: ignore[assignment]  # not one query per file
            full_rows = store.lookup_many
            store.lookup_many = lambda paths: queries.append(-len(paths)) or full_rows(paths)  # type: ignore[method-assign]
            report = ScanReport(ruleset_version=s.version)
            scan_id = store.begin_scan("rescan", [], s.version)
            s.submit_many(list(s.walker(report).walk(bytes(site))), report, scan_id)
            s.drain()
        finally:
            s.close()
    assert queries == [62, -2]  # whole rows only for the two files with findings
    assert report.stats.skipped_unchanged == 62 and report.stats.files_read == 0
    assert len(report.findings) == 2  # the shells are still reported


def test_when_no_worker_process_can_be_started_the_scanner_inspects_the_files_itself(
    site, marker_rules, monkeypatch
):
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")  # EAGAIN: process limit

    monkeypatch.setattr(os, "fork", no_fork)
    report = scan(marker_rules, site, processes=True)
    assert summary(report) == summary(scan(marker_rules, site, processes=False))
    assert report.stats.errors == 0 and len(report.findings) == 2


def small_job(tenant: str, size: int) -> Job:
    return Job(None, None, None, 0, tenant, False, size)  # type: ignore[arg-type]


def test_fair_queue_batches_a_tenants_small_files_up_to_the_byte_and_file_bounds():
    queue = FairQueue(1, depth=4, batch_files=3, batch_bytes=100)
    for size in (40, 40, 40, 10, 90, 5):
        queue.add(small_job("alice", size))
    sizes = [[j.size for j in queue.take()] for _ in range(3)]
    # 40+40 fits, a third 40 would not; then three files at most; what is left
    assert sizes == [[40, 40], [40, 10], [90, 5]]


def test_fair_queue_batches_never_mix_tenants_and_tenants_still_take_turns():
    queue = FairQueue(1, depth=4, batch_files=10, batch_bytes=1000)
    for _ in range(3):
        queue.add(small_job("alice", 10))
    queue.add(small_job("bob", 10))
    queue.add(job("alice", expensive=True))
    taken = [queue.take() for _ in range(3)]
    assert [[(j.tenant, j.expensive) for j in b] for b in taken] == [
        [("alice", False)] * 3,
        [("bob", False)],
        [("alice", True)],  # a large file goes alone
    ]


def test_files_go_to_workers_in_batches_and_a_batch_whose_worker_dies_is_sent_again_file_by_file(
    tmp_path, marker_rules, monkeypatch
):
    from fim.scanner import workers

    root = tmp_path / "many"
    root.mkdir()
    for f in range(400):
        (root / f"f{f:03}.php").write_bytes(b"<?php echo %d;" % f)
    (root / "f200.php").write_bytes(SHELL)
    sent: list[list[bytes]] = []
    send = workers._Worker.send

    def recording_send(self, piece, fds):
        pending, places = piece
        sent.append([pending.jobs[i].cand.name for i in places])
        return send(self, piece, fds)

    monkeypatch.setattr(workers._Worker, "send", recording_send)
    report = scan(marker_rules, root, processes=True, checks=[DieOn(b"f123.php")])
    assert len(sent) < 200 and max(map(len, sent)) > 1  # batches: far fewer messages than files
    with_it = [names for names in sent if b"f123.php" in names]
    assert len(with_it[0]) > 1 and with_it[-1] == [b"f123.php"]  # its batch, then it alone
    assert [p.path.rsplit(b"/", 1)[1] for p in report.problems] == [b"f123.php"]
    assert "killed by signal 9" in report.problems[0].reason
    assert report.stats.files_read == 399 and report.stats.errors == 1
    assert [f.path.rsplit(b"/", 1)[1] for f in report.findings] == [b"f200.php"]


def test_a_batch_whose_files_grew_after_listing_is_given_back_unfinished_and_the_rest_waits_its_turn(
    tmp_path, marker_rules, monkeypatch
):
    """A customer who appends to small files once they are listed does not get a worker for a
    whole batch of large ones: the worker stops after reading twice a batch's bytes, and the
    files it did not start are sent again behind the batches already waiting."""
    from fim.detect.inspector import Inspector
    from fim.detect.walk import Candidate, DirHandle
    from fim.scanner import worker_process, workers

    grown = tmp_path / "grown"
    grown.mkdir()
    listed = []
    for n in range(6):
        path = grown / f"f{n}.php"
        path.write_bytes(b"<?php echo 1;")
        listed.append((path, os.lstat(path)))  # small when listed...
        with open(path, "ab") as f:  # ...large when read (same inode)
            f.write(b"x" * (worker_process.BATCH_BYTES))
    handle = DirHandle(os.open(grown, os.O_RDONLY | os.O_DIRECTORY), bytes(grown))
    jobs = []
    for path, st in listed:
        handle.acquire()
        cand = Candidate(bytes(path), path.name.encode(), handle, st)
        jobs.append(Job(cand, None, None, 0, "mallory", False, st.st_size))  # type: ignore[arg-type]
    sent: list[int] = []
    send = workers._Worker.send
    monkeypatch.setattr(
        workers._Worker, "send", lambda self, piece, fds: sent.append(len(fds)) or send(self, piece, fds)
    )
    pool = workers.ProcessWorkers(Inspector(engine_for(marker_rules)), 1)
    try:
        pool.submit(jobs)
        done = []
        while not done:
            done = pool.results(None)
    finally:
        pool.close()
        for job in jobs:
            job.cand.release()
        handle.release()
    [(_batch, insps)] = done
    assert [i.state.size for i in insps] == [13 + worker_process.BATCH_BYTES] * 6  # read whole
    # each message: the worker stops once it has read over twice a batch's bytes (two of
    # these files) and the files it did not start are sent again
    assert sent == [6, 4, 2]
