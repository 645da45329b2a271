"""Specification: a customer who swaps their own root (``public_html``) for a symlink cannot make
root-run fim watch, read, record or quarantine anything outside the customers' trees.

The attacks run for real: the customer is a real uid (``setpriv``), the daemon a real
subprocess; the "system" directory holds a root-owned secret and a root-owned webshell-like
file, which fim would report and quarantine if it ever looked there.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_support import ALICE, BOB, as_user

from fim.detect.walk import Excludes, Walker
from tests.daemon.conftest import DaemonProc

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as customer uids with setpriv")

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_REQUEST['c']); ?>\n"
SECRET = b"-----BEGIN OPENSSH PRIVATE KEY----- root's key\n"


@pytest.fixture
def server() -> Iterator[Path]:
    """A hosting tree customers can reach (pytest's own temp dirs are private to root):
    ``home/alice`` and ``home/bob`` owned by their uids, and ``opt/app`` owned by root with a
    secret and a shell-like file in it."""
    base = Path(tempfile.mkdtemp(prefix="fim-roots-"))
    try:
        os.chmod(base, 0o755)
        for name, uid in (("alice", ALICE), ("bob", BOB)):
            home = base / "home" / name
            (home / "public_html").mkdir(parents=True)
            (home / "public_html/index.php").write_bytes(b"<?php echo 'hi';")
            for p in (home, home / "public_html", home / "public_html/index.php"):
                os.chown(p, uid, uid)
            os.chmod(home, 0o711)
        os.chmod(base / "home", 0o755)
        app = base / "opt/app"
        app.mkdir(parents=True)
        os.chmod(base / "opt", 0o755)
        (app / "id_rsa").write_bytes(SECRET)
        os.chmod(app / "id_rsa", 0o600)
        (app / "admin.php").write_bytes(SHELL)
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def rows(db: Path, sql: str, *args: object) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def wait_for(check, what: str, timeout: float = 30) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def fim_status(config: Path) -> dict:
    r = subprocess.run(
        [sys.executable, "-m", "fim", "status", "--config", str(config), "--format", "json"],
        capture_output=True,
        timeout=60,
    )
    return json.loads(r.stdout)


def test_public_html_swapped_for_a_symlink_to_a_system_directory_is_never_followed(server):
    app = server / "opt/app"
    qdir = server / "state/quarantine"
    daemon = DaemonProc(
        server,
        [f"{server}/home/*/public_html"],
        extra_config=f'[quarantine]\nenabled = true\ndirectory = "{qdir}"\n',
    )
    daemon.start()
    try:
        alice = server / "home/alice/public_html"
        as_user(ALICE, "mv", alice, server / "home/alice/x")
        as_user(ALICE, "ln", "-s", app, alice)

        # Reported: a health finding on the root, an error in the log, "degraded" in status.
        found = wait_for(
            lambda: rows(
                daemon.db, "SELECT path, severity, family FROM findings WHERE rule='fim_root_symlink'"
            ),
            "a fim_root_symlink finding",
        )
        assert found == [(bytes(alice), "high", "health")]
        status = wait_for(lambda: (s := fim_status(daemon.config))["state"] == "degraded" and s, "degraded")
        assert "public_html" in json.dumps(status["degraded"])
        assert "symlink" in json.dumps(status["degraded"])

        # The daemon goes on working: a shell dropped in bob's tree after the swap is found...
        (server / "home/bob/public_html/up.php").write_bytes(SHELL)
        daemon.wait_finding(server / "home/bob/public_html/up.php")
        # ...and activity in the system directory reaches nothing.
        (app / "admin.php").write_bytes(SHELL)
        (app / "new.php").write_bytes(SHELL)
        (server / "home/bob/public_html/up2.php").write_bytes(SHELL)
        daemon.wait_finding(server / "home/bob/public_html/up2.php")
        time.sleep(1.5)  # three glob refreshes: time for any wrong watch to deliver its events

        recorded = [p for (p,) in rows(daemon.db, "SELECT path FROM files")]
        assert not [p for p in recorded if p.startswith(bytes(app))]
        assert bytes(alice / "admin.php") not in recorded and bytes(alice / "id_rsa") not in recorded
        findings = [p for (p,) in rows(daemon.db, "SELECT path FROM findings")]
        assert not [p for p in findings if p.startswith(bytes(app)) or p.startswith(bytes(alice) + b"/")]
        bob_shell = bytes(server / "home/bob/public_html/up.php")  # quarantine works, in the trees
        assert sorted(rows(daemon.db, "SELECT path FROM quarantine")) == [
            (bob_shell,),
            (bob_shell[:-4] + b"2.php",),
        ]
        assert (app / "id_rsa").read_bytes() == SECRET and (app / "admin.php").read_bytes() == SHELL
        st = os.stat(app / "admin.php")
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (0, 0o644)
        assert "root skipped" in daemon.log.read_text()

        # The customer undoes it: the root is watched again and the daemon recovers.
        as_user(ALICE, "rm", alice)
        as_user(ALICE, "mv", server / "home/alice/x", alice)
        wait_for(lambda: fim_status(daemon.config)["state"] == "running", "recovery")
        (alice / "late.php").write_bytes(SHELL)
        daemon.wait_finding(alice / "late.php")
    finally:
        assert daemon.stop() == 0


def test_scan_config_skips_a_root_behind_a_customer_symlink(server, tmp_path, marker_rules):
    outside = server / "opt/app/wp-content"
    outside.mkdir()
    (outside / "shell.php").write_bytes(SHELL)
    (server / "home/bob/public_html/wp-content").mkdir()
    os.chown(server / "home/bob/public_html/wp-content", BOB, BOB)
    alice = server / "home/alice/public_html"
    as_user(ALICE, "mv", alice, server / "home/alice/x")
    as_user(ALICE, "ln", "-s", server / "opt/app", alice)
    config = tmp_path / "fim.toml"
    config.write_text(
        f'[rules]\nbundled = false\npaths = ["{marker_rules}"]\n'
        f'[daemon]\nroots = ["{server}/home/*/public_html/wp-content"]\n'
    )
    r = subprocess.run(
        [sys.executable, "-m", "fim", "scan", "--config", str(config), "--db", str(tmp_path / "fim.db"),
         "--format", "json"],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["findings"] == []
    assert bytes(server / "opt") not in r.stdout
    assert b"root skipped" in r.stderr and b"uid 2001" in r.stderr


def test_a_root_swapped_after_validation_is_not_walked(server):
    from fim.detect import roots  # new in the fix: imported here so the attacks above run on any version

    alice = server / "home/alice/public_html"
    expansion = roots.expand([f"{server}/home/*/public_html"])
    assert bytes(alice) in expansion.paths
    as_user(ALICE, "mv", alice, server / "home/alice/x")
    as_user(ALICE, "ln", "-s", server / "opt/app", alice)
    problems = []
    walker = Walker(excludes=Excludes(()), one_file_system=True, on_problem=problems.append,
                    root_ids=expansion.identities)  # fmt: skip
    assert list(walker.walk(bytes(alice))) == []
    assert list(walker.walk_beneath(bytes(alice), bytes(alice / "admin.php"))) == []
    assert problems and all(p.path == bytes(alice) for p in problems)


def test_a_root_replaced_by_another_directory_is_not_walked_as_the_validated_one(server):
    from fim.detect import roots  # new in the fix: imported here so the attacks above run on any version

    alice = server / "home/alice/public_html"
    expansion = roots.expand([f"{server}/home/*/public_html"])
    as_user(ALICE, "mv", alice, server / "home/alice/x")
    as_user(ALICE, "mkdir", alice)
    problems = []
    walker = Walker(excludes=Excludes(()), one_file_system=True, on_problem=problems.append,
                    root_ids=expansion.identities)  # fmt: skip
    assert list(walker.walk(bytes(alice))) == []
    assert "replaced" in problems[0].reason
    assert (
        roots.expand([f"{server}/home/*/public_html"]).identities[bytes(alice)]
        != (expansion.identities[bytes(alice)])
    )


def test_symlinked_roots_need_both_the_config_and_root_ownership(server):
    from fim.detect import roots  # new in the fix: imported here so the attacks above run on any version

    real = server / "opt/app"
    (server / "home/carol").mkdir()
    (server / "home/carol/public_html").symlink_to(real)  # placed by root
    (server / "home/dave").mkdir()
    (server / "home/dave/public_html").symlink_to(real)
    os.lchown(server / "home/dave/public_html", BOB, BOB)  # placed by a customer
    pattern = [f"{server}/home/*/public_html"]
    carol, dave = bytes(server / "home/carol/public_html"), bytes(server / "home/dave/public_html")

    plain = roots.expand(pattern)
    assert carol not in plain.paths and dave not in plain.paths
    assert {s.path for s in plain.skipped} == {carol, dave}

    allowed = roots.expand(pattern, symlink_roots=[carol, dave])
    assert carol in allowed.paths
    assert dave not in allowed.paths
    assert "owned by uid 2002" in {s.path: s.reason for s in allowed.skipped}[dave]


def test_a_root_owned_symlink_on_the_way_is_followed_a_customers_is_not(server):
    from fim.detect import roots  # new in the fix: imported here so the attacks above run on any version

    data = server / "data"
    (data / "site/public_html").mkdir(parents=True)
    (server / "srv").symlink_to(data)  # like /home -> /data/home, placed by root
    got = roots.expand([f"{server}/srv/*/public_html"])
    assert got.paths == [bytes(server / "srv/site/public_html")]

    as_user(ALICE, "mkdir", server / "home/alice/public_html/uploads")
    as_user(ALICE, "mv", server / "home/alice/public_html", server / "home/alice/x")
    as_user(ALICE, "ln", "-s", server / "opt", server / "home/alice/public_html")
    (server / "opt/uploads").mkdir()
    got = roots.expand([f"{server}/home/*/public_html/uploads"])
    assert got.paths == []
    assert [s.path for s in got.skipped] == [bytes(server / "home/alice/public_html/uploads")]
