"""Findings as rows of the findings table: the columns, and the insert that gives each its id."""

from __future__ import annotations

import sqlite3
import time

from fim.core.model import Finding, event_id

FINDING_COLUMNS = (
    "event_id", "scan_id", "detected_ns", "path", "tenant", "rule", "ruleset", "severity",
    "description", "family", "change", "sha256", "size", "uid", "owner",
    "writer_pid", "writer_uid", "writer_user", "writer_comm", "writer_exe",
)  # fmt: skip
INSERT_FINDING = (
    f"INSERT INTO findings ({', '.join(FINDING_COLUMNS)}) VALUES ({', '.join('?' * len(FINDING_COLUMNS))})"  # noqa: S608 constant
)


def as_row(f: Finding, scan_id: int | None) -> dict:
    """The row of one finding (without its ``id``, which the insert sets)."""
    st, w = f.state, f.writer
    return {
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
        "writer_pid": w.pid if w else None,
        "writer_uid": w.uid if w else None,
        "writer_user": w.user if w else None,
        "writer_comm": w.comm if w else None,
        "writer_exe": w.exe if w else None,
    }


def insert(conn: sqlite3.Connection, rows: list[dict]) -> None:
    """Insert ``rows`` (inside the caller's transaction) and set each one's ``id``."""
    for row in rows:
        row["id"] = conn.execute(INSERT_FINDING, [row[c] for c in FINDING_COLUMNS]).lastrowid
