"""The outbox: one delivery row per (finding, sink), written in the findings' own transaction.

Rows wait until their ``due_ns``: now for machines, the end of the tenant's grouping window or
the next digest for people, later after a failed attempt (exponential backoff). A delivered row
is deleted; an undelivered one stays across restarts until its sink accepts it, or until its
finding is deleted (``ON DELETE CASCADE``).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from fim.alerts.config import SinkConfig
from fim.alerts.render import Message
from fim.alerts.sinks.base import Sink
from fim.core.model import Severity

FINDING_COLUMNS = (
    "id", "event_id", "scan_id", "detected_ns", "path", "tenant", "rule", "ruleset", "severity",
    "description", "family", "change", "sha256", "size", "uid", "owner",
    "writer_pid", "writer_uid", "writer_user", "writer_comm", "writer_exe",
)  # fmt: skip
_DELIVERY_COLUMNS = (
    "id", "sink", "kind", "event_id", "tenant", "severity", "payload", "attempts", "created_ns", "due_ns",
    "last_error",
)  # fmt: skip
_SELECT = (
    "SELECT "  # noqa: S608 constant column names
    + ", ".join(f"o.{c}" for c in _DELIVERY_COLUMNS)
    + ", "
    + ", ".join(f"f.{c}" for c in FINDING_COLUMNS)
    + " FROM alert_outbox o LEFT JOIN findings f ON f.id = o.finding_id"
)


@dataclass(frozen=True, slots=True)
class Target:
    """A delivery target: a built sink and the entry it came from (filters, storm control)."""

    sink: Sink
    cfg: SinkConfig

    @property
    def name(self) -> str:
        return self.sink.name

    @property
    def people(self) -> bool:
        return self.sink.audience == "people"

    @property
    def digest(self) -> bool:
        return self.people and self.cfg.mode == "digest"

    def accepts(self, row: dict) -> bool:
        cfg = self.cfg
        if Severity.parse(row["severity"]) < Severity.parse(cfg.min_severity):
            return False
        if cfg.families and (row.get("family") or "") not in cfg.families:
            return False
        if cfg.rulesets and row["ruleset"] not in cfg.rulesets:
            return False
        return not cfg.tenants or (row.get("tenant") or "") in cfg.tenants


@dataclass(frozen=True, slots=True)
class Delivery:
    """One outbox row: something still to be delivered to one sink, with its retry state."""

    id: int
    sink: str
    kind: str  # finding | health
    event_id: str
    tenant: str | None
    severity: Severity
    attempts: int
    created_ns: int
    due_ns: int
    last_error: str | None
    finding: dict | None  # the findings row (kind finding)
    payload: dict | None  # {event, title, body} (kind health)

    def message(self) -> Message:
        assert self.payload is not None
        return Message(self.payload["title"], self.payload["body"], self.severity)


def _delivery(rec: tuple) -> Delivery:
    width = len(_DELIVERY_COLUMNS)
    d = dict(zip(_DELIVERY_COLUMNS, rec[:width], strict=True))
    finding = dict(zip(FINDING_COLUMNS, rec[width:], strict=True))
    return Delivery(
        id=d["id"], sink=d["sink"], kind=d["kind"], event_id=d["event_id"], tenant=d["tenant"],
        severity=Severity.parse(d["severity"]), attempts=d["attempts"], created_ns=d["created_ns"],
        due_ns=d["due_ns"], last_error=d["last_error"],
        finding=finding if finding["id"] is not None else None,
        payload=json.loads(d["payload"]) if d["payload"] else None,
    )  # fmt: skip


def digest_due(now_ns: int, interval_s: float) -> int:
    """The next digest time: aligned to ``interval_s`` since the epoch (hourly: on the hour, UTC)."""
    step = int(interval_s * 1e9)
    return (now_ns // step + 1) * step


class Outbox:
    """Writes delivery rows in the transaction of their findings and reads back what is due."""

    def __init__(self, targets: Sequence[Target], clock: Callable[[], int] = time.time_ns):
        self.targets = list(targets)
        self.clock = clock

    # -- writing -----------------------------------------------------------------------------

    def hook(self, conn: sqlite3.Connection, rows: list[dict]) -> None:
        """The store's finding hook: runs inside the transaction inserting ``rows``."""
        now = self.clock()
        open_groups: dict[tuple[str, str | None], int] = {}
        out = []
        for row in rows:
            for target in self.targets:
                if target.accepts(row):
                    due = self._due(conn, target, row.get("tenant"), now, open_groups)
                    out.append(
                        (target.name, "finding", row["id"], row["event_id"], row.get("tenant"),
                         row["severity"], None, now, due)
                    )  # fmt: skip
        if out:
            conn.executemany(
                "INSERT INTO alert_outbox (sink, kind, finding_id, event_id, tenant, severity, payload,"
                " created_ns, due_ns) VALUES (?,?,?,?,?,?,?,?,?)",
                out,
            )

    def _due(
        self,
        conn: sqlite3.Connection,
        target: Target,
        tenant: str | None,
        now: int,
        open_groups: dict[tuple[str, str | None], int],
    ) -> int:
        if not target.people:
            return now
        if target.digest:
            return digest_due(now, target.cfg.digest_interval)
        window = target.cfg.group_window
        if window <= 0:
            return now
        key = (target.name, tenant)
        if key not in open_groups:
            # Join the tenant's open group (first attempt, not yet due) so it leaves as one message.
            found = conn.execute(
                "SELECT MIN(due_ns) FROM alert_outbox WHERE sink=? AND tenant IS ? AND due_ns>?"
                " AND kind='finding' AND attempts=0",
                (target.name, tenant, now),
            ).fetchone()[0]
            open_groups[key] = found if found is not None else now + int(window * 1e9)
        return open_groups[key]

    def enqueue_notice(
        self,
        conn: sqlite3.Connection,
        event: dict,
        message: Message,
        *,
        targets: Iterable[Target],
    ) -> int:
        now = self.clock()
        payload = json.dumps({"event": event, "title": message.title, "body": message.body})
        out = [
            (t.name, "health", None, event["event"]["id"], None, str(message.severity), payload, now, now)
            for t in targets
        ]
        conn.executemany(
            "INSERT INTO alert_outbox (sink, kind, finding_id, event_id, tenant, severity, payload,"
            " created_ns, due_ns) VALUES (?,?,?,?,?,?,?,?,?)",
            out,
        )
        return len(out)

    # -- delivering --------------------------------------------------------------------------

    @staticmethod
    def due(conn: sqlite3.Connection, sink: str, now: int, *, flush: bool, limit: int) -> list[Delivery]:
        """Rows of ``sink`` to attempt now. ``flush``: first attempts need not wait for their window."""
        cur = conn.execute(
            _SELECT + " WHERE o.sink=? AND (o.due_ns<=? OR (? AND o.attempts=0 AND o.kind='finding'))"
            " ORDER BY o.due_ns, o.id LIMIT ?",
            (sink, now, int(flush), limit),
        )
        out, orphans = [], []
        for rec in cur.fetchall():
            delivery = _delivery(rec)
            if delivery.kind == "finding" and delivery.finding is None:
                orphans.append(delivery.id)  # finding deleted by a connection without foreign keys
            else:
                out.append(delivery)
        if orphans:
            with conn:
                conn.executemany("DELETE FROM alert_outbox WHERE id=?", [(i,) for i in orphans])
        return out

    @staticmethod
    def delivered(conn: sqlite3.Connection, ids: Sequence[int]) -> None:
        with conn:
            conn.executemany("DELETE FROM alert_outbox WHERE id=?", [(i,) for i in ids])

    @staticmethod
    def failed(
        conn: sqlite3.Connection, ids: Sequence[int], error: str, now: int, backoff: Callable[[int], float]
    ) -> None:
        """Record a failed attempt; each row waits ``backoff(attempts so far)`` seconds."""
        with conn:
            attempts = dict(
                conn.execute(
                    f"SELECT id, attempts FROM alert_outbox WHERE id IN ({','.join('?' * len(ids))})",  # noqa: S608
                    list(ids),
                ).fetchall()
            )
            conn.executemany(
                "UPDATE alert_outbox SET attempts=attempts+1, last_error=?, last_attempt_ns=?, due_ns=?"
                " WHERE id=?",
                [(error, now, now + int(backoff(attempts[i]) * 1e9), i) for i in ids if i in attempts],
            )

    @staticmethod
    def retry_now(conn: sqlite3.Connection, sinks: Sequence[str], now: int) -> int:
        """Make every failed delivery of ``sinks`` due now (``fim alerts retry``)."""
        with conn:
            cur = conn.executemany(
                "UPDATE alert_outbox SET due_ns=? WHERE sink=? AND attempts>0 AND due_ns>?",
                [(now, s, now) for s in sinks],
            )
            return cur.rowcount

    # -- reading -----------------------------------------------------------------------------

    @staticmethod
    def pending(conn: sqlite3.Connection, sinks: Sequence[str] | None = None) -> list[Delivery]:
        where, args = "", []
        if sinks is not None:
            where = f" WHERE o.sink IN ({','.join('?' * len(sinks))})"
            args = list(sinks)
        cur = conn.execute(_SELECT + where + " ORDER BY o.sink, o.due_ns, o.id", args)
        return [_delivery(rec) for rec in cur.fetchall()]

    @staticmethod
    def count(conn: sqlite3.Connection, sinks: Sequence[str]) -> int:
        if not sinks:
            return 0
        return conn.execute(
            f"SELECT COUNT(*) FROM alert_outbox WHERE sink IN ({','.join('?' * len(sinks))})",  # noqa: S608
            list(sinks),
        ).fetchone()[0]

    @staticmethod
    def next_due(conn: sqlite3.Connection, sink: str) -> int | None:
        return conn.execute("SELECT MIN(due_ns) FROM alert_outbox WHERE sink=?", (sink,)).fetchone()[0]
