"""The daemon's state as Prometheus metrics, read from a snapshot the work loop takes each
time it writes its status document (every few seconds, and at once on a change of health).

The scrape thread only ever reads the latest snapshot, a frozen value: it shares no mutable
state with the loop, and a loop that stopped moving shows as a snapshot growing old
(``fim_daemon_last_update_timestamp_seconds``) even while the endpoint still answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import Collector

from fim.core.model import ScanStats
from fim.daemon.coverage import watch_count
from fim.daemon.status import StatusDocument, WalkSummary

STATES = ("starting", "running", "degraded", "stopped")
# ScanStats fields summed over the daemon's life: (field, metric, help).
TOTALS = (
    ("files_seen", "fim_files_seen", "Files looked at (events and walks)."),
    ("files_read", "fim_files_scanned", "Files read and matched against the rules."),
    (
        "skipped_unchanged",
        "fim_files_skipped_unchanged",
        "Files skipped: unchanged since their verdict, same rules.",
    ),
    ("skipped_too_large", "fim_files_skipped_too_large", "Files hashed but too large to match."),
    ("errors", "fim_file_errors", "Files that could not be read."),
    ("bytes_read", "fim_bytes_scanned", "Bytes read and matched."),
)


class WalkTotals:
    """Counters that only grow, summed from the ScanStats of every walk and of the events.

    A walk in progress counts as it stands; a finished one by its summary (each summary is
    seen once: the daemon writes its status right after making one). A walk seen running that
    ends without a summary (a database error at its end) keeps counting as it stood, so no
    counter ever goes down."""

    MAX_LIVE = 1000

    def __init__(self) -> None:
        self._done = dict.fromkeys((f for f, _m, _h in TOTALS), 0)
        self.walks: dict[str, int] = {}  # finished walks by kind
        self.last: dict[str, WalkSummary] = {}  # the last finished walk of each kind
        self._live: dict[tuple[str, float], ScanStats] = {}
        self._summary: WalkSummary | None = None

    def update(
        self, jobs: Iterable[tuple[str, float, ScanStats]], last: WalkSummary | None, events: ScanStats
    ) -> dict[str, int]:
        for kind, started, stats in jobs:
            self._live.setdefault((kind, started), stats)
        if last is not None and last is not self._summary:
            self._summary = last
            self._live.pop((last.kind, last.started), None)
            self._fold(last.stats)
            self.walks[last.kind] = self.walks.get(last.kind, 0) + 1
            self.last[last.kind] = last
        while len(self._live) > self.MAX_LIVE:  # only walks that failed pile up here
            self._fold(self._live.pop(next(iter(self._live))).as_dict())
        totals = dict(self._done)
        for stats in [*self._live.values(), events]:
            for name in totals:
                totals[name] += int(getattr(stats, name))
        return totals

    def _fold(self, stats: Mapping[str, object]) -> None:
        for name in self._done:
            value = stats.get(name, 0)
            self._done[name] += int(value) if isinstance(value, int | float) else 0


@dataclass(frozen=True)
class Snapshot:
    """What the loop knew when it last wrote its status."""

    taken: float
    status: StatusDocument
    totals: Mapping[str, int]
    walks: Mapping[str, int]
    last_walks: Mapping[str, WalkSummary]
    events_received: int
    events_coalesced: int
    event_overflows: int
    queue_events: int
    queue_inspection: int
    rescan_only_roots: int
    source: str
    source_up: bool
    source_restarts: int


def _gauge(name: str, text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, value=value)


class DaemonCollector(Collector):
    """Yields the metrics of the latest snapshot (none but the version before the first)."""

    def __init__(self, snapshot: Callable[[], Snapshot | None], version: str):
        self.snapshot = snapshot
        self.version = version

    def collect(self) -> Iterator[Metric]:
        yield InfoMetricFamily("fim_daemon", "The fim daemon's version.", value={"version": self.version})
        snap = self.snapshot()
        if snap is None:
            return
        doc = snap.status
        yield _gauge("fim_daemon_start_time_seconds", "When the daemon started (Unix time).", doc.started)
        yield _gauge(
            "fim_daemon_last_update_timestamp_seconds",
            "When the daemon's loop last reported its state (Unix time): old means stuck.",
            snap.taken,
        )
        state = GaugeMetricFamily("fim_daemon_state", "1 for the daemon's current state.", labels=["state"])
        for name in STATES:
            state.add_metric([name], 1 if doc.state == name else 0)
        yield state
        yield _gauge(
            "fim_daemon_degraded",
            "1 when the daemon runs but cannot do all its job.",
            1 if doc.degraded else 0,
        )
        causes = GaugeMetricFamily(
            "fim_daemon_degraded_cause", "Each reason the daemon is degraded now.", labels=["cause"]
        )
        for cause in sorted(doc.degraded):
            causes.add_metric([cause], 1)
        yield causes
        if doc.ruleset:
            yield InfoMetricFamily("fim_rules", "The rule set in use.", value={"version": doc.ruleset})
        yield from self._events(snap)
        yield from self._coverage(snap)
        yield from self._walks(snap)

    def _events(self, snap: Snapshot) -> Iterator[Metric]:
        source = [snap.source]
        info = GaugeMetricFamily(
            "fim_event_source_info", "The real-time event source in use.", labels=["source"]
        )
        info.add_metric(source, 1)
        yield info
        up = GaugeMetricFamily(
            "fim_event_source_up", "1 while the event source delivers events.", labels=["source"]
        )
        up.add_metric(source, 1 if snap.source_up else 0)
        yield up
        restarts = CounterMetricFamily(
            "fim_event_source_restarts", "Event readers restarted after dying.", labels=["source"]
        )
        restarts.add_metric(source, snap.source_restarts)
        yield restarts
        yield CounterMetricFamily("fim_events_received", "File system events received.", snap.events_received)
        yield CounterMetricFamily(
            "fim_events_coalesced",
            "Events merged into a path already waiting (a write in many chunks).",
            snap.events_coalesced,
        )
        yield CounterMetricFamily(
            "fim_event_queue_overflows",
            "Times the queue of waiting paths overflowed (every root rescanned).",
            snap.event_overflows,
        )
        depth = GaugeMetricFamily(
            "fim_queue_depth", "Paths waiting for an event's scan, files in inspection.", labels=["queue"]
        )
        depth.add_metric(["events"], snap.queue_events)
        depth.add_metric(["inspection"], snap.queue_inspection)
        yield depth

    def _coverage(self, snap: Snapshot) -> Iterator[Metric]:
        doc = snap.status
        yield _gauge("fim_watched_roots", "Roots watched in real time.", len(doc.watched_roots))
        yield _gauge(
            "fim_rescan_only_roots",
            "Roots that cannot be watched: covered by periodic rescans.",
            snap.rescan_only_roots,
        )
        yield _gauge(
            "fim_skipped_roots",
            "Root matches refused (symlinks): neither watched nor scanned.",
            len(doc.skipped_roots),
        )
        yield _gauge(
            "fim_watched_directories",
            "Directories with an inotify watch in place (read from the kernel); 0 under fanotify, "
            "whose file system marks cover every directory.",
            watch_count(),
        )
        yield _gauge(
            "fim_rescan_only_directories",
            "Roots and directories not watched, covered only by periodic rescans.",
            doc.rescan_only_directories,
        )
        yield _gauge(
            "fim_directories_walked", "Directories found by the largest walk so far.", doc.directories_walked
        )

    def _walks(self, snap: Snapshot) -> Iterator[Metric]:
        for field, name, text in TOTALS:
            yield CounterMetricFamily(name, text, snap.totals.get(field, 0))
        done = CounterMetricFamily("fim_walks", "Walks finished, by kind.", labels=["kind"])
        for kind, count in sorted(snap.walks.items()):
            done.add_metric([kind], count)
        yield done
        running = GaugeMetricFamily("fim_walks_in_progress", "Walks in progress, by kind.", labels=["kind"])
        kinds = snap.status.walks_in_progress
        for kind in sorted(set(kinds)):
            running.add_metric([kind], kinds.count(kind))
        yield running
        finished = GaugeMetricFamily(
            "fim_last_walk_timestamp_seconds",
            "When the last walk of each kind finished (Unix time).",
            labels=["kind"],
        )
        took = GaugeMetricFamily(
            "fim_last_walk_duration_seconds", "How long the last walk of each kind took.", labels=["kind"]
        )
        for kind, summary in sorted(snap.last_walks.items()):
            finished.add_metric([kind], summary.finished)
            took.add_metric([kind], max(0.0, summary.finished - summary.started))
        yield finished
        yield took
        catchup = snap.last_walks.get("catch-up")
        if catchup is not None:
            yield _gauge(
                "fim_last_catchup_timestamp_seconds",
                "When the catch-up walk at start last finished (Unix time).",
                catchup.finished,
            )
