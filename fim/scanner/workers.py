"""Who inspects the files the scanner accepted: worker processes, or threads of this process.

Matching is C (yara-python releases the interpreter lock), but everything around it (the
unpacking stage, externals, building the verdict) is Python, and threads of one interpreter
run that one at a time: on small files the lock, not the cores, set the pace. So by default
each worker is a process forked from the scanner, holding the compiled rules it inherited.

The guarantees stay those of :class:`fim.detect.inspector.Inspector`: the scanner process
opens each file itself (relative to the directory descriptor the walk verified, ``O_NOFOLLOW
| O_NONBLOCK``) and passes the open descriptor to a worker over a Unix socket (SCM_RIGHTS).
The worker never sees a path it could open: it fstats, reads once, hashes and matches the
same bytes, and sends the inspection back. A worker that dies (a crash in a library, the OOM
killer) costs its file an error verdict; the next file gets a new worker.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import queue
import select
import signal
import socket
import struct
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from fim.core.model import FileState, Inspection, Status
from fim.detect.inspector import Inspector, listed_identity, open_failure
from fim.scanner.fair_queue import Job

# A message larger than this goes in pieces (a path can be far longer than PATH_MAX; a
# verdict with many matches is large): SOCK_SEQPACKET keeps each piece whole.
PIECE = 32 << 10
_MORE, _LAST = b"+", b"="
# A file for a worker: whether the walk saw its (device, inode), which, then its path.
_REQUEST = struct.Struct("=?QQ")
_STATUS = {str(s): s for s in Status}

Result = tuple[Job, Inspection]


class Workers(Protocol):
    """Runs inspections; the scanner's thread submits files and takes the results."""

    depth: int  # files a worker may hold at a time (the fair queue hands out size x depth)

    def submit(self, job: Job) -> None: ...

    def results(self, timeout: float | None) -> list[Result]:
        """Finished inspections; waits up to ``timeout`` seconds (None: until one is done)."""
        ...

    def close(self) -> None: ...


def make_workers(inspector: Inspector, size: int, *, processes: bool | None = None) -> Workers:
    """``size`` workers: processes where the system can fork, else (or when asked) threads."""
    if processes is None:
        processes = hasattr(os, "fork")
    if processes:
        return ProcessWorkers(inspector, size)
    return ThreadWorkers(inspector, size)


