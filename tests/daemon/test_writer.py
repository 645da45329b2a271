"""Who wrote it: a real customer process writes a shell into a watched root of a real daemon;
fanotify names the writer, and its pid, uid and command land in the database, the daemon's
finding log line and the ECS event an alert sink receives."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.daemon.conftest import SHELL, DaemonProc, fanotify_skip_reason, spawn_daemons
from tests.deep_trees import remove_tree

ALICE = 2001
# The writer: names itself like a pool worker would, writes the shell, closes it, then stays
# alive (as a php-fpm worker does) until the test closes its stdin.
WRITER = """\
import sys
with open("/proc/self/comm", "w") as fh:
    fh.write("upload-worker")
with open(sys.argv[1], "wb") as fh:
    fh.write(sys.argv[2].encode())
print("written", flush=True)
sys.stdin.read()
"""


def customer_python() -> str:
    """An interpreter a customer uid can run (the test's own may sit in root's home)."""
    for candidate in ("/usr/bin/python3", "/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("no system python3 for the customer process")


@pytest.fixture
def customer_tree():
    if os.geteuid() != 0:
        pytest.skip("needs root to run the writer as customer uid 2001")
    if shutil.which("setpriv") is None:
        pytest.skip("util-linux setpriv is needed to run the writer as a customer")
    base = Path(tempfile.mkdtemp(prefix="fim-writer-"))
    os.chmod(base, 0o711)
    try:
        uploads = base / "home/alice/public_html/uploads"
        uploads.mkdir(parents=True)
        for path in (base / "home/alice", base / "home/alice/public_html", uploads):
            os.chown(path, ALICE, ALICE)
        os.chmod(base / "home", 0o711)
        os.chmod(base / "home/alice", 0o711)
        yield base
    finally:
        remove_tree(base)


@pytest.fixture
def daemon(customer_tree):
    yield from spawn_daemons(customer_tree)


def write_as_customer(path: Path) -> subprocess.Popen:
    argv = ["setpriv", f"--reuid={ALICE}", f"--regid={ALICE}", "--clear-groups",
            customer_python(), "-c", WRITER, str(path), SHELL.decode()]  # fmt: skip
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"written\n"
    return proc


def wait_catch_up(d: DaemonProc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while '"walk finished"' not in d.log.read_text():
        assert time.monotonic() < deadline, d.log.read_text()[-3000:]
        time.sleep(0.05)


def writer_row(d: DaemonProc, path: Path) -> tuple:
    conn = sqlite3.connect(d.db, timeout=10)
    try:
        return conn.execute(
            "SELECT writer_pid, writer_uid, writer_user, writer_comm, writer_exe FROM findings WHERE path = ?",  # noqa: E501
            (bytes(path),),
        ).fetchone()
    finally:
        conn.close()


def test_shell_written_by_a_customer_process_records_its_pid_uid_and_command(daemon, customer_tree):
    reason = fanotify_skip_reason()
    if reason:
        pytest.skip(f"fanotify not usable by this process: {reason}")
    sink = customer_tree / "alerts.jsonl"
    d = daemon(
        events="fanotify",
        extra_config=f'[alerts]\n[[alerts.sinks]]\nname = "siem"\ntype = "jsonl"\npath = "{sink}"\n',
    ).start()
    wait_catch_up(d)  # a file the catch-up walk finds first has no writer to tell
    shell = customer_tree / "home/alice/public_html/uploads/drop.php"
    proc = write_as_customer(shell)
    try:
        d.wait_finding(shell, timeout=30)
        pid, uid, user, comm, exe = writer_row(d, shell)
        assert (pid, uid, comm) == (proc.pid, ALICE, "upload-worker")
        assert user is None  # uid 2001 has no passwd entry here: the uid is still known
        assert bytes(exe) == os.fsencode(os.path.realpath(customer_python()))
        # The daemon's finding log line names the writer.
        deadline = time.monotonic() + 10
        logged: list[dict] = []
        while not logged and time.monotonic() < deadline:
            logged = [r for r in map(_json, d.log.read_text().splitlines()) if r.get("event") == "finding"]
            time.sleep(0.1)
        assert logged and logged[0]["writer_pid"] == proc.pid and logged[0]["writer_comm"] == "upload-worker"
        # The alert sink's ECS event carries process.* and user.*.
        deadline = time.monotonic() + 20
        while not (sink.exists() and sink.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.1)
        event = json.loads(sink.read_text().splitlines()[0])
        assert event["process"] == {
            "pid": proc.pid,
            "name": "upload-worker",
            "executable": os.path.realpath(customer_python()),
        }
        assert event["user"] == {"id": str(ALICE)}
    finally:
        proc.communicate(timeout=10)
    assert d.stop() == 0


def test_with_inotify_the_writer_is_not_known_and_not_invented(daemon, customer_tree):
    d = daemon(events="inotify").start()
    shell = customer_tree / "home/alice/public_html/uploads/drop.php"
    proc = write_as_customer(shell)
    try:
        d.wait_finding(shell, timeout=30)
        assert writer_row(d, shell) == (None, None, None, None, None)
    finally:
        proc.communicate(timeout=10)
    assert d.stop() == 0


def _json(line: str) -> dict:
    try:
        return json.loads(line)
    except ValueError:
        return {}
