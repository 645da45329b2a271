"""A real ``fim daemon`` subprocess on a temporary hosting tree, with a real notify socket."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import MARKER_RULE

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_REQUEST['c']); ?>"


class NotifySocket:
    """The systemd side of sd_notify: a Unix datagram socket, read by a thread that stamps
    each message with its arrival time."""

    def __init__(self, path: Path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._closed = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._closed:
            try:
                data = self.sock.recv(4096)
            except (TimeoutError, BlockingIOError):
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode()))

    def poll(self) -> None:
        time.sleep(0.05)  # let the reader thread catch up

    def wait_for(self, needle: str, timeout: float = 30, after: int = 0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, (_t, msg) in enumerate(list(self.messages)[after:], after):
                if needle in msg.split("\n"):
                    return i
            time.sleep(0.02)
        raise AssertionError(f"no {needle!r} in {self.messages!r}")


class DaemonProc:
    def __init__(
        self,
        tmp: Path,
        roots: list[str],
        extra_config: str = "",
        env: dict | None = None,
        events: str = "auto",
    ):
        self.events = events
        self.tmp = tmp
        self.db = tmp / "state/fim.db"
        self.config = tmp / "fim.toml"
        self.rules = tmp / "marker.yar"
        self.rules.write_text(MARKER_RULE)
        roots_toml = ", ".join(f'"{r}"' for r in roots)
        self.config.write_text(
            f'[database]\npath = "{self.db}"\n'
            f'[rules]\nbundled = false\npaths = ["{self.rules}"]\n'
            f'[tenants]\npatterns = ["{tmp}/home/{{tenant}}/"]\n'
            f"[daemon]\nroots = [{roots_toml}]\nglob_refresh_seconds = 0.5\nrescan_seconds = 2\n"
            f'events = "{events}"\n' + extra_config
        )
        self.notify = NotifySocket(tmp / "notify.sock")
        self.env = {**os.environ, "NOTIFY_SOCKET": str(self.notify.path), **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.log = tmp / "daemon.log"

    def start(self, wait_ready: bool = True) -> DaemonProc:
        self._logfh = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fim", "daemon", "--config", str(self.config), "--log-format", "json"],
            stderr=self._logfh,
            stdout=subprocess.DEVNULL,
            env=self.env,
        )
        if wait_ready:
            self.notify.wait_for("READY=1", after=len(self.notify.messages))
        return self

    def stop(self, sig: int = 15, timeout: float = 20) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self._logfh.close()
        return code

    def findings(self) -> list[tuple[bytes, str, str]]:
        if not self.db.exists():
            return []
        conn = sqlite3.connect(self.db, timeout=10)
        try:
            return conn.execute("SELECT path, rule, change FROM findings").fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()

    def verdicts(self) -> dict[bytes, str]:
        conn = sqlite3.connect(self.db, timeout=10)
        try:
            return dict(conn.execute("SELECT path, verdict FROM files").fetchall())
        finally:
            conn.close()

    def wait_finding(self, path: Path | bytes, timeout: float = 30) -> None:
        raw = bytes(path) if isinstance(path, Path) else path
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(p == raw for p, _r, _c in self.findings()):
                return
            time.sleep(0.05)
        raise AssertionError(f"no finding for {raw!r}; log:\n{self.log.read_text()[-3000:]}")

    def wait_verdicts(self, paths: set[bytes], timeout: float = 60) -> dict[bytes, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.verdicts()
            if paths <= set(got):
                return got
            time.sleep(0.2)
        missing = paths - set(self.verdicts())
        raise AssertionError(f"{len(missing)} files without a verdict, e.g. {sorted(missing)[:3]}")


@pytest.fixture
def hosting(tmp_path):
    for tenant in ("alice", "bob"):
        (tmp_path / f"home/{tenant}/public_html/uploads").mkdir(parents=True)
        (tmp_path / f"home/{tenant}/public_html/index.php").write_text("<?php echo 'hi';")
    return tmp_path


def spawn_daemons(hosting: Path, cls: type[DaemonProc] = DaemonProc, **defaults):
    """Yield a factory of daemons on the ``hosting`` tree; every one is killed at the end."""
    procs: list[DaemonProc] = []

    def make(roots: list[str] | None = None, **kw) -> DaemonProc:
        d = cls(hosting, roots or [f"{hosting}/home/*/public_html"], **{**defaults, **kw})
        procs.append(d)
        return d

    try:
        yield make
    finally:
        for d in procs:
            if d.proc is not None and d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()


def fanotify_skip_reason() -> str:
    """Why this test process cannot run the fanotify source ("" when it can)."""
    from fim.daemon.sources import fanotify_problem

    return fanotify_problem([b"/", os.fsencode(tempfile.gettempdir())])


def each_source(request) -> str:
    """The body of an ``event_source`` fixture parametrized over both sources: fanotify is
    skipped (with the kernel's reason) only where this process may not use it."""
    if request.param == "fanotify":
        reason = fanotify_skip_reason()
        if reason:
            pytest.skip(f"fanotify not usable by this process: {reason}")
    return request.param


@pytest.fixture(params=["inotify", "fanotify"])
def event_source(request) -> str:
    """Each event source in turn: the tests here are about event delivery."""
    return each_source(request)


@pytest.fixture
def daemon(hosting, event_source):
    yield from spawn_daemons(hosting, events=event_source)
