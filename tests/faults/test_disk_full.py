"""The file system holding the database fills up: the daemon keeps running, says so, and once
space returns every file written during the outage has its verdict and every webshell its
finding, in a database that is still sound."""

from __future__ import annotations

import os
from pathlib import Path

from tests.daemon.conftest import SHELL
from tests.faults.fault_support import fill, jsonl_paths, log_events, wait_for


def _disk_full_errors(log) -> list[dict]:
    return [
        e
        for e in log_events(log)
        if e.get("event") == "database write failed; will retry" and "full" in e.get("error", "")
    ]


def test_state_directory_full_loses_nothing_once_space_returns(tmpfs_daemon, hosting):
    d = tmpfs_daemon(size="4m").start()
    up = hosting / "home/alice/public_html/uploads"
    before = up / "before.php"
    before.write_bytes(SHELL)
    d.wait_finding(before)  # the daemon works, and its database is on the tmpfs

    filler = d.inside(d.state / "filler")
    assert fill(filler) > 0
    written: list[bytes] = []
    shells: list[bytes] = []
    for i in range(200):
        shell = i % 25 == 0
        p = up / f"during{i:03d}.{'php' if shell else 'txt'}"
        p.write_bytes(SHELL if shell else b"plain text %d\n" % i * 40)
        written.append(bytes(p))
        if shell:
            shells.append(bytes(p))
    # The outage is real: writes fail for several retries in a row (not one lucky commit).
    wait_for(lambda: len(_disk_full_errors(d.log)) >= 3, "'database or disk is full' errors",
             timeout=60, detail=d.log_tail)  # fmt: skip
    assert d.proc.poll() is None, d.log_tail()  # still running while full

    filler.unlink()  # space returns

    def outcome() -> tuple[list[bytes], list[bytes], list[bytes]]:
        verdicts = d.verdicts()
        found = {p for p, _r, _c in d.findings()}
        no_verdict = [p for p in written if verdicts.get(p) not in ("clean", "finding")]
        not_flagged = [p for p in shells if p in verdicts and verdicts[p] != "finding"]
        no_finding = [p for p in shells if p not in found]
        return no_verdict, not_flagged, no_finding

    try:
        wait_for(lambda: outcome() == ([], [], []), "every verdict and finding", timeout=20, step=0.5)
    except AssertionError:
        no_verdict, not_flagged, no_finding = outcome()
        raise AssertionError(
            f"after the outage: {len(no_verdict)} of {len(written)} files without a verdict "
            f"{[os.path.basename(p) for p in no_verdict]}; {len(not_flagged)} of {len(shells)} webshells "
            f"not flagged; {len(no_finding)} of {len(shells)} webshells without a finding "
            f"{[os.path.basename(p) for p in no_finding]}\n{d.log_tail()}"
        ) from None
    after = up / "after.php"  # and it goes on watching in real time
    after.write_bytes(SHELL)
    d.wait_finding(after)
    assert d.query("PRAGMA integrity_check") == [("ok",)]
    assert d.stop() == 0


# -- issue 12, defect 5: a full state disk must not stop the daemon ------------------------------

QUARANTINE_AND_SINK = (
    '[quarantine]\nenabled = true\ndirectory = "{state}/quarantine"\n'
    "[alerts]\nretry_initial = 0.2\nretry_max = 1.0\n"
    '[[alerts.sinks]]\nname = "siem"\ntype = "jsonl"\npath = "{sink}"\n'
)


def _quarantine_daemon(tmpfs_daemon, hosting, size: str = "4m"):
    sink = hosting / "alerts.jsonl"  # outside the state file system: delivery needs no space there
    extra = QUARANTINE_AND_SINK.format(state=hosting / "state", sink=sink)
    return tmpfs_daemon(size=size, extra_config=extra), sink


def _degraded_full(d, since: int = 0) -> list[dict]:
    return [
        e
        for e in log_events(d.log)[since:]
        if e.get("event") == "degraded"
        and e.get("cause") == "database"
        and "database full" in e.get("reason", "")
    ]


