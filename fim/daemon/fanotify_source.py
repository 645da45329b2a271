"""Real-time events from fanotify: one mark per file system, so no per-directory setup at all.

A group in FID mode (``FAN_REPORT_DFID_NAME``) reports, for each event, the file system, a
handle of the directory and the entry's name -- no path. The handle is opened with
``open_by_handle_at`` on a descriptor of a validated root of that file system, and the event
kept only when that directory lies inside a root:

- ``readlink("/proc/self/fd/N")`` of the opened directory gives the kernel's name for it. It is
  used ONLY to pick the root whose (kernel-named) directory is a prefix and the path of the
  directory below it -- never to open anything;
- that relative path is then opened component by component from the root's own descriptor
  with ``O_NOFOLLOW`` and the (device, inode) reached must be the handle's directory. A
  symlink, a race or a directory moved meanwhile fails the check and the event is dropped
  (the move's own event follows and makes the daemon walk the new place).

Why not walk up with ``..`` and compare inodes: it costs a directory listing per level, and
a customer chooses how deep and wide their tree is; readlink costs one call whatever the
depth. For paths longer than the kernel's buffer (``ENAMETOOLONG``) the walk up is the fallback.

Results are cached per handle (inside a root: (root, path); outside: None), so the events of
the rest of the server cost a dictionary lookup. Any directory moved or deleted anywhere on a
marked file system clears the cache: a cached place may be stale after it.

One reader thread. An error while handling one event is counted and kept for the daemon to log;
the thread goes on. Anything else ends the thread with the exception kept, and the daemon's
supervision (``Watches.dead_roots``) restarts it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from fim.core.model import Writer
from fim.daemon import fanotify_abi as fa
from fim.daemon.coalescer import Coalescer
from fim.detect import roots as roots_mod
from fim.detect.writers import WriterCache

READ_SIZE = 256 * 1024
MAX_CACHED = 200_000  # directory handles remembered; the cache is cleared when it is full
MAX_DEPTH_UP = 10_000  # levels walked up from a directory whose name is longer than PATH_MAX
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
HANDLE_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NONBLOCK
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
_STALE = fa.FAN_MOVED_FROM | fa.FAN_MOVED_TO | fa.FAN_DELETE  # a directory left its place
_FILE_SETTLE = _DIR_CHANGE | fa.FAN_CLOSE_WRITE | fa.FAN_ATTRIB


@dataclass
class _Root:
    path: bytes  # as configured (what everyone sees)
    fd: int  # opened safely when added; events are resolved from here
    ident: tuple[int, int]
    kernel_name: bytes  # readlink of fd: only to recognise its directories' kernel names


class FanotifySource:
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
        self._roots: dict[bytes, _Root] = {}
        self._mounts: dict[tuple[int, int], int] = {}  # fsid -> a descriptor on that file system
        self._marked: dict[int, tuple[int, int]] = {}  # st_dev -> fsid, marked once each
        self._cache: dict[tuple[tuple[int, int], int, bytes], tuple[_Root, bytes] | None] = {}
        self._overflowed = False
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

    def start(self) -> None:
        if self.error is None:
            self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def add_root(self, root: bytes) -> str | None:
        if self.fd < 0 or self._closed:
            return f"event reader not running ({self.describe_error()})"
        try:
            fd = self._open_root(root)
        except OSError as exc:
            return exc.strerror or str(exc)
        except roots_mod.RootError as exc:
            return str(exc)
        try:
            st = os.fstat(fd)
            kernel_name = os.readlink(b"/proc/self/fd/%d" % fd)
            with self._lock:
                if st.st_dev not in self._marked:
                    fsid = fa.fsid_of(fd)
                    fa.mark_filesystem(self.fd, fd, EVENT_MASK)
                    self._marked[st.st_dev] = fsid
                    self._mounts[fsid] = os.dup(fd)
                old = self._roots.pop(root, None)
                self._roots[root] = _Root(root, fd, (st.st_dev, st.st_ino), kernel_name)
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

    def describe_coverage(self) -> str:
        count = len(self._marked)
        return f"{count} file system{'s' if count != 1 else ''} marked: every directory covered"

    def take_event_errors(self) -> list[str]:
        with self._lock:
            errors = list(self._errors)
            self._errors.clear()
            return errors

    def describe_error(self) -> str:
        return repr(self.error) if self.error is not None else ""

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            os.write(self._pipe_w, b"!")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.close()

    def close(self) -> None:
        if self._closed or self._thread.is_alive():
            return
        self._closed = True
        fds = [self.fd, self._pipe_r, self._pipe_w, *self._mounts.values()]
        fds += [r.fd for r in self._roots.values()]
        for fd in fds:
            if fd >= 0:
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
                if self.fd in ready and not self._stopping:
                    self._read_batch()
        except BaseException as exc:  # kept for the daemon, which restarts the reader
            self.error = exc
            self.error_trace = traceback.format_exc()
        finally:
            self._wake.set()

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
        if is_dir and mask & _STALE:
            with self._lock:
                self._cache.clear()
        place = self._directory(event)
        if place is None:
            return
        path = (place + b"/" + event.name) if place != b"/" else b"/" + event.name
        if is_dir:
            if mask & _DIR_CHANGE:
                self.coalescer.add(path)  # the daemon walks it: a new directory is covered now
            return
        if mask & (_FILE_SETTLE | fa.FAN_MODIFY):
            writer = self._writer(event.pid) if mask & (fa.FAN_CLOSE_WRITE | fa.FAN_MODIFY) else None
            self.coalescer.add(path, settle=bool(mask & _FILE_SETTLE), writer=writer)

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
            mount = self._mounts.get(event.fsid)
            roots = list(self._roots.values())
        if mount is None:
            return None
        try:
            fd = fa.open_by_handle(mount, event.handle_type, event.handle, HANDLE_FLAGS)
        except OSError as exc:
            if exc.errno in (errno.ESTALE, errno.ENOENT):
                return None  # the directory is gone; its parent's event says so
            raise
        try:
            found = self._locate(fd, roots)
        finally:
            os.close(fd)
        with self._lock:
            if len(self._cache) >= MAX_CACHED:
                self._cache.clear()
            self._cache[key] = found
        return found[1] if found is not None else None

    def _locate(self, fd: int, roots: list[_Root]) -> tuple[_Root, bytes] | None:
        st = os.fstat(fd)
        ident = (st.st_dev, st.st_ino)
        for root in roots:
            if root.ident == ident:
                return root, root.path
        try:
            name = os.readlink(b"/proc/self/fd/%d" % fd)
        except OSError as exc:
            if exc.errno != errno.ENAMETOOLONG:
                return None
            return self._locate_upwards(fd, ident, roots)
        for root in roots:
            prefix = root.kernel_name.rstrip(b"/") + b"/"
            if name.startswith(prefix) and _reaches(root.fd, name[len(prefix) :], ident):
                return root, root.path + b"/" + name[len(prefix) :]
        return None

    def _locate_upwards(
        self, fd: int, ident: tuple[int, int], roots: list[_Root]
    ) -> tuple[_Root, bytes] | None:
        """For a directory whose name is too long for readlink: climb ``..`` to a root,
        finding each level's name by its inode, then check the way down as usual."""
        by_ident = {r.ident: r for r in roots}
        names: list[bytes] = []
        current = os.dup(fd)
        try:
            child = ident
            for _ in range(MAX_DEPTH_UP):
                parent = os.open(b"..", DIR_FLAGS, dir_fd=current)
                os.close(current)
                current = parent
                st = os.fstat(current)
                if (st.st_dev, st.st_ino) == child:
                    return None  # the top of the file system: outside every root
                name = _name_of(current, child[1])
                if name is None:
                    return None
                names.append(name)
                root = by_ident.get((st.st_dev, st.st_ino))
                if root is not None:
                    rel = b"/".join(reversed(names))
                    return (root, root.path + b"/" + rel) if _reaches(root.fd, rel, ident) else None
                child = (st.st_dev, st.st_ino)
        finally:
            os.close(current)
        return None


def _name_of(dir_fd: int, ino: int) -> bytes | None:
    with os.scandir(dir_fd) as it:
        for entry in it:
            if entry.inode() == ino and entry.is_dir(follow_symlinks=False):
                return os.fsencode(entry.name)
    return None


def _reaches(root_fd: int, rel: bytes, ident: tuple[int, int]) -> bool:
    """Opening ``rel`` from ``root_fd`` one component at a time, never following a symlink,
    reaches the directory ``ident``."""
    fd = os.dup(root_fd)
    try:
        for part in rel.split(b"/"):
            if not part or part in (b".", b".."):
                return False
            child = os.open(part, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        st = os.fstat(fd)
        return (st.st_dev, st.st_ino) == ident
    except OSError:
        return False
    finally:
        os.close(fd)


__all__ = ["EVENT_MASK", "FanotifySource"]
