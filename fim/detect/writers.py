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

from fim.core.model import Writer

CACHE_SECONDS = 1.0  # one /proc read per writer and second, whatever the burst
MAX_CACHED = 4096


def read_writer(pid: int, proc: str = "/proc") -> Writer:
    """The writer with ``pid`` as ``/proc`` describes it now; fields it cannot tell are None."""
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
    return Writer(pid, uid, _user(uid), comm, exe)


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

    def get(self, pid: int) -> Writer:
        now = self._clock()
        hit = self._cache.get(pid)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        writer = read_writer(pid)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()
        self._cache[pid] = (now, writer)
        return writer
