"""The pipeline: candidates in, verdicts out.

The main thread walks, consults the baseline, opens each file, and is the only database writer;
worker processes inspect what it opened (fim.scanner.workers). In-flight inspections are bounded, so memory
stays flat; files wait for a worker in a fair queue (fim.scanner.fair_queue), so one customer's
padded files cannot hold back another's verdict. ``fim scan`` and the daemon both feed it.
"""

from __future__ import annotations

import itertools
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from fim.config.loader import Config
from fim.core import paths
from fim.core.model import Change, Finding, Inspection, Problem, Responder, ScanReport, Status, Writer
from fim.detect import hashlists, rules
from fim.detect.inspector import ContentCheck, Inspector, Limits, state_from_stat
from fim.detect.tenants import Owners, TenantResolver
from fim.detect.walk import Candidate, Excludes, Walker
from fim.scanner.batches import settle_unchanged
from fim.scanner.callbacks import ChangeCallback, ChangeEvent, FindingCallback, ProgressCallback
from fim.scanner.fair_queue import Batch, FairQueue, Job
from fim.scanner.merge import BaselineMerge
from fim.scanner.problems import MAX_PROBLEMS_LISTED, add_problem
from fim.scanner.records import ScanRecord, scan_record
from fim.scanner.versions import combined_version as _combined_version
from fim.scanner.workers import Workers, make_workers
from fim.store.baseline import BaselineRow
from fim.store.database import Store

LOOKUP_BATCH = 256
# Verdicts are taken (and freed workers given their next batch) every so many files submitted:
# a worker holds its next batch, so it does not wait on this, and each look costs a poll().
COLLECT_EVERY = 8
# Takes a slice of a walk's candidates, settles the unchanged ones, returns the others with
# their baseline rows (fim.scanner.batches.settle_unchanged, fim.scanner.merge.BaselineMerge).
Settled = list[tuple[Candidate, BaselineRow | None]]
Settle = Callable[[Sequence[Candidate], ScanReport, int], Settled]
RECENT_VERDICTS = 4096
PROGRESS_INTERVAL = 0.1
# A file larger than this may keep a worker busy for up to a few match timeouts when its content
# is hostile (padding that makes matching slow); smaller ones take a second or two at worst.
EXPENSIVE_BYTES = 256 << 10
# Files accepted but not yet verdicted. Large enough that one tenant's burst does not make
# submit() block while another tenant's file waits to be accepted; each holds little memory
# and at most one directory descriptor.
MAX_QUEUED = 256


_NOTHING_KNOWN: frozenset[tuple[str, str]] = frozenset()


