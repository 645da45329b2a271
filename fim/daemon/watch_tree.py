"""The map from inotify watch descriptors to directories, kept matching the tree on disk.

watchdog's observer manages recursive watches recursively (a 1,000-deep tree raised
RecursionError, directory exchanges KeyError); ours does not:

- watches are placed by an explicit stack, never by recursion; each directory is opened
  relative to its verified parent with ``O_NOFOLLOW`` and watched through ``/proc/self/fd/N``,
  so a symlink is never followed and paths longer than ``PATH_MAX`` are watched too;
- a directory event re-reads what is at that name now (``_resync``), so directory swaps
  (``renameat2(RENAME_EXCHANGE)``) leave the watches right once the races stop.

Only the reader thread (:class:`fim.daemon.inotify_reader.InotifyReader`) touches the map.
"""

from __future__ import annotations

import ctypes
import errno
import os
import sys
import threading
from collections.abc import Callable

from watchdog.observers.inotify_c import InotifyConstants, inotify_add_watch, inotify_rm_watch

from fim.daemon.coalescer import Coalescer
from fim.daemon.coverage import inode_key
from fim.daemon.events import open_root_or_why
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
MAX_UNWATCHABLE = 10_000  # directories remembered as unwatchable between two looks by the daemon


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


def watch_failure_reason(err: int) -> str:
    """Why inotify refused a watch or an instance, naming the sysctl to raise."""
    if err == errno.ENOSPC:
        return "inotify watch limit reached (fs.inotify.max_user_watches)"
    if err == errno.EMFILE:
        return "inotify instance limit reached (fs.inotify.max_user_instances)"
    return os.strerror(err)


def _key(st: os.stat_result) -> int:
    return inode_key(st.st_dev, st.st_ino)


class WatchTree:
    """The watched directories of one inotify instance, by watch descriptor and by root.

    What the daemon must hear of (roots lost, directories that could not be watched, a queue
    overflow) is kept under ``_signal_lock`` for the reader to hand over.
    """

    def __init__(
        self,
        fd: int,
        coalescer: Coalescer,
        *,
        wake: threading.Event,
        open_root: Callable[[bytes], int],
    ):
        self.fd = fd
        self.coalescer = coalescer
        self._open_root = open_root
        self._wake = wake
        self._wds: dict[int, _Dir] = {}
        self._roots: dict[bytes, _Dir] = {}
        # Each root's directory, opened once when validated: directory events are resolved from
        # here, not by validating the path from "/" again for every event of a storm.
        self._root_fds: dict[bytes, int] = {}
        # Directory changes seen in the batch being read, resolved once each at its end: an
        # exchange storm queues thousands of events for the same two names, and resolving each
        # would bury every other customer's events behind it.
        self._changed_dirs: dict[tuple[int, bytes], tuple[_Dir, bytes]] = {}
        self._signal_lock = threading.Lock()  # guards what the daemon's thread takes
        self._overflowed = False
        self._lost_roots: set[bytes] = set()
        self._unwatchable: dict[bytes, str] = {}

    def _add_root(self, root: bytes) -> str | None:
        if root in self._roots:
            return None
        fd = open_root_or_why(self._open_root, root)
        if isinstance(fd, str):
            return fd
        try:
            key = _key(os.fstat(fd))
            wd = self._add_watch(fd)
        except BaseException:
            os.close(fd)
            raise
        if wd < 0:
            os.close(fd)
            return watch_failure_reason(-wd)
        node = self._wds.get(wd)
        if node is not None:  # the same directory is watched already (roots overlap)
            os.close(fd)
            self._roots[root] = node
            return None
        node = _Dir(wd, root, None, key, root)
        self._wds[wd] = node
        self._roots[root] = node
        self._root_fds[root] = os.dup(fd)
        self._place(_Handle(fd), node, descend_known=False)
        return None

    def _remove_root(self, root: bytes) -> None:
        cached = self._root_fds.pop(root, None)
        if cached is not None:
            os.close(cached)
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
            self._note_unwatchable(parent, name, watch_failure_reason(-wd))
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
                self._note_unwatchable(parent, name, watch_failure_reason(-wd))
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
            cached = self._root_fds.get(chain[0].name)
            fd = os.dup(cached) if cached is not None else self._open_root(chain[0].name)
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
                self._changed_dirs[(node.wd, name)] = (node, path)
            return
        if mask & _FILE_SETTLE:
            add(path)
        elif mask & _IN.IN_MODIFY:
            add(path, settle=False)

    def _resync_changed(self) -> None:
        """At the end of a batch: each directory name that changed, made to match the disk once
        (watches first, then the walk of what is in it)."""
        changed, self._changed_dirs = self._changed_dirs, {}
        for (wd, name), (node, path) in changed.items():
            if self._wds.get(wd) is node:  # not forgotten meanwhile
                self._resync(node, name)
                self.coalescer.add(path)

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
