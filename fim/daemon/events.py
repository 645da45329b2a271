"""The seam between the daemon and the kernel's file events: what any event source provides,
and which one runs (``[daemon] events = "auto" | "fanotify" | "inotify"``).

Two sources exist: :class:`fim.daemon.inotify_reader.InotifyReader` (a watch per directory,
works for any user) and :class:`fim.daemon.fanotify_source.FanotifySource` (one mark per file
system, needs ``CAP_SYS_ADMIN`` and Linux >= 5.9). Both feed the same coalescer; the daemon
and :class:`fim.daemon.watch.Watches` talk to them only through :class:`EventSource`.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from fim.daemon.coalescer import Coalescer

EVENT_SOURCES = ("auto", "fanotify", "inotify")


@runtime_checkable
class EventSource(Protocol):
    """What the daemon's work loop needs from a source of file events.

    One thread per source reads the kernel and adds due paths to the coalescer; everything
    the daemon must hear of (a lost root, a kernel queue overflow, the thread's death) is taken
    from it by the daemon's thread with the ``take_*`` methods.
    """

    name: str  # "inotify" or "fanotify", shown in the log, status and READY line
    # True when each directory needs a watch of its own (inotify): walks then compare the
    # directories they find with what is watched (fim.daemon.coverage). False for fanotify,
    # which covers every directory of a marked file system the moment it exists.
    per_directory: bool
    error: BaseException | None
    error_trace: str

    def start(self) -> None: ...

    @property
    def alive(self) -> bool: ...

    @property
    def stopping(self) -> bool:
        """True once :meth:`stop` was called: a thread that ended then did not die."""
        ...

    def add_root(self, root: bytes) -> str | None:
        """Cover ``root`` and everything below it; None when done, else why not."""
        ...

    def remove_root(self, root: bytes) -> None: ...

    def take_overflow(self) -> bool:
        """True once after the kernel's queue overflowed (events were lost)."""
        ...

    def take_lost_roots(self) -> list[bytes]:
        """Roots whose own directory was deleted or moved away since the last call."""
        ...

    def take_unwatchable(self) -> dict[bytes, str]:
        """Directories below roots that could not be covered, with the reason."""
        ...

    def set_patterns(self, patterns: tuple[str, ...]) -> None:
        """The root glob patterns: a source that sees directories outside the roots (fanotify)
        says when one that matches appears (:meth:`take_root_hint`)."""
        ...

    def take_root_hint(self) -> bool:
        """True once after a directory matching a root pattern appeared outside the roots:
        expand the globs now rather than at the next refresh."""
        ...

    def describe_coverage(self) -> str:
        """What is covered, in a few words ("1,204 directories watched", "2 file systems
        marked: every directory covered"), for the READY line and ``fim status``."""
        ...

    def take_event_errors(self) -> list[str]:
        """Errors met while handling single events (skipped, the thread went on), to log."""
        ...

    def describe_error(self) -> str:
        """Why the reader thread died ("" while it has not)."""
        ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


SourceFactory = Callable[[Coalescer, Callable[[bytes], int]], EventSource]


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
    from fim.daemon import fanotify_abi as fa
    from fim.daemon.fanotify_source import EVENT_MASK

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
        from fim.daemon.fanotify_source import FanotifySource

        return lambda coalescer, open_root: FanotifySource(coalescer, open_root=open_root)
    from fim.daemon.inotify_reader import InotifyReader

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
