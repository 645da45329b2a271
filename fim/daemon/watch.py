"""Real-time events: one inotify instance read by one thread -> a coalescing set of due paths.

We act on close-after-write, creation, moves, deletion and attribute changes; a file written
in many chunks is scanned once, ``settle`` seconds after its last close (never later than
``max_delay`` after its first event, so a writer that keeps writing cannot starve the scan).
A bare modification without a close is scanned ``max_delay`` after it started: a writer that
never closes its file cannot hide it. When more than ``max_pending`` paths wait, the set is
dropped and the owner is told to rescan, which keeps memory bounded under a storm.

The kernel side is watchdog's ctypes binding (``watchdog.observers.inotify_c``); the watch
management is ours, because watchdog's observer runs one thread per root and manages recursive
watches recursively (a 1,000-deep tree raised RecursionError, directory exchanges KeyError, and
the dead thread went unnoticed). Here:

- one instance and one thread (:class:`InotifyReader`) serve every root, whatever their number;
- watches are placed by an explicit stack, never by recursion; each directory is opened
  relative to its verified parent with ``O_NOFOLLOW`` and watched through ``/proc/self/fd/N``,
  so a symlink is never followed and paths longer than ``PATH_MAX`` are watched too;
- a directory event re-reads what is at that name now (``_resync``), so directory swaps
  (``renameat2(RENAME_EXCHANGE)``) leave the watches right once the races stop;
- any exception ends the thread with the exception kept: :meth:`Watches.dead_roots` notices it,
  starts a fresh instance and tells the daemon which roots to rescan.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import heapq
import os
import select
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from watchdog.observers.inotify_c import (
    InotifyConstants,
    InotifyFD,
    inotify_add_watch,
    inotify_init,
    inotify_rm_watch,
)

from fim.detect import roots as roots_mod

_FS_ENCODING = sys.getfilesystemencoding()
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_IN = InotifyConstants
# Opened/closed-without-write events are not asked for: our own reads cause them.
WATCH_MASK = (
    _IN.IN_CLOSE_WRITE
    | _IN.IN_CREATE
    | _IN.IN_MOVED_FROM
    | _IN.IN_MOVED_TO
    | _IN.IN_DELETE
    | _IN.IN_ATTRIB
    | _IN.IN_MODIFY
    | _IN.IN_DELETE_SELF
    | _IN.IN_MOVE_SELF
    | _IN.IN_ONLYDIR
    | _IN.IN_EXCL_UNLINK
)
_DIR_CHANGE = _IN.IN_CREATE | _IN.IN_MOVED_TO | _IN.IN_MOVED_FROM | _IN.IN_DELETE
_FILE_SETTLE = _DIR_CHANGE | _IN.IN_CLOSE_WRITE | _IN.IN_ATTRIB
_SELF_GONE = _IN.IN_DELETE_SELF | _IN.IN_MOVE_SELF | _IN.IN_UNMOUNT
READ_SIZE = 256 * 1024
MAX_UNWATCHABLE = 10_000  # directories remembered as unwatchable between two looks by the daemon


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


class _Dir:
    """One watched directory: its name in its parent (a root's name is the root's path)."""

    __slots__ = ("children", "key", "name", "parent", "root", "wd")

    def __init__(self, wd: int, name: bytes, parent: _Dir | None, key: int, root: bytes):
        self.wd = wd
        self.name = name
        self.parent = parent
        self.key = key  # inode_key of the directory, to recognise it when reopened
        self.root = root
        self.children: dict[bytes, _Dir] = {}

    def path(self) -> bytes:
        parts = []
        node: _Dir | None = self
        while node is not None:
            parts.append(node.name)
            node = node.parent
        parts.reverse()
        return b"/".join(parts) if parts[0] != b"/" else b"/" + b"/".join(parts[1:])


class _Handle:
    """A reference-counted directory descriptor: kept open while a child waits to be entered."""

    __slots__ = ("fd", "refs")

    def __init__(self, fd: int):
        self.fd = fd
        self.refs = 1

    def acquire(self) -> _Handle:
        self.refs += 1
        return self

    def release(self) -> None:
        self.refs -= 1
        if self.refs == 0:
            os.close(self.fd)


def _watch_failure_reason(err: int) -> str:
    if err == errno.ENOSPC:
        return "inotify watch limit reached (fs.inotify.max_user_watches)"
    if err == errno.EMFILE:
        return "inotify instance limit reached (fs.inotify.max_user_instances)"
    return os.strerror(err)


class ReaderStopped(Exception):
    """The reader thread is not running (it died, or was stopped)."""


class InotifyReader:
    """One inotify instance and the one thread that reads it, for every root.

    Only the reader thread touches the watch map: the daemon's thread asks it to add or drop a
    root (:meth:`add_root`, :meth:`remove_root`) and waits for the answer, so there is no lock
    around the map and no window where both threads edit it.
    """

    def __init__(
        self,
        coalescer: Coalescer,
        *,
        wake: threading.Event | None = None,
        open_root: Callable[[bytes], int] | None = None,
    ):
        self.coalescer = coalescer
        # How a root is opened: by default its path with O_NOFOLLOW on the last component; the
        # daemon passes fim.roots' opener, which follows no customer's symlink on the way.
        self._open_root = open_root or (lambda root: os.open(root, DIR_FLAGS))
        self._wake = wake or coalescer.wake
        self.error: BaseException | None = None
        self.error_trace = ""
        self._pipe_r, self._pipe_w = os.pipe()
        self.fd = inotify_init()
        if self.fd < 0:  # a reader that never ran: the owner sees it dead and retries later
            err = ctypes.get_errno()
            self.error = OSError(err, _watch_failure_reason(err))
        else:
            os.set_inheritable(self.fd, False)  # inotify_init has no CLOEXEC flag
        os.set_blocking(self._pipe_r, False)
        self._wds: dict[int, _Dir] = {}
        self._roots: dict[bytes, _Dir] = {}
        self._requests: deque[tuple[str, bytes, list[str | None], threading.Event]] = deque()
        self._signal_lock = threading.Lock()  # guards what the daemon's thread takes below
        self._overflowed = False
        self._lost_roots: set[bytes] = set()
        self._unwatchable: dict[bytes, str] = {}
        self._stopping = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="fim-inotify", daemon=True)

    # -- the daemon's side ---------------------------------------------------------------------

    def start(self) -> None:
        if self.error is None:
            self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def add_root(self, root: bytes) -> str | None:
        """Watch ``root`` and every directory below it; None when done, else why not."""
        return self._ask("add", root)

    def remove_root(self, root: bytes) -> None:
        with contextlib.suppress(ReaderStopped):
            self._ask("remove", root)

    def _ask(self, what: str, root: bytes) -> str | None:
        if self._closed or not self._thread.is_alive():
            raise ReaderStopped(self.describe_error() or "event reader not running")
        answer: list[str | None] = []
        done = threading.Event()
        self._requests.append((what, root, answer, done))
        os.write(self._pipe_w, b"!")
        while not done.wait(0.2) and self._thread.is_alive():
            pass
        if not answer:  # the reader ended before it got to the request
            raise ReaderStopped(self.describe_error() or "event reader not running")
        return answer[0]

    def take_overflow(self) -> bool:
        with self._signal_lock:
            flag, self._overflowed = self._overflowed, False
            return flag

    def take_lost_roots(self) -> list[bytes]:
        """Roots whose own directory was deleted or moved away (their watches are gone)."""
        with self._signal_lock:
            lost, self._lost_roots = sorted(self._lost_roots), set()
            return lost

    def take_unwatchable(self) -> dict[bytes, str]:
        """Directories found since the last call that could not be watched, with the reason."""
        with self._signal_lock:
            found, self._unwatchable = self._unwatchable, {}
            return found

    def describe_error(self) -> str:
        return repr(self.error) if self.error is not None else ""

    def stop(self) -> None:
        self._stopping = True
        if not self._closed:
            with contextlib.suppress(OSError):
                os.write(self._pipe_w, b"!")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.close()

    def close(self) -> None:
        """Release the instance; closing it drops every watch it holds."""
        if self._closed or self._thread.is_alive():
            return
        self._closed = True
        for fd in (self.fd, self._pipe_r, self._pipe_w):
            if fd < 0:
                continue
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- the reader thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            poller = select.poll()
            poller.register(self.fd, select.POLLIN)
            poller.register(self._pipe_r, select.POLLIN)
            while not self._stopping:
                ready = {fd for fd, _ in poller.poll()}
                if self._pipe_r in ready:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._pipe_r, 4096)
                self._serve()
                if self.fd in ready and not self._stopping:
                    try:
                        buffer = os.read(self.fd, READ_SIZE)
                    except InterruptedError:
                        continue
                    for wd, mask, _cookie, name in InotifyFD._parse_event_buffer(buffer):
                        self._handle(wd, mask, name)
                    self._serve()  # a root waiting to be added is not starved by a storm
        except BaseException as exc:  # kept for the daemon, which restarts the reader
            self.error = exc
            self.error_trace = traceback.format_exc()
        finally:
            self._wake.set()  # the daemon looks at once, whether we stopped or died
            while self._requests:  # nobody waits for an answer that will not come
                self._requests.popleft()[3].set()

    def _serve(self) -> None:
        while self._requests:
            what, root, answer, done = self._requests[0]
            try:
                answer.append(self._add_root(root) if what == "add" else self._remove_root(root))
            finally:
                self._requests.popleft()
                done.set()

    def _add_root(self, root: bytes) -> str | None:
        if root in self._roots:
            return None
        try:
            fd = self._open_root(root)
        except OSError as exc:
            return exc.strerror or str(exc)
        except roots_mod.RootError as exc:
            return str(exc)
        try:
            key = _key(os.fstat(fd))
            wd = self._add_watch(fd)
        except BaseException:
            os.close(fd)
            raise
        if wd < 0:
            os.close(fd)
            return _watch_failure_reason(-wd)
        node = self._wds.get(wd)
        if node is not None:  # the same directory is watched already (roots overlap)
            os.close(fd)
            self._roots[root] = node
            return None
        node = _Dir(wd, root, None, key, root)
        self._wds[wd] = node
        self._roots[root] = node
        self._place(_Handle(fd), node, descend_known=False)
        return None

    def _remove_root(self, root: bytes) -> None:
        node = self._roots.pop(root, None)
        if node is not None and node.name == root and node not in self._roots.values():
            self._forget(node)
        return None

    def _add_watch(self, fd: int) -> int:
        """The watch descriptor for the open directory ``fd``, or minus the errno.

        The watch is placed through ``/proc/self/fd/N``, the directory we opened ourselves:
        no path lookup a customer could steer, no PATH_MAX limit. (IN_DONT_FOLLOW is not
        given: that magic link is the one thing to follow; IN_ONLYDIR still checks the end.)
        """
        wd = inotify_add_watch(self.fd, b"/proc/self/fd/%d" % fd, WATCH_MASK)
        return wd if wd >= 0 else -(ctypes.get_errno() or errno.EIO)

    def _place(self, top: _Handle, node: _Dir, *, descend_known: bool) -> None:
        """Watch every directory below ``node`` (whose directory ``top`` is), depth-first
        with an explicit stack: the depth of a tree costs memory, never recursion.

        ``descend_known``: also look below directories that were watched already (after a
        queue overflow, to catch directories created while events were lost)."""
        stack: list[tuple[_Handle, _Dir, bytes]] = []
        self._list_into(top, node, stack)
        while stack:
            handle, parent, name = stack.pop()
            try:
                if self._wds.get(parent.wd) is not parent:
                    continue  # forgotten meanwhile (a swap seen while placing): events redo it
                try:
                    fd = os.open(name, DIR_FLAGS, dir_fd=handle.fd)
                except OSError as exc:
                    if exc.errno not in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                        self._note_unwatchable(parent, name, exc.strerror or str(exc))
                    continue
            finally:
                handle.release()
            child_handle = _Handle(fd)
            child, known = self._watch(fd, parent, name)
            if child is None or (known and not descend_known):
                child_handle.release()
                continue
            self._list_into(child_handle, child, stack)

    def _list_into(self, handle: _Handle, node: _Dir, stack: list[tuple[_Handle, _Dir, bytes]]) -> None:
        try:
            try:
                with os.scandir(handle.fd) as it:
                    entries = list(it)
            except OSError:
                return  # the directory is watched: what appears in it later is seen
            for entry in entries:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if is_dir:
                    name = entry.name.encode(_FS_ENCODING, "surrogateescape")
                    stack.append((handle.acquire(), node, name))
        finally:
            handle.release()

    def _watch(self, fd: int, parent: _Dir, name: bytes) -> tuple[_Dir | None, bool]:
        """Watch the directory open as ``fd``, which is ``name`` in ``parent``.

        Returns (node, known): ``known`` when it was watched at that very place already.
        The same directory watched under another name (a move or swap whose events are still
        queued) is forgotten there first, so each watch has one place.
        """
        key = _key(os.fstat(fd))
        wd = self._add_watch(fd)
        if wd < 0:
            self._note_unwatchable(parent, name, _watch_failure_reason(-wd))
            return None, False
        old = self._wds.get(wd)
        if old is not None:
            if old.parent is parent and old.name == name:
                return old, True
            if old.parent is None:
                return None, False  # a root inside another root: it is watched as that root
            self._forget(old)
            if self._wds.get(parent.wd) is not parent:
                return None, False  # ``parent`` was below the forgotten directory
            wd = self._add_watch(fd)
            if wd < 0:
                self._note_unwatchable(parent, name, _watch_failure_reason(-wd))
                return None, False
        existing = parent.children.get(name)
        if existing is not None:
            self._forget(existing)
        node = _Dir(wd, name, parent, key, parent.root)
        parent.children[name] = node
        self._wds[wd] = node
        return node, False

    def _forget(self, node: _Dir, *, remove: bool = True) -> None:
        """Drop the watches of ``node`` and everything below it (iteratively)."""
        if node.parent is not None and node.parent.children.get(node.name) is node:
            del node.parent.children[node.name]
        stack = [node]
        while stack:
            current = stack.pop()
            stack.extend(current.children.values())
            current.children = {}
            if self._wds.get(current.wd) is current:
                del self._wds[current.wd]
                if remove:
                    inotify_rm_watch(self.fd, current.wd)  # EINVAL when already gone: fine
        if node.parent is None:
            for root, root_node in list(self._roots.items()):
                if root_node is node:
                    del self._roots[root]
                    with self._signal_lock:
                        self._lost_roots.add(root)

    def _note_unwatchable(self, parent: _Dir, name: bytes, reason: str) -> None:
        with self._signal_lock:
            if len(self._unwatchable) < MAX_UNWATCHABLE:
                self._unwatchable[parent.path() + b"/" + name] = reason

    def _open_node(self, node: _Dir) -> int | None:
        """Open the directory ``node`` stands for, from its root down with ``O_NOFOLLOW``
        at every step; None unless what is there now is that very directory."""
        chain = []
        current: _Dir | None = node
        while current is not None:
            chain.append(current)
            current = current.parent
        chain.reverse()
        try:
            fd = self._open_root(chain[0].name)
        except (OSError, roots_mod.RootError):
            return None
        try:
            for step in chain[1:]:
                child = os.open(step.name, DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
            if _key(os.fstat(fd)) == node.key:
                return fd
        except OSError:
            pass
        os.close(fd)
        return None

    def _resync(self, parent: _Dir, name: bytes) -> None:
        """Make the watches for ``name`` in ``parent`` match what is there now."""
        old = parent.children.get(name)
        fd = self._open_node(parent)
        if fd is None:
            return  # the parent moved or went: its own events (queued) set this right
        try:
            try:
                child_fd = os.open(name, DIR_FLAGS, dir_fd=fd)
            except OSError:
                child_fd = -1
        finally:
            os.close(fd)
        if child_fd < 0:
            if old is not None:
                self._forget(old)
            return
        handle = _Handle(child_fd)
        if old is not None and old.key == _key(os.fstat(child_fd)):
            handle.release()  # the same directory is still there, watched: nothing moved
            return
        child, known = self._watch(child_fd, parent, name)
        if child is None or known:
            handle.release()
            return
        self._place(handle, child, descend_known=False)

    def _handle(self, wd: int, mask: int, name: bytes) -> None:
        if mask & _IN.IN_Q_OVERFLOW:
            self._overflow()
            return
        node = self._wds.get(wd)
        if node is None:
            return  # a watch we forgot already
        if mask & _IN.IN_IGNORED:
            self._forget(node, remove=False)
            return
        if mask & _SELF_GONE:
            if node.parent is None and mask & _IN.IN_MOVE_SELF:
                self._forget(node)  # a root moved away: never follow it there
            return  # below a root, the parent's event (moved from, deleted) does the work
        path = node.path() + b"/" + name if name else node.path()
        add = self.coalescer.add
        if mask & _IN.IN_ISDIR:
            if mask & _DIR_CHANGE and name:
                self._resync(node, name)  # watches first, then the walk of what is in it
                add(path)
            return
        if mask & _FILE_SETTLE:
            add(path)
        elif mask & _IN.IN_MODIFY:
            add(path, settle=False)

    def _overflow(self) -> None:
        """Events were lost: directories may have appeared unwatched. Watch what is missing,
        then ask the daemon to rescan every root of this instance."""
        for root, node in list(self._roots.items()):
            if node.name != root:
                continue
            fd = self._open_node(node)
            if fd is None:
                self._forget(node)
                continue
            self._place(_Handle(fd), node, descend_known=True)
        with self._signal_lock:
            self._overflowed = True
        self._wake.set()

    # -- for tests and status ------------------------------------------------------------------

    def watched_paths(self) -> list[bytes]:
        """Every watched directory's path (walks the whole map: for tests and debugging)."""
        return sorted(node.path() for node in list(self._wds.values()))


def _key(st: os.stat_result) -> int:
    return inode_key(st.st_dev, st.st_ino)


@dataclass
class WatchFailure:
    root: bytes
    reason: str


@dataclass
class Watches:
    """The set of watched roots: glob patterns expanded now and again, each watched recursively
    by one shared :class:`InotifyReader`.

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

    def __post_init__(self) -> None:
        self.reader: InotifyReader | None = None
        self.failure = ""  # why the last reader died (its exception)
        self.failure_trace = ""
        self.restarts = 0
        self.deaths = 0
        self._recent_deaths = 0
        self._restart_at = 0.0
        self._last_restart = float("-inf")
        self._noticed: InotifyReader | None = None

    def start(self) -> None:
        self.reader = InotifyReader(self.coalescer, open_root=self._open_root)
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

    def reader_dead(self) -> bool:
        return self.reader is not None and not self.reader.alive and not self.reader._stopping

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
        # A reader that cannot start is seen dead at the next look, and retried.
        self.reader = InotifyReader(self.coalescer, open_root=self._open_root)
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
