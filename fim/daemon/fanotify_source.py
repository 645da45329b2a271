"""Real-time events from fanotify: one mark per file system, so no per-directory setup at all.

A group in FID mode (``FAN_REPORT_DFID_NAME``) reports, for each event, the file system, a
handle of the directory and the entry's name -- no path. The handle is opened with
``open_by_handle_at`` on a descriptor of a validated root of that file system, and the event
kept only when that directory lies inside a root, as checked from the root's own descriptor
without following symlinks (:mod:`fim.daemon.fanotify_places` says how and why).

Results are cached per handle (inside a root: (root, path); outside: None), so the events of
the rest of the server cost a dictionary lookup. A directory moved out of or into a root
clears the cache: a cached place may be stale after it.

One reader thread. An error while handling one event is counted and kept for the daemon to log;
the thread goes on. Anything else ends the thread with the exception kept, and the daemon's
supervision (``Watches.dead_roots``) restarts it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import threading
from collections import deque
from collections.abc import Callable

from fim.core.model import Writer
from fim.daemon import fanotify_abi as fa
from fim.daemon.coalescer import Coalescer
from fim.daemon.events import ReaderThread, open_root_or_why
from fim.daemon.fanotify_places import DIR_FLAGS, Root, RootIndex, locate, matches
from fim.detect.writers import WriterCache

READ_SIZE = 256 * 1024
MAX_CACHED = 200_000  # directory handles remembered; the cache is cleared when it is full
# O_PATH: placing a directory opens nothing for reading, and raises no open event that other
# watchers (an intrusion detector, a test's spy) would see for directories outside the roots.
HANDLE_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC
EVENT_MASK = (
    fa.FAN_CLOSE_WRITE
    | fa.FAN_MODIFY
    | fa.FAN_CREATE
    | fa.FAN_MOVED_FROM
    | fa.FAN_MOVED_TO
    | fa.FAN_DELETE
    | fa.FAN_ATTRIB
    | fa.FAN_ONDIR
)
_DIR_CHANGE = fa.FAN_CREATE | fa.FAN_MOVED_TO | fa.FAN_MOVED_FROM | fa.FAN_DELETE
_MOVED = fa.FAN_MOVED_FROM | fa.FAN_MOVED_TO
_FILE_SETTLE = _DIR_CHANGE | fa.FAN_CLOSE_WRITE | fa.FAN_ATTRIB


class FanotifySource(ReaderThread):
    """The fanotify event source (see the module docstring); satisfies
    :class:`fim.daemon.events.EventSource`."""

    name = "fanotify"
    per_directory = False

    def __init__(
        self,
        coalescer: Coalescer,
        *,
        wake: threading.Event | None = None,
        open_root: Callable[[bytes], int] | None = None,
        writers: WriterCache | None = None,
    ):
        self.coalescer = coalescer
        self.error: BaseException | None = None
        self.error_trace = ""
        self._wake = wake or coalescer.wake
        self._open_root = open_root or (lambda root: os.open(root, DIR_FLAGS))
        self._writers = writers or WriterCache()
        self._lock = threading.Lock()  # guards roots, mounts and the cache
        self._roots: dict[bytes, Root] = {}
        self._index = RootIndex({}, {})  # the same roots, found by identity and kernel name
        # fsid -> mount id -> a descriptor on that mount. A handle opened through a mount is
        # named by that mount's path, and roots on one file system may be reached through
        # different (bind) mounts: each mount a root is on gets its own descriptor.
        self._mounts: dict[tuple[int, int], dict[int, int]] = {}
        self._marked: dict[int, tuple[int, int]] = {}  # st_dev -> fsid, marked once each
        self._cache: dict[tuple[tuple[int, int], int, bytes], tuple[Root, bytes] | None] = {}
        self._overflowed = False
        self._patterns: list[list[bytes]] = []  # root globs, by component
        self._root_hint = False
        self._errors: deque[str] = deque(maxlen=50)
        self.event_errors = 0
        self._stopping = False
        self._closed = False
        self._pipe_r, self._pipe_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        try:
            self.fd = fa.fanotify_init()
        except OSError as exc:  # never ran: seen dead by the owner, who retries later
            self.fd = -1
            self.error = exc
        self._thread = threading.Thread(target=self._run, name="fim-fanotify", daemon=True)

    # -- the daemon's side ---------------------------------------------------------------------

    def add_root(self, root: bytes) -> str | None:
        if self.fd < 0 or self._closed:
            return f"event reader not running ({self.describe_error()})"
        fd = open_root_or_why(self._open_root, root)
        if isinstance(fd, str):
            return fd
        try:
            st = os.fstat(fd)
            kernel_name = os.readlink(b"/proc/self/fd/%d" % fd)
            with self._lock:
                if st.st_dev not in self._marked:
                    fsid = fa.fsid_of(fd)
                    fa.mark_filesystem(self.fd, fd, EVENT_MASK)
                    self._marked[st.st_dev] = fsid
                mounts = self._mounts.setdefault(self._marked[st.st_dev], {})
                mount_id = _mount_id(fd)
                if mount_id not in mounts:
                    mounts[mount_id] = os.dup(fd)
                old = self._roots.pop(root, None)
                if old is not None:
                    self._index.remove(old)
                self._roots[root] = entry = Root(root, fd, (st.st_dev, st.st_ino), kernel_name)
                self._index.add(entry)
                self._cache.clear()  # directories cached as outside may be inside now
        except OSError as exc:
            os.close(fd)
            return f"cannot watch with fanotify: {exc.strerror or exc}"
        if old is not None:
            os.close(old.fd)
        return None

    def remove_root(self, root: bytes) -> None:
        with self._lock:
            old = self._roots.pop(root, None)
            if old is not None:
                self._index.remove(old)
            self._cache.clear()
        if old is not None:
            os.close(old.fd)

    def take_overflow(self) -> bool:
        with self._lock:
            flag, self._overflowed = self._overflowed, False
            return flag

    def take_lost_roots(self) -> list[bytes]:
        """Roots whose directory is no longer the one validated (deleted, moved away)."""
        lost = []
        with self._lock:
            entries = list(self._roots.values())
        for entry in entries:
            try:
                st = os.fstat(entry.fd)
            except OSError:
                lost.append(entry.path)
                continue
            if st.st_nlink == 0 or os.readlink(b"/proc/self/fd/%d" % entry.fd) != entry.kernel_name:
                lost.append(entry.path)
        for root in lost:
            self.remove_root(root)
        return lost

    def take_unwatchable(self) -> dict[bytes, str]:
        return {}  # a file system mark covers every directory: none is left out

    def set_patterns(self, patterns: tuple[str, ...]) -> None:
        with self._lock:
            self._patterns = [os.fsencode(p).rstrip(b"/").split(b"/") for p in patterns]

    def take_root_hint(self) -> bool:
        with self._lock:
            flag, self._root_hint = self._root_hint, False
            return flag

    def describe_coverage(self) -> str:
        count = len(self._marked)
        return f"{count} file system{'s' if count != 1 else ''} marked: every directory covered"

    def take_event_errors(self) -> list[str]:
        with self._lock:
            errors = list(self._errors)
            self._errors.clear()
            return errors

    def close(self) -> None:
        if self._closed or self._thread.is_alive():
            return
        self._closed = True
        fds = [self.fd, self._pipe_r, self._pipe_w]
        fds += [fd for mounts in self._mounts.values() for fd in mounts.values()]
        fds += [r.fd for r in self._roots.values()]
        for fd in fds:
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)

    # -- the reader thread ---------------------------------------------------------------------

    def _read_batch(self) -> None:
        try:
            buffer = os.read(self.fd, READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        for event in fa.parse(buffer):
            try:
                self._handle(event)
            except Exception as exc:  # one odd event must not end real-time watching
                self.event_errors += 1
                with self._lock:
                    self._errors.append(f"{type(exc).__name__}: {exc}")

    def _handle(self, event: fa.Event) -> None:
        mask = event.mask
        if mask & fa.FAN_Q_OVERFLOW:
            with self._lock:
                self._overflowed = True
            self._wake.set()
            return
        if not event.handle or not event.name or event.name == b".":
            return  # an event on a file system's top directory itself: nothing to scan
        is_dir = bool(mask & fa.FAN_ONDIR)
        place = self._directory(event)
        if is_dir and mask & _MOVED and place is not None:
            # A directory moved out of or into a root: cached places below it are stale (a
            # move between two directories outside every root changes nothing we cache; a
            # deleted directory's handle no longer opens, and no event comes from inside it).
            with self._lock:
                self._cache.clear()
        if place is None:
            if is_dir and mask & (fa.FAN_CREATE | fa.FAN_MOVED_TO):
                self._maybe_new_root(event)
            return
        path = (place + b"/" + event.name) if place != b"/" else b"/" + event.name
        if is_dir:
            if mask & _DIR_CHANGE:
                self.coalescer.add(path)  # the daemon walks it: a new directory is covered now
            return
        if mask & (_FILE_SETTLE | fa.FAN_MODIFY):
            writer = self._writer(event.pid) if mask & (fa.FAN_CLOSE_WRITE | fa.FAN_MODIFY) else None
            self.coalescer.add(path, settle=bool(mask & _FILE_SETTLE), writer=writer)

    def _maybe_new_root(self, event: fa.Event) -> None:
        """A directory appeared outside the roots: if its name matches a root pattern, ask the
        daemon to expand the globs now (which validates it safely); a new customer is then
        covered at once. The name read here only decides whether to ask."""
        with self._lock:
            patterns = self._patterns
            mounts = list(self._mounts.get(event.fsid, {}).values())
        if not patterns:
            return
        for mount in mounts:
            fd = self._open_handle(mount, event)
            if fd is None:
                return  # gone already
            try:
                parent = os.readlink(b"/proc/self/fd/%d" % fd)
            finally:
                os.close(fd)
            parts = (parent.rstrip(b"/") + b"/" + event.name).split(b"/")
            if any(matches(parts, p) for p in patterns):
                with self._lock:
                    self._root_hint = True
                self._wake.set()
                return

    def _writer(self, pid: int) -> Writer | None:
        if pid <= 0 or pid == os.getpid():
            return None  # 0: a process in another pid namespace
        return self._writers.get(pid)

    def _directory(self, event: fa.Event) -> bytes | None:
        """The path of the event's directory inside a root, or None (outside, or gone)."""
        key = (event.fsid, event.handle_type, event.handle)
        with self._lock:
            if key in self._cache:
                hit = self._cache[key]
                return hit[1] if hit is not None else None
            mounts = list(self._mounts.get(event.fsid, {}).values())
            index = self._index
        found = None
        for mount in mounts:  # usually one; more where roots are reached through bind mounts
            fd = self._open_handle(mount, event)
            if fd is None:
                return None  # the directory is gone; its parent's event says so
            try:
                found = locate(fd, index)
            finally:
                os.close(fd)
            if found is not None:
                break
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[key] = found
        return found[1] if found is not None else None

    @staticmethod
    def _open_handle(mount: int, event: fa.Event) -> int | None:
        """The event's directory opened (O_PATH) through ``mount``; None when it is gone."""
        try:
            return fa.open_by_handle(mount, event.handle_type, event.handle, HANDLE_FLAGS)
        except OSError as exc:
            if exc.errno in (errno.ESTALE, errno.ENOENT):
                return None
            raise


def _mount_id(fd: int) -> int:
    """The id of the mount ``fd`` was opened through (``mnt_id`` in its fdinfo)."""
    with open(f"/proc/self/fdinfo/{fd}", "rb") as fh:
        for line in fh:
            if line.startswith(b"mnt_id:"):
                return int(line.split()[1])
    raise OSError(errno.ENOTSUP, "no mnt_id in fdinfo")


__all__ = ["EVENT_MASK", "FanotifySource"]