class Scanner:
    """Runs candidates through inspection and records verdicts in the store."""

    def __init__(
        self,
        *,
        config: Config,
        engine: rules.RuleEngine,
        store: Store,
        hashes: hashlists.HashLists | None = None,
        checks: Sequence[ContentCheck] = (),
        jobs: int = 0,
        on_finding: FindingCallback | None = None,
        on_progress: ProgressCallback | None = None,
        on_change: ChangeCallback | None = None,
        responders: Sequence[Responder] = (),
        processes: bool | None = None,
    ):
        """``processes``: inspect in worker processes (default where the system can fork) or,
        False, in threads of this process."""
        self.config = config
        self.responders = tuple(responders)
        self.engine = engine
        self.store = store
        owners = Owners()
        sc = config.scan
        self.inspector = Inspector(
            engine,
            hashes=hashes,
            limits=Limits(sc.max_file_size, max(sc.max_hash_size, sc.max_file_size), sc.match_timeout),
            owners=owners,
            checks=checks,
        )
        self.owners = owners
        # The version recorded with each verdict: rules, hash lists and checks together.
        self.version = _combined_version(engine.version, [c.version for c in checks])
        self.tenants = TenantResolver(
            config.tenants.patterns,
            from_owner=config.tenants.from_owner,
            min_uid=config.tenants.min_uid,
            owners=owners,
        )
        self.excludes = Excludes(sc.exclude)
        self.jobs = jobs or sc.jobs or os.cpu_count() or 2
        self.on_finding = on_finding
        self.on_progress = on_progress
        self.on_change = on_change
        self._processes = processes
        self._workers: Workers | None = make_workers(self.inspector, self.jobs, processes=processes)
        self._inflight = 0  # accepted by submit(), verdict not recorded yet
        pool = self._pool()
        # Room for a batch in every worker's hands besides the files waiting their turn.
        self._max_inflight = max(MAX_QUEUED, self.jobs * 8) + self.jobs * pool.depth * pool.batch_files
        # Files waiting for a worker. Only the thread calling submit/collect uses it.
        self._queue = FairQueue(
            self.jobs, pool.depth, batch_files=pool.batch_files, batch_bytes=pool.batch_bytes
        )
        # Verdicts recorded lately, by path: (identity, rules). Overlapping walks (a new deep
        # tree gives one event per directory) reach the same file before its row is flushed,
        # so the baseline lookup misses it; this keeps it to one finding per file and rule.
        self._recent: OrderedDict[bytes, tuple[tuple, frozenset[tuple[str, str]]]] = OrderedDict()
        self._writers: dict[bytes, Writer] = {}  # who wrote a file in flight, when an event said

    # -- entry points ------------------------------------------------------------------------

    def scan(self, roots: Sequence[bytes], *, kind: str = "scan") -> ScanReport:
        """Walk ``roots`` fully, compare with the baseline, and record deletions."""
        roots = paths.outermost(roots)
        trees = {r if os.path.isdir(r) else os.path.dirname(r): None for r in roots}  # a file: its folder
        self.set_roots(trees, self._symlink_roots())  # quarantine acts only in these trees
        report = ScanReport(ruleset_version=self.version, roots=list(roots))
        walker = self.walker(report)
        with self._recorded(kind, roots, report) as (scan_id, started):
            merge = BaselineMerge(self.store, self.version, walker, scan_id, roots)
            candidates = itertools.chain.from_iterable(map(walker.walk, roots))
            self.process(candidates, report, scan_id, started, merge.settle)
            for path, tenant, _matches in merge.sweep():
                report.stats.deleted += 1
                self._changed(path, Change.DELETED, tenant)
        return report

    def scan_paths(self, items: Iterable[bytes], *, kind: str = "files") -> ScanReport:
        """Inspect listed paths (``--files-from``, events). Directories among them are walked.

        No deletion sweep: a list says nothing about files it does not name.
        """
        report = ScanReport(ruleset_version=self.version)
        walker = self.walker(report)
        with self._recorded(kind, [], report) as (scan_id, started):
            self.process(walker.walk_paths(items), report, scan_id, started)
        return report

    def _recorded(self, kind: str, roots: Sequence[bytes], report: ScanReport) -> ScanRecord:
        return scan_record(self.store, self.version, kind, roots, report)

    # -- the pipeline ------------------------------------------------------------------------
    #
    # ``submit`` consults the baseline and hands files to the workers; ``collect`` takes
    # their finished inspections and records them. Only the thread that calls submit and
    # collect touches the store, so there is one writer.

    def process(
        self, candidates: Iterable[Candidate], report: ScanReport, scan_id: int, started: float,
        settle: Settle | None = None,
    ) -> None:  # fmt: skip
        """Run every candidate through the pipeline and wait for all verdicts. ``settle`` takes
        the unchanged files out of each slice of candidates (by default a lookup of the slice)."""
        due = 0.0
        settle = settle or self._looked_up
        try:
            it = iter(candidates)
            while chunk := list(itertools.islice(it, LOOKUP_BATCH)):
                for n, (cand, base) in enumerate(settle(chunk, report, scan_id), 1):
                    self.submit(cand, report, scan_id, base)
                    if not n % COLLECT_EVERY:
                        self.collect()
                        due = self._progress(report, started, due)
                self.collect()
                due = self._progress(report, started, due)
            self.drain()
        finally:
            self.store.flush()

    def _progress(self, report: ScanReport, started: float, due: float) -> float:
        """Tell ``on_progress`` how far the scan is, at most every PROGRESS_INTERVAL; when next."""
        if self.on_progress is None or (now := time.monotonic()) < due:
            return due
        report.stats.elapsed_s = now - started
        self.on_progress(report)
        return now + PROGRESS_INTERVAL

    def submit_many(
        self, candidates: Sequence[Candidate], report: ScanReport, scan_id: int, *,
        writer: Writer | None = None, settle: Settle | None = None,
    ) -> None:  # fmt: skip
        """:meth:`submit` for each candidate, their baseline rows looked up in one query (the
        daemon's walks), or by ``settle``. When that fails, the candidates are released and it
        raises."""
        for cand, base in (settle or self._looked_up)(candidates, report, scan_id):
            self.submit(cand, report, scan_id, base, writer=writer)

    def _looked_up(self, chunk: Sequence[Candidate], report: ScanReport, scan_id: int) -> Settled:
        """The default settle: the slice looked up in one query (and its unchanged files marked seen)."""
        return settle_unchanged(self.store, chunk, self.version, report, scan_id)

    def submit(
        self, cand: Candidate, report: ScanReport, scan_id: int, base: BaselineRow | bool | None = False,
        *, writer: Writer | None = None,
    ) -> None:  # fmt: skip
        """Record an unchanged file at once, or queue the file for inspection.

        ``base`` is the file's baseline row when the caller looked it up already (None: not in
        the baseline). Blocks (collecting verdicts) while the files in flight are at their bound.
        """
        report.stats.files_seen += 1
        if base is False:
            base = self.store.lookup(cand.path)
        if (
            base is not None
            and cand.lstat is not None
            and base.ruleset == self.version
            and base.same_identity(cand.lstat)
        ):
            cand.release()
            self._unchanged(cand, base, report, scan_id)
            return
        while self._inflight >= self._max_inflight:
            self._finish_all(self._pool().results(None))
        st = cand.lstat
        tenant = self.tenants.tenant(cand.path, st.st_uid if st is not None else None)
        expensive = st is None or st.st_size > EXPENSIVE_BYTES
        if writer is not None:  # kept until its verdict is recorded (_complete)
            self._writers[cand.path] = writer
        size = st.st_size if st is not None else 0
        self._queue.add(Job(cand, base, report, scan_id, tenant, expensive, size))
        self._inflight += 1
        self._dispatch()

    def _dispatch(self) -> None:
        """Hand waiting files to free workers, in the fair queue's order."""
        while (batch := self._queue.take()) is not None:
            self._pool().submit(batch)

    def _finish_all(self, results: list[tuple[Batch, list[Inspection]]]) -> int:
        """Workers are done with these batches: give them the next files, record the verdicts."""
        done = 0
        for batch, _insps in results:
            self._queue.finished(batch)
        self._dispatch()
        for batch, insps in results:
            for job, insp in zip(batch, insps, strict=True):
                self._complete(job.cand, job.base, insp, job.report, job.scan_id, job.tenant)
            done += len(batch)
        return done

    def collect(self, timeout: float = 0.0) -> int:
        """Record the verdicts that are ready (waiting up to ``timeout`` for the first one)."""
        done = 0
        while self._inflight:
            got = self._finish_all(self._pool().results(timeout if timeout and not done else 0))
            if not got:
                break
            done += got
        return done

    def drain(self) -> None:
        while self._inflight:
            self._finish_all(self._pool().results(None))

    @property
    def inflight(self) -> int:
        return self._inflight

    def close(self) -> None:
        for job in self._queue.clear():  # never started: only release their dirs
            job.cand.release()
            self._inflight -= 1
        if self._workers is not None:
            self._workers.close()
            self._workers = None

    def _pool(self) -> Workers:
        if self._workers is None:
            self._workers = make_workers(self.inspector, self.jobs, processes=self._processes)
        return self._workers

    def _unchanged(self, cand: Candidate, base: BaselineRow, report: ScanReport, scan_id: int) -> None:
        report.stats.skipped_unchanged += 1
        self.store.mark_seen(cand.path, scan_id)
        if base.matches:
            st = cand.lstat
            state = replace(state_from_stat(cand.path, st), sha256=base.sha256) if st else None
            owner = self.owners.name(base.uid)
            now = time.time_ns()
            found = [
                Finding(cand.path, base.tenant, m, Change.UNCHANGED, state, owner, now) for m in base.matches
            ]
            for finding in found:
                self._report(finding, report)
            self._respond(found)

    def _complete(
        self, cand: Candidate, base: BaselineRow | None, insp: Inspection, report: ScanReport, scan_id: int,
        listed_tenant: str | None = None,
    ) -> None:  # fmt: skip
        self._inflight -= 1
        cand.release()
        stats, writer = report.stats, self._writers.pop(cand.path, None)
        if insp.state is None or insp.status not in (Status.READ, Status.TOO_LARGE):
            self._problem(Problem(insp.path, insp.status, insp.reason), report)
            return
        state = insp.state
        if insp.status is Status.TOO_LARGE:
            stats.skipped_too_large += 1
            self._problem(Problem(insp.path, insp.status, insp.reason), report, count=False)
        else:
            stats.files_read += 1
            stats.bytes_read += state.size
        st = cand.lstat  # the tenant found when it was listed holds unless its owner changed since
        same_owner = st is not None and st.st_uid == state.uid
        tenant = listed_tenant if same_owner else self.tenants.tenant(state.path, state.uid)
        identity = (state.dev, state.ino, state.size, state.mtime_ns, state.ctime_ns, state.sha256)
        recent = self._recent.get(state.path)
        again = recent[1] if recent is not None and recent[0] == identity and state.sha256 else None
        if again is not None:
            change = Change.UNCHANGED  # the very same file, its verdict recorded moments ago
        elif base is None:
            change = Change.NEW
            stats.new += 1
        elif base.sha256 != state.sha256 or state.sha256 is None:
            change = Change.CHANGED
            stats.changed += 1
        else:
            change = Change.UNCHANGED
        if change is not Change.UNCHANGED:
            self._changed(state.path, change, tenant)
        known = {(m.ruleset, m.rule) for m in base.matches} if base and change is Change.UNCHANGED else set()
        known |= again or set()
        found = fresh = []
        if insp.matches:
            owner, now = self.owners.name(state.uid), time.time_ns()
            found = [Finding(state.path, tenant, m, change, state, owner, now, writer) for m in insp.matches]
            fresh = [f for f in found if (f.match.ruleset, f.match.rule) not in known]
            known |= {(m.ruleset, m.rule) for m in insp.matches}
        self.store.record(insp, tenant, self.version, scan_id, fresh)
        self._recent[state.path] = (identity, frozenset(known) if known else _NOTHING_KNOWN)
        self._recent.move_to_end(state.path)
        if len(self._recent) > RECENT_VERDICTS:
            self._recent.popitem(last=False)
        for finding in found:
            self._report(finding, report)
        self._respond(found)

    # -- helpers -----------------------------------------------------------------------------

    def set_roots(
        self, roots: dict[bytes, tuple[int, int] | None], symlink_roots: Sequence[bytes] = ()
    ) -> None:
        """Tell responders which trees they may act in (root -> validated device and inode)."""
        for responder in self.responders:
            set_roots = getattr(responder, "set_roots", None)
            if set_roots is not None:
                set_roots(roots, symlink_roots)

    def _report(self, finding: Finding, report: ScanReport) -> None:
        report.findings.append(finding)
        report.stats.findings += 1
        if self.on_finding is not None:
            self.on_finding(finding)

    def _respond(self, found: list[Finding]) -> None:
        if found:
            for responder in self.responders:
                responder(found)

    def _changed(self, path: bytes, change: Change, tenant: str | None) -> None:
        if self.on_change is not None:
            self.on_change(ChangeEvent(path, change, tenant))

    def _problem(self, problem: Problem, report: ScanReport, *, count: bool = True) -> None:
        add_problem(problem, report, count=count)

    def walker(
        self, report: ScanReport, on_directory: Callable[[bytes, os.stat_result], None] | None = None
    ) -> Walker:
        """A walker that reports its problems into ``report``."""
        walker = Walker(
            excludes=self.excludes,
            one_file_system=self.config.scan.one_file_system,
            on_problem=lambda p: self._problem(p, report),
            on_directory=on_directory,
        )
        walker.symlink_roots = self._symlink_roots()
        return walker

    def _symlink_roots(self) -> frozenset[bytes]:
        """Roots the configuration allows to be root-owned symlinks (daemon.symlink_roots)."""
        return frozenset(os.fsencode(os.path.normpath(p)) for p in self.config.daemon.symlink_roots)


__all__ = ["MAX_PROBLEMS_LISTED", "ChangeEvent", "Scanner"]
