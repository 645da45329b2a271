"""The findings of one tenant in a time window, with what fim did about each (for ``fim report``).

Every query names the tenant (``tenant IS ?``, so "no tenant" is NULL and never a wildcard):
a report for one customer reads nothing of another.
"""

from __future__ import annotations

import json
import sqlite3

from fim.core.findings_record import FindingRecord, PendingAlert, QuarantineState, Writer
from fim.core.model import Severity

_COLUMNS = (
    "id", "event_id", "detected_ns", "path", "tenant", "rule", "ruleset", "severity",
    "description", "family", "change", "sha256", "size", "owner",
    # the writer of the file, when the event source knew it (NULL otherwise)
    "writer_pid", "writer_uid", "writer_user", "writer_comm", "writer_exe",
)  # fmt: skip


def tenants(conn: sqlite3.Connection, since_ns: int, until_ns: int) -> list[str | None]:
    """The tenants with findings in [since_ns, until_ns), by name; None (no tenant) last."""
    rows = conn.execute(
        "SELECT DISTINCT tenant FROM findings WHERE detected_ns >= ? AND detected_ns < ?",
        (since_ns, until_ns),
    ).fetchall()
    return sorted((r[0] for r in rows), key=lambda t: (t is None, t or ""))


def finding_records(
    conn: sqlite3.Connection, tenant: str | None, since_ns: int, until_ns: int
) -> list[FindingRecord]:
    """The findings of ``tenant`` (None: findings outside every tenant) detected in the window,
    most severe first, then oldest first."""
    sql = (
        f"SELECT {', '.join(_COLUMNS)} FROM findings "  # noqa: S608 constant column names
        "WHERE tenant IS ? AND detected_ns >= ? AND detected_ns < ? ORDER BY detected_ns, id"
    )
    records = []
    for row in conn.execute(sql, (tenant, since_ns, until_ns)).fetchall():
        records.append(_record(conn, dict(zip(_COLUMNS, row, strict=True))))
    records.sort(key=lambda r: -r.severity)  # stable: oldest first within a severity
    return records


def _record(conn: sqlite3.Connection, v: dict) -> FindingRecord:
    path: bytes = bytes(v["path"])
    chain, present = _baseline(conn, path, v["sha256"], v["rule"], v["ruleset"])
    return FindingRecord(
        id=v["id"],
        event_id=v["event_id"],
        detected_ns=v["detected_ns"],
        path=path,
        tenant=v["tenant"],
        rule=v["rule"],
        ruleset=v["ruleset"],
        severity=_severity(v["severity"]),
        description=v["description"] or "",
        family=v["family"] or "",
        change=v["change"],
        sha256=v["sha256"],
        size=v["size"],
        owner=v["owner"],
        chain=chain,
        writer=_writer(v),
        quarantine=_quarantine(conn, path, v["tenant"], v["sha256"]),
        pending_alerts=_pending(conn, v["id"]),
        present=present,
    )


def _severity(text: str) -> Severity:
    try:
        return Severity.parse(text)
    except ValueError:  # written by a newer fim, or by hand: shown, not dropped
        return Severity.LOW


def _baseline(
    conn: sqlite3.Connection, path: bytes, sha256: str | None, rule: str, ruleset: str
) -> tuple[str | None, bool]:
    """(decode chain or None, still present): from the baseline row, if it holds this content."""
    row = conn.execute("SELECT sha256, verdict, matches FROM files WHERE path = ?", (path,)).fetchone()
    if row is None or sha256 is None or row[0] != sha256:
        return None, False
    try:
        matches = json.loads(row[2]) if row[2] else []
    except ValueError:
        matches = []
    for m in matches:
        if isinstance(m, dict) and m.get("rule") == rule and m.get("ruleset") == ruleset:
            return str(m.get("chain", "")), True
    return None, True


def _writer(v: dict) -> Writer | None:
    if v["writer_pid"] is None:  # the event source named no writer
        return None
    exe = v["writer_exe"]
    if isinstance(exe, str):  # a path should be a BLOB; a TEXT one is taken as its UTF-8 bytes
        exe = exe.encode("utf-8", "surrogateescape")
    return Writer(
        pid=v["writer_pid"],
        uid=v["writer_uid"],
        user=v["writer_user"],
        comm=v["writer_comm"],
        exe=bytes(exe) if exe else None,
    )


def _quarantine(
    conn: sqlite3.Connection, path: bytes, tenant: str | None, sha256: str | None
) -> QuarantineState | None:
    """The latest quarantine record of this content at this path (of this tenant)."""
    row = conn.execute(
        "SELECT id, status, quarantined_ns, restored_ns FROM quarantine "
        "WHERE path = ? AND tenant IS ? AND (? IS NULL OR sha256 = ?) ORDER BY id DESC LIMIT 1",
        (path, tenant, sha256, sha256),
    ).fetchone()
    return QuarantineState(*row) if row else None


def _pending(conn: sqlite3.Connection, finding_id: int) -> tuple[PendingAlert, ...]:
    rows = conn.execute(
        "SELECT sink, attempts, due_ns, last_error FROM alert_outbox WHERE finding_id = ? ORDER BY sink",
        (finding_id,),
    ).fetchall()
    return tuple(PendingAlert(*r) for r in rows)
