"""The database schema: per component, an ordered list of migrations.

Each component (the core baseline, alerts, quarantine...) owns its tables and its migration
list; the ``schema_migrations`` table records how far each has been applied. Append a
migration for every change; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3

from fim.core.errors import StoreError
from fim.store.views import VIEW_MIGRATIONS

CORE: tuple[str, ...] = (
    # 1: baseline, scans, findings
    """
    CREATE TABLE files (
        path BLOB PRIMARY KEY,          -- exact bytes; never decoded
        tenant TEXT,
        dev INTEGER NOT NULL,
        ino INTEGER NOT NULL,
        size INTEGER NOT NULL,
        mode INTEGER NOT NULL,
        uid INTEGER NOT NULL,
        gid INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        ctime_ns INTEGER NOT NULL,
        sha256 TEXT,
        md5 TEXT,
        ruleset TEXT,                   -- rule-set version the verdict was reached with
        verdict TEXT NOT NULL,          -- clean | finding | too_large
        matches TEXT,                   -- JSON list of matches, NULL when clean
        first_seen_ns INTEGER NOT NULL,
        updated_ns INTEGER NOT NULL,
        seen_scan INTEGER NOT NULL      -- last scan that saw it; the deletion sweep uses it
    ) WITHOUT ROWID;
    CREATE INDEX files_tenant ON files(tenant);
    CREATE INDEX files_sha256 ON files(sha256);
    CREATE TABLE scans (
        id INTEGER PRIMARY KEY,
        started_ns INTEGER NOT NULL,
        finished_ns INTEGER,
        kind TEXT NOT NULL,             -- scan | catch-up | event
        roots TEXT NOT NULL,            -- JSON list of displayed roots
        ruleset TEXT NOT NULL,
        status TEXT NOT NULL,           -- running | done | failed
        stats TEXT
    );
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL,         -- stable across rescans: path + content + rule
        scan_id INTEGER,
        detected_ns INTEGER NOT NULL,
        path BLOB NOT NULL,
        tenant TEXT,
        rule TEXT NOT NULL,
        ruleset TEXT NOT NULL,
        severity TEXT NOT NULL,
        description TEXT,
        family TEXT,
        change TEXT NOT NULL,
        sha256 TEXT,
        size INTEGER,
        uid INTEGER,
        owner TEXT
    );
    CREATE INDEX findings_detected ON findings(detected_ns);
    CREATE INDEX findings_tenant ON findings(tenant);
    CREATE INDEX findings_event ON findings(event_id);
    """,
    # 2: who wrote the file, when the event source knew it (fanotify reports the pid)
    """
    ALTER TABLE findings ADD COLUMN writer_pid INTEGER;
    ALTER TABLE findings ADD COLUMN writer_uid INTEGER;
    ALTER TABLE findings ADD COLUMN writer_user TEXT;
    ALTER TABLE findings ADD COLUMN writer_comm TEXT;
    ALTER TABLE findings ADD COLUMN writer_exe BLOB;
    """,
    # 3: no index on the baseline's digests. No query of fim's reads files by sha256, and on a
    # first scan the index cost a random B-tree insert per file (about a third of the time
    # the database takes); a person's ad-hoc search by digest reads the table instead.
    """
    DROP INDEX IF EXISTS files_sha256;
    """,
)

# The alert tables: the outbox of deliveries, per-sink state, and health-alert de-duplication.
# A delivery row is written in the same transaction as its finding (see
# fim.alerts.outbox.Outbox.hook) and deleted once its sink accepted it, so the outbox only ever
# holds what is still to be delivered. Deleting a finding (retention, ``tenant forget``)
# deletes its deliveries.
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

# Quarantine records: committed before a file is moved, so a crash never leaves a moved file
# nobody knows about.
QUARANTINE_MIGRATIONS: tuple[str, ...] = (
    # 1: quarantine records
    """
    CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY,
        directory BLOB NOT NULL,        -- the quarantine directory the file was moved into
        stored_name TEXT NOT NULL,      -- its random name there
        path BLOB NOT NULL,             -- exact original path bytes
        tenant TEXT,
        uid INTEGER NOT NULL,
        gid INTEGER NOT NULL,
        mode INTEGER NOT NULL,          -- full st_mode
        atime_ns INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        reason TEXT NOT NULL,           -- the findings that triggered it
        severity TEXT NOT NULL,
        method TEXT,                    -- rename | copy
        status TEXT NOT NULL,           -- pending | quarantined | restored
        note TEXT,
        quarantined_ns INTEGER NOT NULL,
        restored_ns INTEGER
    );
    CREATE INDEX quarantine_tenant ON quarantine(tenant);
    CREATE INDEX quarantine_time ON quarantine(quarantined_ns);
    CREATE INDEX quarantine_path ON quarantine(path);
    """,
)

# component name -> its migrations, applied in this order.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "core": CORE,
    "alerts": ALERT_MIGRATIONS,
    "quarantine": QUARANTINE_MIGRATIONS,
    # Read-only views for people (fim.store.views); last: they read the tables above.
    "views": VIEW_MIGRATIONS,
}

# Bumped only if the way migrations are tracked changes (PRAGMA user_version holds it).
SCHEMA_GENERATION = 1


def apply(conn: sqlite3.Connection, where: str) -> None:
    """Bring the schema of the database at ``where`` up to this fim's, in one transaction;
    refuse a database a newer fim has written."""
    generation = conn.execute("PRAGMA user_version").fetchone()[0]
    if generation > SCHEMA_GENERATION:
        raise StoreError(
            f"database {where} has schema generation {generation}, newer than this fim "
            f"understands ({SCHEMA_GENERATION}); upgrade fim"
        )
    if _applied(conn) == {name: len(m) for name, m in COMPONENTS.items()}:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT PRIMARY KEY, version INTEGER)"
        )
        applied = _applied(conn)  # re-read under the write lock
        for name, migrations in COMPONENTS.items():
            done = applied.get(name, 0)
            if done > len(migrations):
                raise StoreError(
                    f"database {where} has {name} schema {done}, newer than this fim "
                    f"understands ({len(migrations)}); upgrade fim"
                )
            for number in range(done, len(migrations)):
                for statement in _statements(migrations[number]):
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?) ON CONFLICT(component) DO UPDATE "
                "SET version=excluded.version",
                (name, len(migrations)),
            )
        conn.execute(f"PRAGMA user_version = {SCHEMA_GENERATION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _applied(conn: sqlite3.Connection) -> dict[str, int]:
    try:
        return dict(conn.execute("SELECT component, version FROM schema_migrations").fetchall())
    except sqlite3.OperationalError:  # no table yet: a new database
        return {}


def _statements(script: str) -> list[str]:
    code = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [s.strip() for s in code.split(";") if s.strip()]
