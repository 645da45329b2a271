"""Health: what the daemon says when it runs but cannot do all its job.

Each cause is logged, kept in the status document as "degraded" until it clears, and raised
as a finding about fim itself (family "health") so that alert sinks hear of it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from fim.config.loader import Config
from fim.core import paths
from fim.core.errors import DatabaseFull
from fim.core.model import Change, Finding, Problem, RuleMatch, Severity, Status
from fim.daemon.coverage import sysctl_hint
from fim.daemon.walks import WalkJob
from fim.daemon.watch import Watches
from fim.scanner.pipeline import Scanner
from fim.store.database import Store


def health_finding(root: bytes, tenant: str | None, rule: str, description: str) -> Finding:
    """A finding about fim itself on ``root`` (ruleset "fim", family "health", severity high)."""
    match = RuleMatch(
        rule=rule, ruleset="fim", severity=Severity.HIGH, description=description, family="health"
    )
    return Finding(root, tenant, match, Change.UNCHANGED, None, "", time.time_ns())


def _writer_log(finding: Finding) -> dict[str, object]:
    """The writer's fields for a log line (none when the event source did not know it)."""
    w = finding.writer
    if w is None:
        return {}
    exe = paths.display(w.exe) if w.exe is not None else None
    comm = paths.display(w.comm) if w.comm is not None else None
    return {
        "writer_pid": w.pid,
        "writer_uid": w.uid,
        "writer_user": w.user,
        "writer_comm": comm,
        "writer_exe": exe,
    }


class DaemonHealth:
    """The health half of :class:`fim.daemon.service.Daemon` (a mixin: it shares the daemon's
    state): degraded causes, health findings, directories left to rescans."""

    log: Any
    config: Config
    store: Store
    scanner: Scanner
    watches: Watches
    _ready: bool
    _event_scan: int
    _last_error: str
    _degraded: dict[str, str]
    _skipped_roots: dict[bytes, str]
    _rescan_dirs: dict[bytes, str]
    _dirs_seen: int
    _deaths_seen: int

    if TYPE_CHECKING:  # provided by the other halves of Daemon

        def _start_walk(self, kind: str, roots: list[bytes]) -> None: ...
        def _write_status(self, state: str | None = None) -> None: ...

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

    def _state(self) -> str:
        if not self._ready:
            return "starting"
        return "degraded" if self._degraded else "running"

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

    def _roots_checked(self) -> None:
        """After a glob refresh: report roots refused (a symlink, or behind a customer's
        symlink) once each, keep them in status, and tell quarantine where it may act."""
        skipped = dict(self.watches.skipped)
        for root, reason in skipped.items():
            if self._skipped_roots.get(root) == reason:
                continue
            self.log.error("root skipped: not followed", root=paths.display(root), reason=reason)
            description = (
                f"root is a symlink or lies behind one; not watched, scanned or quarantined from: {reason}"
            )
            self._health_finding(root, "fim_root_symlink", description)
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
                           hint=sysctl_hint(reason))  # fmt: skip
            for root in {paths.root_of(p, roots) for p in new} - {None}:
                self._coverage_lost(root, f"{len(new)} directories not watched: {reason}")

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
                hint=sysctl_hint(reason),
            )
            for root in {paths.root_of(m, watched_roots) for m in new}:
                self._coverage_lost(root, f"{len(new)} directories {reason}")

    def _coverage_lost(self, root: bytes, reason: str) -> None:
        """A directory we cannot watch: say so loudly and cover it by rescans instead."""
        self._last_error = f"{paths.display(root)}: {reason}"
        self.log.error("cannot watch; covering by periodic rescans", root=paths.display(root), reason=reason,
                       hint=sysctl_hint(reason))  # fmt: skip
        every = f"{self.config.daemon.rescan_seconds:.0f} s"
        description = f"real-time watching failed ({reason}); covered by rescans every {every} until fixed"
        self._health_finding(root, "fim_watch_failed", description)

    def _health_finding(self, root: bytes, rule: str, description: str) -> None:
        """A finding about fim itself (family "health"), so that alert sinks hear of it."""
        finding = health_finding(root, self.scanner.tenants.tenant(root, None), rule, description)
        self.store.add_findings([finding], self._event_scan)
        self._found(finding)

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
            **_writer_log(finding),
        )

    def _log_problem(self, problem: Problem) -> None:
        if problem.status is Status.TOO_LARGE:
            return
        self.log.info("not inspected", path=paths.display(problem.path), status=str(problem.status),
                      reason=problem.reason)  # fmt: skip
