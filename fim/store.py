"""The SQLite database: baseline of every file, scans, findings.

One process may hold one :class:`Store`; within it a single thread writes (the scanner's
main loop). Writes are buffered and committed in batches, each batch one transaction, so a
crash leaves every committed row true and nothing half-written.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fim.errors import StoreError
from fim.model import Finding, Inspection, RuleMatch, Status
from fim.schema import COMPONENTS, SCHEMA_GENERATION

if TYPE_CHECKING:
    import sqlite_utils

BATCH_ROWS = 1000
BATCH_SECONDS = 1.0


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


def event_id(path: bytes, sha256: str | None, rule: str, ruleset: str) -> str:
    """Stable id of "this rule on this content at this path", for receivers to de-duplicate."""
    h = hashlib.sha256(path + b"\0" + (sha256 or "").encode() + b"\0" + f"{ruleset}:{rule}".encode())
    return h.hexdigest()[:32]


def _translate(exc: sqlite3.Error, where: str) -> StoreError:
    text = str(exc)
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
        self.last_error = ""

    @functools.cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils' view of the same connection (imported on first use: it costs a scan's
        start-up tens of milliseconds, which a no-change rescan of a big tree feels)."""
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, busy_timeout: float = 5.0) -> Store:
        where = os.fspath(path)
        if where != ":memory:":
            target = Path(where)
            try:
                target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                # The baseline names customers' files: readable by the owner only. Create it
                # only when missing: closing any descriptor of an open SQLite file drops every
                # POSIX lock this process holds on it, under other connections' feet.
                if not target.exists():
                    try:
                        os.close(os.open(target, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
                    except FileExistsError:
                        pass
            except OSError as exc:
                raise StoreError(f"cannot create database {where}: {exc.strerror}") from None
        try:
            conn = sqlite3.connect(where, timeout=busy_timeout, check_same_thread=False)
            store = cls(conn, where)
            store._prepare()
        except sqlite3.Error as exc:
            raise _translate(exc, where) from None
        return store

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
        with self._guard():
            cur = self.conn.execute(
                "INSERT INTO scans(started_ns, kind, roots, ruleset, status) VALUES (?,?,?,?,?)",
                (time.time_ns(), kind, json.dumps(list(roots)), ruleset, "running"),
            )
            self.conn.commit()
            return int(cur.lastrowid or 0)

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
                    if any(_under(path, u) for u in unlisted):
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

    def latest_scan_id(self) -> int:
        with self._guard():
            return int(self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM scans").fetchone()[0])

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
        if not (files or seen or findings):
            return
        try:
            with self._guard(), self.conn:
                if files:
                    self.conn.executemany(_UPSERT_FILE, files)
                if seen:
                    self.conn.executemany("UPDATE files SET seen_scan=? WHERE path=?", seen)
                if findings:
                    self._insert_findings(findings)
        except BaseException:
            for row in findings:
                row.pop("id", None)  # ids of a rolled-back insert mean nothing
            raise
        self._pending_files, self._pending_seen, self._pending_findings = [], [], []

    @property
    def pending_findings(self) -> int:
        return len(self._pending_findings)

    @property
    def pending(self) -> int:
        return len(self._pending_files) + len(self._pending_seen) + len(self._pending_findings)

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
            raise _translate(exc, self.where) from None


def _under(path: bytes, directory: bytes) -> bool:
    return path == directory or path.startswith(directory.rstrip(b"/") + b"/")


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
