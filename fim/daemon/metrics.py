"""``fim daemon``'s Prometheus metrics: one registry of its own, the hooks that count what
only the running process sees (findings as they are detected, alert sends, event-to-verdict
latency), and the ``/metrics`` endpoint on the ``[metrics] listen`` address.

Everything else is read when scraped: the daemon's state from the snapshot it takes with its
status document (:mod:`fim.daemon.metrics_snapshot`), the stored findings and the alert
backlog from the database (:mod:`fim.metrics.database`).
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

from fim.core.model import Change, Finding
from fim.core.version import __version__
from fim.daemon.metrics_snapshot import DaemonCollector, Snapshot, WalkTotals
from fim.daemon.status import StatusDocument
from fim.metrics.config import ListenAddress
from fim.metrics.database import DatabaseCollector
from fim.metrics.labels import FamilyLabels, severity
from fim.metrics.server import MetricsServer
from fim.scanner.callbacks import ChangeEvent
from fim.scanner.pipeline import Scanner

if TYPE_CHECKING:
    from fim.alerts.service import AlertService

# From a file's first event to its verdict: the settle time (0.2 s) at best, the inspection of
# a large file or a queue behind an upload storm at worst.
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
MAX_AWAITING = 65536  # paths due from events whose verdict is not in yet


class HealthView(Protocol):
    def degrade(self, cause: str, reason: str) -> None: ...
    def recover(self, cause: str) -> None: ...


class DaemonView(Protocol):
    """What the snapshot reads of :class:`fim.daemon.service.Daemon` (in its loop thread)."""

    coalescer: Any
    scanner: Scanner
    watches: Any
    _jobs: Any
    _events_report: Any
    _last_catchup: Any


class DaemonMetrics:
    """The daemon's registry, its hooks, and its endpoint (served only when configured)."""

    def __init__(self, db_path: str | os.PathLike[str], *, sinks: Callable[[], Sequence[str]] = list):
        self.registry = CollectorRegistry()
        self.families = FamilyLabels()
        self.latency = Histogram(
            "fim_event_to_verdict_seconds",
            "From a file's first event (close after write, move in) to its verdict, for files "
            "whose content was new or changed.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.detected = Counter(
            "fim_findings_detected",
            "Findings the scanner reported since the daemon started (new or "
            "changed files; known ones found again are not counted).",
            ["severity", "family"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "fim_alert_deliveries",
            "Alert deliveries attempted (outbox rows), by sink and outcome.",
            ["sink", "outcome"],
            registry=self.registry,
        )
        self.snapshot: Snapshot | None = None
        self.server: MetricsServer | None = None
        self._totals = WalkTotals()
        self._awaiting: OrderedDict[bytes, float] = OrderedDict()
        self.registry.register(DaemonCollector(lambda: self.snapshot, __version__))
        self.registry.register(DatabaseCollector(db_path, sinks=sinks, families=self.families))
        ProcessCollector(registry=self.registry)

    # -- hooks (the loop thread, and the alert thread for deliveries) -------------------------

    def attach(self, scanner: Scanner) -> Scanner:
        """Count the findings ``scanner`` reports and time its verdicts on changed files."""
        found, changed = scanner.on_finding, scanner.on_change

        def on_finding(finding: Finding) -> None:
            if finding.change is not Change.UNCHANGED or finding.match.ruleset == "fim":
                self.detected.labels(severity(finding.severity), self.families(finding.match.family)).inc()
            if found is not None:
                found(finding)

        def on_change(event: ChangeEvent) -> None:
            self.verdict(event.path)
            if changed is not None:
                changed(event)

        scanner.on_finding, scanner.on_change = on_finding, on_change
        return scanner

    def attach_alerts(self, service: AlertService | None) -> AlertService | None:
        if service is not None:
            service.dispatcher.on_result = self.delivery
        return service

    def delivery(self, sink: str, outcome: str, rows: int) -> None:
        self.deliveries.labels(sink, outcome).inc(rows)

    def event_due(self, path: bytes, first: float) -> None:
        """The coalescer hands ``path`` to the loop; ``first`` is its first event (monotonic)."""
        self._awaiting[path] = first
        self._awaiting.move_to_end(path)
        if len(self._awaiting) > MAX_AWAITING:  # verdicts that never come: unchanged, deleted...
            self._awaiting.popitem(last=False)

    def verdict(self, path: bytes) -> None:
        first = self._awaiting.pop(path, None)
        if first is not None:
            self.latency.observe(max(0.0, time.monotonic() - first))

    # -- the snapshot (the loop thread, with the status document) -----------------------------

    def update(self, daemon: DaemonView, doc: StatusDocument) -> None:
        """Take a snapshot. Never raises: on a bug the last snapshot stays and grows old,
        which ``fim_daemon_last_update_timestamp_seconds`` shows; the daemon goes on."""
        try:
            self.snapshot = self._take(daemon, doc)
        except Exception:
            return

    def _take(self, daemon: DaemonView, doc: StatusDocument) -> Snapshot:
        watches, coalescer = daemon.watches, daemon.coalescer
        jobs = [(job.kind, job.started, job.report.stats) for job in daemon._jobs]
        totals = self._totals.update(jobs, daemon._last_catchup, daemon._events_report.stats)
        reader = watches.reader
        return Snapshot(
            taken=time.time(),
            status=doc,
            totals=totals,
            walks=dict(self._totals.walks),
            last_walks=dict(self._totals.last),
            events_received=coalescer.events,
            events_coalesced=coalescer.coalesced,
            event_overflows=coalescer.overflows,
            queue_events=len(coalescer),
            queue_inspection=daemon.scanner.inflight,
            rescan_only_roots=len(watches.unwatched),
            source=reader.name if reader is not None else (doc.events or "none"),
            source_up=reader is not None and not watches.reader_dead() and "events" not in doc.degraded,
            source_restarts=watches.restarts,
        )

    # -- the endpoint --------------------------------------------------------------------------

    def serve(self, address: ListenAddress | None, health: HealthView) -> None:
        """Serve on ``address`` (None: nowhere). A port that cannot be had degrades the
        daemon, which goes on watching: metrics matter less than finding webshells."""
        if self.server is None or address != self.server.address:
            self.stop()
            try:
                self.server = MetricsServer(address, self.registry) if address is not None else None
            except OSError as exc:
                health.degrade("metrics", f"metrics.listen: cannot serve on {address}: {exc.strerror or exc}")
                return
        health.recover("metrics")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
