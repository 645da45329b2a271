"""The daemon's walks: paths due from events, and background walks of whole roots, fed to the
scanner a slice at a time so the loop keeps looking at events and pinging systemd."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fim.core import paths
from fim.core.model import Problem, ScanReport, Writer
from fim.daemon.coalescer import Coalescer
from fim.daemon.coverage import Coverage
from fim.daemon.sdnotify import Notifier
from fim.daemon.status import WalkSummary
from fim.daemon.watch import Watches
from fim.detect.walk import Candidate, Walker, lexists_beneath
from fim.scanner.merge import BaselineMerge
from fim.scanner.pipeline import Scanner
from fim.store.database import Store

WALK_SLICE = 256  # candidates taken from a walk before the loop looks at events again
MAX_HARDLINKS = 100_000  # files with several names, rescanned on every periodic rescan


@dataclass
class WalkJob:
    """A walk in progress (catch-up, rescan, new root...): taken a slice at a time by the loop."""

    kind: str  # catch-up | rescan | new-root | overflow | rules-changed | reader-restart
    roots: list[bytes]
    scan_id: int
    walker: Walker
    iterator: Iterator[Candidate]
    report: ScanReport
    started: float = field(default_factory=time.time)
    coverage: Coverage | None = None  # directories the walk found that inotify does not watch
    merge: BaselineMerge | None = None  # the walk compared with the baseline a directory at a time


def root_in(path: bytes, roots: set[bytes]) -> bytes | None:
    """The outermost root in ``roots`` that holds ``path``, found by the path's own prefixes:
    as many lookups as the path has components, whatever the number of roots."""
    if b"/" in roots:
        return b"/"
    end = 0
    while True:
        end = path.find(b"/", end + 1)
        prefix = path if end < 0 else path[:end]
        if prefix in roots:
            return prefix
        if end < 0:
            return None


class DaemonWalks:
    """The walking half of :class:`fim.daemon.service.Daemon` (a mixin: it shares the daemon's
    state). Health reporting and status come from the other halves."""

    log: Any
    notifier: Notifier
    store: Store
    scanner: Scanner
    watches: Watches
    coalescer: Coalescer
    _jobs: deque[WalkJob]
    _event_walks: deque[tuple[Iterator[Candidate], Walker, Writer | None]]
    _events_report: ScanReport
    _event_scan: int
    _last_catchup: WalkSummary | None
    _hardlinks: set[bytes]

    if TYPE_CHECKING:  # provided by the other halves of Daemon

        def recover(self, cause: str) -> None: ...
        def _verify_coverage(self, job: WalkJob) -> None: ...
        def _log_problem(self, problem: Problem) -> None: ...
        def _write_status(self, state: str | None = None) -> None: ...

    def _take_events(self) -> bool:
        due = self.coalescer.pop_due_entries(limit=2000)
        # One set of roots and one walker for the batch: a burst of 20,000 events over 5,000
        # roots cost a root list, a linear root search and a copy of every root's identity
        # per event (seconds of CPU and hundreds of MB at that scale).
        roots = {*self.watches.watched, *self.watches.unwatched} if due else set()
        walker = self._walker(self._events_report) if due else None
        for index, (path, writer) in enumerate(due):
            try:
                self._event(path, writer, roots, walker)
            except BaseException:
                for later, later_writer in due[index:]:  # not lost: looked at again once the store is back
                    self.coalescer.add(later, writer=later_writer)
                raise
        busy = bool(due)
        budget = WALK_SLICE
        while self._event_walks and budget > 0:
            iterator, _walker, writer = self._event_walks[0]
            sent = self._submit_slice(iterator, budget, self._events_report, self._event_scan, writer)
            budget -= sent
            if budget > 0:  # fewer than asked for: this walk is done
                self._event_walks.popleft()
            busy = True
        return busy

    def _event(
        self,
        path: bytes,
        writer: Writer | None = None,
        roots: set[bytes] | None = None,
        walker: Walker | None = None,
    ) -> None:
        root = root_in(path, roots if roots is not None else {*self.watches.watched, *self.watches.unwatched})
        if root is None:
            return
        if lexists_beneath(root, path) is False:  # None (cannot tell): walk and see
            for gone, tenant in self.store.delete_under(path):
                self.log.info("file deleted", path=paths.display(gone), tenant=tenant)
            return
        walker = walker or self._walker(self._events_report)
        self._event_walks.append((walker.walk_beneath(root, path), walker, writer))

    def _take_walks(self) -> bool:
        if not self._jobs:
            return False
        job = self._jobs[0]
        if (
            self._submit_slice(
                job.iterator, WALK_SLICE, job.report, job.scan_id, None, job.walker.unlisted, job.merge
            )
            >= WALK_SLICE
        ):
            return True
        self._finish_walk(self._jobs.popleft())
        return True

    def _submit_slice(
        self,
        iterator: Iterator[Candidate],
        count: int,
        report: ScanReport,
        scan_id: int,
        writer: Writer | None = None,
        unlisted: list[bytes] | None = None,
        merge: BaselineMerge | None = None,
    ) -> int:
        """Submit up to ``count`` candidates of a walk, their baseline rows looked up together; how
        many. ``writer``: who the event that started this walk named (fanotify), if anyone;
        ``unlisted``: the walk's list of paths its deletion sweep must leave alone."""
        chunk = list(itertools.islice(iterator, count))
        for cand in chunk:
            self._note_links(cand)
        if chunk:
            try:
                settle = merge.settle if merge is not None else None
                self.scanner.submit_many(chunk, report, scan_id, writer=writer, settle=settle)
            except BaseException:
                # The walk has moved past these (and they are released): not lost, looked at
                # again from their roots once the store is back, and never swept as deleted.
                for cand in chunk:
                    self.coalescer.add(cand.path, writer=writer)
                if unlisted is not None:
                    unlisted.extend(cand.path for cand in chunk)
                raise
        return len(chunk)

    def _start_walk(self, kind: str, roots: list[bytes]) -> None:
        report = ScanReport(ruleset_version=self.scanner.version, roots=roots)
        scan_id = self.store.begin_scan(kind, [paths.display(r) for r in roots], self.scanner.version)
        self._event_scan = scan_id  # events from now on count as "seen since" this walk began
        watched_roots = list(self.watches.watched)
        # fanotify covers every directory: nothing to check. inotify: what escaped its watch?
        checked = self.watches.per_directory and any(paths.root_of(r, watched_roots) for r in roots)
        coverage = Coverage() if checked else None
        walker = self._walker(report, coverage.directory if coverage else None)
        merge = BaselineMerge(self.store, self.scanner.version, walker, scan_id, roots)
        iterator = (c for root in roots for c in self._walk_target(walker, root))
        self._jobs.append(
            WalkJob(kind, roots, scan_id, walker, iterator, report, coverage=coverage, merge=merge)
        )
        self.notifier.status(f"{kind} of {len(roots)} root(s)")
        self.log.info("walk started", kind=kind, roots=[paths.display(r) for r in roots])

    def _walker(self, report: ScanReport, on_directory=None) -> Walker:
        """A walker that opens a root only while it is the directory validated (fim.roots)."""
        walker = self.scanner.walker(report, on_directory)
        walker.root_ids = dict(self.watches.identities)
        walker.symlink_roots = self.watches.allowed_symlinks
        return walker

    def _walk_target(self, walker: Walker, target: bytes) -> Iterator[Candidate]:
        """Walk a root, or a directory below one (a rescan target) opened from its root down
        with descriptors: its path may be longer than PATH_MAX, or have a symlink swapped in."""
        root = paths.root_of(target, [*self.watches.watched, *self.watches.unwatched])
        if root is None or root == target:
            return walker.walk(target)
        return walker.walk_beneath(root, target)

    def _walk_files(self, walker: Walker, files: list[bytes]) -> Iterator[Candidate]:
        """Look at ``files`` again, each opened from its root down (never followed out)."""
        roots = [*self.watches.watched, *self.watches.unwatched]
        for path in files:
            root = paths.root_of(path, roots)
            if root is not None:
                yield from walker.walk_beneath(root, path)

    def _note_links(self, cand: Candidate) -> None:
        st = cand.lstat
        if st is not None and st.st_nlink > 1 and len(self._hardlinks) < MAX_HARDLINKS:
            self._hardlinks.add(cand.path)

    def _finish_walk(self, job: WalkJob) -> None:
        self.scanner.drain()  # every verdict of this walk recorded before the deletion sweep
        stats = job.report.stats
        swept = (
            job.merge.sweep() if job.merge is not None
            else self.store.sweep_deleted(job.scan_id, job.roots, job.walker.unlisted)
        )  # fmt: skip
        for gone, tenant, _m in swept:
            stats.deleted += 1
            self.log.info("file deleted", path=paths.display(gone), tenant=tenant)
        stats.elapsed_s = round(time.time() - job.started, 3)
        self.store.finish_scan(job.scan_id, "done", stats.as_dict())
        self._verify_coverage(job)
        restarts_pending = any(j.kind == "reader-restart" for j in self._jobs)
        if job.kind == "reader-restart" and not restarts_pending and not self.watches.reader_dead():
            self.recover("events")
        self._last_catchup = WalkSummary(job.kind, job.started, time.time(), stats.as_dict())
        summary = f"{stats.files_seen} files, {stats.findings} findings"
        self.notifier.status(f"watching; last {job.kind}: {summary}")
        self.log.info("walk finished", kind=job.kind, **stats.as_dict())
        self._write_status()

    def _trim_report(self) -> None:
        # The daemon reports findings as they come (``_found``); it keeps no growing lists.
        for report in [self._events_report, *(j.report for j in self._jobs)]:
            for problem in report.problems:
                self._log_problem(problem)
            report.findings.clear()
            report.problems.clear()