class ThreadWorkers:
    """Inspections in a thread pool of this process."""

    depth = 1

    def __init__(self, inspector: Inspector, size: int):
        self._inspector = inspector
        self._done: queue.SimpleQueue[Result] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(size, thread_name_prefix="fim-inspect")

    def submit(self, job: Job) -> None:
        self._pool.submit(self._work, job)

    def _work(self, job: Job) -> None:
        self._done.put((job, _inspect_here(self._inspector, job)))

    def results(self, timeout: float | None) -> list[Result]:
        try:
            found = [self._done.get(timeout=timeout) if timeout != 0 else self._done.get_nowait()]
        except queue.Empty:
            return []
        with contextlib.suppress(queue.Empty):
            while True:
                found.append(self._done.get_nowait())
        return found

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class ProcessWorkers:
    """Inspections in up to ``size`` forked worker processes.

    Only the scanner's thread uses it: it sends descriptors and reads verdicts itself (a reader
    thread would wait for the interpreter lock before it could hand a worker its next file).
    A worker holds up to :attr:`depth` small files (the next one waits in its socket, so it
    never idles while the scanner records a verdict), or one large file alone: a small file
    never waits behind a large one in a worker. Files the fair queue handed out wait here, in
    its order, until a worker can take them; they are opened only when sent.
    """

    depth = 2

    def __init__(self, inspector: Inspector, size: int):
        self._inspector = inspector
        self._size = size
        self._workers: dict[int, _Worker] = {}  # by socket descriptor
        self._poll = select.poll()
        self._waiting: deque[Job] = deque()
        self._ready: list[Result] = []  # decided without a worker (the open failed)

    def submit(self, job: Job) -> None:
        self._waiting.append(job)
        self._pump()

    def _pump(self) -> None:
        while self._waiting:
            try:
                worker = self._worker_for(self._waiting[0].expensive)
            except OSError:  # no new process (a process or memory limit): use the ones there are
                if any(w.jobs for w in self._workers.values()):
                    return
                job = self._waiting.popleft()  # none at all: this process inspects the file
                self._ready.append((job, _inspect_here(self._inspector, job)))
                continue
            if worker is None:
                return
            self._send(worker, self._waiting.popleft())

    def _worker_for(self, expensive: bool) -> _Worker | None:
        """An idle worker (a new one while there are fewer than ``size``); for a small file
        also one holding fewer than ``depth`` small files."""
        best = None
        for worker in self._workers.values():
            held = len(worker.jobs)
            if not held:
                return worker
            if held < self.depth and not worker.expensive and (best is None or held < len(best.jobs)):
                best = worker
        if len(self._workers) < self._size:
            worker = _Worker(self._inspector)
            self._workers[worker.fileno] = worker
            self._poll.register(worker.fileno, select.POLLIN)
            return worker
        return None if expensive else best

    def _send(self, worker: _Worker | None, job: Job) -> None:
        cand = job.cand
        try:
            fd = self._inspector.open(cand)
        except OSError as exc:
            self._ready.append((job, open_failure(cand.path, exc)))
            return
        try:
            while worker is not None:
                try:
                    worker.send(job, fd)
                    return
                except OSError:  # it died since its last verdict: another one takes the file
                    self._ready += self._remove(worker)
                    try:
                        worker = self._worker_for(job.expensive)
                    except OSError:
                        worker = None
            self._waiting.appendleft(job)  # opened again when a worker is free
        finally:
            os.close(fd)

    def results(self, timeout: float | None) -> list[Result]:
        found, self._ready = self._ready, []
        if found or not any(w.jobs for w in self._workers.values()):
            return found
        wait = -1 if timeout is None else int(timeout * 1000)
        for fd, _events in self._poll.poll(wait):
            worker = self._workers[fd]
            if not worker.jobs:  # end of file from an idle worker: it died between files
                found += self._remove(worker)
                continue
            found.append(worker.receive())
            while worker.alive and worker.jobs and worker.ready():  # the next verdict, already there
                found.append(worker.receive())
            if not worker.alive:
                found += self._remove(worker)
        self._pump()
        return found

    def _remove(self, worker: _Worker) -> list[Result]:
        """Forget a dead worker. The file it was inspecting gets an error verdict (it may be
        what killed it); the files waiting behind that one go to another worker."""
        del self._workers[worker.fileno]
        self._poll.unregister(worker.fileno)
        how = worker.reap()
        if worker.dying is not None:  # its verdict was given by receive()
            self._waiting.extendleft(reversed(worker.jobs))
            worker.jobs.clear()
            return []
        lost = []
        if worker.jobs:
            job = worker.jobs.popleft()
            reason = f"internal error: the inspection worker {how}"
            lost.append((job, Inspection(job.cand.path, Status.ERROR, reason=reason)))
        self._waiting.extendleft(reversed(worker.jobs))
        worker.jobs.clear()
        return lost

    def close(self) -> None:
        for worker in self._workers.values():
            worker.stop()
        for worker in self._workers.values():
            worker.reap()
        self._workers = {}
        self._waiting.clear()


