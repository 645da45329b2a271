"""Paths waiting to be looked at: a write in many chunks is looked at once.

We act on close-after-write, creation, moves, deletion and attribute changes; a file written
in many chunks is scanned once, ``settle`` seconds after its last close (never later than
``max_delay`` after its first event, so a writer that keeps writing cannot starve the scan).
A bare modification without a close is scanned ``max_delay`` after it started: a writer that
never closes its file cannot hide it. When more than ``max_pending`` paths wait, the set is
dropped and the owner is told to rescan, which keeps memory bounded under a storm.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fim.core.model import Writer


@dataclass
class _Entry:
    first: float
    due: float
    writer: Writer | None = None  # the latest writer an event named, if the source knew it


def _less_known(new: Writer, old: Writer | None) -> bool:
    """``new`` is the same process as ``old``, seen after it was gone: keep what ``old`` knew."""
    return old is not None and old.pid == new.pid and new.comm is None and new.uid is None


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
        on_due: Callable[[bytes, float], None] | None = None,
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
        self.coalesced = 0  # events for a path already waiting (metrics)
        self.overflows = 0
        self.on_due = on_due  # told each due path and the clock time of its first event (metrics)

    def add(self, path: bytes, *, settle: bool = True, writer: Writer | None = None) -> None:
        now = self._clock()
        with self._lock:
            self.events += 1
            entry = self._entries.get(path)
            if entry is not None and writer is not None and not _less_known(writer, entry.writer):
                entry.writer = writer
            if entry is None:
                if len(self._entries) >= self.max_pending:
                    self._entries.clear()
                    self._heap.clear()
                    self.overflowed = True
                    self.overflows += 1
                    self.wake.set()
                    return
                delay = self.settle if settle else self.max_delay
                entry = self._entries[path] = _Entry(now, now + delay, writer)
                heapq.heappush(self._heap, (entry.due, path))
            else:
                self.coalesced += 1
                if settle:
                    due = min(now + self.settle, entry.first + self.max_delay)
                    if due != entry.due:
                        entry.due = due
                        heapq.heappush(self._heap, (due, path))
        if settle:
            self.wake.set()

    def pop_due(self, limit: int = 1000) -> list[bytes]:
        return [path for path, _writer in self.pop_due_entries(limit)]

    def pop_due_entries(self, limit: int = 1000) -> list[tuple[bytes, Writer | None]]:
        """The paths due now, each with the latest writer its events named (None: unknown)."""
        now = self._clock()
        out: list[tuple[bytes, Writer | None]] = []
        firsts: list[float] = []
        with self._lock:
            heap = self._heap
            while heap and heap[0][0] <= now and len(out) < limit:
                due, path = heapq.heappop(heap)
                entry = self._entries.get(path)
                if entry is not None and entry.due == due:  # else a stale heap item
                    del self._entries[path]
                    out.append((path, entry.writer))
                    firsts.append(entry.first)
        if self.on_due is not None:
            for (path, _writer), first in zip(out, firsts, strict=True):
                self.on_due(path, first)
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