def test_full_state_disk_with_quarantine_and_alerts_degrades_and_delivers_every_alert_later(
    tmpfs_daemon, hosting
):
    """Webshells arrive while the database's disk is full, with quarantine and an alert sink on
    (their database writes used to raise sqlite3 errors that killed the daemon): the daemon
    stays up, says "degraded: database full" in its log and status, and once space returns
    every webshell has its finding and its alert, and the status is "running" again."""
    d, sink = _quarantine_daemon(tmpfs_daemon, hosting)
    d.start()
    up = hosting / "home/alice/public_html/uploads"
    before = up / "before.php"
    before.write_bytes(SHELL)
    wait_for(lambda: str(before) in jsonl_paths(sink), "the first webshell's alert", detail=d.log_tail)

    filler = d.inside(d.state / "filler")
    assert fill(filler) > 0
    shells = []
    for i in range(8):
        shell = up / f"during{i}.php"
        shell.write_bytes(SHELL + b"// %d\n" % i)
        shells.append(shell)
    wait_for(lambda: _degraded_full(d), "a 'degraded: database full' log line", timeout=60, detail=d.log_tail)
    assert d.proc.poll() is None, d.log_tail()
    status = wait_for(lambda: (s := d.status())["state"] == "degraded" and s, "status.json to say degraded")
    assert "database full" in status["degraded"]["database"]
    assert d.proc.poll() is None, d.log_tail()

    filler.unlink()  # space returns
    expected = {str(s) for s in shells}
    wait_for(lambda: expected <= set(jsonl_paths(sink)), "an alert for every webshell", timeout=60,
             detail=lambda: f"{sorted(expected - set(jsonl_paths(sink)))}\n{d.log_tail()}")  # fmt: skip
    found = {p for p, _r, _c in d.findings()}
    assert {bytes(s) for s in shells} <= found
    # Quarantine could not record a move while the disk was full: each of these shells is
    # still in place, and its fim_quarantine_failed finding (and alert) says why.
    refused = dict(d.query("SELECT path, description FROM findings WHERE rule = 'fim_quarantine_failed'"))
    moved = {p for (p,) in d.query("SELECT path FROM quarantine WHERE status = 'quarantined'")}
    for shell in shells:
        if bytes(shell) not in moved:
            assert "file system is full" in refused[bytes(shell)] and shell.exists(), refused
    wait_for(lambda: d.status()["state"] == "running", "status.json to say running again", timeout=30)
    assert any(e.get("event") == "recovered" and e.get("cause") == "database" for e in log_events(d.log))
    after = up / "after.php"  # still watching in real time
    after.write_bytes(SHELL)
    wait_for(lambda: str(after) in jsonl_paths(sink), "the alert of a webshell written afterwards")
    assert d.query("PRAGMA integrity_check") == [("ok",)]
    assert d.stop() == 0


def test_daemon_restarted_on_a_full_state_disk_starts_degraded_and_catches_up(tmpfs_daemon, hosting):
    """The database's disk fills while the daemon is stopped (a clean stop removes SQLite's WAL
    index, which must be created again to read the database): it used to fail at every start.
    Now it starts, degraded, and finds what was written meanwhile once space returns."""
    d, sink = _quarantine_daemon(tmpfs_daemon, hosting)
    d.start()
    up = hosting / "home/alice/public_html/uploads"
    first = up / "first.php"
    first.write_bytes(SHELL)
    wait_for(lambda: str(first) in jsonl_paths(sink), "the first webshell's alert", detail=d.log_tail)
    assert d.stop() == 0

    assert fill(d.inside(d.state / "filler")) > 0
    while_down = up / "while-down.php"
    while_down.write_bytes(SHELL + b"// down\n")
    logged = len(log_events(d.log))
    d.start()  # waits for READY=1
    wait_for(lambda: _degraded_full(d, logged), "'degraded: database full' after the restart", timeout=60,
             detail=d.log_tail)  # fmt: skip
    while_up = up / "while-up.php"
    while_up.write_bytes(SHELL + b"// up\n")
    assert d.proc.poll() is None, d.log_tail()

    d.inside(d.state / "filler").unlink()
    expected = {str(while_down), str(while_up)}
    wait_for(lambda: expected <= set(jsonl_paths(sink)), "alerts for both webshells", timeout=60,
             detail=d.log_tail)  # fmt: skip
    wait_for(lambda: d.status()["state"] == "running", "status.json to say running again", timeout=30)
    assert d.query("PRAGMA integrity_check") == [("ok",)]
    assert d.stop() == 0


def test_customer_files_quarantined_onto_the_state_disk_cannot_fill_it(tmpfs_daemon, hosting):
    """The attack: webshells of halving sizes in a customer's upload folder, each copied into
    quarantine on the file system of fim's database (another file system than the customers'),
    until nothing is left for the database. Quarantine now keeps min_free_percent (5%) of that
    file system free: a file that would break the reserve stays in place, and its
    fim_quarantine_failed alert says why; the daemon never runs out of space."""
    # 32 MiB: 5% of it leaves the database room for this test's writes (its WAL grows by pages)
    d, sink = _quarantine_daemon(tmpfs_daemon, hosting, size="32m")
    d.start()
    up = hosting / "home/alice/public_html/uploads"
    shells = []
    for i, kib in enumerate((16384, 8192, 4096, 2048, 1024, 512, 256, 128, 64, 32)):
        shell = up / f"big{i}.php"
        shell.write_bytes(SHELL.ljust(kib << 10, b" "))
        shells.append(shell)
        # one at a time, as an attacker probing the space left would
        wait_for(lambda s=shell: str(s) in jsonl_paths(sink), f"the alert of {shell.name}", timeout=60,
                 detail=d.log_tail)  # fmt: skip

    def notices() -> dict[str, str]:
        rows = d.query("SELECT path, description FROM findings WHERE rule = 'fim_quarantine_failed'")
        return {os.fsdecode(p): text for p, text in rows}

    refused = wait_for(notices, "a fim_quarantine_failed finding", detail=d.log_tail)
    assert all("min_free_percent" in why for why in refused.values()), refused
    for path in refused:  # left in place, untouched
        assert Path(path).read_bytes().startswith(SHELL)
    moved = {os.fsdecode(p) for (p,) in d.query("SELECT path FROM quarantine WHERE status = 'quarantined'")}
    assert moved and moved.isdisjoint(refused)
    assert moved | set(refused) == {str(s) for s in shells}
    vfs = os.statvfs(d.inside(d.state))
    assert vfs.f_bavail * vfs.f_frsize > 0
    events = log_events(d.log)
    assert not [e for e in events if e.get("event") in ("degraded", "database write failed; will retry")]
    assert d.status()["state"] == "running"
    assert d.proc.poll() is None
    assert d.stop() == 0
