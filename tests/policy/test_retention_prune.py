"""Specification: fim keeps findings, scan records, rows of vanished files and quarantined files
no longer than [retention] says; `fim db prune` and `fim.respond.retention.prune` apply it."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

import fim
from fim.config import loader as config_mod
from fim.respond import retention
from fim.respond.retention import RetentionConfig
from fim.store.database import Store
from tests.policy.hosting import build_site

DAY = 86_400


@pytest.fixture
def scanned(tmp_path, marker_rules):
    """A site scanned with policy and quarantine on; a deliveries table cascading from findings."""
    site = build_site(tmp_path / "home", "dave")
    cfg = config_mod.from_dict(
        {
            "tenants": {"patterns": [f"{tmp_path}/home/{{tenant}}/"]},
            "policy": {"enabled": True},
            "quarantine": {"enabled": True, "directory": str(tmp_path / "q")},
        }
    )
    store = Store.open(tmp_path / "fim.db")
    fim.scan([tmp_path / "home"], config=cfg, store=store, extra_rules=[str(marker_rules)], use_bundled=False)
    store.flush()
    with store.conn:
        store.conn.execute(
            "CREATE TABLE test_deliveries (id INTEGER PRIMARY KEY, "
            "finding_id INTEGER REFERENCES findings(id) ON DELETE CASCADE)"
        )
        store.conn.execute("INSERT INTO test_deliveries (finding_id) SELECT id FROM findings")
    yield site, store, cfg
    store.close()


def count(store: Store, table: str) -> int:
    return store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_nothing_young_is_pruned(scanned):
    _, store, _ = scanned
    result = retention.prune(store, RetentionConfig())
    assert result.counts() == dict.fromkeys(
        ("findings", "scans", "files", "quarantine", "quarantine_files"), 0
    )
    assert result.errors == []


def test_findings_older_than_their_age_go_with_their_alert_deliveries(scanned):
    _, store, _ = scanned
    assert count(store, "findings") > 0 and count(store, "test_deliveries") > 0
    result = retention.prune(store, RetentionConfig(findings_days=365), now=time.time() + 366 * DAY)
    assert result.findings > 0
    assert count(store, "findings") == 0 and count(store, "test_deliveries") == 0


def test_zero_days_keeps_forever(scanned):
    _, store, _ = scanned
    zero = RetentionConfig(findings_days=0, scans_days=0, missing_files_days=0, quarantine_days=0)
    retention.prune(store, zero, now=time.time() + 10_000 * DAY)
    assert count(store, "findings") > 0 and count(store, "quarantine") == 6


def test_quarantined_files_older_than_their_age_are_deleted(scanned, tmp_path):
    _, store, _ = scanned
    assert len(list((tmp_path / "q").iterdir())) == 6
    result = retention.prune(store, RetentionConfig(quarantine_days=90), now=time.time() + 91 * DAY)
    assert result.quarantine == 6 and result.quarantine_files == 6
    assert list((tmp_path / "q").iterdir()) == [] and count(store, "quarantine") == 0


def test_rows_of_vanished_files_go_once_unseen_for_long_but_present_files_stay(scanned):
    site, store, _ = scanned
    gone = site.legit["logo.png"]
    os.unlink(gone)  # removed behind fim's back, never swept by a later scan
    result = retention.prune(store, RetentionConfig(missing_files_days=30), now=time.time() + 31 * DAY)
    assert result.files == 1 + len(site.forbidden)  # the quarantined ones are gone from disk too
    paths = {r[0] for r in store.conn.execute("SELECT path FROM files")}
    assert paths == set(site.legit.values()) - {gone}


def test_old_scan_records_go_unless_they_still_date_a_file(scanned, tmp_path, marker_rules):
    _, store, cfg = scanned
    (tmp_path / "other").mkdir()
    fim.scan(
        [tmp_path / "other"], config=cfg, store=store, extra_rules=[str(marker_rules)], use_bundled=False
    )
    assert count(store, "scans") == 2
    result = retention.prune(store, RetentionConfig(scans_days=90), now=time.time() + 91 * DAY)
    assert result.scans == 1  # the empty folder's scan; the first one is the files' last sighting
    assert count(store, "scans") == 1


def test_db_prune_command_applies_the_configured_ages(fim, tmp_path, scanned):
    _, store, _ = scanned
    store.close()
    conf = tmp_path / "prune.toml"
    conf.write_text(f'[database]\npath = "{tmp_path / "fim.db"}"\n')
    r = fim("db", "prune", "--config", conf, "--format", "json")
    assert r.code == 0, r.err
    assert r.json["findings"] == 0 and r.json["errors"] == []
    assert sqlite3.connect(tmp_path / "fim.db").execute("SELECT count(*) FROM findings").fetchone()[0] > 0
