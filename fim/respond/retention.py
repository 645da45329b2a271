"""Retention: fim keeps nothing about customers longer than configured, and forgets one on demand.

:func:`prune` deletes findings (their alert deliveries go with them: they reference findings
``ON DELETE CASCADE``), old scan records, baseline rows of files that are gone, and quarantined
files, each after its own age. :func:`forget_tenant` removes everything about one customer now.

Both turn on SQLite's ``secure_delete`` (freed pages are zeroed, not left readable in the file)
and truncate the write-ahead log afterwards, so deleted data does not linger on disk.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fim.core import paths
from fim.detect.tenants import TenantResolver
from fim.respond import quarantine, quarantine_records

if TYPE_CHECKING:
    import sqlite_utils

    from fim.store.database import Store

DAY_NS = quarantine.DAY_NS
FORGOTTEN = "(forgotten)"


@dataclass(frozen=True)
class RetentionConfig:
    """Ages in days; 0 keeps that kind of data forever."""

    findings_days: int = 365  # findings, and the alert deliveries that reference them
    scans_days: int = 90  # records of past scans (roots, counters)
    missing_files_days: int = 30  # baseline rows of files not seen for this long and gone from disk
    quarantine_days: int = 90  # quarantined files and their records


def _cutoff(now_ns: int, days: int) -> int | None:
    return now_ns - days * DAY_NS if days > 0 else None


@dataclass
class Pruned:
    """How much :func:`prune` deleted. ``errors`` names quarantined files that could not be
    deleted; their records are kept."""

    findings: int = 0
    scans: int = 0
    files: int = 0  # baseline rows of files that are gone
    quarantine: int = 0  # records
    quarantine_files: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "errors"}


def prune(store: Store, retention_config: RetentionConfig, now: float | None = None) -> Pruned:
    """Apply ``retention_config``; ``now`` is seconds since the epoch (default: the clock)."""
    store.flush()
    now_ns = int((time.time() if now is None else now) * 1e9)
    rc = retention_config
    conn = store.conn
    result = Pruned()
    conn.execute("PRAGMA secure_delete = ON")
    if (cutoff := _cutoff(now_ns, rc.findings_days)) is not None:
        with conn:
            result.findings = conn.execute("DELETE FROM findings WHERE detected_ns < ?", (cutoff,)).rowcount
    if (cutoff := _cutoff(now_ns, rc.missing_files_days)) is not None:
        result.files = _prune_missing_files(conn, cutoff)
    if (cutoff := _cutoff(now_ns, rc.scans_days)) is not None:
        with conn:
            # A scan that is still some file's last sighting dates that file: kept.
            result.scans = conn.execute(
                "DELETE FROM scans WHERE started_ns < ? AND id NOT IN (SELECT DISTINCT seen_scan FROM files)",
                (cutoff,),
            ).rowcount
    if rc.quarantine_days > 0:
        removed, files, errors = quarantine.purge(store, older_than_days=rc.quarantine_days, now=now_ns / 1e9)
        result.quarantine, result.quarantine_files = removed, files
        result.errors += errors
    _truncate_wal(conn)
    return result


def _prune_missing_files(conn: sqlite3.Connection, cutoff: int) -> int:
    """Rows not seen by any scan since ``cutoff`` whose file no longer exists."""
    stale = conn.execute(
        "SELECT f.path FROM files f LEFT JOIN scans s ON s.id = f.seen_scan "
        "WHERE COALESCE(s.started_ns, f.updated_ns) < ?",
        (cutoff,),
    ).fetchall()
    gone = []
    for (path,) in stale:
        try:
            os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            gone.append((path,))
        except OSError:
            pass  # cannot tell (permissions...): keep
    with conn:
        conn.executemany("DELETE FROM files WHERE path = ?", gone)
    return len(gone)


def _truncate_wal(conn: sqlite3.Connection) -> None:
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except sqlite3.Error:
        pass  # another connection is busy: the log is truncated at its next checkpoint


# -- forgetting a tenant -------------------------------------------------------------------------


def _tables(db: sqlite_utils.Database) -> dict[str, list[str]]:
    """Every table of every component (but SQLite's and the migration log) -> its columns."""
    names = sorted(n for n in db.table_names() if not n.startswith("sqlite_") and n != "schema_migrations")
    return {n: [c.name for c in db[n].columns] for n in names}


def _counts(db: sqlite_utils.Database, tables: dict[str, list[str]]) -> dict[str, int]:
    return {t: db[t].count for t in tables}


@dataclass
class Forgotten:
    """What :func:`forget_tenant` removed (or would remove, on a dry run)."""

    tenant: str
    dry_run: bool
    removed: dict[str, int] = field(default_factory=dict)  # rows per table, cascades included
    quarantine_files: int = 0  # files deleted
    scans_redacted: int = 0
    remaining: dict[str, int] = field(default_factory=dict)  # table.column -> rows still naming it
    errors: list[str] = field(default_factory=list)


def forget_tenant(
    store: Store, tenant: str, *, patterns: Sequence[str] = (), dry_run: bool = False
) -> Forgotten:
    """Remove everything fim holds about ``tenant``: baseline rows, findings (and so their alert
    deliveries), quarantine records and quarantined files, and its paths in scan records.

    A row belongs to the tenant when its ``tenant`` column says so, or when its ``path`` matches
    one of the tenant ``patterns`` (``/home/{tenant}/``...) with this name. Every table with a
    ``tenant`` or ``path`` column is covered, including those of other components.
    ``remaining`` should be empty afterwards.
    """
    if not tenant or "/" in tenant:
        raise ValueError(f"{tenant!r} is not a tenant name")
    store.flush()
    conn = store.conn
    resolver = TenantResolver(patterns, from_owner=False)

    def belongs(path: bytes) -> bool:
        return resolver.tenant(path, None) == tenant

    tables = _tables(store.db)
    before = _counts(store.db, tables)
    result = Forgotten(tenant, dry_run)
    recs = [r for r in quarantine_records.records(store) if r.tenant == tenant or belongs(r.path)]
    conn.execute("PRAGMA secure_delete = ON")
    if not dry_run:  # files first: a record is only deleted with its file
        _, result.quarantine_files, result.errors = quarantine.remove_records(store, recs)
    else:
        result.quarantine_files = sum(1 for r in recs if r.status != "restored")
    try:
        conn.execute("BEGIN IMMEDIATE")
        if dry_run:
            conn.executemany("DELETE FROM quarantine WHERE id = ?", [(r.id,) for r in recs])
        for table, columns in tables.items():
            if "tenant" in columns:
                conn.execute(f'DELETE FROM "{table}" WHERE tenant = ?', (tenant,))  # noqa: S608
            if "path" in columns:
                rows = conn.execute(f'SELECT DISTINCT path FROM "{table}"').fetchall()  # noqa: S608
                doomed = [(p,) for (p,) in rows if isinstance(p, bytes | str) and belongs(_raw(p))]
                conn.executemany(f'DELETE FROM "{table}" WHERE path = ?', doomed)  # noqa: S608
        result.scans_redacted = _redact_scans(conn, belongs) if "scans" in tables else 0
        after = _counts(store.db, tables)
        result.removed = {t: before[t] - after[t] for t in tables if before[t] != after[t]}
        result.remaining = _mentions(conn, tables, tenant)
        conn.execute("ROLLBACK" if dry_run else "COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    if not dry_run:
        _truncate_wal(conn)
    return result


def _raw(path: bytes | str) -> bytes:
    return path if isinstance(path, bytes) else path.encode("utf-8", "surrogateescape")


def _redact_scans(conn: sqlite3.Connection, belongs) -> int:
    changed = []
    for scan_id, roots in conn.execute("SELECT id, roots FROM scans").fetchall():
        try:
            listed = json.loads(roots)
        except (TypeError, ValueError):
            continue
        redacted = [FORGOTTEN if isinstance(r, str) and _root_belongs(r, belongs) else r for r in listed]
        if redacted != listed:
            changed.append((json.dumps(redacted), scan_id))
    conn.executemany("UPDATE scans SET roots = ? WHERE id = ?", changed)
    return len(changed)


def _root_belongs(shown: str, belongs) -> bool:
    try:
        raw = paths.undisplay(shown)
    except (ValueError, KeyError, IndexError):
        return False
    return belongs(raw.rstrip(b"/") + b"/")


def _mentions(conn: sqlite3.Connection, tables: dict[str, list[str]], tenant: str) -> dict[str, int]:
    """Rows that still name the tenant (in a ``tenant`` column, or as a path component)."""
    needle = f"/{tenant}/".encode()
    found = {}
    for table, columns in tables.items():
        for column in columns:
            sql = (
                f'SELECT count(*) FROM "{table}" WHERE instr(CAST("{column}" AS BLOB), ?) > 0'  # noqa: S608
                + (' OR "tenant" = ?' if column == "tenant" else "")
            )
            args = (needle, tenant) if column == "tenant" else (needle,)
            n = conn.execute(sql, args).fetchone()[0]
            if n:
                found[f"{table}.{column}"] = n
    return found
