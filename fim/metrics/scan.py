"""``fim scan --metrics-file``: what one scan did, in node_exporter's textfile format.

node_exporter's textfile collector reads every ``*.prom`` file of its directory at each
scrape, so the file is replaced atomically: written under a hidden temporary name in the same
directory, then renamed over the old one. A scrape sees the old file or the new, never half.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from fim.core.errors import UsageError
from fim.core.model import ScanReport
from fim.core.statefiles import replace_file
from fim.metrics.labels import FamilyLabels, severity

# (metric, ScanStats field, help)
_FILE_GAUGES = (
    ("fim_scan_files_seen", "files_seen", "Files the last scan looked at."),
    ("fim_scan_files_scanned", "files_read", "Files the last scan read and matched."),
    (
        "fim_scan_files_skipped_unchanged",
        "skipped_unchanged",
        "Files the last scan skipped: unchanged since the baseline, same rules.",
    ),
    (
        "fim_scan_files_skipped_too_large",
        "skipped_too_large",
        "Files the last scan hashed but did not match.",
    ),
    ("fim_scan_files_new", "new", "Files new to the baseline in the last scan."),
    ("fim_scan_files_changed", "changed", "Files whose content changed since the baseline."),
    ("fim_scan_files_deleted", "deleted", "Files gone since the baseline."),
    ("fim_scan_errors", "errors", "Files the last scan could not read."),
    ("fim_scan_bytes_scanned", "bytes_read", "Bytes the last scan read."),
)


class ScanCollector(Collector):
    """The metrics of one finished (or failed) scan."""

    def __init__(self, report: ScanReport | None, *, finished: float, rules_version: str = ""):
        self.report = report
        self.finished = finished
        self.rules_version = rules_version or (report.ruleset_version if report else "")

    def collect(self) -> Iterator[GaugeMetricFamily | InfoMetricFamily]:
        report = self.report
        yield GaugeMetricFamily(
            "fim_scan_success",
            "1 when the last scan completed, 0 when it failed.",
            1 if report is not None else 0,
        )
        yield GaugeMetricFamily(
            "fim_scan_last_run_timestamp_seconds", "When the last scan ended (Unix time).", self.finished
        )
        if self.rules_version:
            yield InfoMetricFamily("fim_rules", "The rule set in use.", value={"version": self.rules_version})
        if report is None:
            return
        stats = report.stats
        yield GaugeMetricFamily("fim_scan_duration_seconds", "How long the last scan took.", stats.elapsed_s)
        for name, attr, text in _FILE_GAUGES:
            yield GaugeMetricFamily(name, text, getattr(stats, attr))
        families = FamilyLabels()
        counts: dict[tuple[str, str], int] = {}
        for finding in report.findings:
            key = (severity(finding.severity), families(finding.match.family))
            counts[key] = counts.get(key, 0) + 1
        found = GaugeMetricFamily(
            "fim_scan_findings",
            "Findings the last scan reported, by severity and rule family.",
            labels=["severity", "family"],
        )
        for (sev, family), count in sorted(counts.items()):
            found.add_metric([sev, family], count)
        yield found


def write_textfile(path: str | os.PathLike[str], registry: CollectorRegistry) -> None:
    """Replace ``path`` atomically with the exposition of ``registry`` (mode 0644: the exporter
    reading it runs as another user), flushed to disk first."""
    replace_file(Path(path), generate_latest(registry), 0o644, sync=True)


def check_path(path: str | os.PathLike[str]) -> None:
    """Refuse, before scanning, a metrics file node_exporter would not read or fim cannot write."""
    target = Path(path)
    if target.suffix != ".prom":
        raise UsageError(
            f"--metrics-file {target}: must end in .prom (node_exporter reads only *.prom files)"
        )
    if not target.parent.is_dir():
        raise UsageError(f"--metrics-file {target}: no such directory {target.parent}")


def write(path: str | os.PathLike[str], report: ScanReport | None, *, rules_version: str = "") -> None:
    """Write the metrics of ``report`` (None: the scan failed) to ``path``."""
    registry = CollectorRegistry()
    registry.register(ScanCollector(report, finished=time.time(), rules_version=rules_version))
    try:
        write_textfile(path, registry)
    except OSError as exc:
        raise UsageError(f"--metrics-file {path}: cannot write: {exc.strerror or exc}") from None
