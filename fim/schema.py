"""The database schema: per component, an ordered list of migrations.

Each component (the core baseline, alerts, quarantine...) owns its tables and its migration
list; the ``schema_migrations`` table records how far each has been applied. Append a
migration for every change; never edit one that has shipped.
"""

from __future__ import annotations

from fim.alerts.schema import ALERT_MIGRATIONS
from fim.quarantine import QUARANTINE_MIGRATIONS

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
)

# component name -> its migrations. Other modules add their own tuple here.
COMPONENTS: dict[str, tuple[str, ...]] = {
    "core": CORE,
    "alerts": ALERT_MIGRATIONS,
    "quarantine": QUARANTINE_MIGRATIONS,
}

# Bumped only if the way migrations are tracked changes (PRAGMA user_version holds it).
SCHEMA_GENERATION = 1
