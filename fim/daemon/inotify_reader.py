"""Real-time events: one inotify instance read by one thread -> a coalescing set of due paths.

The kernel side is watchdog's ctypes binding (``watchdog.observers.inotify_c``); the watch
management is ours (:mod:`fim.daemon.watch_tree`), because watchdog's observer runs one thread
per root and its dead thread went unnoticed. Here one instance and one thread serve every
root, whatever their number, and any exception ends the thread with the exception kept:
:meth:`fim.daemon.watch.Watches.dead_roots` notices it, starts a fresh instance and tells the
daemon which roots to rescan.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections import deque
from collections.abc import Callable

from watchdog.observers.inotify_c import InotifyFD, inotify_init

from fim.daemon.coalescer import Coalescer
from fim.daemon.events import ReaderStopped, ReaderThread
from fim.daemon.watch_tree import DIR_FLAGS, WatchTree, watch_failure_reason

READ_SIZE = 256 * 1024


class InotifyReader(WatchTree, ReaderThread):
    """One inotify instance and the one thread that reads it, for every root.

    Only the reader thread touches the watch map: the daemon's thread asks it to add or drop a
    root (:meth:`add_root`, :meth:`remove_root`) and waits for the answer, so there is no lock
    around the map and no window where both threads edit it. Satisfies
    :class:`fim.daemon.events.EventSource`.
    """

    name = "inotify"
    per_directory = True  # a watch per directory: walks check what escaped (fim.daemon.coverage)

    def __init__(
        self,
        coalescer: Coalescer,
        *,
        wake: threading.Event | None = None,
        open_root: Callable[[bytes], int] | None = None,
    ):
        self.error: BaseException | None = None
        self.error_trace = ""
        self._pipe_r, self._pipe_w = os.pipe()
        fd = inotify_init()
        if fd < 0:  # a reader that never ran: the owner sees it dead and retries later
            err = ctypes.get_errno()
            self.error = OSError(err, watch_failure_reason(err))
        else:
            os.set_inheritable(fd, False)  # inotify_init has no CLOEXEC flag
        # How a root is opened: by default its path with O_NOFOLLOW on the last component; the
        # daemon passes fim.roots' opener, which follows no customer's symlink on the way.
        super().__init__(
            fd,
            coalescer,
            wake=wake or coalescer.wake,
            open_root=open_root or (lambda root: os.open(root, DIR_FLAGS)),
        )
        os.set_blocking(self._pipe_r, False)
        self._requests: deque[tuple[str, bytes, list[str | None], threading.Event]] = deque()
        self._stopping = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="fim-inotify", daemon=True)

    # -- the daemon's side ---------------------------------------------------------------------

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

    def set_patterns(self, patterns: tuple[str, ...]) -> None:
        pass  # inotify sees nothing outside the roots: new roots wait for the glob refresh

    def take_root_hint(self) -> bool:
        return False

    def describe_coverage(self) -> str:
        return f"{len(self._wds):,} directories watched"

    def take_event_errors(self) -> list[str]:
        return []  # any error ends this reader's thread (and the daemon restarts it)

    def close(self) -> None:
        """Release the instance; closing it drops every watch it holds."""
        if self._closed or self._thread.is_alive():
            return
        self._closed = True
        for fd in (self.fd, self._pipe_r, self._pipe_w, *self._root_fds.values()):
            if fd < 0:
                continue
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- the reader thread ---------------------------------------------------------------------

    def _read_batch(self) -> None:
        try:
            buffer = os.read(self.fd, READ_SIZE)
        except InterruptedError:
            return
        for wd, mask, _cookie, name in InotifyFD._parse_event_buffer(buffer):
            self._handle(wd, mask, name)
        self._resync_changed()
        self._serve()  # a root waiting to be added is not starved by a storm

    def _woken(self) -> None:
        self._serve()

    def _ended(self) -> None:
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
