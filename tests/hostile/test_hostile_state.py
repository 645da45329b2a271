"""Specification: fim's own state (database, WAL/SHM, status file, rule cache, quarantine) is
private to fim whatever the umask, and an emptied database is refused rather than silently
taken for a new one."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from tests.daemon.conftest import daemon, hosting  # noqa: F401 - the daemon-spawning fixtures

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_REQUEST['c']); ?>\n"


def mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_a_daemon_started_with_umask_0_keeps_every_state_file_and_directory_private(daemon, hosting):  # noqa: F811
    state = hosting / "state"
    d = daemon(extra_config=f'[quarantine]\nenabled = true\ndirectory = "{state}/q/quarantine"\n')
    old = os.umask(0)  # the child inherits it: a manual start from a careless shell
    try:
        d.start()
    finally:
        os.umask(old)
    try:
        shell = hosting / "home/alice/public_html/uploads/x.php"
        shell.write_bytes(SHELL)
        d.wait_finding(shell)  # the status file was written when the watches went in
        wal = [p.name for p in state.iterdir() if p.name.endswith(("-wal", "-shm"))]
        for name in wal:  # SQLite's own files, while they exist
            assert mode(state / name) & 0o077 == 0, name
    finally:
        assert d.stop() == 0
    dirs = [state, state / "cache", state / "q", state / "q/quarantine"]
    files = [p for p in state.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"fim.db", "status.json"}
    for directory in dirs:
        assert mode(directory) == 0o700, directory
    for file in [*files, *(state / "cache").iterdir()]:
        assert mode(file) & 0o077 == 0, file


def test_an_emptied_database_is_refused_with_its_path(tmp_path, marker_rules):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.php").write_bytes(b"<?php echo 1;")
    db = tmp_path / "fim.db"

    def scan() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "fim", "scan", "--db", str(db), "--no-bundled-rules", "--rules",
             str(marker_rules), str(site)],
            capture_output=True, timeout=120,
        )  # fmt: skip

    assert scan().returncode == 0
    os.truncate(db, 0)  # an accident, a full disk's aftermath, or someone hiding their tracks
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"fim.db{suffix}").unlink(missing_ok=True)
    r = scan()
    assert r.returncode == 2
    assert str(db).encode() in r.stderr and b"0 bytes" in r.stderr
    assert db.stat().st_size == 0  # left for the operator to look at
