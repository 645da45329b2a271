"""The set of watched roots: glob patterns expanded now and again, one reader for them all.

A reader that died is replaced here (:meth:`Watches.dead_roots`), which tells the daemon
which roots to rescan; a root that cannot be watched is left to periodic rescans.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from fim.daemon import sources
from fim.daemon.coalescer import Coalescer
from fim.daemon.events import EventSource, ReaderStopped, SourceFactory
from fim.detect import roots as roots_mod

HINT_INTERVAL = 1.0  # seconds between glob expansions asked for by new directories


@dataclass
class WatchFailure:
    """A root that could not be watched, and why: it is covered by periodic rescans instead."""

    root: bytes
    reason: str


@dataclass
class Watches:
    """The set of watched roots: glob patterns expanded now and again, each watched recursively
    by one shared event source (:class:`fim.daemon.events.EventSource`: inotify or fanotify).

    A root whose watch cannot be placed (watch limit, permission) is listed in ``unwatched``
    and must be covered by periodic rescans; ``refresh`` reports what changed. A match that is
    a symlink (see :mod:`fim.roots`) is never watched: it is listed in ``skipped`` with why.
    ``identities`` holds the (device, inode) each root had when validated; the reader opens a
    root only while it is still that directory. A reader that died is replaced by
    :meth:`dead_roots`, which says what to rescan.
    """

    patterns: tuple[str, ...]
    coalescer: Coalescer
    watched: dict[bytes, object] = field(default_factory=dict)
    unwatched: dict[bytes, str] = field(default_factory=dict)
    symlink_roots: tuple[str, ...] = ()
    skipped: dict[bytes, str] = field(default_factory=dict)
    identities: dict[bytes, tuple[int, int]] = field(default_factory=dict)
    source: str = "inotify"  # which EventSource runs (fim.daemon.sources.choose picked it)

    def __post_init__(self) -> None:
        self.reader: EventSource | None = None
        self._factory: SourceFactory = sources.factory(self.source)
        self.failure = ""  # why the last reader died (its exception)
        self.failure_trace = ""
        self.restarts = 0
        self.deaths = 0
        self._recent_deaths = 0
        self._restart_at = 0.0
        self._last_restart = float("-inf")
        self._noticed: EventSource | None = None
        self._hint_pending = False
        self._last_hint = float("-inf")

    def start(self) -> None:
        self.reader = self._factory(self.coalescer, self._open_root)
        self.reader.set_patterns(self.patterns)
        self.reader.start()

    def stop(self) -> None:
        if self.reader is not None:
            self.reader.stop()

    def take_overflowed(self) -> list[bytes]:
        """Every root when the kernel queue overflowed since the last call, else []."""
        if self.reader is not None and self.reader.take_overflow():
            return [*self.watched, *self.unwatched]
        return []

    def take_unwatchable(self) -> dict[bytes, str]:
        """Directories below watched roots that could not be watched (to cover by rescans)."""
        return self.reader.take_unwatchable() if self.reader is not None else {}

    def take_event_errors(self) -> list[str]:
        """Errors the source met on single events (it skipped them and went on)."""
        return self.reader.take_event_errors() if self.reader is not None else []

    def set_patterns(self, patterns: tuple[str, ...], symlink_roots: tuple[str, ...]) -> None:
        """New root globs (a reload): the next :meth:`refresh` expands them."""
        self.patterns, self.symlink_roots = patterns, symlink_roots
        if self.reader is not None:
            self.reader.set_patterns(patterns)

    def take_root_hint(self, now: float | None = None) -> bool:
        """A directory matching a root pattern appeared (fanotify sees it): refresh now -- at
        most once per HINT_INTERVAL, the rest a moment later: a customer creating and removing
        such directories in a loop must not keep the daemon expanding every glob."""
        if self.reader is not None and self.reader.take_root_hint():
            self._hint_pending = True
        now = time.monotonic() if now is None else now
        if not self._hint_pending or now - self._last_hint < HINT_INTERVAL:
            return False
        self._hint_pending, self._last_hint = False, now
        return True

    def describe_coverage(self) -> str:
        return self.reader.describe_coverage() if self.reader is not None else ""

    @property
    def per_directory(self) -> bool:
        """Each directory needs a watch of its own (inotify): walks check coverage."""
        return self.reader.per_directory if self.reader is not None else True

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

    def refresh(self) -> tuple[list[bytes], list[WatchFailure]]:
        """Watch newly matching roots; drop vanished ones. Returns (new roots, failures).

        A root whose own directory was deleted or moved away is watched afresh if its
        pattern still matches (and so counts as new: it is walked again)."""
        if self.reader is not None:
            for root in self.reader.take_lost_roots():
                self._unschedule(root)
        current = self.expand()
        new: list[bytes] = []
        failures: list[WatchFailure] = []
        for root in list(current):
            if root in self.watched or root in self.unwatched:
                continue
            failure = self._schedule(root)
            # A root the reader took was opened through _open_root, which checks it is the
            # directory validated; only a refusal may mean it was swapped meanwhile.
            if failure is not None and not self._still_validated(root):
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

    def reader_dead(self) -> bool:
        return self.reader is not None and not self.reader.alive and not self.reader.stopping

    def dead_roots(self, now: float | None = None) -> list[bytes]:
        """If the reader thread died: start a fresh instance, watch every root again and
        return the roots to rescan (all of them: events were lost everywhere). [] otherwise.

        A reader that dies again and again is restarted after a growing pause (up to 30 s),
        so a failure that repeats cannot keep the daemon busy re-placing watches.
        """
        if not self.reader_dead():
            return []
        now = time.monotonic() if now is None else now
        assert self.reader is not None
        if self._noticed is not self.reader:  # first look at this death
            self._noticed = self.reader
            self.deaths += 1
            self.failure = self.reader.describe_error() or "the event reader stopped"
            self.failure_trace = self.reader.error_trace
            self._recent_deaths = self._recent_deaths + 1 if now - self._last_restart < 60 else 1
            pause = 0.0 if self._recent_deaths <= 1 else min(2.0**self._recent_deaths, 30.0)
            self._restart_at = now + pause
        if now < self._restart_at:
            return []
        self.reader.close()
        try:
            reader = self._factory(self.coalescer, self._open_root)
        except OSError as exc:  # out of descriptors, say: the dead reader stays, retried later
            self.failure = f"cannot start a new event reader: {exc.strerror or exc}"
            self._restart_at = now + 5.0
            return []
        # A reader that cannot start its instance is seen dead at the next look, and retried.
        self.reader = reader
        self.reader.set_patterns(self.patterns)
        self.reader.start()
        self.restarts += 1
        self._last_restart = now
        roots = [*self.watched, *self.unwatched]
        self.watched.clear()
        self.unwatched.clear()
        for root in roots:
            self._schedule(root)
        return roots

    def _schedule(self, root: bytes) -> WatchFailure | None:
        assert self.reader is not None, "start() first"
        try:
            reason = self.reader.add_root(root)
        except ReaderStopped as exc:
            reason = f"event reader not running ({exc})"
        if reason is None:
            self.watched[root] = True
            return None
        self.unwatched[root] = reason
        return WatchFailure(root, reason)

    def _still_validated(self, root: bytes) -> bool:
        """After the reader refused a root: is it still the directory validated? If a customer
        swapped it in between, skip it (rather than cover it by rescans)."""
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

    def _open_root(self, root: bytes) -> int:
        """The reader's way into a root: by descriptors from ``/``, never through a customer's
        symlink, and only while the root is the directory that was validated."""
        expect = self.identities.get(root)
        return roots_mod.open_root(root, symlink_roots=self.allowed_symlinks, expect=expect)

    @property
    def allowed_symlinks(self) -> frozenset[bytes]:
        return frozenset(os.fsencode(os.path.normpath(p)) for p in self.symlink_roots)

    def _unschedule(self, root: bytes) -> None:
        watch = self.watched.pop(root, None)
        self.unwatched.pop(root, None)
        if watch is not None and self.reader is not None:
            self.reader.remove_root(root)
