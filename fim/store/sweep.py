"""The deletion sweep's SQL: rows a scan did not see, and removing them; rows of paths gone."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from fim.core import paths
from fim.core.model import RuleMatch
from fim.store import baseline

Swept = tuple[bytes, str | None, tuple[RuleMatch, ...]]  # path, tenant, its matches
_Row = tuple[bytes, str | None, str | None]
BATCH = 256  # candidate paths per query


def unseen_under(conn: sqlite3.Connection, root: bytes, scan_id: int) -> list[_Row]:
    """Rows at or under ``root`` not seen since ``scan_id`` began."""
    prefix = root.rstrip(b"/") + b"/"
    # '0' is the byte after '/': this range is exactly the paths that start with prefix.
    upper = prefix[:-1] + b"0"
    return conn.execute(
        "SELECT path, tenant, matches FROM files "
        "WHERE seen_scan < ? AND (path = ? OR (path >= ? AND path < ?))",
        (scan_id, root, prefix, upper),
    ).fetchall()


def unseen_of(conn: sqlite3.Connection, files: Sequence[bytes], scan_id: int) -> list[_Row]:
    """The rows of ``files`` not seen since ``scan_id`` began."""
    rows: list[_Row] = []
    for i in range(0, len(files), BATCH):
        chunk = files[i : i + BATCH]
        marks = ",".join("?" * len(chunk))  # placeholders only
        sql = f"SELECT path, tenant, matches FROM files WHERE seen_scan < ? AND path IN ({marks})"  # noqa: S608
        rows += conn.execute(sql, (scan_id, *chunk)).fetchall()
    return rows


def delete(conn: sqlite3.Connection, rows: list[_Row], unlisted: Sequence[bytes]) -> list[Swept]:
    """Delete ``rows`` but those under ``unlisted`` (not seeing them proves nothing); what went."""
    gone = [
        (path, tenant, baseline.parse_matches(matches))
        for path, tenant, matches in rows
        if not any(paths.is_within(path, u) for u in unlisted)
    ]
    with conn:
        conn.executemany("DELETE FROM files WHERE path=?", [(g[0],) for g in gone])
    return gone


def delete_under(conn: sqlite3.Connection, path: bytes) -> list[tuple[bytes, str | None]]:
    """Delete the row of ``path`` and every row below it; (path, tenant) of each."""
    prefix = path.rstrip(b"/") + b"/"
    where = "path = ? OR (path >= ? AND path < ?)"
    args = (path, prefix, prefix[:-1] + b"0")
    with conn:
        gone = conn.execute(f"SELECT path, tenant FROM files WHERE {where}", args).fetchall()  # noqa: S608
        if gone:
            conn.execute(f"DELETE FROM files WHERE {where}", args)  # noqa: S608
    return [(p, t) for p, t in gone]


def first_scan_since(conn: sqlite3.Connection, since_ns: int, scan_id: int) -> int:
    """The id of the first scan that began at ``since_ns`` or later; ``scan_id`` when none is
    recorded yet (its row may wait in the store's buffer)."""
    row = conn.execute("SELECT MIN(id) FROM scans WHERE started_ns >= ?", (since_ns,)).fetchone()
    return min(row[0], scan_id) if row and row[0] is not None else scan_id
