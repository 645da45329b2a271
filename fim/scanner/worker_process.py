"""The worker process's side: its loop, and the messages it exchanges with the scanner.

A message is a pickle sent in pieces over a SOCK_SEQPACKET socket pair, the descriptors of a
batch's files with its first piece (SCM_RIGHTS). Pickle is trusted both ways: the worker is
this program, forked from the scanner, same user, over a socket pair no one else holds.
(Workers with fewer privileges than the scanner would need a format parsed without trusting
them.)
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import pickle
import signal
import socket

from fim.core.model import FileState, Inspection, Status
from fim.detect.inspector import Inspector

# A message larger than this goes in pieces (a path can be far longer than PATH_MAX; a
# verdict with many matches is large): SOCK_SEQPACKET keeps each piece whole.
PIECE = 32 << 10
_MORE, _LAST = b"+", b"="
_STATUS = {str(s): s for s in Status}
# Files sent to a worker in one message at most (their descriptors go together; the kernel
# takes up to 253 in one message), and the bytes they may hold together as listed.
BATCH_FILES = 64
BATCH_BYTES = 256 << 10
# A worker gives a batch back unfinished once it has read this much of it: files that grew
# after they were listed (a customer appending to them on purpose) then cost a worker no
# more than the batch was meant to, and the rest of the batch waits its turn again.
BATCH_READ_LIMIT = 2 * BATCH_BYTES


def encode(insp: Inspection) -> tuple:
    """An inspection as plain values (pickling the dataclasses costs more than matching a
    small file); the path is left out: the scanner knows it."""
    st = insp.state
    state = None
    if st is not None:
        state = (st.dev, st.ino, st.size, st.mode, st.uid, st.gid, st.mtime_ns, st.ctime_ns)
        state += (st.sha256, st.md5, st.nlink)
    return (str(insp.status), state, insp.matches or None, insp.reason)


def decode(path: bytes, item: tuple) -> Inspection:
    """A verdict from a worker (see the module's note on trusting pickle)."""
    status, state, matches, reason = item
    state = FileState(path, *state) if state is not None else None
    return Inspection(path, _STATUS[status], state, matches or (), reason)


def serve(sock_fd: int, inspector: Inspector) -> None:
    """The worker's loop: descriptors and their paths in, their inspections out, until end
    of file."""
    # Objects inherited from the scanner are never collected here: a stale file object's
    # finaliser would close a descriptor number this process reuses for a file it inspects.
    gc.freeze()
    # Ctrl-C and systemd's stop reach the whole group: the scanner decides when workers end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    # Nothing of the scanner's stays open here: directories, the database, other workers'
    # sockets (whose end of file must reach them when the scanner goes away).
    os.closerange(3, sock_fd)
    os.closerange(sock_fd + 1, os.sysconf("SC_OPEN_MAX"))
    sock = socket.socket(fileno=sock_fd)
    _keep_heap()
    while True:
        data, fds = recv(sock, BATCH_FILES)
        if not data:
            return
        try:
            request = pickle.loads(data)  # noqa: S301  # from the scanner that forked us
            verdicts = []
            read = 0
            for k, (path, listed) in enumerate(request):
                if read > BATCH_READ_LIMIT:  # the verdicts so far; the scanner sends the rest again
                    break
                # Descriptors the kernel could not give us (no room here: MSG_CTRUNC) are the
                # last ones: their files get an error verdict.
                fd = fds[k] if k < len(fds) else None
                verdict = _inspect_one(inspector, fd, path, listed)
                verdicts.append(verdict)
                read += verdict[1][2] if verdict[1] is not None else 0  # its size when opened
                if fd is not None:  # done with it: the batch's other files are all we hold
                    os.close(fd)
                    fds[k] = -1
        finally:
            for fd in fds:
                if fd >= 0:
                    os.close(fd)
        send(sock, pickle.dumps(verdicts, 5), [])


# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_TOP_PAD = -1, -2
_HEAP_SLACK = 64 << 20


def _keep_heap() -> None:
    """Let the heap keep up to :data:`_HEAP_SLACK` bytes it no longer uses.

    Matching a file allocates and frees a few hundred kilobytes; by default glibc gives the
    top of the heap back to the kernel each time and takes it again for the next file, and
    every page taken again is a page fault (3 to 5 per small file, a fifth of a worker's time
    in the kernel). A worker's heap stays about as large as its largest file's inspection.
    """
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None)
        libc.mallopt(_M_TRIM_THRESHOLD, _HEAP_SLACK)
        libc.mallopt(_M_TOP_PAD, 1 << 20)


def _inspect_one(inspector: Inspector, fd: int | None, path: bytes, listed: tuple[int, int] | None) -> tuple:
    try:
        if fd is None:
            insp = Inspection(path, Status.ERROR, reason="internal error: descriptor not received")
        else:
            insp = inspector.inspect_fd(fd, path, listed)
    except Exception as exc:
        insp = Inspection(path, Status.ERROR, reason=f"internal error: {exc!r}")
    return encode(insp)


def send(sock: socket.socket, payload: bytes, fds: list[int]) -> None:
    """``payload`` in pieces of at most :data:`PIECE` bytes, ``fds`` with the first."""
    view = memoryview(payload)
    while len(view) > PIECE:
        socket.send_fds(sock, [_MORE, view[:PIECE]], fds)
        fds = []
        view = view[PIECE:]
    socket.send_fds(sock, [_LAST, view], fds) if fds else sock.sendmsg([_LAST, view])


def recv(sock: socket.socket, maxfds: int) -> tuple[bytes, list[int]]:
    """One message sent by :func:`_send`, with up to ``maxfds`` descriptors; empty bytes at
    end of file."""
    parts: list[bytes] = []
    fds: list[int] = []
    while True:
        data, got, _flags, _addr = socket.recv_fds(sock, PIECE + 1, max(1, maxfds))
        fds += got
        if not data:
            for fd in fds:
                os.close(fd)
            return b"", []
        parts.append(data[1:])
        if data[:1] == _LAST:
            return b"".join(parts), fds
