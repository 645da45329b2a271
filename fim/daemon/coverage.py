"""Which directories inotify really watches, and what to do when some are not; the
descriptor limit that deep trees need.

A walk compares the directories it lists with the kernel's own list of watches (read from
``/proc/self/fdinfo``): a directory that escaped its watch is covered by periodic rescans.
"""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Iterator

from fim.core import paths


def inode_key(dev: int, ino: int) -> int:
    """One int per (device, inode): a set of 100,000 of these is a few MB, tuples twice that."""
    return (dev << 64) | ino


def watched_inodes() -> set[int]:
    """:func:`inode_key` of every directory this process's inotify instances watch.

    watchdog ignores a failure to watch a subdirectory (it only raises for the root), so the
    daemon compares this set with the directories a walk found to learn what is not covered.
    """
    found: set[int] = set()
    for line in inotify_watch_lines():
        fields = dict(part.split(":", 1) for part in line.split()[1:] if ":" in part)
        sdev = int(fields["sdev"], 16)  # the kernel's encoding: major << 20 | minor
        found.add(inode_key(os.makedev(sdev >> 20, sdev & 0xFFFFF), int(fields["ino"], 16)))
    return found


def watch_count() -> int:
    """How many watches this process's inotify instances hold (the kernel's count)."""
    return sum(1 for _line in inotify_watch_lines())


def inotify_watch_lines() -> Iterator[str]:
    """The ``inotify wd:`` lines of ``/proc/self/fdinfo``: one per watch the kernel holds for
    this process's inotify instances."""
    for fd in os.listdir("/proc/self/fd"):
        try:
            if "inotify" not in os.readlink(f"/proc/self/fd/{fd}"):
                continue
            with open(f"/proc/self/fdinfo/{fd}") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        yield from (line for line in lines if line.startswith("inotify wd:"))


def inotify_limits() -> dict[str, int | None]:
    """The kernel's inotify limits (None where unreadable), shown by ``fim status``."""
    limits: dict[str, int | None] = {}
    for name in ("max_user_watches", "max_user_instances", "max_queued_events"):
        try:
            with open(f"/proc/sys/fs/inotify/{name}") as fh:
                limits[name] = int(fh.read().strip())
        except (OSError, ValueError):
            limits[name] = None
    return limits


class Coverage:
    """Checks each directory a walk lists against the watches in place when the walk began;
    only suspects are kept (memory stays small with 100,000 directories), and they are checked
    again at the end against the watches then, since a watch may have been added meanwhile."""

    def __init__(self) -> None:
        self._watched = watched_inodes()
        self._suspects: list[tuple[int, bytes]] = []
        self.count = 0

    def directory(self, path: bytes, st: os.stat_result) -> None:
        self.count += 1
        key = inode_key(st.st_dev, st.st_ino)
        if key not in self._watched:
            self._suspects.append((key, path))

    def missing(self, under: list[bytes]) -> list[bytes]:
        if not self._suspects:
            return []
        watched = watched_inodes()
        return sorted(p for key, p in self._suspects if key not in watched and paths.root_of(p, under))


def sysctl_hint(reason: str) -> str:
    """The sysctl that lifts the inotify limit named in ``reason``; "" when none is."""
    for key, value in (("max_user_watches", 1048576), ("max_user_instances", 1024)):
        if key in reason:
            return f"raise it: echo fs.inotify.{key}={value} > /etc/sysctl.d/90-fim.conf && sysctl --system"
    return ""


def raise_open_files_limit() -> None:
    """Use every descriptor the hard limit allows: walks and the watch tree hold one per
    directory level, and a customer decides how deep their tree is."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(
                resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard)
            )
