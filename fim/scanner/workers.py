"""Who inspects the files the scanner accepted: worker processes, or threads of this process.

Matching is C (yara-python releases the interpreter lock), but everything around it (the
unpacking stage, externals, building the verdict) is Python, and threads of one interpreter
run that one at a time: on small files the lock, not the cores, set the pace. So by default
each worker is a process forked from the scanner, holding the compiled rules it inherited.

The guarantees stay those of :class:`fim.detect.inspector.Inspector`: the scanner process
opens each file itself (relative to the directory descriptor the walk verified, ``O_NOFOLLOW
| O_NONBLOCK``) and passes the open descriptors to a worker over a Unix socket (SCM_RIGHTS),
a batch of files in one message. The worker never sees a path it could open: for each file
it fstats, reads once, hashes and matches the same bytes, and it sends the batch's
inspections back in one message. A worker that dies (a crash in a library, the OOM killer)
costs the file it died on an error verdict; the next files get a new worker.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import select
import socket
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from fim.core.model import Inspection, Status
from fim.detect.inspector import Inspector, listed_identity, open_failure
from fim.scanner import worker_process as wire
from fim.scanner.fair_queue import Batch, Job

Done = tuple[Batch, list[Inspection]]  # a batch, and the inspection of each of its files


class Workers(Protocol):
    """Runs inspections; the scanner's thread submits batches of files and takes the results."""

    depth: int  # batches a worker may hold at a time (the fair queue hands out size x depth)
    batch_files: int  # files in one batch at most
    batch_bytes: int  # bytes its small files may hold together (as listed)

    def submit(self, batch: Batch) -> None: ...

    def results(self, timeout: float | None) -> list[Done]:
        """Finished batches; waits up to ``timeout`` seconds (None: until one is done)."""
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
    """Inspections in a thread pool of this process, a file at a time."""

    depth = 1
    batch_files = 1
    batch_bytes = 0

    def __init__(self, inspector: Inspector, size: int):
        self._inspector = inspector
        self._done: queue.SimpleQueue[Done] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(size, thread_name_prefix="fim-inspect")

    def submit(self, batch: Batch) -> None:
        self._pool.submit(self._work, batch)

    def _work(self, batch: Batch) -> None:
        self._done.put((batch, [_inspect_here(self._inspector, job) for job in batch]))

    def results(self, timeout: float | None) -> list[Done]:
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


class _Pending:
    """A batch handed to the workers, and the inspections of its files so far."""

    __slots__ = ("insps", "jobs", "left")

    def __init__(self, jobs: Batch):
        self.jobs = jobs
        self.insps: list[Inspection | None] = [None] * len(jobs)
        self.left = len(jobs)


# Files of one batch that go to a worker in one message: the batch and their places in it.
_Piece = tuple[_Pending, list[int]]


