"""A walk's files a batch at a time against the baseline: the unchanged ones are settled here.

A rescan mostly meets files that did not change. For those the baseline row is compared as
SQLite returns it (no row object, no matches to parse) and the batch is marked seen at once,
so an unchanged file costs its ``lstat`` (taken by the walk) and its share of one query.
"""

from __future__ import annotations

from collections.abc import Sequence

from fim.core.model import ScanReport
from fim.detect.walk import Candidate
from fim.store.baseline import BaselineRow, unchanged_and_clean
from fim.store.database import Store


def settle_unchanged(
    store: Store, chunk: Sequence[Candidate], ruleset: str, report: ScanReport, scan_id: int
) -> list[tuple[Candidate, BaselineRow | None]]:
    """Record the files of ``chunk`` that are unchanged and were clean with ``ruleset`` (seen,
    counted, released); return the others with their baseline rows (None: not in it).

    Files with matches are returned too: their findings are reported again. When the lookup
    fails, every candidate is released and the error raised."""
    try:
        idents = store.lookup_identities([c.path for c in chunk], ruleset)
        settled: list[Candidate] = []
        rest: list[Candidate] = []
        for cand in chunk:
            ident = idents.get(cand.path)
            if ident is not None and cand.lstat is not None and unchanged_and_clean(ident, cand.lstat):
                settled.append(cand)
            else:
                rest.append(cand)
        wanted = [c.path for c in rest if c.path in idents]  # changed, or with matches
        rows = store.lookup_many(wanted) if wanted else {}
    except BaseException:
        for cand in chunk:
            cand.release()
        raise
    for cand in settled:
        if cand.parent is not None:  # cand.release(), one call less per file
            cand.parent.release()
    if settled:
        report.stats.files_seen += len(settled)
        report.stats.skipped_unchanged += len(settled)
        store.mark_seen_many([c.path for c in settled], scan_id)
    return [(c, rows.get(c.path)) for c in rest]