class _Worker:
    """One forked worker process."""

    def __init__(self, inspector: Inspector):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            raise
        if pid == 0:  # the worker: never returns
            status = 1
            try:
                ours.detach()  # its descriptor goes with the others below
                _serve(theirs.detach(), inspector)
                status = 0
            finally:
                os._exit(status)
        theirs.close()
        self.pid = pid
        self.sock = ours
        self.fileno = ours.fileno()
        self.alive = True
        self.jobs: deque[Job] = deque()  # sent, verdict not received yet (in order)
        self.expensive = False  # holds a large file
        self.dying: str | None = None  # how it ended, once receive() found it dead
        self._readable = select.poll()
        self._readable.register(self.fileno, select.POLLIN)

    def send(self, job: Job, fd: int) -> None:
        listed = listed_identity(job.cand)
        header = _REQUEST.pack(listed is not None, *(listed or (0, 0)))
        _send(self.sock, header + job.cand.path, [fd])
        self.jobs.append(job)
        self.expensive = job.expensive

    def receive(self) -> Result:
        """The verdict on the oldest file sent; an error verdict when the worker died instead."""
        job = self.jobs.popleft()
        if not self.jobs:
            self.expensive = False
        with contextlib.suppress(Exception):  # nothing, or garbage: the worker is no use any more
            data, _fds = _recv(self.sock)
            if data:
                return job, _decode(job.cand.path, data)
        self.alive = False
        self.dying = self.reap()
        reason = f"internal error: the inspection worker {self.dying}"
        return job, Inspection(job.cand.path, Status.ERROR, reason=reason)

    def ready(self) -> bool:
        """Whether a verdict (or end of file) waits to be read."""
        return bool(self._readable.poll(0))

    def stop(self) -> None:
        """Ask the worker to exit once its files are done (it reads end of file)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)

    def reap(self) -> str:
        """Wait for the worker to end (after :meth:`stop`, or once it died); how it ended."""
        self.stop()
        how = "went away"
        if self.pid:
            with contextlib.suppress(ChildProcessError):
                _pid, status = os.waitpid(self.pid, 0)
                if os.WIFSIGNALED(status):
                    how = f"was killed by signal {os.WTERMSIG(status)}"
                else:
                    how = f"exited with status {os.waitstatus_to_exitcode(status)}"
            self.pid = 0
            self.sock.close()
        return how


def _inspect_here(inspector: Inspector, job: Job) -> Inspection:
    """Inspect in this process. Never raises: a bug becomes an error verdict, not a hang."""
    try:
        return inspector.inspect(job.cand)
    except Exception as exc:
        return Inspection(job.cand.path, Status.ERROR, reason=f"internal error: {exc!r}")


def _encode(insp: Inspection) -> bytes:
    """An inspection as plain values (pickling the dataclasses costs more than matching a
    small file); the path is left out: the scanner knows it."""
    st = insp.state
    state = None
    if st is not None:
        state = (st.dev, st.ino, st.size, st.mode, st.uid, st.gid, st.mtime_ns, st.ctime_ns)
        state += (st.sha256, st.md5, st.nlink)
    return pickle.dumps((str(insp.status), state, insp.matches or None, insp.reason), 5)


def _decode(path: bytes, data: bytes) -> Inspection:
    """The verdict from a worker. Pickle is trusted here: the worker is this program, forked
    from this process, same user, over a socket pair no one else holds. (Workers with fewer
    privileges than the scanner would need a format parsed without trusting them.)"""
    status, state, matches, reason = pickle.loads(data)  # noqa: S301
    state = FileState(path, *state) if state is not None else None
    return Inspection(path, _STATUS[status], state, matches or (), reason)


def _serve(sock_fd: int, inspector: Inspector) -> None:
    """The worker's loop: a descriptor and its path in, the inspection out, until end of file."""
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
    while True:
        data, fds = _recv(sock)
        if not data:
            return
        known, dev, ino = _REQUEST.unpack_from(data)
        path, listed = data[_REQUEST.size :], (dev, ino) if known else None
        try:
            if len(fds) != 1:  # no room for the descriptor here (EMFILE): MSG_CTRUNC dropped it
                insp = Inspection(path, Status.ERROR, reason="internal error: descriptor not received")
            else:
                insp = inspector.inspect_fd(fds[0], path, listed)
        except Exception as exc:
            insp = Inspection(path, Status.ERROR, reason=f"internal error: {exc!r}")
        finally:
            for fd in fds:
                os.close(fd)
        _send(sock, _encode(insp), [])


def _send(sock: socket.socket, payload: bytes, fds: list[int]) -> None:
    """``payload`` in pieces of at most :data:`PIECE` bytes, ``fds`` with the first."""
    view = memoryview(payload)
    while len(view) > PIECE:
        socket.send_fds(sock, [_MORE, view[:PIECE]], fds)
        fds = []
        view = view[PIECE:]
    socket.send_fds(sock, [_LAST, view], fds) if fds else sock.sendmsg([_LAST, view])


def _recv(sock: socket.socket) -> tuple[bytes, list[int]]:
    """One message sent by :func:`_send`; empty bytes at end of file."""
    parts: list[bytes] = []
    fds: list[int] = []
    while True:
        data, got, _flags, _addr = socket.recv_fds(sock, PIECE + 1, 4)
        fds += got
        if not data:
            for fd in fds:
                os.close(fd)
            return b"", []
        parts.append(data[1:])
        if data[:1] == _LAST:
            return b"".join(parts), fds
