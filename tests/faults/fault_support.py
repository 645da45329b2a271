"""Helpers for the fault-injection tests: a daemon whose state directory is a tiny tmpfs in a
private mount namespace, a file system filled to the last page, the daemon's JSON log, the
`fim alerts pending` CLI, and a JSON-lines sink read back."""

from __future__ import annotations

import ast
import errno
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.daemon.conftest import DaemonProc

# Run inside the new user and mount namespace: mount the tmpfs over the state directory, say
# so, and hold the namespace (and so the file system) until killed. Daemons enter it with
# nsenter, which execs them: each keeps the pid the test knows, so signals reach it, and the
# file system outlives a daemon like a real disk does across restarts.
MOUNT_AND_HOLD = (
    'mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$2" || exit 71; echo mounted; exec sleep 100000'
)

# A query run inside the daemon's mount namespace. SQLite resolves symbolic links in database
# names, and /proc/<pid>/root reads as "/" from outside: a connection opened through it would
# open (and create) the file of the same name in *our* namespace, not the daemon's.
QUERY = (
    "import sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1], timeout=10)\n"
    "print(repr(conn.execute(sys.argv[2]).fetchall()))\n"
)


class TmpfsStateDaemon(DaemonProc):
    """``fim daemon`` in ``unshare --user --map-root-user --mount`` whose state directory (the
    database, status file and rule cache) is a tmpfs of ``size`` seen by the daemon only."""

    def __init__(self, tmp: Path, roots: list[str], *, size: str, **kw):
        super().__init__(tmp, roots, **kw)
        self.state = self.db.parent
        self.state_db = self.db  # the database's path as the daemon sees it
        self.size = size
        self.holder: subprocess.Popen | None = None  # holds the namespace with the tmpfs
        for tool in ("unshare", "nsenter"):
            if shutil.which(tool) is None:
                raise AssertionError(f"util-linux {tool} is needed for this test")

    def start(self, wait_ready: bool = True) -> TmpfsStateDaemon:
        if self.holder is None:
            self.state.mkdir(exist_ok=True)
            self.holder = subprocess.Popen(
                ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", MOUNT_AND_HOLD, "sh",
                 self.size, str(self.state)],
                stdout=subprocess.PIPE,
            )  # fmt: skip
            assert self.holder.stdout is not None
            if self.holder.stdout.readline() != b"mounted\n":
                raise AssertionError(f"cannot mount a tmpfs in a user namespace ({self.holder.wait()})")
        self._logfh = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["nsenter", f"--target={self.holder.pid}", "--user", "--mount", "--",
             sys.executable, "-m", "fim", "daemon", "--config", str(self.config), "--log-format", "json"],
            stderr=self._logfh,
            stdout=subprocess.DEVNULL,
            env=self.env,
        )  # fmt: skip
        self.db = self.inside(self.state_db)  # for exists() checks; queries go through query()
        if wait_ready:
            self.notify.wait_for("READY=1", after=len(self.notify.messages))
        return self

    def release(self) -> None:
        """Unmount the state file system (end the namespace holding it)."""
        if self.holder is not None and self.holder.poll() is None:
            self.holder.kill()
            self.holder.wait()

    def inside(self, path: Path) -> Path:
        """``path`` as the daemon sees it, reachable from here for plain file operations."""
        assert self.holder is not None
        return Path(f"/proc/{self.holder.pid}/root") / path.relative_to("/")

    def status(self) -> dict:
        """The daemon's status.json (on the state file system)."""
        return json.loads(self.inside(self.state / "status.json").read_text())

    def query(self, sql: str) -> list[tuple]:
        assert self.holder is not None and self.holder.poll() is None
        out = subprocess.run(
            ["nsenter", f"--target={self.holder.pid}", "--user", "--mount", "--",
             sys.executable, "-c", QUERY, str(self.state_db), sql],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if out.returncode != 0:
            raise AssertionError(f"query {sql!r} failed in the daemon's namespace: {out.stderr}")
        return ast.literal_eval(out.stdout)

    def findings(self) -> list[tuple[bytes, str, str]]:
        return self.query("SELECT path, rule, change FROM findings")

    def verdicts(self) -> dict[bytes, str]:
        return dict(self.query("SELECT path, verdict FROM files"))

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def fill(path: Path) -> int:
    """Write zeros to ``path`` until its file system has no page left; returns the bytes written."""
    total = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (b"\0" * 65536, b"\0" * 4096, b"\0" * 512):
            while True:
                try:
                    written = os.write(fd, chunk)
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
                total += written
                if written < len(chunk):
                    break
    finally:
        os.close(fd)
    return total


def log_events(log: Path) -> list[dict]:
    """The daemon's JSON log lines (other lines, such as a traceback, are skipped)."""
    events = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict):
            events.append(doc)
    return events


def wait_for(predicate, what: str, timeout: float = 30.0, step: float = 0.1, detail=lambda: ""):
    """Poll ``predicate`` until it returns something truthy (returned) or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out waiting for {what}\n{detail()}")
        time.sleep(step)


def alerts_pending(config: Path, fmt: str = "json") -> tuple[list[dict] | str, str]:
    """``fim alerts pending`` run as a real command: its rows (json) or text, and its stderr."""
    out = subprocess.run(
        [sys.executable, "-m", "fim", "alerts", "pending", "--config", str(config), "--format", fmt],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return (json.loads(out.stdout)["pending"] if fmt == "json" else out.stdout), out.stderr


def jsonl_paths(sink: Path) -> list[str]:
    """``file.path`` of every complete ECS line in a JSON-lines sink (empty if there is none)."""
    try:
        text = sink.read_text()
    except (FileNotFoundError, IsADirectoryError):
        return []
    return [json.loads(line).get("file", {}).get("path") for line in text.splitlines() if line.strip()]
