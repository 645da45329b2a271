"""A full walk's files against the baseline a directory at a time.

A rescan mostly meets files that did not change. As the walk lists a directory, the
baseline's rows for that directory are read in one range of its primary key
(:func:`fim.store.baseline.children`); each file the walk lists takes its row out, and an
unchanged file that was clean with these rules costs its ``lstat`` (taken by the walk) and a
comparison: no query of its own and no write. What is left once the walk is done are the
rows of files it did not meet, and the subdirectories with rows that it did not list: the
deletion sweep's candidates (:meth:`fim.store.database.Store.sweep_unwalked`). Memory stays
that of the directories being settled and of what is gone, whatever the size of the tree.

Unchanged files are not marked seen by every scan: ``seen_scan`` (what retention dates a
file's last sighting by) is brought up to date when it is older than :data:`SEEN_REFRESH_S`.
A file whose directory the walk did not list (a file named as a root), or whose directory's
rows could not be read, is looked up and marked seen as before
(:func:`fim.scanner.batches.settle_unchanged`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from fim.core.errors import StoreError
from fim.core.model import ScanReport
from fim.detect.walk import Candidate, DirHandle, Walker
from fim.scanner.batches import settle_unchanged
from fim.store.baseline import BaselineRow, unchanged_and_clean
from fim.store.database import Store
from fim.store.sweep import Swept

SEEN_REFRESH_S = 24 * 3600  # retention counts in days: a sighting a day old is news enough
# Rows of subdirectories read ahead with their parent and held until the walk lists them, at
# most: a leaf directory then costs no query of its own, and a tree built to hold many leaves
# at once (deep and wide) cannot make the read-ahead hold much.
READ_AHEAD_ROWS = 8192


class BaselineMerge:
    """Settles a walk's unchanged files directory by directory; sweeps what it did not meet."""

    def __init__(self, store: Store, ruleset: str, walker: Walker, scan_id: int, roots: Sequence[bytes]):
        self._store = store
        self._ruleset = ruleset
        self._walker = walker
        self._scan_id = scan_id
        self._roots = set(roots)
        self._roots_listed: set[bytes] = set()
        self._left: dict[bytes, dict[bytes, tuple]] = {}  # listed directory -> rows not met yet
        self._unwalked: set[bytes] = set()  # subdirectories with rows, not listed (yet)
        self._ahead: dict[bytes, dict[bytes, tuple]] = {}  # a subdirectory's rows, read ahead
        self._ahead_rows = 0
        since = time.time_ns() - SEEN_REFRESH_S * 1_000_000_000
        try:  # seen by this scan id or later: fresh
            self._fresh = store.first_scan_since(since, scan_id)
        except StoreError:  # cannot tell: every unchanged file is marked seen, as by a lookup
            self._fresh = scan_id
        walker.on_listed = self._listed

    def _listed(self, handle: DirHandle) -> None:
        """The walk listed ``handle``'s directory: read its rows (the walker calls this)."""
        directory = handle.path
        self._unwalked.discard(directory)  # a walk lists a directory after its parent
        if directory in self._roots:
            self._roots_listed.add(directory)
        rows = self._ahead.pop(directory, None)
        if rows is not None:  # read with its parent: files only, no subdirectory with rows
            self._ahead_rows -= len(rows)
        else:
            try:
                rows, subdirs, ahead = self._store.children(
                    directory, self._ruleset, READ_AHEAD_ROWS - self._ahead_rows
                )
            except StoreError:
                # Its files are looked up (and marked seen) with their slice instead, and what
                # is gone from it is found by a later walk.
                handle.listed = False
                return
            if subdirs:
                base = directory.rstrip(b"/") + b"/"
                self._unwalked.update(base + name for name in subdirs)
                for name, inside in ahead.items():
                    self._ahead[base + name] = inside
                    self._ahead_rows += len(inside)
        if rows:
            self._left[directory] = rows

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
        settled = 0
        fresh, left = self._fresh, self._left
        try:
            for cand in chunk:
                parent = cand.parent
                if parent is None or not parent.listed:
                    alone.append(cand)
                    continue
                rows = left.get(parent.path)
                ident = None
                if rows:
                    ident = rows.pop(cand.path, None)
                    if not rows:  # every row of the directory met: no need to keep it
                        del left[parent.path]
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
            rows_of = self._store.lookup_many(wanted) if wanted else {}
            if stale:
                self._store.mark_seen_many(stale, scan_id)
        except BaseException:
            for cand in (*rest, *alone):  # the settled ones are released already
                cand.release()
            raise
        if settled:
            report.stats.files_seen += settled
            report.stats.skipped_unchanged += settled
        try:
            found = settle_unchanged(self._store, alone, self._ruleset, report, scan_id) if alone else []
        except BaseException:
            for cand in rest:
                cand.release()
            raise
        return [(c, rows_of.get(c.path)) for c in rest] + found

    def sweep(self) -> list[Swept]:
        """Once the walk is done, remove the rows of files that are gone; what was removed.

        Candidates: the files the walk did not meet in the directories it listed, everything
        below the subdirectories with rows that it did not list, and, for a root it did not
        list (a file named as a root), the rows it did not see (those it met were marked)."""
        files = [path for rows in self._left.values() for path in rows]
        self._ahead.clear()  # subdirectories not listed: in _unwalked, swept whole
        unlisted = self._walker.unlisted
        gone = self._store.sweep_unwalked(self._scan_id, files, sorted(self._unwalked), unlisted)
        named = sorted(self._roots - self._roots_listed)
        if named:
            gone += self._store.sweep_deleted(self._scan_id, named, unlisted)
        return gone
