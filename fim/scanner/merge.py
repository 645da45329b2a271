"""A full walk's files against the baseline a directory at a time.

A rescan mostly meets files that did not change. When the walk enters a directory, the
baseline's rows for that directory are read in one range of its primary key
(:func:`fim.store.baseline.children`); each file the walk lists takes its row out, and an
unchanged file that was clean with these rules costs its ``lstat`` (taken by the walk) and a
comparison: no query of its own and no write. What is left once the walk is done are the
rows of files it did not meet, and the subdirectories with rows that it did not list: the
deletion sweep's candidates (:meth:`fim.store.database.Store.sweep_unwalked`).

Unchanged files are not marked seen by every scan: ``seen_scan`` (what retention dates a
file's last sighting by) is brought up to date when it is older than :data:`SEEN_REFRESH`.
A file whose directory the walk did not list (a file named as a root) is looked up and
marked seen as before (:func:`fim.scanner.batches.settle_unchanged`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from fim.core.model import ScanReport
from fim.detect.walk import Candidate, Walker
from fim.scanner.batches import settle_unchanged
from fim.store.baseline import BaselineRow, unchanged_and_clean
from fim.store.database import Store
from fim.store.sweep import Swept

SEEN_REFRESH_S = 24 * 3600  # retention counts in days: a sighting a day old is news enough


class BaselineMerge:
    """Settles a walk's unchanged files directory by directory; collects what it did not meet."""

    def __init__(self, store: Store, ruleset: str, walker: Walker, scan_id: int):
        self._store = store
        self._scan_id = scan_id
        self._ruleset = ruleset
        self._walker = walker
        self._listed: set[bytes] = set()
        walker.listed = self._listed
        self._queried: set[bytes] = set()
        self._left: dict[bytes, dict[bytes, tuple]] = {}  # directory -> rows not met yet
        self._subdirs: list[bytes] = []  # subdirectories the baseline has rows below
        since = time.time_ns() - SEEN_REFRESH_S * 1_000_000_000
        self._fresh = store.first_scan_since(since, scan_id)  # seen by this scan id or later: fresh

    def settle(
        self, chunk: Sequence[Candidate], report: ScanReport, scan_id: int
    ) -> list[tuple[Candidate, BaselineRow | None]]:
        """Record the files of ``chunk`` that are unchanged and were clean with the rules
        (counted, released); return the others with their baseline rows (None: not in it).

        As :func:`fim.scanner.batches.settle_unchanged`: files with matches are returned too,
        and when a query fails every candidate is released and the error raised."""
        rest: list[Candidate] = []
        alone: list[Candidate] = []
        wanted: list[bytes] = []
        stale: list[bytes] = []
        settled = i = 0
        fresh = self._fresh
        try:
            for i, cand in enumerate(chunk):  # noqa: B007  # i: where a failure left off
                parent = cand.parent
                if parent is None or parent.path not in self._listed:
                    alone.append(cand)
                    continue
                rows = self._left.get(parent.path)
                if rows is None and parent.path not in self._queried:
                    rows = self._query(parent.path)
                ident = rows.pop(cand.path, None) if rows else None
                st = cand.lstat
                if ident is not None and st is not None and unchanged_and_clean(ident, st):
                    parent.release()
                    settled += 1
                    if ident[7] < fresh:  # its seen_scan
                        stale.append(cand.path)
                    continue
                rest.append(cand)
                if ident is not None:
                    wanted.append(cand.path)  # changed, or with matches: its whole row
            i = len(chunk)
            rows_of = self._store.lookup_many(wanted) if wanted else {}
            if stale:
                self._store.mark_seen_many(stale, scan_id)
        except BaseException:
            for cand in (*rest, *alone, *chunk[i:]):
                cand.release()
            raise
        if settled:
            report.stats.files_seen += settled
            report.stats.skipped_unchanged += settled
        try:
            # Not in a directory the walk listed: looked up, and marked seen, on their own.
            found = settle_unchanged(self._store, alone, self._ruleset, report, scan_id) if alone else []
        except BaseException:
            for cand in rest:
                cand.release()
            raise
        return [(c, rows_of.get(c.path)) for c in rest] + found

    def _query(self, directory: bytes) -> dict[bytes, tuple]:
        rows, subdirs = self._store.children(directory, self._ruleset)
        self._queried.add(directory)
        if subdirs:
            base = directory.rstrip(b"/") + b"/"
            self._subdirs += [base + name for name in subdirs]
        if rows:
            self._left[directory] = rows
        return rows

    def unmet(self) -> tuple[list[bytes], list[bytes]]:
        """Once the walk is done: the files it did not meet in the directories it listed, and
        the subdirectories with rows that it did not list (everything below them unmet)."""
        for directory in self._listed - self._queried:  # listed, but no file of it met
            self._query(directory)
        files = [path for rows in self._left.values() for path in rows]
        trees = [d for d in self._subdirs if d not in self._listed]
        return files, trees

    def sweep(self, named: Sequence[bytes]) -> list[Swept]:
        """Once the walk is done, remove the rows of files that are gone; what was removed.
        ``named``: the roots that are files (looked up and marked seen on their own)."""
        files, trees = self.unmet()
        unlisted = self._walker.unlisted
        gone = self._store.sweep_unwalked(self._scan_id, files, trees, unlisted)
        if named:
            gone += self._store.sweep_deleted(self._scan_id, named, unlisted)
        return gone
