"""The alert tables: the outbox of deliveries, per-sink state, and health-alert de-duplication.

A delivery row is written in the same transaction as its finding (see
:meth:`fim.alerts.outbox.Outbox.hook`) and deleted once its sink accepted it, so the outbox only
ever holds what is still to be delivered. Deleting a finding (retention, ``tenant forget``)
deletes its deliveries.
"""

from __future__ import annotations

ALERT_MIGRATIONS: tuple[str, ...] = (
    # 1: outbox, sink state, health keys
    """
    CREATE TABLE alert_outbox (
        id INTEGER PRIMARY KEY,
        sink TEXT NOT NULL,             -- delivery target: a sink name, or name#N for its Nth URL
        kind TEXT NOT NULL,             -- finding | health
        finding_id INTEGER REFERENCES findings(id) ON DELETE CASCADE,
        event_id TEXT NOT NULL,         -- findings.event_id, or the health event's id
        tenant TEXT,
        severity TEXT NOT NULL,
        payload TEXT,                   -- health: JSON {event, title, body}; findings: NULL
        created_ns INTEGER NOT NULL,
        due_ns INTEGER NOT NULL,        -- not attempted before (grouping window, digest, backoff)
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,                -- masked: never a secret
        last_attempt_ns INTEGER
    );
    CREATE INDEX alert_outbox_due ON alert_outbox(sink, due_ns);
    CREATE INDEX alert_outbox_group ON alert_outbox(sink, tenant, due_ns);
    CREATE INDEX alert_outbox_finding ON alert_outbox(finding_id);
    CREATE TABLE alert_sinks (
        sink TEXT PRIMARY KEY,
        failures INTEGER NOT NULL DEFAULT 0,   -- consecutive failed sends
        failing_since_ns INTEGER,              -- first failure of the current streak
        retry_ns INTEGER NOT NULL DEFAULT 0,   -- backoff: no attempt before
        last_error TEXT,
        last_success_ns INTEGER,
        health_raised INTEGER NOT NULL DEFAULT 0,
        tokens REAL,                           -- rate limit bucket (NULL: full)
        tokens_ns INTEGER,
        lease_owner TEXT,                      -- one deliverer per sink across processes
        lease_until_ns INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE alert_health (
        key TEXT PRIMARY KEY,
        raised_ns INTEGER NOT NULL
    );
    """,
)
