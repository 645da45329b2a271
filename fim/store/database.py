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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fim.core import paths, statefiles
from fim.core.errors import DatabaseFull, StoreError
from fim.core.model import Finding, Inspection, RuleMatch, Status, event_id
from fim.store.migrations import COMPONENTS, SCHEMA_GENERATION

if TYPE_CHECKING:
    import sqlite_utils

BATCH_ROWS = 1000
BATCH_SECONDS = 1.0
# Space set aside next to the database (``<db>-reserve``) by long-running processes: when the
# disk is full at start, giving it back lets SQLite create the WAL index (32 KiB) and write a
# few pages, so the daemon starts (degraded) instead of failing at every restart.
RESERVE_BYTES = 256 << 10
_SQLITE_FULL = 13
_SQLITE_IOERR = 10


@dataclass(frozen=True, slots=True)
class BaselineRow:
    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int
    ruleset: str | None
    matches: tuple[RuleMatch, ...]
    sha256: str | None
    uid: int
    mode: int
    tenant: str | None

    def same_identity(self, st: os.stat_result) -> bool:
        return (
            self.dev == st.st_dev
            and self.ino == st.st_ino
            and self.size == st.st_size
            and self.mtime_ns == st.st_mtime_ns
            and self.ctime_ns == st.st_ctime_ns
            and st.st_nlink <= 1  # several names: may change unseen through one we do not watch
        )


def translate(exc: sqlite3.Error, where: str) -> StoreError:
    """An operator's message for a sqlite3 error (:class:`DatabaseFull` when out of space)."""
    text = str(exc)
    if _is_full(exc, where):
        return DatabaseFull(f"database {where}: the file system is full ({text}); free space there")
    if "locked" in text or "busy" in text:
        return StoreError(
            f"database {where} is locked by another process (is another fim running?); "
            "try again later or raise database.busy_timeout"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(
            f"database {where} is corrupt or not a fim database ({text}); move it aside to "
            "start a new baseline"
        )
    if "readonly" in text or "unable to open" in text:
        return StoreError(f"database {where} cannot be written ({text})")
    return StoreError(f"database {where}: {text}")


def _is_full(exc: sqlite3.Error, where: str) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if (code is not None and code & 0xFF == _SQLITE_FULL) or "disk is full" in str(exc):
        return True
    # Creating the WAL index of a database on a full disk fails as an I/O error.
    if (code is not None and code & 0xFF == _SQLITE_IOERR) or "disk I/O error" in str(exc):
        return _free_bytes(where) < 64 << 10
    return False


def _free_bytes(where: str) -> int:
    try:
        st = os.statvfs(os.path.dirname(os.path.abspath(where)))
    except (OSError, ValueError):
        return 1 << 62  # cannot tell: not known to be full
    return st.f_bavail * st.f_frsize


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
        self._reserve = 0  # bytes to keep aside in <db>-reserve (see RESERVE_BYTES)
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
            if not reserve or not _release_reserve(where):
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
        if self._reserve_error is not None and _free_bytes(self.where) < 2 * self._reserve:
            return
        if _make_reserve(self.where, self._reserve) and self._reserve_error is not None:
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
        generation = c.execute("PRAGMA user_version").fetchone()[0]
        if generation > SCHEMA_GENERATION:
            raise StoreError(
                f"database {self.where} has schema generation {generation}, newer than this fim "
                f"understands ({SCHEMA_GENERATION}); upgrade fim"
            )
        if self._applied() == {name: len(m) for name, m in COMPONENTS.items()}:
            return
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER)"
            )
            applied = self._applied()  # re-read under the write lock
            for name, migrations in COMPONENTS.items():
                done = applied.get(name, 0)
                if done > len(migrations):
                    raise StoreError(
                        f"database {self.where} has {name} schema {done}, newer than this fim "
                        f"understands ({len(migrations)}); upgrade fim"
                    )
                for number in range(done, len(migrations)):
                    for statement in _statements(migrations[number]):
                        c.execute(statement)
                c.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?) ON CONFLICT(component) DO UPDATE "
                    "SET version=excluded.version",
                    (name, len(migrations)),
                )
            c.execute(f"PRAGMA user_version = {SCHEMA_GENERATION}")
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def _applied(self) -> dict[str, int]:
        try:
            return dict(self.conn.execute("SELECT component, version FROM schema_migrations").fetchall())
        except sqlite3.OperationalError:  # no table yet: a new database
            return {}

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
        sql = _LOOKUP + ",".join("?" * len(paths)) + ")"  # placeholders only
        with self._guard():
            rows = self.conn.execute(sql, paths).fetchall()
        found = {}
        for row in rows:
            matches = tuple(RuleMatch.from_record(r) for r in json.loads(row[7])) if row[7] else ()
            found[row[0]] = BaselineRow(*row[1:7], matches, *row[8:])
        return found

    def mark_seen(self, path: bytes, scan_id: int) -> None:
        self._pending_seen.append((scan_id, path))
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
        for f in findings:
            st = f.state
            self._pending_findings.append(
                {
                    "event_id": event_id(f.path, st.sha256 if st else None, f.match.rule, f.match.ruleset),
                    "scan_id": scan_id,
                    "detected_ns": f.detected_ns or time.time_ns(),
                    "path": f.path,
                    "tenant": f.tenant,
                    "rule": f.match.rule,
                    "ruleset": f.match.ruleset,
                    "severity": str(f.match.severity),
                    "description": f.match.description,
                    "family": f.match.family,
                    "change": str(f.change),
                    "sha256": st.sha256 if st else None,
                    "size": st.size if st else None,
                    "uid": st.uid if st else None,
                    "owner": f.owner,
                }
            )

    def sweep_deleted(
        self, scan_id: int, roots: Sequence[bytes], unlisted: Sequence[bytes]
    ) -> list[tuple[bytes, str | None, tuple[RuleMatch, ...]]]:
        """Remove rows under ``roots`` not seen since ``scan_id`` began; return what was removed.

        Scan ids only grow, and anything seen after this scan began (by this scan, or by an
        event while it ran) carries an id at least as large, so ``seen_scan < scan_id`` is
        exactly "not seen since". Rows under ``unlisted`` (directories the walk could not
        enter) are kept: not seeing them is not evidence that they are gone.
        """
        self.flush()
        gone = []
        with self._guard():
            for root in roots:
                for path, tenant, matches in self._rows_under(root, scan_id):
                    if any(paths.is_within(path, u) for u in unlisted):
                        continue
                    parsed = tuple(RuleMatch.from_record(r) for r in json.loads(matches)) if matches else ()
                    gone.append((path, tenant, parsed))
            with self.conn:
                self.conn.executemany("DELETE FROM files WHERE path=?", [(g[0],) for g in gone])
        return gone

    def _rows_under(self, root: bytes, scan_id: int) -> Iterator[tuple[bytes, str | None, str | None]]:
        prefix = root.rstrip(b"/") + b"/"
        # '0' is the byte after '/': this range is exactly the paths that start with prefix.
        upper = prefix[:-1] + b"0"
        yield from self.conn.execute(
            "SELECT path, tenant, matches FROM files WHERE seen_scan < ? AND "
            "(path = ? OR (path >= ? AND path < ?))",
            (scan_id, root, prefix, upper),
        ).fetchall()

    def delete_under(self, path: bytes) -> list[tuple[bytes, str | None]]:
        """Forget a path that is gone: the file itself, or everything below a directory."""
        self.flush()  # a buffered row for this path must not come back after the delete
        prefix = path.rstrip(b"/") + b"/"
        where = "path = ? OR (path >= ? AND path < ?)"
        args = (path, prefix, prefix[:-1] + b"0")
        with self._guard(), self.conn:
            gone = self.conn.execute(f"SELECT path, tenant FROM files WHERE {where}", args).fetchall()  # noqa: S608
            if gone:
                self.conn.execute(f"DELETE FROM files WHERE {where}", args)  # noqa: S608
        return [(p, t) for p, t in gone]

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
                    self.conn.executemany(_UPSERT_FILE, files)
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
        for row in rows:
            row["id"] = self.conn.execute(_INSERT_FINDING, [row[c] for c in _FINDING_COLUMNS]).lastrowid
        for hook in self.finding_hooks:
            hook(self.conn, rows)

    def _guard(self) -> _Guard:
        return _Guard(self.where)

    # -- queries -----------------------------------------------------------------------------

    def count(self, table: str) -> int:
        with self._guard():
            return self.db[table].count


