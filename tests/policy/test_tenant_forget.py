"""Specification: `fim tenant forget NAME` removes everything fim holds about one customer —
baseline rows, findings, alert deliveries, quarantine records and files, its paths in scan
records — reports what it removed, and leaves every other customer's data alone."""

from __future__ import annotations

import os
import sqlite3

import pytest

from tests.policy.hosting import build_site, every_value, scan_args, write_config

LEAVING, STAYING = "carol", "dave"


def mentions(value: object, tenant: str) -> bool:
    if isinstance(value, str):
        value = value.encode()
    return isinstance(value, bytes) and (value == tenant.encode() or f"/{tenant}/".encode() in value)


@pytest.fixture
def hosting(fim, tmp_path, marker_rules):
    """Two customers, both scanned (once from /home, once from the leaving one's own folder),
    quarantine on, and an alert-delivery table that references findings like the real one."""
    sites = {t: build_site(tmp_path / "home", t) for t in (LEAVING, STAYING)}
    config = write_config(tmp_path, quarantine=tmp_path / "quarantine")
    db = tmp_path / "fim.db"
    r = fim(*scan_args(config, db, marker_rules, tmp_path / "home"))
    assert r.code == 1, r.err
    (sites[LEAVING].root / "late.php.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    fim(*scan_args(config, db, marker_rules, tmp_path / "home" / LEAVING))
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "CREATE TABLE test_deliveries (id INTEGER PRIMARY KEY, "
            "finding_id INTEGER REFERENCES findings(id) ON DELETE CASCADE, sink TEXT)"
        )
        conn.execute("INSERT INTO test_deliveries (finding_id, sink) SELECT id, 'chat' FROM findings")
    conn.close()
    return sites, config, db


def test_before_forgetting_the_database_knows_the_customer(hosting):
    _, _, db = hosting
    assert any(mentions(v, LEAVING) for _, _, v in every_value(db))


def test_after_forgetting_no_table_mentions_the_customer(fim, hosting):
    _, config, db = hosting
    r = fim("tenant", "forget", LEAVING, "--config", config, "--db", db)
    assert r.code == 0, r.err
    left = [(t, c) for t, c, v in every_value(db) if mentions(v, LEAVING)]
    assert left == []
    # the deliveries of its findings went with them
    conn = sqlite3.connect(db)
    assert (
        conn.execute("SELECT count(*) FROM test_deliveries").fetchone()[0]
        == conn.execute("SELECT count(*) FROM findings").fetchone()[0]
    )


def test_forget_deletes_the_customers_quarantined_files_and_keeps_the_others(fim, hosting, tmp_path):
    _, config, db = hosting
    assert len(os.listdir(tmp_path / "quarantine")) == 12  # 6 forbidden files per customer
    r = fim("tenant", "forget", LEAVING, "--config", config, "--db", db, "--format", "json")
    assert r.json["quarantine_files"] == 6
    assert len(os.listdir(tmp_path / "quarantine")) == 6
    r = fim("quarantine", "list", "--config", config, "--db", db, "--format", "json")
    assert {e["tenant"] for e in r.json["quarantine"]} == {STAYING}


def test_forget_reports_what_it_removed(fim, hosting):
    _, config, db = hosting
    r = fim("tenant", "forget", LEAVING, "--config", config, "--db", db, "--format", "json")
    report = r.json
    assert report["removed"]["files"] >= 5 and report["removed"]["findings"] >= 10
    assert report["removed"]["quarantine"] == 6
    assert report["removed"]["test_deliveries"] == report["removed"]["findings"]
    assert report["scans_redacted"] == 1  # the scan rooted in its own folder
    assert report["remaining"] == {} and report["errors"] == []
    text = fim("tenant", "forget", LEAVING, "--config", config, "--db", db)
    assert text.code == 0 and f"tenant {LEAVING}: removed nothing" in text.text


def test_the_other_customer_is_untouched(fim, hosting):
    _, config, db = hosting
    before = [(t, c, v) for t, c, v in every_value(db) if mentions(v, STAYING)]
    fim("tenant", "forget", LEAVING, "--config", config, "--db", db)
    after = [(t, c, v) for t, c, v in every_value(db) if mentions(v, STAYING)]
    assert sorted(map(repr, after)) == sorted(map(repr, before))


def test_a_dry_run_removes_nothing(fim, hosting, tmp_path):
    _, config, db = hosting
    before = every_value(db)
    r = fim("tenant", "forget", LEAVING, "--config", config, "--db", db, "--dry-run", "--format", "json")
    assert r.code == 0 and r.json["removed"]["quarantine"] == 6 and r.json["quarantine_files"] == 6
    assert every_value(db) == before
    assert len(os.listdir(tmp_path / "quarantine")) == 12
