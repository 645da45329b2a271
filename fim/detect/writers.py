"""Who wrote a file: the writing process, read from ``/proc`` at event time.

fanotify gives the pid of the process that wrote (closed) the file -- its thread group id,
as ``FAN_REPORT_TID`` is not asked for. Everything else is read from ``/proc/PID`` right away,
while the process most likely still runs (a php-fpm worker does; a short-lived ``cp`` may be
gone, and then only the pid is known). A pid reused between the event and the read would be
misattributed; reading at once keeps that window to microseconds.
"""

from __future__ import annotations

import os
import pwd
import time
from collections.abc import Callable

from fim.core.model import Writer

CACHE_SECONDS = 1.0  # one /proc read per writer and second, whatever the burst
MAX_CACHED = 4096


def read_writer(
    pid: int, proc: str = "/proc", user_name: Callable[[int | None], str | None] | None = None
) -> Writer:
    """The writer with ``pid`` as ``/proc`` describes it now; fields it cannot tell are None.
    ``user_name`` turns the uid into a name (default: a passwd lookup each time)."""
    uid = comm = exe = None
    try:
        with open(f"{proc}/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Uid:"):
                    uid = int(line.split()[2])  # real, effective, saved, fs: the effective
                    break
    except (OSError, ValueError, IndexError):
        return Writer(pid)  # gone: unknown
    try:
        with open(f"{proc}/{pid}/comm", "rb") as fh:
            comm = fh.read().rstrip(b"\n").decode("utf-8", "replace")
    except OSError:
        pass
    try:
        exe = os.readlink(f"{proc}/{pid}/exe".encode())
    except OSError:
        pass  # a kernel thread, or gone meanwhile
    return Writer(pid, uid, (user_name or _user)(uid), comm, exe)


def _user(uid: int | None) -> str | None:
    if uid is None:
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None  # a uid without a passwd entry


class WriterCache:
    """:func:`read_writer` with a short memory per pid (a burst from one process costs one read)."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._cache: dict[int, tuple[float, Writer]] = {}
        # uid -> name: the passwd lookup may go to LDAP/sssd, and the reader thread waits on it.
        # A burst from many short-lived processes of one customer costs one lookup.
        self._users: dict[int | None, str | None] = {}

    def get(self, pid: int) -> Writer:
        now = self._clock()
        hit = self._cache.get(pid)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        writer = read_writer(pid, user_name=self._user)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
            self._users.clear()  # a renamed account is seen again, now and then
        self._cache[pid] = (now, writer)
        return writer

    def _user(self, uid: int | None) -> str | None:
        if uid not in self._users:
            self._users[uid] = _user(uid)
        return self._users[uid]
