"""ECS events for alerts: a finding rebuilt from its ``findings`` row, and health events.

A finding's event is :func:`fim.ecs.finding_event` of the finding rebuilt from the row, so
alerts and ``fim scan --format jsonl`` share one ECS shape. The row keeps less than a scan
sees (no inode, mode or times), so those ``file.*`` fields are absent; ``event.id`` is the
row's stable id.
"""

from __future__ import annotations

import hashlib
import time

from fim.core import paths
from fim.core.model import Change, Finding, RuleMatch, Severity, Writer
from fim.core.version import __version__
from fim.report import ecs
from fim.report.ecs import NUMERIC_SEVERITY
from fim.report.output import dumps  # noqa: F401 - the sinks' one-line JSON, re-exported


def finding_from_row(row: dict) -> Finding:
    match = RuleMatch(
        rule=row["rule"],
        ruleset=row["ruleset"],
        severity=Severity.parse(row["severity"]),
        description=row.get("description") or "",
        family=row.get("family") or "",
    )
    return Finding(
        path=bytes(row["path"]),
        tenant=row.get("tenant"),
        match=match,
        change=Change(row["change"]),
        state=None,
        owner=row.get("owner") or "",
        detected_ns=row["detected_ns"],
        writer=writer_from_row(row),
    )


def writer_from_row(row: dict) -> Writer | None:
    """The writer kept with a finding row (``writer_*`` columns); None when not known."""
    if row.get("writer_pid") is None:
        return None
    exe = row.get("writer_exe")
    return Writer(
        pid=row["writer_pid"],
        uid=row.get("writer_uid"),
        user=row.get("writer_user"),
        comm=row.get("writer_comm"),
        exe=bytes(exe) if exe is not None else None,
    )


def event_from_row(row: dict, hostname: str) -> dict:
    event = ecs.finding_event(finding_from_row(row), hostname=hostname)
    event["event"]["id"] = row["event_id"]
    file = event["file"]
    if row.get("size") is not None:
        file["size"] = row["size"]
    if row.get("uid") is not None:
        file["uid"] = str(row["uid"])
    if row.get("sha256"):
        file["hash"] = {"sha256": row["sha256"]}
    return event


def health_event(message: str, severity: Severity, key: str, hostname: str, *, now_ns: int = 0) -> dict:
    """An ECS event for fim's own trouble (a sink failing, a watch limit reached...)."""
    now_ns = now_ns or time.time_ns()
    event_id = hashlib.sha256(f"health\0{key}\0{now_ns}".encode()).hexdigest()[:32]
    return {
        "@timestamp": ecs.iso(now_ns),
        "message": paths.display(message),
        "event": {
            "kind": "alert",
            "category": ["host"],
            "type": ["info"],
            "action": "fim-health",
            "id": event_id,
            "module": "fim",
            "dataset": "fim.health",
            "severity": NUMERIC_SEVERITY[severity],
        },
        "host": {"name": hostname},
        "fim": {"severity": str(severity), "health_key": paths.display(key), "version": __version__},
    }


def encode(text: str) -> bytes:
    # A lone surrogate (never from display(), but from a rule's metadata perhaps) must not make
    # an alert undeliverable forever: keep it as a JSON escape.
    return text.encode("utf-8", "backslashreplace")
