"""What the database says, read at scrape time: findings stored by severity and family, the
baseline's size, the alert backlog per sink, quarantined files, the size of the files.

Each scrape opens its own read-only connection (the database is in WAL mode: readers never
wait for the daemon's writes, nor hold them up), so the scrape thread shares nothing with the
loop that writes.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from fim.metrics.labels import FamilyLabels, severity

SinkNames = Callable[[], Sequence[str]]


class DatabaseCollector(Collector):
    """Metrics from ``fim.db`` (and its WAL file), computed whenever they are scraped."""

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        *,
        sinks: SinkNames = list,
        families: FamilyLabels | None = None,
    ):
        self.db_path = Path(db_path)
        self.sinks = sinks  # configured sink names: listed with 0 pending when nothing waits
        self.families = families or FamilyLabels()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily(
            "fim_database_size_bytes",
            "Size of the database files (main, and its write-ahead log).",
            labels=["file"],
        )
        for name, suffix in (("main", ""), ("wal", "-wal")):
            try:
                size.add_metric([name], os.stat(f"{self.db_path}{suffix}").st_size)
            except OSError:
                continue
        yield size
        readable = GaugeMetricFamily(
            "fim_database_readable", "1 when the last scrape could read the database, else 0."
        )
        try:
            families = list(self._read())
        except (sqlite3.Error, OSError):
            readable.add_metric([], 0)
            yield readable
            return
        readable.add_metric([], 1)
        yield readable
        yield from families

    def _read(self) -> Iterator[GaugeMetricFamily]:
        if not self.db_path.is_file():
            raise FileNotFoundError(self.db_path)
        conn = sqlite3.connect(self.db_path, timeout=2.0)
        try:
            conn.execute("PRAGMA query_only=ON")
            yield from self._findings(conn)
            yield from self._alerts(conn)
        finally:
            conn.close()

    def _findings(self, conn: sqlite3.Connection) -> Iterator[GaugeMetricFamily]:
        findings = GaugeMetricFamily(
            "fim_findings",
            "Findings stored in the database (until retention or `tenant forget`), "
            "by severity and rule family.",
            labels=["severity", "family"],
        )
        counts: dict[tuple[str, str], int] = {}
        for sev, family, count in conn.execute(
            "SELECT severity, family, COUNT(*) FROM findings GROUP BY severity, family ORDER BY family"
        ):
            key = (severity(sev), self.families(family))
            counts[key] = counts.get(key, 0) + count
        for (sev, family), count in sorted(counts.items()):
            findings.add_metric([sev, family], count)
        yield findings
        # COUNT(*) reads the smallest index: fast even with millions of files.
        (files,) = conn.execute("SELECT COUNT(*) FROM files").fetchone()
        yield GaugeMetricFamily("fim_baseline_files", "Files in the baseline (each with its verdict).", files)
        (quarantined,) = conn.execute("SELECT COUNT(*) FROM quarantine WHERE status='quarantined'").fetchone()
        yield GaugeMetricFamily("fim_quarantined_files", "Files in quarantine now.", quarantined)

    def _alerts(self, conn: sqlite3.Connection) -> Iterator[GaugeMetricFamily]:
        now = time.time()
        pending = {name: (0, None) for name in self.sinks()}
        for sink, count, oldest in conn.execute(
            "SELECT sink, COUNT(*), MIN(created_ns) FROM alert_outbox GROUP BY sink"
        ):
            pending[sink] = (count, oldest)
        waiting = GaugeMetricFamily(
            "fim_alerts_pending", "Alert deliveries waiting in the outbox, by sink.", labels=["sink"]
        )
        age = GaugeMetricFamily(
            "fim_alert_oldest_pending_age_seconds",
            "Age of the oldest delivery waiting for each sink (0 when none waits).",
            labels=["sink"],
        )
        for sink, (count, oldest) in sorted(pending.items()):
            waiting.add_metric([sink], count)
            age.add_metric([sink], max(0.0, now - oldest / 1e9) if oldest is not None else 0.0)
        yield waiting
        yield age
        failures = GaugeMetricFamily(
            "fim_alert_sink_consecutive_failures",
            "Failed sends in a row for each sink (0 after a success).",
            labels=["sink"],
        )
        success = GaugeMetricFamily(
            "fim_alert_sink_last_success_timestamp_seconds",
            "When each sink last accepted a delivery (Unix time).",
            labels=["sink"],
        )
        known = {
            sink: (count, last)
            for sink, count, last in conn.execute("SELECT sink, failures, last_success_ns FROM alert_sinks")
        }
        for sink in self.sinks():
            known.setdefault(sink, (0, None))  # never attempted yet
        for sink, (count, last) in sorted(known.items()):
            failures.add_metric([sink], count)
            if last is not None:
                success.add_metric([sink], last / 1e9)
        yield failures
        yield success
