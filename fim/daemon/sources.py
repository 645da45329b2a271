"""Which event source runs: ``[daemon] events = "auto" | "fanotify" | "inotify"``, what ``auto``
finds on this host, and the constructor of each (:class:`fim.daemon.events.EventSource`)."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass

from fim.daemon import fanotify_abi as fa
from fim.daemon.events import SourceFactory
from fim.daemon.fanotify_source import EVENT_MASK, FanotifySource
from fim.daemon.inotify_reader import InotifyReader


@dataclass(frozen=True)
class Choice:
    """The event source to run and why it was chosen (logged at start). ``problem``: why the
    configured source cannot run here ("" when it can)."""

    name: str
    reason: str
    problem: str = ""


def choose(mode: str, probe_dirs: Iterable[bytes] = (b"/",)) -> Choice:
    """Which source ``mode`` means on this host, for roots on the file systems of ``probe_dirs``.

    ``auto`` takes fanotify when this process can create a FID-mode group and mark the file
    systems (``CAP_SYS_ADMIN``, Linux >= 5.9, a file system that reports handles), else inotify.
    """
    if mode == "inotify":
        return Choice("inotify", "configured (daemon.events = inotify)")
    problem = fanotify_problem(probe_dirs)
    if mode == "fanotify":
        return Choice("fanotify", "configured (daemon.events = fanotify)", problem)
    if problem:
        return Choice("inotify", f"fanotify not usable here ({problem})")
    return Choice("fanotify", "fanotify usable (CAP_SYS_ADMIN, file system marks)")


def fanotify_problem(probe_dirs: Iterable[bytes]) -> str:
    """Why this process cannot use fanotify for directories on ``probe_dirs``' file systems
    ("" when it can): tries a group and a file system mark on each, then drops them."""
    try:
        group = fa.fanotify_init()
    except OSError as exc:
        return f"fanotify_init failed: {exc.strerror} (needs CAP_SYS_ADMIN and Linux >= 5.9)"
    try:
        seen: set[int] = set()
        for path in probe_dirs:
            try:
                fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError:
                continue  # not there (yet): nothing to probe
            try:
                dev = os.fstat(fd).st_dev
                if dev in seen:
                    continue
                seen.add(dev)
                fa.mark_filesystem(group, fd, EVENT_MASK)
            except OSError as exc:
                why = " (file system marks need CAP_SYS_ADMIN)" if exc.errno == errno.EPERM else ""
                return f"cannot mark the file system of {os.fsdecode(path)}: {exc.strerror}{why}"
            finally:
                os.close(fd)
        return ""
    finally:
        with contextlib.suppress(OSError):
            os.close(group)


def factory(name: str) -> SourceFactory:
    """The constructor of the source called ``name``."""
    if name == "fanotify":
        return lambda coalescer, open_root: FanotifySource(coalescer, open_root=open_root)
    return lambda coalescer, open_root: InotifyReader(coalescer, open_root=open_root)


def probe_dirs(patterns: Iterable[str]) -> list[bytes]:
    """The fixed part of each root pattern (``/home`` of ``/home/*/public_html``): where the
    roots' file systems are probed. Written by the administrator, never a customer's path."""
    out: list[bytes] = [b"/"]
    for pattern in patterns:
        parts = []
        for part in pattern.split("/"):
            if any(c in part for c in "*?["):
                break
            parts.append(part)
        fixed = "/".join(parts) or "/"
        out.append(os.fsencode(fixed))
    return out
