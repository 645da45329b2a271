"""Specification: a customer cannot turn quarantine against fim itself or against another user.

Attacks run for real through ``fim scan`` with quarantine on: the customer is a real uid
(``setpriv``); fim runs as root.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_support import ALICE, BOB, as_user, customer_reachable_dir

from tests.daemon.conftest import daemon, hosting  # noqa: F401 - the daemon-spawning fixtures

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as customer uids with setpriv")

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_REQUEST['c']); ?>\n"


@pytest.fixture
def base() -> Iterator[Path]:
    with customer_reachable_dir("fim-quarantine-") as path:
        yield path


def scan(config: Path, db: Path, *roots: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fim", "scan", "--config", str(config), "--db", str(db), "--format", "json",
         *map(str, roots)],
        capture_output=True, timeout=120,
    )  # fmt: skip


def config_file(base: Path, marker_rules: Path) -> Path:
    path = base / "fim.toml"
    path.write_text(
        f'[rules]\nbundled = false\npaths = ["{marker_rules}"]\n'
        f'[quarantine]\nenabled = true\ndirectory = "{base}/quarantine"\n'
    )
    return path


def findings(db: Path, rule: str) -> list[tuple[bytes, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT path, description FROM findings WHERE rule = ?", (rule,)).fetchall()
    finally:
        conn.close()


def test_a_file_name_that_makes_the_database_match_a_rule_does_not_get_fims_database_quarantined(
    base, marker_rules
):
    # The administrator keeps the database inside a scanned tree; a customer names a file so that
    # the database (which records names) matches a critical rule.
    site = base / "srv"
    (site / "alice").mkdir(parents=True)
    (site / "fim").mkdir()
    os.chown(site / "alice", ALICE, ALICE)
    as_user(ALICE, "touch", site / "alice/FIM_TEST_MARKER_EVAL.txt")
    db = site / "fim/fim.db"
    config = config_file(base, marker_rules)
    first = scan(config, db, site)
    assert first.returncode in (0, 1), first.stderr
    second = scan(config, db, site)
    assert second.returncode in (0, 1), second.stderr
    assert db.exists() and db.stat().st_size > 0
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        moved = [p for (p,) in conn.execute("SELECT path FROM quarantine")]
    finally:
        conn.close()
    assert not [p for p in moved if p.startswith(bytes(site / "fim"))]
    assert not (base / "quarantine").exists() or os.listdir(base / "quarantine") == []


def test_a_hard_link_to_another_users_file_is_reported_not_quarantined(base, marker_rules):
    if Path("/proc/sys/fs/protected_hardlinks").read_text().strip() not in ("0", "1"):
        pytest.skip("unknown fs.protected_hardlinks setting")
    alice = base / "home/alice/public_html"
    bob = base / "home/bob"
    alice.mkdir(parents=True)
    bob.mkdir(parents=True)
    for path, uid in ((base / "home/alice", ALICE), (alice, ALICE), (bob, BOB)):
        os.chown(path, uid, uid)
    os.chmod(base / "home", 0o755)
    theirs = bob / "notes.php"
    theirs.write_bytes(SHELL)
    os.chown(theirs, BOB, BOB)
    os.chmod(theirs, 0o666)  # a careless mode is enough for the kernel to allow the link
    as_user(ALICE, "ln", theirs, alice / "notes.php")
    config = config_file(base, marker_rules)
    db = base / "state/fim.db"
    r = scan(config, db, alice)
    assert r.returncode == 1, r.stderr
    st = os.stat(theirs)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (BOB, BOB, 0o666)
    assert (alice / "notes.php").exists() and theirs.read_bytes() == SHELL
    failed = findings(db, "fim_quarantine_failed")
    assert [p for p, _d in failed] == [bytes(alice / "notes.php")]
    assert "hard links" in failed[0][1] and "left in place" in failed[0][1]


def test_a_deep_new_tree_gives_one_finding_per_rule_and_a_true_account_of_the_quarantine(daemon, hosting):  # noqa: F811
    d = daemon(extra_config=f'[quarantine]\nenabled = true\ndirectory = "{hosting}/state/quarantine"\n')
    d.start()
    try:
        deep = hosting / "home/alice/public_html/uploads" / "/".join(f"d{i}" for i in range(40))
        os.makedirs(deep)  # one creation event per level: each one walks the tree below it
        shell = deep / "x.php"
        shell.write_bytes(SHELL)
        d.wait_finding(shell)
        conn = sqlite3.connect(d.db, timeout=10)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if conn.execute("SELECT count(*) FROM quarantine WHERE status='quarantined'").fetchone()[0]:
                    break
                time.sleep(0.1)
            time.sleep(1.0)  # let every overlapping walk finish
            rules = conn.execute(
                "SELECT rule, description FROM findings WHERE path = ?", (bytes(shell),)
            ).fetchall()
        finally:
            conn.close()
    finally:
        assert d.stop() == 0
    names = sorted(rule for rule, _ in rules)
    assert names == ["fim_quarantined", "test_marker_eval"], rules
    (text,) = [t for r, t in rules if r == "fim_quarantined"]
    assert "moved to quarantine as #1" in text
    assert not shell.exists()
