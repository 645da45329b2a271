"""The ``fim daemon`` lifecycle: config, watches, catch-up, events, signals, reload, health.

One thread does the work: it takes due paths from the watch, slices of any walk in progress
(catch-up, rescans, new roots), feeds them to the scanner pipeline, records verdicts, and pings
systemd's watchdog as it goes -- so a stuck loop stops the pings and systemd restarts us.
Watches go in before the catch-up walk, so nothing written during the walk is missed, and the
baseline makes the walk skip what an event already scanned.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fim.alerts.service import AlertService
from fim.config import loader as config_mod
from fim.config.loader import Config
from fim.core import locations, paths, statefiles
from fim.core.errors import ConfigError, DatabaseFull, FimError, RuleError, StoreError
from fim.core.model import Change, Finding, Problem, RuleMatch, ScanReport, Severity, Status
from fim.core.version import __version__
from fim.daemon.sdnotify import Notifier
from fim.daemon.watch import Coalescer, Watches, inode_key, inotify_limits, watched_inodes
from fim.detect.walk import Candidate, Walker, lexists_beneath
from fim.respond import retention
from fim.scanner.build import alert_service, build_scanner
from fim.scanner.pipeline import Scanner
from fim.store.database import Store
from fim.store.reserve import RESERVE_BYTES
from fim.store.sqlite_errors import translate

EX_CONFIG = 78
WALK_SLICE = 256  # candidates taken from a walk before the loop looks at events again
STATUS_EVERY = 2.0
MAX_HARDLINKS = 100_000  # files with several names, rescanned on every periodic rescan


@dataclass
class WalkJob:
    kind: str  # catch-up | rescan | new-root | overflow | rules-changed
    roots: list[bytes]
    scan_id: int
    walker: Walker
    iterator: Iterator[Candidate]
    report: ScanReport
    started: float = field(default_factory=time.time)
    coverage: Coverage | None = None  # directories the walk found that inotify does not watch


def status_path(config: Config) -> Path:
    return locations.status_path(config_mod.database_path(config), config.daemon.status_file)


class Daemon:
    def __init__(self, config_path: str | None, *, log: Any, notifier: Notifier | None = None):
        self.config_path = config_path
        self.log = log
        self.notifier = notifier or Notifier()
        self.wake = threading.Event()
        self._stop = False
        self._reload = False
        self._jobs: deque[WalkJob] = deque()  # background walks, oldest first
        self._event_walks: deque[tuple[Iterator[Candidate], Walker]] = deque()
        self._events_report = ScanReport()
        self._last_catchup: dict[str, Any] = {}
        self._last_error = ""
        self._started = time.time()
        self._ready = False
        self._next: dict[str, float] = {}
        self._rescan_dirs: dict[bytes, str] = {}  # directories inotify does not watch
        self._dirs_seen = 0
        self._degraded: dict[str, str] = {}  # what is wrong now, by cause; empty when healthy
        self._skipped_roots: dict[bytes, str] = {}  # root matches refused (symlinks), reported
        # Files with more than one name: a write through a name outside the roots raises no
        # event here, so they are looked at again on every periodic rescan.
        self._hardlinks: set[bytes] = set()
        self._deaths_seen = 0

    # -- start and stop ------------------------------------------------------------------------

    def run(self) -> int:
        try:
            self._load_initial()
        except (ConfigError, RuleError) as exc:
            self.log.error("bad configuration, not starting", error=str(exc))
            return EX_CONFIG
        except FimError as exc:
            self.log.error("cannot start", error=str(exc))
            return 1
        self._install_signals()
        try:
            self._start_watching()
            self._loop()
        finally:
            self._shutdown()
        return 0

    def _load_initial(self) -> None:
        self.config = config_mod.load(self.config_path)
        if not self.config.daemon.roots:
            raise ConfigError(self.config.source, ["daemon.roots: no directories to watch"])
        db = config_mod.database_path(self.config)
        self.alerts = self._build_alerts(self.config)  # before the store: bad sinks are a bad config
        self.store = Store.open(db, busy_timeout=self.config.database.busy_timeout, reserve=RESERVE_BYTES)
        self.scanner = self._build_scanner(self.config)
        if self.alerts is not None:
            self.alerts.install(self.store)
            self.alerts.start()  # delivers what a previous run left pending, too
        self.coalescer = Coalescer(
            settle=self.config.daemon.settle_seconds,
            max_delay=self.config.daemon.max_delay_seconds,
            max_pending=self.config.daemon.max_pending,
            wake=self.wake,
        )
        self.watches = Watches(
            self.config.daemon.roots, self.coalescer, symlink_roots=self.config.daemon.symlink_roots
        )
        roots = list(self.config.daemon.roots)
        self.daemon_scan = self.store.begin_scan("daemon", roots, self.scanner.version)
        self._event_scan = self.daemon_scan

    def _build_scanner(self, config: Config) -> Scanner:
        return build_scanner(
            config,
            self.store,
            cache_dir=locations.cache_dir(config_mod.database_path(config)),
            on_message=lambda message: self.log.warning(message),
            on_finding=self._found,
        )

    def _build_alerts(self, config: Config) -> AlertService | None:
        if not config.alerts.sinks:
            return None
        return alert_service(config, config_mod.database_path(config))

    def _install_signals(self) -> None:
        def stop(_signo: int, _frame: object) -> None:
            self._stop = True
            self.wake.set()

        def reload(_signo: int, _frame: object) -> None:
            self._reload = True
            self.wake.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGHUP, reload)

    def _start_watching(self) -> None:
        self.notifier.status("placing watches")
        self.watches.start()
        roots, failures = self.watches.refresh()
        self._roots_checked()
        for failure in failures:
            self._coverage_lost(failure.root, failure.reason)
        self._ready = True
        watched = len(self.watches.watched)
        self.notifier.ready(f"watching {watched} root(s); catching up")
        self.log.info("watches in place", watched=watched, unwatched=len(self.watches.unwatched))
        if roots:
            self._start_walk("catch-up", roots)
        self._write_status()

    def _shutdown(self) -> None:
        self.notifier.stopping()
        self.log.info("stopping")
        try:
            self.watches.stop()
        except Exception as exc:  # stopping must go on
            self.log.warning("stopping watches failed", error=repr(exc))
        # In-flight inspections finish (each is bounded by the match timeout); walks and
        # pending events are not persisted: the catch-up walk at the next start covers them.
        try:
            self.scanner.drain()
            for job in self._jobs:
                self.store.finish_scan(job.scan_id, "interrupted", job.report.stats.as_dict())
            self.store.finish_scan(self.daemon_scan, "done", self._events_report.stats.as_dict())
        except (StoreError, sqlite3.Error) as exc:
            # Unwritten verdicts are not lost: the catch-up walk of the next start redoes them.
            self.log.error("database write failed while stopping", error=str(self._store_error(exc)))
        self.scanner.close()
        try:
            self.store.close()
        except StoreError:
            self.store.conn.close()
        if self.alerts is not None:
            self.alerts.stop(timeout=5.0)  # undelivered alerts stay in the outbox for next time
        self._write_status(state="stopped")
        self.notifier.close()

    # -- the work loop -------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop:
            self.notifier.ping()
            try:
                busy = self._step()
                if not busy:
                    self.store.flush()
            except (StoreError, sqlite3.Error) as exc:
                # Locked or full: buffered rows are kept and retried. While this lasts the
                # loop still pings; a loop blocked for good stops pinging and systemd acts.
                error = self._store_error(exc)
                self._last_error = str(error)
                self.log.error("database write failed; will retry", error=str(error))
                self._database_health()
                self.wake.wait(1.0)
                continue
            self._database_health()
            if not busy:
                self._wait()

    def _store_error(self, exc: BaseException) -> BaseException:
        return translate(exc, self.store.where) if isinstance(exc, sqlite3.Error) else exc

    def _database_health(self) -> None:
        """Degraded from the first failed write until a flush succeeds again."""
        failure = self.store.write_error
        if failure is None:
            self.recover("database")
        elif isinstance(failure, DatabaseFull):
            # Verdicts and findings wait in memory meanwhile; the next successful flush writes them.
            self.degrade("database", f"database full: {failure}; findings wait in memory until then")
        else:
            self.degrade("database", f"database write failing: {failure}")

    def _step(self) -> bool:
        """One round of work; True when there may be more to do right away."""
        if self._reload:
            self._reload = False
            self._do_reload()
        self._check_reader()
        self._periodic()
        busy = self._take_events()
        busy |= self._take_walks()
        self.scanner.collect()
        if self.store.pending_findings:
            self.store.flush()  # a finding is committed (and its alerts queued) at once
        self._trim_report()
        if not busy and self.scanner.inflight:
            self.scanner.collect(timeout=0.05)
            busy = True
        return busy

    def _wait(self) -> None:
        now = time.monotonic()
        deadline = min(self._next.values(), default=now + 1.0)
        due = self.coalescer.next_due()
        if due is not None:
            deadline = min(deadline, due)
        if self.notifier.watchdog_interval:
            deadline = min(deadline, now + self.notifier.watchdog_interval / 2)
        self.wake.wait(timeout=max(0.0, min(deadline - now, 1.0)))
        self.wake.clear()

    def _take_events(self) -> bool:
        due = self.coalescer.pop_due(limit=2000)
        for index, path in enumerate(due):
            try:
                self._event(path)
            except BaseException:
                for later in due[index:]:  # not lost: looked at again once the store is back
                    self.coalescer.add(later)
                raise
        busy = bool(due)
        budget = WALK_SLICE
        while self._event_walks and budget > 0:
            iterator, _walker = self._event_walks[0]
            for cand in iterator:
                self._note_links(cand)
                self.scanner.submit(cand, self._events_report, self._event_scan)
                budget -= 1
                if budget == 0:
                    break
            else:
                self._event_walks.popleft()
            busy = True
        return busy

    def _event(self, path: bytes) -> None:
        roots = [*self.watches.watched, *self.watches.unwatched]
        root = paths.root_of(path, roots)
        if root is None:
            return
        if lexists_beneath(root, path) is False:  # None (cannot tell): walk and see
            for gone, tenant in self.store.delete_under(path):
                self.log.info("file deleted", path=paths.display(gone), tenant=tenant)
            return
        walker = self._walker(self._events_report)
        self._event_walks.append((walker.walk_beneath(root, path), walker))

    def _take_walks(self) -> bool:
        if not self._jobs:
            return False
        job = self._jobs[0]
        for taken, cand in enumerate(job.iterator, 1):
            self._note_links(cand)
            self.scanner.submit(cand, job.report, job.scan_id)
            if taken >= WALK_SLICE:
                return True
        self._finish_walk(self._jobs.popleft())
        return True

    def _start_walk(self, kind: str, roots: list[bytes]) -> None:
        report = ScanReport(ruleset_version=self.scanner.version, roots=roots)
        scan_id = self.store.begin_scan(kind, [paths.display(r) for r in roots], self.scanner.version)
        self._event_scan = scan_id  # events from now on count as "seen since" this walk began
        watched_roots = list(self.watches.watched)
        coverage = Coverage() if any(paths.root_of(r, watched_roots) for r in roots) else None
        walker = self._walker(report, coverage.directory if coverage else None)
        iterator = (c for root in roots for c in self._walk_target(walker, root))
        self._jobs.append(WalkJob(kind, roots, scan_id, walker, iterator, report, coverage=coverage))
        self.notifier.status(f"{kind} of {len(roots)} root(s)")
        self.log.info("walk started", kind=kind, roots=[paths.display(r) for r in roots])

    def _walker(self, report: ScanReport, on_directory=None) -> Walker:
        """A walker that opens a root only while it is the directory validated (fim.roots)."""
        walker = self.scanner.walker(report, on_directory)
        walker.root_ids = dict(self.watches.identities)
        walker.symlink_roots = self.watches.allowed_symlinks
        return walker

    def _roots_checked(self) -> None:
        """After a glob refresh: report roots refused (a symlink, or behind a customer's
        symlink) once each, keep them in status, and tell quarantine where it may act."""
        skipped = dict(self.watches.skipped)
        for root, reason in skipped.items():
            if self._skipped_roots.get(root) == reason:
                continue
            self.log.error("root skipped: not followed", root=paths.display(root), reason=reason)
            match = RuleMatch(
                rule="fim_root_symlink",
                ruleset="fim",
                severity=Severity.HIGH,
                description=f"root is a symlink or lies behind one; not watched, scanned or "
                f"quarantined from: {reason}",
                family="health",
            )
            tenant = self.scanner.tenants.tenant(root, None)
            finding = Finding(root, tenant, match, Change.UNCHANGED, None, "", time.time_ns())
            self.store.add_findings([finding], self._event_scan)
            self._found(finding)
        for root in set(self._skipped_roots) - set(skipped):
            self.log.info("root no longer skipped", root=paths.display(root))
        self._skipped_roots = skipped
        if skipped:
            shown = [f"{paths.display(r)} ({why})" for r, why in list(skipped.items())[:5]]
            more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
            self.degrade("roots", f"{len(skipped)} root(s) skipped, not followed: {'; '.join(shown)}{more}")
        else:
            self.recover("roots")
        self.scanner.set_roots(dict(self.watches.identities), tuple(self.watches.allowed_symlinks))

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
        for gone, tenant, _m in self.store.sweep_deleted(job.scan_id, job.roots, job.walker.unlisted):
            stats.deleted += 1
            self.log.info("file deleted", path=paths.display(gone), tenant=tenant)
        stats.elapsed_s = round(time.time() - job.started, 3)
        self.store.finish_scan(job.scan_id, "done", stats.as_dict())
        self._verify_coverage(job)
        restarts_pending = any(j.kind == "reader-restart" for j in self._jobs)
        if job.kind == "reader-restart" and not restarts_pending and not self.watches.reader_dead():
            self.recover("events")
        self._last_catchup = {
            "kind": job.kind,
            "started": job.started,
            "finished": time.time(),
            "stats": stats.as_dict(),
        }
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

    def _verify_coverage(self, job: WalkJob) -> None:
        """Compare the directories a walk found with what inotify really watches.

        A subdirectory may have escaped its watch (watch limit, a race); such a directory is
        covered by periodic rescans instead, loudly.
        """
        coverage = job.coverage
        if coverage is None:
            return
        self._dirs_seen = max(self._dirs_seen, coverage.count)
        watched_roots = [r for r in job.roots if paths.root_of(r, list(self.watches.watched))]
        missing = coverage.missing(watched_roots)
        if not missing:
            return
        reason = "not watched (inotify watch limit reached? fs.inotify.max_user_watches)"
        new = [m for m in missing if m not in self._rescan_dirs]
        for path in missing:
            self._rescan_dirs[path] = reason
        if new:
            self.log.error(
                "directories not watched; covering them by periodic rescans",
                count=len(missing),
                examples=[paths.display(m) for m in missing[:5]],
                hint=_sysctl_hint(reason),
            )
            for root in {paths.root_of(m, watched_roots) for m in new}:
                self._coverage_lost(root, f"{len(new)} directories {reason}")

    # -- periodic work -------------------------------------------------------------------------

    def _periodic(self) -> None:
        now = time.monotonic()
        d = self.config.daemon
        if self._due("globs", now, d.glob_refresh_seconds):
            new, failures = self.watches.refresh()
            self._roots_checked()
            for failure in failures:
                self._coverage_lost(failure.root, failure.reason)
            if new:
                self.log.info("new roots", roots=[paths.display(r) for r in new])
                self._start_walk("new-root", new)
        if self.coalescer.take_overflow():  # our own queue dropped paths: they could be anywhere
            self.log.warning("event queue overflowed; rescanning every root")
            self._last_error = "event queue overflowed; rescanned"
            self._start_walk("overflow", [*self.watches.watched, *self.watches.unwatched])
        overflowed = self.watches.take_overflowed()
        if overflowed:  # the kernel's queue of one or more roots overflowed
            self.log.warning("inotify queue overflowed; rescanning", roots=len(overflowed),
                             examples=[paths.display(r) for r in overflowed[:5]])  # fmt: skip
            self._last_error = "inotify queue overflowed; rescanned (raise fs.inotify.max_queued_events)"
            self._start_walk("overflow", overflowed)
        unwatchable = self.watches.take_unwatchable()
        if unwatchable:
            self._unwatchable(unwatchable)
        if self._hardlinks and self._due("hardlinks", now, d.rescan_seconds):
            linked, self._hardlinks = sorted(self._hardlinks), set()
            walker = self._walker(self._events_report)
            self._event_walks.append((self._walk_files(walker, linked), walker))
        uncovered = self.watches.unwatched or self._rescan_dirs
        if uncovered and self._due("rescan", now, d.rescan_seconds):
            healed = self.watches.retry_unwatched()
            targets = [*self.watches.unwatched, *healed, *self._rescan_dirs]
            self._rescan_dirs.clear()  # the rescan's coverage check lists what is still unwatched
            if not any(j.kind == "rescan" for j in self._jobs):
                self._start_walk("rescan", paths.outermost(targets))
        if self._due("status", now, STATUS_EVERY):
            self._write_status()
        if d.retention_seconds and self._due("retention", now, d.retention_seconds):
            removed = retention.prune(self.store, self.config.retention)
            if any(removed.counts().values()):
                self.log.info("retention applied", **removed.counts())

    def _due(self, name: str, now: float, interval: float) -> bool:
        if now >= self._next.get(name, 0.0):
            self._next[name] = now + max(interval, 0.1)
            return True
        return False

    # -- reload --------------------------------------------------------------------------------

    def _do_reload(self) -> None:
        self.notifier.reloading()
        self.log.info("reloading configuration and rules")
        try:
            config = config_mod.load(self.config_path)
            if not config.daemon.roots:
                raise ConfigError(config.source, ["daemon.roots: no directories to watch"])
            scanner = self._build_scanner(config)
            alerts = self._build_alerts(config)
        except FimError as exc:
            self._last_error = f"reload failed: {exc}"
            self.log.error("reload failed; keeping the running configuration and rules", error=str(exc))
            self.notifier.ready("reload failed; running with the previous configuration")
            return
        if config_mod.database_path(config) != config_mod.database_path(self.config):
            self.log.warning("database.path changed: takes effect at the next restart")
        self.scanner.drain()
        old, self.scanner, self.config = self.scanner, scanner, config
        old.close()
        if self.alerts is not None:
            self.alerts.stop(timeout=5.0)
        self.store.finding_hooks.clear()
        self.alerts = alerts
        if alerts is not None:
            alerts.install(self.store)
            alerts.start()
        self.coalescer.settle = config.daemon.settle_seconds
        self.coalescer.max_delay = config.daemon.max_delay_seconds
        self.coalescer.max_pending = config.daemon.max_pending
        if tuple(config.daemon.roots) != self.watches.patterns or (
            tuple(config.daemon.symlink_roots) != self.watches.symlink_roots
        ):
            self.watches.patterns = tuple(config.daemon.roots)
            self.watches.symlink_roots = tuple(config.daemon.symlink_roots)
            self._next.pop("globs", None)
        self.scanner.set_roots(dict(self.watches.identities), tuple(self.watches.allowed_symlinks))
        if scanner.version != old.version:
            # New rules: match what is already on disk against them, not only new files.
            self._start_walk("rules-changed", [*self.watches.watched, *self.watches.unwatched])
        self.notifier.ready("reloaded")
        self.log.info("reloaded", ruleset=scanner.version)

    # -- health --------------------------------------------------------------------------------

    def degrade(self, cause: str, reason: str) -> None:
        """Record that the daemon runs but does not do all its job (``cause`` is a short key:
        one entry per cause, so a repeated failure does not grow the list). ``fim status`` says
        "degraded" with every reason until :meth:`recover` clears it."""
        if self._degraded.get(cause) != reason:
            self._degraded[cause] = reason
            self.log.error("degraded", cause=cause, reason=reason)
            self._write_status()

    def recover(self, cause: str) -> None:
        if self._degraded.pop(cause, None) is not None:
            self.log.info("recovered", cause=cause)
            self._write_status()

    def _check_reader(self) -> None:
        """The event reader must not die silently: when its thread is gone, say why, raise a
        health finding, start a fresh one and rescan every root (events were lost). Status
        stays "degraded" until the rescan is done with a live reader."""
        if not self.watches.reader_dead():
            return
        roots = self.watches.dead_roots()
        error = self.watches.failure
        if self.watches.deaths > self._deaths_seen:  # once per death, not per look
            self._deaths_seen = self.watches.deaths
            self.log.error("event reader died", error=error, traceback=self.watches.failure_trace)
            self._health_finding(
                next(iter([*self.watches.watched, *self.watches.unwatched]), b"/"),
                "fim_events_failed",
                f"the real-time event reader died ({error}); restarted, every root rescanned",
            )
        self.degrade("events", f"event reader died ({error}); restarting and rescanning")
        if roots:
            self.log.warning("event reader restarted; rescanning", roots=len(roots),
                             restarts=self.watches.restarts)  # fmt: skip
            self._start_walk("reader-restart", roots)

    def _unwatchable(self, found: dict[bytes, str]) -> None:
        """Directories the reader could not watch (watch limit...): covered by rescans."""
        roots = [*self.watches.watched, *self.watches.unwatched]
        new = [p for p in found if p not in self._rescan_dirs]
        self._rescan_dirs.update(found)
        if new:
            reason = next(iter(found.values()))
            self.log.error("directories not watched; covering them by periodic rescans", count=len(new),
                           examples=[paths.display(m) for m in new[:5]], reason=reason,
                           hint=_sysctl_hint(reason))  # fmt: skip
            for root in {paths.root_of(p, roots) for p in new} - {None}:
                self._coverage_lost(root, f"{len(new)} directories not watched: {reason}")

    # -- reporting -----------------------------------------------------------------------------

    def _found(self, finding: Finding) -> None:
        if finding.change is Change.UNCHANGED and finding.match.ruleset != "fim":
            return  # known already; logged when first found
        self.log.warning(
            "finding",
            path=paths.display(finding.path),
            tenant=finding.tenant,
            rule=finding.match.rule,
            ruleset=finding.match.ruleset,
            severity=str(finding.severity),
            change=str(finding.change),
        )

    def _log_problem(self, problem: Problem) -> None:
        if problem.status is Status.TOO_LARGE:
            return
        self.log.info("not inspected", path=paths.display(problem.path), status=str(problem.status),
                      reason=problem.reason)  # fmt: skip

    def _coverage_lost(self, root: bytes, reason: str) -> None:
        """A directory we cannot watch: say so loudly and cover it by rescans instead."""
        self._last_error = f"{paths.display(root)}: {reason}"
        self.log.error("cannot watch; covering by periodic rescans", root=paths.display(root), reason=reason,
                       hint=_sysctl_hint(reason))  # fmt: skip
        every = f"{self.config.daemon.rescan_seconds:.0f} s"
        description = f"real-time watching failed ({reason}); covered by rescans every {every} until fixed"
        self._health_finding(root, "fim_watch_failed", description)

    def _health_finding(self, root: bytes, rule: str, description: str) -> None:
        """A finding about fim itself (family "health"), so that alert sinks hear of it."""
        match = RuleMatch(rule=rule, ruleset="fim", severity=Severity.HIGH, description=description,
                          family="health")  # fmt: skip
        tenant = self.scanner.tenants.tenant(root, None)
        finding = Finding(root, tenant, match, Change.UNCHANGED, None, "", time.time_ns())
        self.store.add_findings([finding], self._event_scan)
        self._found(finding)

    def _state(self) -> str:
        if not self._ready:
            return "starting"
        return "degraded" if self._degraded else "running"

    def _write_status(self, state: str | None = None) -> None:
        path = status_path(self.config)
        limits = inotify_limits()
        doc = {
            "pid": os.getpid(),
            "version": __version__,
            "state": state or self._state(),
            "degraded": dict(self._degraded),
            "started": self._started,
            "updated": time.time(),
            "ruleset": self.scanner.version,
            "watched_roots": [paths.display(r) for r in self.watches.watched],
            "rescan_only_roots": {
                **{paths.display(r): why for r, why in self.watches.unwatched.items()},
                **{paths.display(r): why for r, why in list(self._rescan_dirs.items())[:100]},
            },
            "skipped_roots": {paths.display(r): why for r, why in list(self._skipped_roots.items())[:100]},
            "rescan_only_directories": len(self.watches.unwatched) + len(self._rescan_dirs),
            "directories_walked": self._dirs_seen,
            "queue_depth": len(self.coalescer) + self.scanner.inflight,
            "walks_in_progress": [j.kind for j in self._jobs],
            "events_seen": self.coalescer.events,
            "last_catchup": self._last_catchup,
            "last_error": self._last_error,
            "inotify": limits,
            "hint": _sysctl_hint(self._last_error) if self.watches.unwatched or self._rescan_dirs else "",
        }
        text = json.dumps(doc, indent=1)
        try:
            statefiles.write_private(path, text.encode())  # 0600: it names customers
        except OSError as exc:
            if exc.errno == errno.ENOSPC and _rewrite_in_place(path, text):
                return  # a full disk: the status must still say so
            self.log.warning("cannot write status file", path=str(path), error=exc.strerror)


class Coverage:
    """Checks each directory a walk lists against the watches in place when the walk began;
    only suspects are kept (memory stays small with 100,000 directories), and they are checked
    again at the end against the watches then, since a watch may have been added meanwhile."""

    def __init__(self) -> None:
        self._watched = watched_inodes()
        self._suspects: list[tuple[int, bytes]] = []
        self.count = 0

    def directory(self, path: bytes, st: os.stat_result) -> None:
        self.count += 1
        key = inode_key(st.st_dev, st.st_ino)
        if key not in self._watched:
            self._suspects.append((key, path))

    def missing(self, under: list[bytes]) -> list[bytes]:
        if not self._suspects:
            return []
        watched = watched_inodes()
        return sorted(p for key, p in self._suspects if key not in watched and paths.root_of(p, under))


def _rewrite_in_place(path: Path, text: str) -> bool:
    """Overwrite ``path`` in place (not atomic): on a full disk the pages it frees when
    truncated hold the new text, where a new file finds no room."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        os.ftruncate(fd, 0)
        data = text.encode()
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        return False
    finally:
        os.close(fd)
    return True


def _sysctl_hint(reason: str) -> str:
    for key, value in (("max_user_watches", 1048576), ("max_user_instances", 1024)):
        if key in reason:
            return f"raise it: echo fs.inotify.{key}={value} > /etc/sysctl.d/90-fim.conf && sysctl --system"
    return ""
