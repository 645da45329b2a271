"""The seam between the daemon and the kernel's file events: what any event source provides.
Which one runs (``[daemon] events = "auto" | "fanotify" | "inotify"``) is chosen by
:mod:`fim.daemon.sources`.

Two sources exist: :class:`fim.daemon.inotify_reader.InotifyReader` (a watch per directory,
works for any user) and :class:`fim.daemon.fanotify_source.FanotifySource` (one mark per file
system, needs ``CAP_SYS_ADMIN`` and Linux >= 5.9). Both feed the same coalescer; the daemon
and :class:`fim.daemon.watch.Watches` talk to them only through :class:`EventSource`.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import traceback
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from fim.daemon.coalescer import Coalescer
from fim.detect import roots as roots_mod

EVENT_SOURCES = ("auto", "fanotify", "inotify")


class ReaderStopped(Exception):
    """The source's reader thread is not running (it died, or was stopped)."""


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


class ReaderThread:
    """The reader-thread half both sources share: started only if the kernel object could be
    made (``error`` is None), and seen alive or stopping by the daemon's supervision. The
    thread waits on the kernel's descriptor ``fd`` and a wake-up pipe; a source says what to do
    with a batch of kernel events (:meth:`_read_batch`) and on every wake-up (:meth:`_woken`)."""

    fd: int
    error: BaseException | None
    error_trace: str
    _thread: threading.Thread
    _stopping: bool
    _pipe_r: int
    _pipe_w: int
    _closed: bool
    _wake: threading.Event

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
        raise NotImplementedError

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
                self._woken()
                if self.fd in ready and not self._stopping:
                    self._read_batch()
        except BaseException as exc:  # kept for the daemon, which restarts the reader
            self.error = exc
            self.error_trace = traceback.format_exc()
        finally:
            self._wake.set()  # the daemon looks at once, whether we stopped or died
            self._ended()

    def _read_batch(self) -> None:
        raise NotImplementedError

    def _woken(self) -> None:
        """Each round of the loop, before kernel events are read."""

    def _ended(self) -> None:
        """Once the loop has ended, for whatever reason."""

    def start(self) -> None:
        if self.error is None:
            self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stopping


def open_root_or_why(open_root: Callable[[bytes], int], root: bytes) -> int | str:
    """``root`` opened by the daemon's validating opener, or why it could not be."""
    try:
        return open_root(root)
    except OSError as exc:
        return exc.strerror or str(exc)
    except roots_mod.RootError as exc:
        return str(exc)
