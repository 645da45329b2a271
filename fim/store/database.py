"""The SQLite database: baseline of every file, scans, findings.

One process may hold one :class:`Store`; within it a single thread writes (the scanner's
main loop). Writes are buffered and committed in batches, each batch one transaction, so a
crash leaves every committed row true and nothing half-written.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fim.core import statefiles
from fim.core.errors import DatabaseFull, StoreError
from fim.core.model import Finding, Inspection, Status
from fim.store import baseline, finding_rows, migrations, sweep
from fim.store.baseline import BaselineRow
from fim.store.reserve import make_reserve, release_reserve
from fim.store.sqlite_errors import Guard, free_bytes, translate

if TYPE_CHECKING:
    import sqlite_utils

BATCH_ROWS = 1000
BATCH_SECONDS = 1.0


class Store:
    """Baseline, scans and findings in one SQLite file (or ``:memory:`` for ``--no-db``)."""

    def __init__(self, conn: sqlite3.Connection, where: str):
        self.conn = conn
        # Called inside the transaction that inserts findings, with the inserted rows (their
        # ``id`` set): the alert outbox commits its deliveries atomically with the findings.
        self.finding_hooks: list[Callable[[sqlite3.Connection, list[dict]], None]] = []
        self.where = where
        self._pending_files: list[tuple] = []
        self._pending_seen: list[tuple[int, bytes]] = []
        self._pending_findings: list[dict] = []
        self._last_flush = time.monotonic()
        self._retry_after = 0.0
        self._calls = 0
        self._pending_scans: list[tuple] = []  # scans begun while the disk was full
        self.last_error = ""
        # The last write's failure, None once a write succeeds again (the daemon's health).
        self.write_error: StoreError | None = None
        self._reserve = 0  # bytes to keep aside in <db>-reserve (see fim.store.reserve)
        self._reserve_retry = 0.0
        self._reserve_error: StoreError | None = None

    @functools.cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils' view of the same connection (imported on first use: it costs a scan's
        start-up tens of milliseconds, which a no-change rescan of a big tree feels)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, busy_timeout: float = 5.0, reserve: int = 0) -> Store:
        """Open (or create) the database. ``reserve``: keep that many bytes set aside in
        ``<path>-reserve`` and give them back when the disk is too full to open the database."""
        where = os.fspath(path)
        if where != ":memory:":
            target = Path(where)
            try:
                statefiles.private_dir(target.parent)
                # The baseline names customers' files: readable by the owner only (SQLite gives
                # its WAL and SHM files the same mode). Create it only when missing: closing any
                # descriptor of an open SQLite file drops every POSIX lock this process holds
                # on it, under other connections' feet.
                created = False
                if not target.exists():
                    try:
                        os.close(os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
                        created = True
                    except FileExistsError:
                        pass
                if not created and not _filled(target, busy_timeout):
                    # SQLite would take an empty file for a new database: a baseline emptied
                    # by accident (or by someone) would silently start again from nothing.
                    raise StoreError(
                        f"database {where} is an empty file (0 bytes), not a fim database; "
                        "delete it or move it aside to start a new baseline"
                    )
            except OSError as exc:
                raise StoreError(f"cannot create database {where}: {exc.strerror}") from None
        try:
            store = cls._connect(where, busy_timeout)
        except DatabaseFull:
            if not reserve or not release_reserve(where):
                raise
            store = cls._connect(where, busy_timeout)  # on the space given back
            store.write_error = store._reserve_error = DatabaseFull(
                f"database {where}: the file system is full; fim started on its reserve space and "
                "stays degraded until it can set that aside again"
            )
        store._reserve = reserve
        store._check_reserve()
        return store

    @classmethod
    def _connect(cls, where: str, busy_timeout: float) -> Store:
        conn = None
        try:
            conn = sqlite3.connect(where, timeout=busy_timeout, check_same_thread=False)
            store = cls(conn, where)
            store._prepare()
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise translate(exc, where) from None
        return store

    def _check_reserve(self) -> None:
        """Set the reserve aside (best effort). After :meth:`open` had to use it, the disk counts
        as full (the write error stays) until there is room for twice the reserve again."""
        if not self._reserve or self.where == ":memory:" or time.monotonic() < self._reserve_retry:
            return
        self._reserve_retry = time.monotonic() + 1.0
        if self._reserve_error is not None and free_bytes(self.where) < 2 * self._reserve:
            return
        if make_reserve(self.where, self._reserve) and self._reserve_error is not None:
            if self.write_error is self._reserve_error:
                self.write_error = None
            self._reserve_error = None

    @classmethod
    def memory(cls) -> Store:
        return cls.open(":memory:")

    def _prepare(self) -> None:
        c = self.conn
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=NORMAL")
        c.execute("PRAGMA foreign_keys=ON")
        migrations.apply(c, self.where)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- scans -------------------------------------------------------------------------------

    def begin_scan(self, kind: str, roots: Sequence[str], ruleset: str) -> int:
        """Record a scan's start; its id. On a full disk the id is taken from what is in the
        database and the row is written with the next flush (ids are only used in order)."""
        row = (time.time_ns(), kind, json.dumps(list(roots)), ruleset, "running")
        if not self._pending_scans:
            try:
                with self._guard():
                    cur = self.conn.execute(
                        "INSERT INTO scans(started_ns, kind, roots, ruleset, status) VALUES (?,?,?,?,?)", row
                    )
                    self.conn.commit()
                    return int(cur.lastrowid or 0)
            except DatabaseFull as exc:
                self.conn.rollback()
                self.write_error = exc
        scan_id = max(self.latest_scan_id(), *(s[0] for s in self._pending_scans)) + 1
        self._pending_scans.append((scan_id, *row))
        return scan_id

    def finish_scan(self, scan_id: int, status: str, stats: dict) -> None:
        self.flush()
        with self._guard():
            self.conn.execute(
                "UPDATE scans SET finished_ns=?, status=?, stats=? WHERE id=?",
                (time.time_ns(), status, json.dumps(stats), scan_id),
            )
            self.conn.commit()

    # -- baseline ----------------------------------------------------------------------------

    def lookup(self, path: bytes) -> BaselineRow | None:
        return self.lookup_many([path]).get(path)

    def lookup_many(self, paths: Sequence[bytes]) -> dict[bytes, BaselineRow]:
        """Baseline rows of up to a few hundred paths in one query (a walk's hot path)."""
        with self._guard():
            return baseline.lookup_many(self.conn, paths)

    def lookup_identities(self, paths: Sequence[bytes], ruleset: str) -> dict[bytes, tuple]:
        """What tells an unchanged clean file, by path (see :func:`baseline.lookup_identities`)."""
        with self._guard():
            return baseline.lookup_identities(self.conn, paths, ruleset)

    def children(self, directory: bytes, ruleset: str, prefetch: int = 0) -> baseline.Children:
        """The rows directly in ``directory``, its subdirectories with rows (baseline.children)."""
        with self._guard():
            return baseline.children(self.conn, directory, ruleset, prefetch)

    def first_scan_since(self, since_ns: int, scan_id: int) -> int:
        """The first scan that began at ``since_ns`` or later (``scan_id``: none recorded yet)."""
        with self._guard():
            return sweep.first_scan_since(self.conn, since_ns, scan_id)

    def mark_seen(self, path: bytes, scan_id: int) -> None:
        self._pending_seen.append((scan_id, path))
        self._maybe_flush()

    def mark_seen_many(self, paths: Iterable[bytes], scan_id: int) -> None:
        """:meth:`mark_seen` for a batch of files (a rescan's unchanged files)."""
        before = len(self._pending_seen)
        self._pending_seen.extend((scan_id, path) for path in paths)
        self._calls += len(self._pending_seen) - before - 1
        self._maybe_flush()

    def record(
        self,
        inspection: Inspection,
        tenant: str | None,
        ruleset: str,
        scan_id: int,
        findings: Iterable[Finding] = (),
    ) -> None:
        """Buffer the new baseline row of an inspected file and its new findings.

        Both go into the same batch, so one transaction commits the verdict with its findings
        (and, through the hooks, their alerts): never a "finding" verdict without its finding.
        """
        state = inspection.state
        if state is None:
            return
        if inspection.matches:
            verdict = "finding"
        elif inspection.status is Status.TOO_LARGE:
            verdict = "too_large"
        else:
            verdict = "clean"
        matches = json.dumps([m.to_record() for m in inspection.matches]) if inspection.matches else None
        now = time.time_ns()
        self._pending_files.append(
            (
                state.path, tenant, state.dev, state.ino, state.size, state.mode, state.uid,
                state.gid, state.mtime_ns, state.ctime_ns, state.sha256, state.md5, ruleset,
                verdict, matches, now, now, scan_id,
            )
        )  # fmt: skip
        self._buffer_findings(findings, scan_id)
        self._maybe_flush()

    def add_findings(self, findings: Iterable[Finding], scan_id: int | None) -> None:
        self._buffer_findings(findings, scan_id)
        self._maybe_flush()

    def _buffer_findings(self, findings: Iterable[Finding], scan_id: int | None) -> None:
        self._pending_findings.extend(finding_rows.as_row(f, scan_id) for f in findings)

    def sweep_deleted(
        self, scan_id: int, roots: Sequence[bytes], unlisted: Sequence[bytes]
    ) -> list[sweep.Swept]:
        """Remove rows under ``roots`` not seen since ``scan_id`` began; return what was removed.

        Scan ids only grow, and anything seen after this scan began (by this scan, or by an
        event while it ran) carries an id at least as large, so ``seen_scan < scan_id`` is
        exactly "not seen since". Rows under ``unlisted`` (directories the walk could not
        enter) are kept: not seeing them is not evidence that they are gone.
        """
        self.flush()
        with self._guard():
            rows = [row for root in roots for row in sweep.unseen_under(self.conn, root, scan_id)]
            return sweep.delete(self.conn, rows, unlisted)

    def sweep_unwalked(
        self, scan_id: int, files: Sequence[bytes], subtrees: Sequence[bytes], unlisted: Sequence[bytes]
    ) -> list[sweep.Swept]:
        """:meth:`sweep_deleted` for a walk compared with the baseline a listed directory at a time
        (fim.scanner.merge), which does not mark unchanged files seen: the candidates are the rows
        it did not meet, ``files`` and all below ``subtrees``. Rows seen since ``scan_id`` began
        (an event recorded them) stay, as do rows under ``unlisted``."""
        self.flush()
        with self._guard():
            rows = [row for tree in subtrees for row in sweep.unseen_under(self.conn, tree, scan_id)]
            rows += sweep.unseen_of(self.conn, files, scan_id)
            return sweep.delete(self.conn, rows, unlisted)

    def delete_under(self, path: bytes) -> list[tuple[bytes, str | None]]:
        """Forget a path that is gone: the file itself, or everything below a directory."""
        self.flush()  # a buffered row for this path must not come back after the delete
        with self._guard():
            return sweep.delete_under(self.conn, path)

    def findings_by_tenant(self, since_ns: int) -> dict[str | None, int]:
        with self._guard():
            rows = self.conn.execute(
                "SELECT tenant, COUNT(*) FROM findings WHERE detected_ns >= ? GROUP BY tenant", (since_ns,)
            ).fetchall()
        return dict(rows)

    # -- writing -----------------------------------------------------------------------------

    def _maybe_flush(self) -> None:
        """Flush when a batch is full or old. A failure here is not raised: the rows stay
        buffered, and the caller's bookkeeping (a verdict, its findings) must not be cut in
        half by an error about an earlier batch. An explicit :meth:`flush` raises it."""
        self._calls += 1
        if self._calls < 64:  # this runs once per file: keep it to a counter most of the time
            return
        self._calls = 0
        now = time.monotonic()
        if now < self._retry_after:
            return
        if self.pending >= BATCH_ROWS or now - self._last_flush >= BATCH_SECONDS:
            try:
                self.flush()
            except StoreError as exc:
                self.last_error = str(exc)
                self._retry_after = now + BATCH_SECONDS

    def flush(self) -> None:
        """Commit everything buffered in one transaction.

        If the commit fails (database locked past the busy timeout, disk full), the rows stay
        buffered for the next attempt and the error is raised: nothing is lost in between.
        """
        self._last_flush = time.monotonic()
        files, seen, findings = self._pending_files, self._pending_seen, self._pending_findings
        scans = self._pending_scans
        if not (files or seen or findings or scans):
            if self._reserve_error is not None:
                self._check_reserve()
            return
        try:
            with self._guard(), self.conn:
                if scans:
                    self.conn.executemany(
                        "INSERT OR IGNORE INTO scans(id, started_ns, kind, roots, ruleset, status) "
                        "VALUES (?,?,?,?,?,?)",
                        scans,
                    )
                if files:
                    self.conn.executemany(baseline.UPSERT_FILE, files)
                if seen:
                    self.conn.executemany("UPDATE files SET seen_scan=? WHERE path=?", seen)
                if findings:
                    self._insert_findings(findings)
        except BaseException as exc:
            for row in findings:
                row.pop("id", None)  # ids of a rolled-back insert mean nothing
            if isinstance(exc, StoreError):
                self.write_error = exc
            raise
        self._pending_files, self._pending_seen, self._pending_findings = [], [], []
        self._pending_scans = []
        self.write_error = self._reserve_error
        if self._reserve_error is not None:
            self._check_reserve()

    @property
    def pending_findings(self) -> int:
        return len(self._pending_findings)

    @property
    def pending(self) -> int:
        return (
            len(self._pending_files) + len(self._pending_seen) + len(self._pending_findings)
            + len(self._pending_scans)
        )  # fmt: skip

    def _insert_findings(self, rows: list[dict]) -> None:
        finding_rows.insert(self.conn, rows)
        for hook in self.finding_hooks:
            hook(self.conn, rows)

    def _guard(self) -> Guard:
        return Guard(self.where)

    # -- queries -----------------------------------------------------------------------------

    def count(self, table: str) -> int:
        with self._guard():
            return self.db[table].count


def _filled(target: Path, wait: float) -> bool:
    """False when ``target`` stays empty: another fim that has just created it writes its
    schema within moments (treated like a lock: waited for up to ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while target.stat().st_size == 0:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
