"""A customer attacks real-time watching itself: a real daemon, real inotify, real customers.

Two customers (uid 2001 and 2002, no passwd entry needed) own their homes; the attacks run in
a subprocess that drops to the customer's uid before doing anything, so they can do only what
a customer can. After each attack, a shell written by the *other* customer must still be found
in real time, and ``fim status`` must tell the truth about the event reader.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.daemon.conftest import SHELL, DaemonProc, each_source, spawn_daemons
from tests.deep_trees import remove_tree

ALICE, BOB = 2001, 2002

# Run attack code as a customer. The interpreter may live where the customer cannot read it, so
# the modules the attack needs are loaded first, then privileges are dropped for good.
AS_CUSTOMER = """\
import ctypes, os, sys, threading, time
uid = int(sys.argv[1])
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
assert os.getuid() == uid and os.geteuid() == uid
exec(sys.argv[2])
"""

DEEP_TREE = """\
fd = os.open(sys.argv[3], os.O_RDONLY | os.O_DIRECTORY)
for _ in range(int(sys.argv[4])):
    os.mkdir(sys.argv[5], dir_fd=fd)
    fd, old = os.open(sys.argv[5], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd), fd
    os.close(old)
if len(sys.argv) > 6:
    out = os.open(sys.argv[6], os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(out, sys.argv[7].encode())
    os.close(out)
"""

# Swap two directories with renameat2(RENAME_EXCHANGE) as fast as possible while other threads
# create, write and delete files and directories in both.
EXCHANGE_STORM = """\
libc = ctypes.CDLL(None, use_errno=True)
a, b = (os.path.join(sys.argv[3], n).encode() for n in ("x", "y"))
stop = time.monotonic() + float(sys.argv[4])
swaps = 0

def exchange():
    global swaps
    while time.monotonic() < stop:
        if libc.renameat2(-100, a, -100, b, 2) != 0:
            raise OSError(ctypes.get_errno(), "renameat2")
        swaps += 1

def churn(tag):
    i = 0
    while time.monotonic() < stop:
        for d in (a, b, a + b"/sub", b + b"/sub"):
            try:
                with open(d + b"/f%s%d.txt" % (tag, i % 40), "wb") as fh:
                    fh.write(b"x")
                os.mkdir(d + b"/k%s%d" % (tag, i % 8))
                os.rmdir(d + b"/k%s%d" % (tag, (i + 4) % 8))
            except OSError:
                pass
        i += 1

threads = [threading.Thread(target=exchange)] + [threading.Thread(target=churn, args=(t,)) for t in b"pq"]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(swaps)
"""


def as_customer(uid: int, code: str, *args: str | bytes) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-c", AS_CUSTOMER, str(uid), code, *[os.fsdecode(a) for a in args]]
    done = subprocess.run(argv, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    return done


@pytest.fixture
def customers():
    """A hosting tree customers can traverse (pytest's own temporary folders are root-only)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to run the attacks as real customers (setuid to uid 2001/2002)")
    base = Path(tempfile.mkdtemp(prefix="fim-realtime-"))
    os.chmod(base, 0o711)
    try:
        for name, uid in (("alice", ALICE), ("bob", BOB)):
            home = base / "home" / name
            (home / "public_html/uploads").mkdir(parents=True)
            (home / "public_html/index.php").write_text("<?php echo 'hi';")
            for path in (home, home / "public_html", home / "public_html/uploads"):
                os.chown(path, uid, uid)
            os.chmod(home, 0o711)
        os.chmod(base / "home", 0o711)
        yield base
    finally:
        remove_tree(base)  # the attacks leave trees too deep for shutil.rmtree


@pytest.fixture(params=["inotify", "fanotify"])
def event_source(request) -> str:
    """Every attack runs against each event source."""
    return each_source(request)


@pytest.fixture
def daemon(customers, event_source):
    yield from spawn_daemons(customers, events=event_source)


def status(d: DaemonProc) -> dict:
    run = subprocess.run(
        [sys.executable, "-m", "fim", "status", "--config", str(d.config), "--format", "json"],
        capture_output=True,
        timeout=60,
    )
    return json.loads(run.stdout)


def wait_for(condition, what: str, d: DaemonProc, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}; log:\n{d.log.read_text()[-4000:]}")


def log_records(d: DaemonProc) -> list[dict]:
    out = []
    for line in d.log.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def rules_for(d: DaemonProc, path: Path | bytes) -> set[str]:
    raw = bytes(path)
    return {r for p, r, _c in d.findings() if p == raw}


def test_thousand_deep_tree_does_not_stop_real_time_detection_for_other_customers(daemon, customers):
    d = daemon().start()
    as_customer(ALICE, DEEP_TREE, customers / "home/alice/public_html", "1000", "d")
    shell = customers / "home/bob/public_html/uploads/after-deep-tree.php"
    shell.write_bytes(SHELL)
    d.wait_finding(shell, timeout=30)  # real time: this config rescans no watched root
    doc = status(d)
    assert doc["state"] == "running", doc
    assert "event reader died" not in d.log.read_text()
    assert d.stop() == 0


def test_directory_exchange_races_with_churn_do_not_blind_real_time_detection(daemon, customers):
    uploads = customers / "home/alice/public_html/uploads"
    for name in ("x/sub", "y/sub"):
        (uploads / name).mkdir(parents=True)
    for path in (uploads / "x", uploads / "y", uploads / "x/sub", uploads / "y/sub"):
        os.chown(path, ALICE, ALICE)
    d = daemon().start()
    swaps = int(as_customer(ALICE, EXCHANGE_STORM, uploads, "4").stdout)
    assert swaps > 100  # the race really ran
    shell = customers / "home/bob/public_html/uploads/after-exchanges.php"
    shell.write_bytes(SHELL)
    d.wait_finding(shell, timeout=30)
    # Not silently dead: the reader kept running (or, had it died, status would say so).
    doc = status(d)
    assert doc["running"] is True and doc["state"] == "running", doc
    assert "event reader died" not in d.log.read_text()
    # And the swapped directories themselves are still watched.
    late = uploads / "x/sub/late.php"
    late.write_bytes(SHELL)
    d.wait_finding(late, timeout=30)
    assert d.stop() == 0


class ReaderKillingDaemon(DaemonProc):
    """The real daemon, except that the event parser (watchdog's for inotify, ours for
    fanotify) raises on a file named ``fim-test-kill-reader``: a failure inside the reader
    thread, as a kernel or library surprise would cause, provoked from outside by creating a
    file. (An error while handling one event does not end the thread; a parser failure does.)"""

    BOOT = (
        "import sys\n"
        "from watchdog.observers import inotify_c\n"
        "original = inotify_c.InotifyFD._parse_event_buffer\n"
        "def parse(buffer):\n"
        "    for event in original(buffer):\n"
        "        if b'fim-test-kill-reader' in event[3]:\n"
        "            raise RuntimeError('injected failure in the event reader')\n"
        "        yield event\n"
        "inotify_c.InotifyFD._parse_event_buffer = staticmethod(parse)\n"
        "from fim.daemon import fanotify_abi\n"
        "fan_original = fanotify_abi.parse\n"
        "def fan_parse(buffer):\n"
        "    for event in fan_original(buffer):\n"
        "        if b'fim-test-kill-reader' in event.name:\n"
        "            raise RuntimeError('injected failure in the event reader')\n"
        "        yield event\n"
        "fanotify_abi.parse = fan_parse\n"
        "from fim.cli.main import main\n"
        "main(sys.argv[1:])\n"
    )

    def start(self, wait_ready: bool = True) -> DaemonProc:
        self._logfh = open(self.log, "ab")  # noqa: SIM115
        argv = [
            sys.executable,
            "-c",
            self.BOOT,
            "daemon",
            "--config",
            str(self.config),
            "--log-format",
            "json",
        ]
        self.proc = subprocess.Popen(argv, stderr=self._logfh, stdout=subprocess.DEVNULL, env=self.env)
        if wait_ready:
            self.notify.wait_for("READY=1", after=len(self.notify.messages))
        return self


@pytest.fixture
def killing_daemon(customers, event_source):
    yield from spawn_daemons(customers, ReaderKillingDaemon, events=event_source)


def test_event_reader_that_dies_is_reported_degraded_restarted_and_rescans(killing_daemon, customers):
    d = killing_daemon().start()
    alice = customers / "home/alice/public_html"
    (alice / "fim-test-kill-reader").write_bytes(b"")
    # Noticed, logged with the exception, and a health finding for the alert sinks.
    wait_for(
        lambda: any(r.get("event") == "event reader died" for r in log_records(d)), "death not logged", d
    )
    died = next(r for r in log_records(d) if r.get("event") == "event reader died")
    assert "injected failure in the event reader" in died["error"]
    assert "RuntimeError" in died["traceback"]
    wait_for(lambda: any(r == "fim_events_failed" for _p, r, _c in d.findings()), "no health finding", d)
    # A shell written while the reader was dead or restarting is found (the restart rescans).
    during = customers / "home/bob/public_html/uploads/while-dead.php"
    during.write_bytes(SHELL)
    d.wait_finding(during, timeout=30)
    # It dies again at once: restarted after a pause, during which status says why.
    (alice / "fim-test-kill-reader").unlink()
    wait_for(lambda: status(d)["state"] == "degraded", "status never said degraded", d, timeout=60)
    doc = status(d)
    assert "event reader died" in doc["degraded"]["events"], doc
    assert "injected failure" in doc["degraded"]["events"], doc
    assert doc["running"] is True  # degraded, but running: fim status exits 0
    # Then it recovers and watches in real time again.
    wait_for(lambda: status(d)["state"] == "running", "never recovered", d, timeout=90)
    assert any(r.get("event") == "recovered" and r.get("cause") == "events" for r in log_records(d))
    after = customers / "home/bob/public_html/uploads/after-restart.php"
    after.write_bytes(SHELL)
    d.wait_finding(after, timeout=30)
    assert d.stop() == 0


def test_shell_written_through_a_hard_link_from_outside_the_tree_is_found_by_the_periodic_rescan(
    daemon, customers
):
    d = daemon(extra_config="[policy]\nenabled = true\n").start()
    home = customers / "home/alice"
    outside, inside = home / "notes.txt", home / "public_html/uploads/photo.jpg"
    # The customer links a harmless file of theirs, kept outside the watched tree, into uploads.
    as_customer(ALICE, "open(sys.argv[3], 'wb').write(b'notes'); os.link(sys.argv[3], sys.argv[4])",
                outside, inside)  # fmt: skip
    wait_for(lambda: "policy.hardlink" in rules_for(d, inside), "no hard-link finding", d)
    conn = sqlite3.connect(d.db, timeout=10)
    severity, family = conn.execute(
        "SELECT severity, family FROM findings WHERE rule = 'policy.hardlink'"
    ).fetchone()
    conn.close()
    assert (severity, family) == ("low", "policy")
    # Then writes the shell through the outside name: no event names photo.jpg.
    as_customer(ALICE, "open(sys.argv[3], 'r+b').write(sys.argv[4].encode())", outside, SHELL.decode())
    wait_for(lambda: "test_marker_eval" in rules_for(d, inside), "shell behind the hard link not found", d)
    assert d.stop() == 0


def test_shell_in_a_directory_deeper_than_path_max_is_found(daemon, customers):
    d = daemon().start()
    uploads = customers / "home/alice/public_html/uploads"
    depth, name = 24, "d" * 200
    as_customer(ALICE, DEEP_TREE, uploads, str(depth), name, "probe.txt", "nothing to see")
    probe = bytes(uploads) + (b"/" + name.encode()) * depth + b"/probe.txt"
    assert len(probe) > 4096
    # The tree is known (the probe at its bottom has a verdict) before the shell arrives, so
    # the shell can only be found by a watch on that directory or a rescan of it.
    d.wait_verdicts({probe}, timeout=60)
    shell = probe.rsplit(b"/", 1)[0] + b"/shell.php"
    as_customer(ALICE, "fd = os.open(sys.argv[3], os.O_RDONLY)\n"
                       "for part in sys.argv[4].split('/'):\n"
                       "    fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)\n"
                       "out = os.open('shell.php', os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)\n"
                       "os.write(out, sys.argv[5].encode())\n",
                uploads, "/".join([name] * depth), SHELL.decode())  # fmt: skip
    d.wait_finding(shell, timeout=30)
    assert d.stop() == 0


# Rename directories back and forth (into and out of the uploads tree, and to names outside the
# root) as fast as possible while writing files into them.
RENAME_STORM = """\
up, home = sys.argv[3], sys.argv[4]
cycle = ((up + "/r1", up + "/r2"), (up + "/r2", home + "/parked"), (home + "/parked", up + "/r1"))
stop = time.monotonic() + float(sys.argv[5])
renames = 0
i = 0
while time.monotonic() < stop:
    for src, dst in cycle:
        try:
            os.rename(src, dst)
            renames += 1
        except OSError:
            pass
    try:
        with open(up + "/r1/f%d.txt" % (i % 50), "wb") as fh:
            fh.write(b"x")
    except OSError:
        pass
    i += 1
print(renames)
"""


def test_rename_storm_in_and_out_of_the_root_does_not_blind_real_time_detection(daemon, customers):
    uploads = customers / "home/alice/public_html/uploads"
    (uploads / "r1").mkdir()
    os.chown(uploads / "r1", ALICE, ALICE)
    d = daemon().start()
    renames = int(as_customer(ALICE, RENAME_STORM, uploads, customers / "home/alice", "4").stdout)
    assert renames > 100  # the storm really ran
    shell = customers / "home/bob/public_html/uploads/after-renames.php"
    shell.write_bytes(SHELL)
    d.wait_finding(shell, timeout=30)
    doc = status(d)
    assert doc["state"] == "running", doc
    assert "event reader died" not in d.log.read_text()
    # The directory that went in and out of the root is covered where it ends up.
    moved = uploads / "r1"
    assert moved.is_dir()
    late = moved / "late.php"
    late.write_bytes(SHELL)
    d.wait_finding(late, timeout=30)
    assert d.stop() == 0
