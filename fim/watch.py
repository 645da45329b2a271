"""Real-time events: watchdog's inotify observer -> a coalescing, bounded set of due paths.

We act on close-after-write, creation, moves, deletion and attribute changes; a file written
in many chunks is scanned once, ``settle`` seconds after its last close (never later than
``max_delay`` after its first event, so a writer that keeps writing cannot starve the scan).
A bare modification without a close is scanned ``max_delay`` after it started: a writer that
never closes its file cannot hide it. When more than ``max_pending`` paths wait, the set is
dropped and the owner is told to rescan, which keeps memory bounded under a storm.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from fim import roots as roots_mod

# Events that mean "look at this path soon". Opened/closed-without-write events are ignored:
# our own reads cause them. DirModifiedEvent accompanies every change inside a directory.
_SETTLE_EVENTS = (
    FileClosedEvent,
    FileCreatedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    FileAttribEvent,
    DirCreatedEvent,
    DirMovedEvent,
    DirDeletedEvent,
)


@dataclass
class _Entry:
    first: float
    due: float


class Coalescer:
    """Paths waiting to be looked at, with the time each becomes due. Thread-safe."""

    def __init__(
        self,
        *,
        settle: float = 0.2,
        max_delay: float = 2.0,
        max_pending: int = 100_000,
        wake: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settle = settle
        self.max_delay = max_delay
        self.max_pending = max_pending
        self.wake = wake or threading.Event()
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[bytes, _Entry] = {}
        self._heap: list[tuple[float, bytes]] = []
        self.overflowed = False  # set when paths were dropped; the owner rescans and clears it
        self.events = 0

    def add(self, path: bytes, *, settle: bool = True) -> None:
        now = self._clock()
        with self._lock:
            self.events += 1
            entry = self._entries.get(path)
            if entry is None:
                if len(self._entries) >= self.max_pending:
                    self._entries.clear()
                    self._heap.clear()
                    self.overflowed = True
                    self.wake.set()
                    return
                delay = self.settle if settle else self.max_delay
                entry = self._entries[path] = _Entry(now, now + delay)
                heapq.heappush(self._heap, (entry.due, path))
            elif settle:
                due = min(now + self.settle, entry.first + self.max_delay)
                if due != entry.due:
                    entry.due = due
                    heapq.heappush(self._heap, (due, path))
        if settle:
            self.wake.set()

    def pop_due(self, limit: int = 1000) -> list[bytes]:
        now = self._clock()
        out: list[bytes] = []
        with self._lock:
            heap = self._heap
            while heap and heap[0][0] <= now and len(out) < limit:
                due, path = heapq.heappop(heap)
                entry = self._entries.get(path)
                if entry is not None and entry.due == due:  # else a stale heap item
                    del self._entries[path]
                    out.append(path)
        return out

    def next_due(self) -> float | None:
        with self._lock:
            while self._heap:
                due, path = self._heap[0]
                entry = self._entries.get(path)
                if entry is not None and entry.due == due:
                    return due
                heapq.heappop(self._heap)
        return None

    def take_overflow(self) -> bool:
        with self._lock:
            flag, self.overflowed = self.overflowed, False
            return flag

    def __len__(self) -> int:
        return len(self._entries)


class _Handler(FileSystemEventHandler):
    def __init__(self, coalescer: Coalescer):
        self._coalescer = coalescer

    def dispatch(self, event: FileSystemEvent) -> None:
        add = self._coalescer.add
        if isinstance(event, _SETTLE_EVENTS):
            add(os.fsencode(event.src_path))
            if event.dest_path:
                add(os.fsencode(event.dest_path))
        elif isinstance(event, FileModifiedEvent):
            add(os.fsencode(event.src_path), settle=False)


class _OverflowLog(logging.Handler):
    """watchdog reports a kernel queue overflow only in its log; turn that into a signal.

    Each root has its own inotify instance, and watchdog names the root whose queue overflowed
    ("reconciling recursive watches below ROOT"): then only that root is rescanned. A message
    that names no root means "some events were lost somewhere".
    """

    def __init__(self, on_overflow: Callable[[bytes | None], None]):
        super().__init__(logging.WARNING)
        self._on_overflow = on_overflow

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage().lower()
        if "overflow" not in message and "unable to rebuild" not in message:
            return
        root = record.args[0] if isinstance(record.args, tuple) and record.args else None
        self._on_overflow(os.fsencode(root) if isinstance(root, bytes | str) else None)


@dataclass
class WatchFailure:
    root: bytes
    reason: str


@dataclass
class Watches:
    """The set of watched roots: glob patterns expanded now and again, each watched recursively.

    A root whose watch cannot be placed (watch limit, permission) is listed in ``unwatched``
    and must be covered by periodic rescans; ``refresh`` reports what changed. A match that is
    a symlink (see :mod:`fim.roots`) is never watched: it is listed in ``skipped`` with why.
    ``identities`` holds the (device, inode) each root had when validated.
    """

    patterns: tuple[str, ...]
    coalescer: Coalescer
    observer: Observer = field(default_factory=Observer)
    watched: dict[bytes, object] = field(default_factory=dict)
    unwatched: dict[bytes, str] = field(default_factory=dict)
    symlink_roots: tuple[str, ...] = ()
    skipped: dict[bytes, str] = field(default_factory=dict)
    identities: dict[bytes, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._overflow_lock = threading.Lock()
        self._overflow_roots: set[bytes] = set()
        self._overflow_unknown = False
        self._unknown_since: float | None = None
        self._handler = _Handler(self.coalescer)
        self._log_handler = _OverflowLog(self._overflowed)
        for name in ("watchdog.observers.inotify_c", "watchdog.observers.inotify"):
            logging.getLogger(name).addHandler(self._log_handler)

    def _overflowed(self, root: bytes | None) -> None:
        with self._overflow_lock:
            if root is None:
                self._overflow_unknown = True
            else:
                self._overflow_roots.add(root)
        self.coalescer.wake.set()

    def take_overflowed(self, grace: float = 0.5) -> list[bytes]:
        """Roots to rescan after an overflow ([] when none). watchdog logs "events were lost"
        and then, for a recursive watch, the root: wait ``grace`` seconds for the root before
        falling back to every root."""
        with self._overflow_lock:
            now = time.monotonic()
            if self._overflow_unknown and not self._overflow_roots:
                if self._unknown_since is None:
                    self._unknown_since = now
                if now - self._unknown_since < grace:
                    return []
                roots = [*self.watched, *self.unwatched]
            else:
                roots = sorted(self._overflow_roots)
            self._overflow_roots.clear()
            self._overflow_unknown = False
            self._unknown_since = None
            return roots

    def start(self) -> None:
        self.observer.start()

    def stop(self) -> None:
        for name in ("watchdog.observers.inotify_c", "watchdog.observers.inotify"):
            logging.getLogger(name).removeHandler(self._log_handler)
        if self.observer.is_alive():
            self.observer.stop()
            self.observer.join(timeout=5)

    def expand(self) -> list[bytes]:
        expansion = roots_mod.expand(self.patterns, symlink_roots=self.symlink_roots)
        self.skipped = {s.path: s.reason for s in expansion.skipped}
        known = self.identities
        self.identities = expansion.identities
        # A root replaced by another directory since it was watched: watch (and walk) it anew.
        for root, ident in expansion.identities.items():
            if root in known and known[root] != ident:
                self._unschedule(root)
        return expansion.paths

    @staticmethod
    def expand_patterns(patterns: Iterable[str], symlink_roots: Iterable[str] = ()) -> list[bytes]:
        """Concrete root directories the patterns match now; symlinks are never resolved
        (a root that is or lies behind a customer's symlink is left out: see fim.roots)."""
        return roots_mod.expand(patterns, symlink_roots=symlink_roots).paths

    def refresh(self) -> tuple[list[bytes], list[WatchFailure]]:
        """Watch newly matching roots; drop vanished ones. Returns (new roots, failures)."""
        current = self.expand()
        new: list[bytes] = []
        failures: list[WatchFailure] = []
        for root in list(current):
            if root in self.watched or root in self.unwatched:
                continue
            failure = self._schedule(root)
            if not self._still_validated(root):
                current.remove(root)
                continue
            new.append(root)
            if failure:
                failures.append(failure)
        gone = (set(self.watched) | set(self.unwatched)) - set(current)
        for root in gone:
            self._unschedule(root)
        return new, failures

    def retry_unwatched(self) -> list[bytes]:
        """Try again to watch roots that failed; return those that are watched now."""
        healed = []
        for root in list(self.unwatched):
            del self.unwatched[root]
            if self._schedule(root) is None:
                healed.append(root)
        return healed

    def dead_roots(self) -> list[bytes]:
        """Roots whose watchdog emitter thread died (it stops on an unexpected error)."""
        alive = {e.watch for e in self.observer.emitters if e.is_alive()}
        dead = [root for root, watch in self.watched.items() if watch not in alive]
        for root in dead:
            self._unschedule(root)
            failure = self._schedule(root)
            if failure is not None:
                self.unwatched[root] = failure.reason
        return dead

    def _schedule(self, root: bytes) -> WatchFailure | None:
        try:
            self.watched[root] = self.observer.schedule(self._handler, root, recursive=True)
            return None
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                reason = "inotify watch limit reached (fs.inotify.max_user_watches)"
            elif exc.errno == errno.EMFILE:
                reason = "inotify instance limit reached (fs.inotify.max_user_instances)"
            else:
                reason = exc.strerror or str(exc)
            self.unwatched[root] = reason
            return WatchFailure(root, reason)

    def _still_validated(self, root: bytes) -> bool:
        """After the watch went in (by path): is the root still the directory validated? If a
        customer swapped it in between, the watch may sit elsewhere: remove it, skip the root."""
        try:
            os.close(
                roots_mod.open_root(root, symlink_roots=self.allowed_symlinks, expect=self.identities[root])
            )
        except (roots_mod.RootError, OSError, KeyError) as exc:
            self._unschedule(root)
            self.identities.pop(root, None)
            self.skipped[root] = str(exc)
            return False
        else:
            return True

    @property
    def allowed_symlinks(self) -> frozenset[bytes]:
        return frozenset(os.fsencode(os.path.normpath(p)) for p in self.symlink_roots)

    def _unschedule(self, root: bytes) -> None:
        watch = self.watched.pop(root, None)
        self.unwatched.pop(root, None)
        if watch is not None:
            with contextlib.suppress(KeyError, OSError):
                self.observer.unschedule(watch)


def inode_key(dev: int, ino: int) -> int:
    """One int per (device, inode): a set of 100,000 of these is a few MB, tuples twice that."""
    return (dev << 64) | ino


def watched_inodes() -> set[int]:
    """:func:`inode_key` of every directory this process's inotify instances watch.

    watchdog ignores a failure to watch a subdirectory (it only raises for the root), so the
    daemon compares this set with the directories a walk found to learn what is not covered.
    """
    found: set[int] = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if "inotify" not in os.readlink(f"/proc/self/fd/{fd}"):
                continue
            with open(f"/proc/self/fdinfo/{fd}") as fh:
                lines = fh.read().splitlines()
        except OSError:
            continue
        for line in lines:
            if not line.startswith("inotify wd:"):
                continue
            fields = dict(part.split(":", 1) for part in line.split()[1:] if ":" in part)
            sdev = int(fields["sdev"], 16)  # the kernel's encoding: major << 20 | minor
            found.add(inode_key(os.makedev(sdev >> 20, sdev & 0xFFFFF), int(fields["ino"], 16)))
    return found


def inotify_limits() -> dict[str, int | None]:
    limits: dict[str, int | None] = {}
    for name in ("max_user_watches", "max_user_instances", "max_queued_events"):
        try:
            with open(f"/proc/sys/fs/inotify/{name}") as fh:
                limits[name] = int(fh.read().strip())
        except (OSError, ValueError):
            limits[name] = None
    return limits


def paths_under(path: bytes, roots: Iterable[bytes]) -> bytes | None:
    """The root that contains ``path``, if any."""
    for root in roots:
        if path == root or path.startswith(root.rstrip(b"/") + b"/"):
            return root
    return None
