"""A walk's files a batch at a time against the baseline: the unchanged ones are settled here.

A rescan mostly meets files that did not change. For those the baseline row is compared as
SQLite returns it (no row object, no matches to parse) and the batch is marked seen at once,
so an unchanged file costs its ``lstat`` (taken by the walk) and its share of one query.
"""

from __future__ import annotations

from collections.abc import Sequence

from fim.core.model import ScanReport
from fim.detect.walk import Candidate
from fim.store.baseline import BaselineRow, row_of, unchanged_and_clean
from fim.store.database import Store


def settle_unchanged(
    store: Store, chunk: Sequence[Candidate], ruleset: str, report: ScanReport, scan_id: int
) -> list[tuple[Candidate, BaselineRow | None]]:
    """Record the files of ``chunk`` that are unchanged and were clean with ``ruleset`` (seen,
    counted, released); return the others with their baseline rows (None: not in it).

    Files with matches are returned too: their findings are reported again. When the lookup
    fails, every candidate is released and the error raised."""
    try:
        rows = store.lookup_raw([c.path for c in chunk])
    except BaseException:
        for cand in chunk:
            cand.release()
        raise
    rest: list[tuple[Candidate, BaselineRow | None]] = []
    settled: list[bytes] = []
    for cand in chunk:
        raw = rows.get(cand.path)
        if raw is None:
            rest.append((cand, None))
        elif cand.lstat is not None and unchanged_and_clean(raw, cand.lstat, ruleset):
            settled.append(cand.path)
            if cand.parent is not None:  # cand.release(), one call less per file
                cand.parent.release()
        else:
            rest.append((cand, row_of(raw)))
    if settled:
        report.stats.files_seen += len(settled)
        report.stats.skipped_unchanged += len(settled)
        store.mark_seen_many(settled, scan_id)
    return rest
