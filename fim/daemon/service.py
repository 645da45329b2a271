"""The ``fim daemon`` lifecycle: config, watches, catch-up, events, signals, reload, status.

One thread does the work: it takes due paths from the watch, slices of any walk in progress
(catch-up, rescans, new roots), feeds them to the scanner pipeline, records verdicts, and pings
systemd's watchdog as it goes -- so a stuck loop stops the pings and systemd restarts us.
Watches go in before the catch-up walk, so nothing written during the walk is missed, and the
baseline makes the walk skip what an event already scanned. Walking is in
:mod:`fim.daemon.walks`, health reporting in :mod:`fim.daemon.health`, the status document in
:mod:`fim.daemon.status`.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from fim.alerts.service import AlertService
from fim.config import loader as config_mod
from fim.config.loader import Config
from fim.core import locations, paths
from fim.core.errors import ConfigError, FimError, RuleError, StoreError
from fim.core.model import ScanReport, Writer
from fim.core.version import __version__
from fim.daemon import sources
from fim.daemon.coalescer import Coalescer
from fim.daemon.coverage import inotify_limits, raise_open_files_limit, sysctl_hint
from fim.daemon.health import DaemonHealth
from fim.daemon.metrics import DaemonMetrics
from fim.daemon.sdnotify import Notifier
from fim.daemon.status import StatusDocument, WalkSummary, status_path
from fim.daemon.updates import DaemonUpdates
from fim.daemon.walks import DaemonWalks, WalkJob
from fim.daemon.watch import Watches
from fim.detect.walk import Candidate, Walker
from fim.respond import retention
from fim.scanner.build import alert_service, build_scanner
from fim.scanner.pipeline import Scanner
from fim.store.database import Store
from fim.store.reserve import RESERVE_BYTES
from fim.store.sqlite_errors import translate

EX_CONFIG = 78
STATUS_EVERY = 2.0


class Daemon(DaemonWalks, DaemonHealth, DaemonUpdates):
    """The running service: one loop doing every piece of work, so systemd's watchdog sees a
    stuck loop. Its walks, health reporting and rule-pack checks are written in the mixins it
    inherits."""

    def __init__(self, config_path: str | None, *, log: Any, notifier: Notifier | None = None):
        self.config_path = config_path
        self.log = log
        self.notifier = notifier or Notifier()
        self.wake = threading.Event()
        self._stop = False
        self._reload = False
        self._jobs: deque[WalkJob] = deque()  # background walks, oldest first
        self._event_walks: deque[tuple[Iterator[Candidate], Walker, Writer | None]] = deque()
        self._events_report = ScanReport()
        self._last_catchup: WalkSummary | None = None
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
        raise_open_files_limit()
        try:
            self._start_watching()
            self._start_updates()
            self._loop()
        finally:
            self._shutdown()
        return 0

    def _load_initial(self) -> None:
        self.config = config_mod.load(self.config_path)
        if not self.config.daemon.roots:
            raise ConfigError(self.config.source, ["daemon.roots: no directories to watch"])
        db = config_mod.database_path(self.config)
        self.metrics = DaemonMetrics(db, sinks=lambda: self.alerts.names if self.alerts is not None else [])
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
            on_due=self.metrics.event_due,
        )
        self.events = sources.choose(self.config.daemon.events, sources.probe_dirs(self.config.daemon.roots))
        if self.events.problem:  # configured explicitly, and impossible here
            problem = f"daemon.events: fanotify not usable: {self.events.problem}"
            raise ConfigError(self.config.source, [problem])
        self.log.info("event source", source=self.events.name, reason=self.events.reason)
        d = self.config.daemon
        self.watches = Watches(
            d.roots, self.coalescer, symlink_roots=d.symlink_roots, source=self.events.name
        )
        roots = list(self.config.daemon.roots)
        self.daemon_scan = self.store.begin_scan("daemon", roots, self.scanner.version)
        self._event_scan = self.daemon_scan

    def _build_scanner(self, config: Config) -> Scanner:
        return self.metrics.attach(build_scanner(
            config,
            self.store,
            cache_dir=locations.cache_dir(config_mod.database_path(config)),
            on_message=lambda message: self.log.warning(message),
            on_finding=self._found,
        ))  # fmt: skip

    def _build_alerts(self, config: Config) -> AlertService | None:
        if not config.alerts.sinks:
            return None
        return self.metrics.attach_alerts(alert_service(config, config_mod.database_path(config)))

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
        watched, coverage = len(self.watches.watched), self.watches.describe_coverage()
        self.notifier.ready(f"watching {watched} root(s) with {self.events.name} ({coverage}); catching up")
        self.log.info("watches in place", watched=watched, unwatched=len(self.watches.unwatched),
                      source=self.events.name, coverage=coverage)  # fmt: skip
        if roots:
            self._start_walk("catch-up", roots)
        self.metrics.serve(self.config.metrics.address, self)
        self._write_status()

    def _shutdown(self) -> None:
        self.notifier.stopping()
        self.log.info("stopping")
        self._stop_updates()
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
        self.metrics.stop()
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

    # -- periodic work -------------------------------------------------------------------------

    def _periodic(self) -> None:
        now = time.monotonic()
        d = self.config.daemon
        if self.watches.take_root_hint():  # a new customer directory: cover it now
            self._next["globs"] = min(self._next.get("globs", 0.0), now)
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
        skipped = self.watches.take_event_errors()
        if skipped:  # one line per round, whatever the storm
            self.log.warning("events skipped: could not be handled", count=len(skipped), examples=skipped[:3])
        unwatchable = self.watches.take_unwatchable()
        if unwatchable:
            self._unwatchable(unwatchable)
        if self._hardlinks and self._due("hardlinks", now, d.rescan_seconds):
            linked, self._hardlinks = sorted(self._hardlinks), set()
            walker = self._walker(self._events_report)
            self._event_walks.append((self._walk_files(walker, linked), walker, None))
        uncovered = self.watches.unwatched or self._rescan_dirs
        if uncovered and self._due("rescan", now, d.rescan_seconds):
            healed = self.watches.retry_unwatched()
            targets = [*self.watches.unwatched, *healed, *self._rescan_dirs]
            self._rescan_dirs.clear()  # the rescan's coverage check lists what is still unwatched
            if not any(j.kind == "rescan" for j in self._jobs):
                self._start_walk("rescan", paths.outermost(targets))
        self._check_updates(now)
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
            self.watches.set_patterns(tuple(config.daemon.roots), tuple(config.daemon.symlink_roots))
            self._next.pop("globs", None)
        self.scanner.set_roots(dict(self.watches.identities), tuple(self.watches.allowed_symlinks))
        if scanner.version != old.version:
            # New rules: match what is already on disk against them, not only new files.
            self._start_walk("rules-changed", [*self.watches.watched, *self.watches.unwatched])
        self.metrics.serve(self.config.metrics.address, self)
        self.notifier.ready("reloaded")
        self.log.info("reloaded", ruleset=scanner.version)

    # -- status --------------------------------------------------------------------------------

    def _write_status(self, state: str | None = None) -> None:
        path = status_path(self.config)
        uncovered = self.watches.unwatched or self._rescan_dirs
        doc = StatusDocument(
            pid=os.getpid(),
            version=__version__,
            state=state or self._state(),
            degraded=dict(self._degraded),
            started=self._started,
            updated=time.time(),
            ruleset=self.scanner.version,
            watched_roots=tuple(paths.display(r) for r in self.watches.watched),
            rescan_only_roots={
                **{paths.display(r): why for r, why in self.watches.unwatched.items()},
                **{paths.display(r): why for r, why in list(self._rescan_dirs.items())[:100]},
            },
            skipped_roots={paths.display(r): why for r, why in list(self._skipped_roots.items())[:100]},
            rescan_only_directories=len(self.watches.unwatched) + len(self._rescan_dirs),
            directories_walked=self._dirs_seen,
            queue_depth=len(self.coalescer) + self.scanner.inflight,
            walks_in_progress=tuple(j.kind for j in self._jobs),
            events_seen=self.coalescer.events,
            last_catchup=self._last_catchup,
            last_error=self._last_error,
            events=self.events.name,
            events_reason=self.events.reason,
            coverage=self.watches.describe_coverage(),
            inotify=inotify_limits() if self.watches.per_directory else {},
            hint=sysctl_hint(self._last_error) if uncovered else "",
        )
        self.metrics.update(self, doc)
        try:
            doc.write(path)
        except OSError as exc:
            self.log.warning("cannot write status file", path=str(path), error=exc.strerror)
