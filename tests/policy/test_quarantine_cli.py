"""Specification: with quarantine on, `fim scan` moves forbidden uploads out of customers' reach,
`fim quarantine list` shows them, and `fim quarantine restore` puts each back byte for byte with
its owner, group, mode and timestamps — whatever its name."""

from __future__ import annotations

import base64
import os
import sqlite3
import stat

import pytest

from tests.policy.hosting import build_site, scan_args, write_config

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="changes owners: needs root")

OWNER, GROUP = 4321, 4322
MTIME_NS = 1_600_000_000_123_456_789


@pytest.fixture
def site(tmp_path):
    site = build_site(tmp_path / "home", "dave")
    for path in site.forbidden.values():
        os.chown(path, OWNER, GROUP)
        os.chmod(path, 0o640)
        os.utime(path, ns=(MTIME_NS + 5_000_000_000, MTIME_NS))
    return site


@pytest.fixture
def qdir(tmp_path):
    return tmp_path / "state" / "quarantine"


@pytest.fixture
def quarantined(fim, site, tmp_path, qdir, marker_rules):
    """Originals (path -> bytes, stat) before the scan, and the scan's result."""
    before = {p: (read(p), os.stat(p)) for p in site.forbidden.values()}
    config = write_config(tmp_path, quarantine=qdir)
    r = fim(*scan_args(config, tmp_path / "fim.db", marker_rules, tmp_path / "home"))
    assert r.code == 1, r.err
    return before, config, r


def read(path: bytes) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def listing(fim, config, db):
    r = fim("quarantine", "list", "--config", config, "--db", db, "--format", "json")
    assert r.code == 0, r.err
    return r.json["quarantine"]


def raw_path(entry: dict) -> bytes:
    return base64.b64decode(entry["path_b64"]) if "path_b64" in entry else entry["path"].encode()


def test_forbidden_uploads_are_gone_from_the_tree_and_legit_files_stay(quarantined, site):
    for path in site.forbidden.values():
        assert not os.path.lexists(path)
    for path in site.legit.values():
        assert os.path.exists(path)


def test_the_scan_says_what_it_quarantined(quarantined):
    _, _, r = quarantined
    assert r.err.count(b"fim: quarantined ") == 6


def test_quarantined_files_are_listed_with_their_exact_paths(fim, quarantined, site, tmp_path):
    _, config, _ = quarantined
    entries = listing(fim, config, tmp_path / "fim.db")
    assert {raw_path(e) for e in entries} == set(site.forbidden.values())
    assert all(e["status"] == "quarantined" and e["tenant"] == "dave" for e in entries)
    [shell] = [e for e in entries if raw_path(e).endswith(b"/shell.php")]
    assert shell["uid"] == OWNER and shell["gid"] == GROUP and shell["mode"] == "0640"
    assert shell["mtime_ns"] == MTIME_NS
    assert "policy.script" in shell["reason"]


def test_quarantine_is_root_only_and_nothing_in_it_is_readable_or_executable(quarantined, qdir):
    st = os.stat(qdir)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == 0
    stored = list(qdir.iterdir())
    assert len(stored) == 6
    for f in stored:
        fst = os.stat(f)
        assert stat.S_IMODE(fst.st_mode) == 0o400 and fst.st_uid == 0 and fst.st_gid == 0


def test_the_quarantine_is_an_alert(quarantined, tmp_path):
    conn = sqlite3.connect(tmp_path / "fim.db")
    rows = conn.execute("SELECT description, tenant FROM findings WHERE rule = 'fim_quarantined'").fetchall()
    assert len(rows) == 6
    assert all("fim quarantine restore" in d and t == "dave" for d, t in rows)


def test_restore_puts_every_file_back_byte_for_byte_with_its_metadata(fim, quarantined, tmp_path):
    before, config, _ = quarantined
    db = tmp_path / "fim.db"
    entries = listing(fim, config, db)
    for entry in entries:
        r = fim("quarantine", "restore", str(entry["id"]), "--config", config, "--db", db)
        assert r.code == 0, r.err
        path = raw_path(entry)
        data, old = before[path]
        now = os.stat(path)  # before reading it, which would touch its atime
        assert (now.st_uid, now.st_gid, now.st_mode) == (old.st_uid, old.st_gid, old.st_mode)
        assert now.st_mtime_ns == old.st_mtime_ns
        assert now.st_atime_ns == entry["atime_ns"]  # as found when quarantined
        assert read(path) == data
    assert listing(fim, config, db) == []
    assert list((tmp_path / "state" / "quarantine").iterdir()) == []


def test_a_restored_file_is_not_quarantined_again(fim, quarantined, site, tmp_path, marker_rules):
    _, config, _ = quarantined
    db = tmp_path / "fim.db"
    [shell] = [e for e in listing(fim, config, db) if raw_path(e).endswith(b"/shell.php")]
    fim("quarantine", "restore", str(shell["id"]), "--config", config, "--db", db)
    r = fim(*scan_args(config, db, marker_rules, tmp_path / "home"))
    assert r.code == 1  # still reported...
    assert os.path.exists(site.forbidden["shell.php"])  # ...but the operator's decision stands


