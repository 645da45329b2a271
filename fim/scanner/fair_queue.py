"""Files waiting for an inspection worker, shared fairly between tenants.

Each tenant has its own queue and tenants take turns (round-robin) at each free worker;
within a tenant small files go first. A turn hands out a batch: up to ``batch_files`` of the
tenant's small files holding at most ``batch_bytes`` together (at least one), or one large
file alone. A batch then costs a worker no more than one file at the small-file limit, so
batching changes how often the scanner talks to a worker, not how long another tenant waits.
No tenant may hold every worker with large files: one customer's padded files cannot hold
back another customer's verdict. Only the thread that feeds the scanner uses a queue (no
locking).

Batches form only while every worker is busy: a file that finds a free worker goes alone at
once (the daemon's single events keep their latency), and a long scan's files, arriving
faster than workers finish, leave in batches.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass

from fim.core.model import ScanReport
from fim.detect.walk import Candidate
from fim.store.baseline import BaselineRow


@dataclass(frozen=True, slots=True)
class Job:
    """A file accepted by the scanner, waiting for or in the hands of a worker."""

    cand: Candidate
    base: BaselineRow | None
    report: ScanReport
    scan_id: int
    tenant: str | None
    expensive: bool  # large enough (or of unknown size) to keep a worker busy for long
    size: int = 0  # as listed; what it counts for in a batch of small files


Batch = list[Job]


class FairQueue:
    """Waiting jobs by tenant, handed out as at most ``workers`` x ``depth`` running batches
    (a worker process holds its next batch while it inspects one: ``depth`` 2)."""

    def __init__(self, workers: int, depth: int = 1, *, batch_files: int = 1, batch_bytes: int = 0):
        self.workers = workers
        self._slots = workers * depth
        self._batch_files = max(1, batch_files)
        self._batch_bytes = batch_bytes
        # Waiting jobs, by tenant: (small, large). ``_turns`` lists the tenants with waiting
        # jobs in the order they get the next free worker.
        self._waiting: dict[str | None, tuple[deque[Job], deque[Job]]] = {}
        self._turns: deque[str | None] = deque()
        self._running = 0
        self._running_expensive: Counter[str | None] = Counter()
        # A tenant's large files may use every worker but one: another tenant's file always
        # finds a worker within the time a small file takes.
        self._expensive_cap = max(1, workers - 1)

    def add(self, job: Job) -> None:
        """Queue ``job`` behind its tenant's other waiting jobs."""
        queues = self._waiting.get(job.tenant)
        if queues is None:
            queues = self._waiting[job.tenant] = (deque(), deque())
            self._turns.append(job.tenant)
        queues[1 if job.expensive else 0].append(job)

    def take(self) -> Batch | None:
        """The next batch for a free worker, now counted as running; None when every worker is
        busy or every waiting job is a large one of a tenant at its cap.

        Some job is always runnable when no worker is busy, so waiting for all jobs to finish
        cannot wait forever.
        """
        if self._running >= self._slots:
            return None
        for _ in range(len(self._turns)):
            tenant = self._turns[0]
            self._turns.rotate(-1)
            batch = self._take(tenant)
            if batch:
                break
        else:
            return None
        self._running += 1
        if batch[0].expensive:
            self._running_expensive[batch[0].tenant] += 1
        return batch

    def _take(self, tenant: str | None) -> Batch:
        small, large = self._waiting[tenant]
        batch: Batch = []
        if small:
            batch.append(small.popleft())
            total = batch[0].size
            while small and len(batch) < self._batch_files and total + small[0].size <= self._batch_bytes:
                total += small[0].size
                batch.append(small.popleft())
        elif large and self._running_expensive[tenant] < self._expensive_cap:
            batch.append(large.popleft())
        else:
            return batch
        if not small and not large:
            del self._waiting[tenant]
            self._turns.remove(tenant)
        return batch

    def finished(self, batch: Batch) -> None:
        """A worker is done with ``batch`` (taken with :meth:`take`): it is free again."""
        self._running -= 1
        if batch[0].expensive:
            tenant = batch[0].tenant
            self._running_expensive[tenant] -= 1
            if not self._running_expensive[tenant]:
                del self._running_expensive[tenant]

    def clear(self) -> list[Job]:
        """Remove and return the jobs still waiting (never started)."""
        waiting = [job for small, large in self._waiting.values() for job in (*small, *large)]
        self._waiting.clear()
        self._turns.clear()
        return waiting