class ProcessWorkers:
    """Inspections in up to ``size`` forked worker processes.

    Only the scanner's thread uses it: it sends descriptors and reads verdicts itself (a reader
    thread would wait for the interpreter lock before it could hand a worker its next file).
    A batch's files go to a worker in one message, their verdicts come back in one: a round
    trip per batch, not per file. A worker holds up to :attr:`depth` batches of small files
    (the next one waits in its socket, so it never idles while the scanner records verdicts),
    or one large file alone: a small file never waits behind a large one in a worker. Batches
    wait here, in the fair queue's order, until a worker can take them; their files are opened
    only when sent.
    """

    depth = 2
    batch_files = wire.BATCH_FILES
    batch_bytes = wire.BATCH_BYTES

    def __init__(self, inspector: Inspector, size: int):
        self._inspector = inspector
        self._size = size
        self._workers: dict[int, _Worker] = {}  # by socket descriptor
        self._poll = select.poll()
        self._waiting: deque[_Piece] = deque()
        self._done: list[Done] = []

    def submit(self, batch: Batch) -> None:
        self._waiting.append((_Pending(batch), list(range(len(batch)))))
        self._pump()

    def _pump(self) -> None:
        while self._waiting:
            pending, places = self._waiting[0]
            try:
                worker = self._worker_for(pending.jobs[places[0]].expensive)
            except OSError:  # no new process (a process or memory limit): use the ones there are
                if any(w.pieces for w in self._workers.values()):
                    return
                self._waiting.popleft()  # none at all: this process inspects the files
                for i in places:
                    self._settle(pending, i, _inspect_here(self._inspector, pending.jobs[i]))
                continue
            if worker is None:
                return
            self._send(worker, self._waiting.popleft())

    def _worker_for(self, expensive: bool) -> _Worker | None:
        """An idle worker (a new one while there are fewer than ``size``); for small files
        also one holding fewer than ``depth`` batches of small files."""
        best = None
        for worker in self._workers.values():
            held = len(worker.pieces)
            if not held:
                return worker
            if held < self.depth and not worker.expensive and (best is None or held < len(best.pieces)):
                best = worker
        if len(self._workers) < self._size:
            worker = _Worker(self._inspector)
            self._workers[worker.fileno] = worker
            self._poll.register(worker.fileno, select.POLLIN)
            return worker
        return None if expensive else best

    def _send(self, worker: _Worker | None, piece: _Piece) -> None:
        pending, places = piece
        fds: list[int] = []
        opened: list[int] = []
        try:
            for i in places:
                cand = pending.jobs[i].cand
                try:
                    fds.append(self._inspector.open(cand))
                    opened.append(i)
                except OSError as exc:
                    self._settle(pending, i, open_failure(cand.path, exc))
            while opened and worker is not None:
                try:
                    worker.send((pending, opened), fds)
                    return
                except OSError:  # it died since its last verdict: another one takes the files
                    self._remove(worker)
                    try:
                        worker = self._worker_for(pending.jobs[opened[0]].expensive)
                    except OSError:
                        worker = None
            if opened:
                self._waiting.appendleft((pending, opened))  # opened again when a worker is free
        finally:
            for fd in fds:
                os.close(fd)

    def _settle(self, pending: _Pending, place: int, insp: Inspection) -> None:
        pending.insps[place] = insp
        pending.left -= 1
        if not pending.left:
            self._done.append((pending.jobs, pending.insps))  # type: ignore[arg-type]  # all set now

    def results(self, timeout: float | None) -> list[Done]:
        if not self._done and any(w.pieces for w in self._workers.values()):
            wait = -1 if timeout is None else int(timeout * 1000)
            for fd, _events in self._poll.poll(wait):
                self._read(self._workers[fd])
            self._pump()
        found, self._done = self._done, []
        return found

    def _read(self, worker: _Worker) -> None:
        """Take the verdicts waiting in ``worker``'s socket; forget it if it died."""
        while worker.pieces:
            got = worker.receive()
            if got is None:
                break
            (pending, places), insps = got
            for i, insp in zip(places, insps):  # noqa: B905  # fewer: the worker stopped early
                self._settle(pending, i, insp)
            if len(insps) < len(places):  # its files grew since listed: the rest wait their turn
                self._waiting.append((pending, places[len(insps) :]))
            if not worker.ready():
                return
        self._remove(worker)  # end of file, between batches or in the middle of one

    def _remove(self, worker: _Worker) -> None:
        """Forget a dead worker. A file it was inspecting alone gets an error verdict (it may be
        what killed it); a batch it was inspecting is sent again a file at a time, so only the
        file that kills a worker on its own gets that verdict. Batches waiting behind it go to
        another worker."""
        del self._workers[worker.fileno]
        self._poll.unregister(worker.fileno)
        how = worker.reap()
        pieces = list(worker.pieces)
        worker.pieces.clear()
        if pieces:
            (pending, places), behind = pieces[0], pieces[1:]
            if len(places) == 1:
                cand = pending.jobs[places[0]].cand
                reason = f"internal error: the inspection worker {how}"
                self._settle(pending, places[0], Inspection(cand.path, Status.ERROR, reason=reason))
            else:
                behind = [(pending, [i]) for i in places] + behind
            self._waiting.extendleft(reversed(behind))

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
                wire.serve(theirs.detach(), inspector)
                status = 0
            finally:
                os._exit(status)
        theirs.close()
        self.pid = pid
        self.sock = ours
        self.fileno = ours.fileno()
        self.pieces: deque[_Piece] = deque()  # sent, verdicts not received yet (in order)
        self.expensive = False  # holds a large file
        self._readable = select.poll()
        self._readable.register(self.fileno, select.POLLIN)

    def send(self, piece: _Piece, fds: list[int]) -> None:
        """The files of ``piece``, opened as ``fds``: each with its path and the (device,
        inode) the walk saw."""
        pending, places = piece
        request = []
        for i in places:
            cand = pending.jobs[i].cand
            request.append((cand.path, listed_identity(cand)))
        wire.send(self.sock, pickle.dumps(request, 5), fds)
        self.pieces.append(piece)
        self.expensive = pending.jobs[places[0]].expensive

    def receive(self) -> tuple[_Piece, list[Inspection]] | None:
        """The verdicts on the oldest piece sent; None when the worker died instead (the
        piece stays first in :attr:`pieces`)."""
        pending, places = self.pieces[0]
        with contextlib.suppress(Exception):  # nothing, or garbage: the worker is no use any more
            data, _fds = wire.recv(self.sock, 0)
            if data:
                items = pickle.loads(data)  # noqa: S301  # see fim.scanner.worker_process
                if not 0 < len(items) <= len(places):  # a worker gives at least one verdict
                    raise ValueError("verdicts do not fit the files sent")
                insps = [wire.decode(pending.jobs[i].cand.path, item) for i, item in zip(places, items)]  # noqa: B905
                piece = self.pieces.popleft()
                if not self.pieces:
                    self.expensive = False
                return piece, insps
        return None

    def ready(self) -> bool:
        """Whether verdicts (or end of file) wait to be read."""
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