class _Guard:
    """Turn sqlite3 errors into :class:`StoreError` with a message for the operator."""

    def __init__(self, where: str):
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ, exc, tb) -> None:
        if isinstance(exc, sqlite3.Error):
            raise translate(exc, self.where) from None


def _reserve_path(where: str) -> str:
    return where + "-reserve"


def _make_reserve(where: str, size: int) -> bool:
    """Whether ``<where>-reserve`` now holds ``size`` bytes (created if there is room)."""
    path = _reserve_path(where)
    try:
        if os.stat(path).st_size >= size:
            return True
    except OSError:
        pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return False
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError:  # no room for it now: none rather than a partial one
        try:
            os.unlink(path)
        except OSError:
            pass
        return False
    finally:
        os.close(fd)
    return True


def _release_reserve(where: str) -> bool:
    try:
        os.unlink(_reserve_path(where))
    except OSError:
        return False
    return True


def _filled(target: Path, wait: float) -> bool:
    """False when ``target`` stays empty: another fim that has just created it writes its
    schema within moments (treated like a lock: waited for up to ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while target.stat().st_size == 0:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _statements(script: str) -> list[str]:
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [s.strip() for s in code.split(";") if s.strip()]


_UPSERT_FILE = """
INSERT INTO files (path, tenant, dev, ino, size, mode, uid, gid, mtime_ns, ctime_ns, sha256, md5,
                   ruleset, verdict, matches, first_seen_ns, updated_ns, seen_scan)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT(path) DO UPDATE SET
    tenant=excluded.tenant, dev=excluded.dev, ino=excluded.ino, size=excluded.size,
    mode=excluded.mode, uid=excluded.uid, gid=excluded.gid, mtime_ns=excluded.mtime_ns,
    ctime_ns=excluded.ctime_ns, sha256=excluded.sha256, md5=excluded.md5, ruleset=excluded.ruleset,
    verdict=excluded.verdict, matches=excluded.matches, updated_ns=excluded.updated_ns,
    seen_scan=excluded.seen_scan
"""

_LOOKUP = (
    "SELECT path, dev, ino, size, mtime_ns, ctime_ns, ruleset, matches, sha256, uid, mode, tenant "
    "FROM files WHERE path IN ("
)
_FINDING_COLUMNS = (
    "event_id", "scan_id", "detected_ns", "path", "tenant", "rule", "ruleset", "severity",
    "description", "family", "change", "sha256", "size", "uid", "owner",
)  # fmt: skip
_INSERT_FINDING = (
    f"INSERT INTO findings ({', '.join(_FINDING_COLUMNS)}) VALUES ({', '.join('?' * len(_FINDING_COLUMNS))})"  # noqa: S608 constant
)
