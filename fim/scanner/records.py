"""The ``scans`` row that records a piece of the scanner's work."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence

from fim.core import paths
from fim.core.model import ScanReport
from fim.store.database import Store

ScanRecord = contextlib.AbstractContextManager[tuple[int, float]]  # the scan's id, its start


@contextlib.contextmanager
def scan_record(
    store: Store, ruleset: str, kind: str, roots: Sequence[bytes], report: ScanReport
) -> Iterator[tuple[int, float]]:
    """A ``scans`` row for the work in the block: "done" when it completes, else "failed".
    Yields the scan's id and when it started (monotonic clock)."""
    scan_id = store.begin_scan(kind, [paths.display(r) for r in roots], ruleset)
    started = time.monotonic()
    status = "failed"
    try:
        yield scan_id, started
        status = "done"
    finally:
        report.stats.elapsed_s = round(time.monotonic() - started, 3)
        store.finish_scan(scan_id, status, report.stats.as_dict())
