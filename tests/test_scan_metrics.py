"""``fim scan --metrics-file``: node_exporter's textfile format, replaced atomically."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_REQUEST['c']); ?>"
LOW = b"<?php // FIM_TEST_MARKER_LOW\n"


def read_metrics(path: Path) -> dict[tuple[str, frozenset], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
    }


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "home/alice/public_html"
    (root / "uploads").mkdir(parents=True)
    (root / "index.php").write_bytes(b"<?php echo 'hi';\n")
    (root / "uploads/shell.php").write_bytes(SHELL)
    (root / "uploads/note.php").write_bytes(LOW)
    return root


def scan(fim, site: Path, marker_rules: Path, db: Path, out: Path, *extra: str):
    return fim("scan", site, "--db", db, "--no-bundled-rules", "--rules", marker_rules, "-q",
               "--metrics-file", out, *extra)  # fmt: skip


def test_scan_metrics_file_holds_what_the_scan_did(fim, site, marker_rules, tmp_path):
    out_dir = tmp_path / "textfile"
    out_dir.mkdir()
    out, db = out_dir / "fim.prom", tmp_path / "fim.db"
    assert scan(fim, site, marker_rules, db, out).code == 1
    m = read_metrics(out)
    assert m[("fim_scan_success", frozenset())] == 1
    assert m[("fim_scan_files_seen", frozenset())] == 3
    assert m[("fim_scan_files_scanned", frozenset())] == 3
    assert m[("fim_scan_files_new", frozenset())] == 3
    assert m[("fim_scan_files_skipped_unchanged", frozenset())] == 0
    sev = {"critical": 1.0, "low": 1.0}
    assert {dict(k)["severity"]: v for (n, k), v in m.items() if n == "fim_scan_findings"} == sev
    assert {dict(k)["family"] for (n, k), _v in m.items() if n == "fim_scan_findings"} == {"test"}
    conn = sqlite3.connect(db)
    (ruleset,) = conn.execute("SELECT DISTINCT ruleset FROM scans").fetchone()
    stored = dict(conn.execute("SELECT severity, COUNT(*) FROM findings GROUP BY severity").fetchall())
    conn.close()
    assert m[("fim_rules_info", frozenset({("version", ruleset)}))] == 1
    assert stored == {"critical": 1, "low": 1}
    assert sorted(os.listdir(out_dir)) == ["fim.prom"]  # no temporary file left behind
    assert out.stat().st_mode & 0o777 == 0o644  # node_exporter runs as another user

    # The second scan skips all three, reads none, and still reports the known findings.
    first_inode = out.stat().st_ino
    assert scan(fim, site, marker_rules, db, out).code == 1
    m = read_metrics(out)
    assert m[("fim_scan_files_skipped_unchanged", frozenset())] == 3
    assert m[("fim_scan_files_scanned", frozenset())] == 0
    assert {dict(k)["severity"]: v for (n, k), v in m.items() if n == "fim_scan_findings"} == sev
    assert out.stat().st_ino != first_inode  # a new file renamed over the old, never rewritten in place
    assert sorted(os.listdir(out_dir)) == ["fim.prom"]


def test_scan_metrics_file_replaces_a_planted_symlink_instead_of_writing_through_it(
    fim, site, marker_rules, tmp_path
):
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    out = tmp_path / "fim.prom"
    out.symlink_to(victim)
    assert scan(fim, site, marker_rules, tmp_path / "fim.db", out).code == 1
    assert victim.read_text() == "keep me\n"
    assert not out.is_symlink()
    assert read_metrics(out)[("fim_scan_success", frozenset())] == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [("fim.txt", "must end in .prom"), ("missing/fim.prom", "no such directory")],
)
def test_unusable_metrics_file_is_refused_before_scanning(fim, site, marker_rules, tmp_path, name, message):
    result = scan(fim, site, marker_rules, tmp_path / "fim.db", tmp_path / name)
    assert result.code == 2
    assert message in result.err.decode()
    assert not (tmp_path / "fim.db").exists()  # refused before anything was scanned or stored


def test_scan_that_fails_replaces_the_last_good_metrics_with_success_zero(fim, site, marker_rules, tmp_path):
    db, out = tmp_path / "fim.db", tmp_path / "fim.prom"
    assert scan(fim, site, marker_rules, db, out).code == 1
    assert read_metrics(out)[("fim_scan_success", frozenset())] == 1
    config = tmp_path / "fim.toml"
    config.write_text("[database]\nbusy_timeout = 0.2\n")
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database: the scan cannot record
    try:
        result = scan(fim, site, marker_rules, db, out, "--config", config)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.code == 2, result.err
    m = read_metrics(out)
    assert m[("fim_scan_success", frozenset())] == 0
    assert ("fim_scan_files_seen", frozenset()) not in m  # no figures from a scan that did not finish
