"""Files waiting for an inspection worker, shared fairly between tenants.

Each tenant has its own queue and tenants take turns (round-robin) at each free worker;
within a tenant small files go first. No tenant may hold every worker with large files: one
customer's padded files cannot hold back another customer's verdict. Only the thread that
feeds the scanner uses a queue (no locking).
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


class FairQueue:
    """Waiting jobs by tenant, handed to at most ``workers`` x ``depth`` running jobs at a time
    (a worker process holds its next small file while it inspects one: ``depth`` 2)."""

    def __init__(self, workers: int, depth: int = 1):
        self.workers = workers
        self._slots = workers * depth
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

    def take(self) -> Job | None:
        """The next job for a free worker, now counted as running; None when every worker is
        busy or every waiting job is a large one of a tenant at its cap.

        Some job is always runnable when no worker is busy, so waiting for all jobs to finish
        cannot wait forever.
        """
        if self._running >= self._slots:
            return None
        for _ in range(len(self._turns)):
            tenant = self._turns[0]
            self._turns.rotate(-1)
            job = self._take(tenant)
            if job is not None:
                break
        else:
            return None
        self._running += 1
        if job.expensive:
            self._running_expensive[job.tenant] += 1
        return job

    def _take(self, tenant: str | None) -> Job | None:
        small, large = self._waiting[tenant]
        if small:
            job = small.popleft()
        elif large and self._running_expensive[tenant] < self._expensive_cap:
            job = large.popleft()
        else:
            return None
        if not small and not large:
            del self._waiting[tenant]
            self._turns.remove(tenant)
        return job

    def finished(self, job: Job) -> None:
        """A worker is done with ``job`` (taken with :meth:`take`): it is free again."""
        self._running -= 1
        if job.expensive:
            self._running_expensive[job.tenant] -= 1
            if not self._running_expensive[job.tenant]:
                del self._running_expensive[job.tenant]

    def clear(self) -> list[Job]:
        """Remove and return the jobs still waiting (never started)."""
        waiting = [job for small, large in self._waiting.values() for job in (*small, *large)]
        self._waiting.clear()
        self._turns.clear()
        return waiting