def test_restore_never_overwrites_a_file_that_exists_now(fim, quarantined, site, tmp_path):
    _, config, _ = quarantined
    db = tmp_path / "fim.db"
    [shell] = [e for e in listing(fim, config, db) if raw_path(e).endswith(b"/shell.php")]
    path = site.forbidden["shell.php"]
    with open(path, "wb") as fh:
        fh.write(b"the customer's new file")
    r = fim("quarantine", "restore", str(shell["id"]), "--config", config, "--db", db)
    assert r.code == 2 and b"exists now" in r.err
    assert read(path) == b"the customer's new file"
    assert len(listing(fim, config, db)) == 6  # still in quarantine


def test_restore_of_an_unknown_id_is_an_error(fim, quarantined, tmp_path):
    _, config, _ = quarantined
    r = fim("quarantine", "restore", "999", "--config", config, "--db", tmp_path / "fim.db")
    assert r.code == 2 and b"no quarantine record #999" in r.err


def test_purge_deletes_old_quarantined_files_for_good(fim, quarantined, tmp_path, qdir):
    _, config, _ = quarantined
    db = tmp_path / "fim.db"
    r = fim("quarantine", "purge", "--older-than", "1", "--config", config, "--db", db)
    assert r.code == 0 and "purged 0 record(s)" in r.text  # all are younger than a day
    r = fim("quarantine", "purge", "--older-than", "0", "--config", config, "--db", db)
    assert r.code == 0 and "purged 6 record(s), 6 file(s)" in r.text
    assert list(qdir.iterdir()) == [] and listing(fim, config, db) == []


def test_quarantine_across_file_systems_copies_syncs_and_removes(fim, site, tmp_path, marker_rules):
    shm = "/dev/shm"
    if not os.path.isdir(shm) or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("needs a second file system")
    qdir = os.path.join(shm, f"fim-test-quarantine-{os.getpid()}-{tmp_path.name}")
    try:
        config = write_config(tmp_path, quarantine=qdir)
        db = tmp_path / "fim.db"
        data = read(site.forbidden["non-utf8"])
        fim(*scan_args(config, db, marker_rules, tmp_path / "home"))
        assert not os.path.lexists(site.forbidden["non-utf8"])
        entries = listing(fim, config, db)
        assert {e["method"] for e in entries} == {"copy"}
        [entry] = [e for e in entries if raw_path(e) == site.forbidden["non-utf8"]]
        r = fim("quarantine", "restore", str(entry["id"]), "--config", config, "--db", db)
        assert r.code == 0, r.err
        assert read(site.forbidden["non-utf8"]) == data
        assert os.stat(site.forbidden["non-utf8"]).st_uid == OWNER
    finally:
        import shutil

        shutil.rmtree(qdir, ignore_errors=True)


def test_quarantine_needs_a_database(fim, site, tmp_path, marker_rules):
    config = write_config(tmp_path, quarantine=tmp_path / "q")
    r = fim("scan", "--config", config, "--no-db", "--no-bundled-rules", "--rules", marker_rules, tmp_path)
    assert r.code == 2 and b"quarantine.enabled needs a database" in r.err
    assert all(os.path.exists(p) for p in site.forbidden.values())


def test_rule_findings_are_quarantined_from_the_configured_severity(fim, tmp_path, marker_rules):
    (tmp_path / "site").mkdir()
    (tmp_path / "site/critical.txt").write_bytes(b"FIM_TEST_MARKER_EVAL")
    (tmp_path / "site/low.txt").write_bytes(b"FIM_TEST_MARKER_LOW")
    config = write_config(tmp_path, quarantine=tmp_path / "q", extra='min_severity = "high"\n')
    fim(*scan_args(config, tmp_path / "fim.db", marker_rules, tmp_path / "site"))
    assert not (tmp_path / "site/critical.txt").exists()
    assert (tmp_path / "site/low.txt").exists()


def test_a_file_named_on_the_command_line_is_quarantined_from_its_own_folder(fim, tmp_path, marker_rules):
    (tmp_path / "site").mkdir()
    (tmp_path / "site/critical.txt").write_bytes(b"FIM_TEST_MARKER_EVAL")
    (tmp_path / "site/other.txt").write_bytes(b"FIM_TEST_MARKER_EVAL")
    config = write_config(tmp_path, quarantine=tmp_path / "q", extra='min_severity = "high"\n')
    fim(*scan_args(config, tmp_path / "fim.db", marker_rules, tmp_path / "site/critical.txt"))
    assert not (tmp_path / "site/critical.txt").exists()
    assert (tmp_path / "site/other.txt").exists()  # its folder was not scanned, so not touched
