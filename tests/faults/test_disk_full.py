"""The file system holding the database fills up: the daemon keeps running, says so, and once
space returns every file written during the outage has its verdict and every webshell its
finding, in a database that is still sound."""

from __future__ import annotations

from tests.daemon.conftest import SHELL
from tests.faults.fault_support import fill, log_events, wait_for


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
    wait_for(lambda: len(_disk_full_errors(d.log)) >= 5, "'database or disk is full' errors",
             timeout=60, detail=d.log_tail)  # fmt: skip
    assert d.proc.poll() is None, d.log_tail()  # still running while full

    filler.unlink()  # space returns
    verdicts = d.wait_verdicts(set(written), timeout=60)
    assert {p: verdicts[p] for p in written if verdicts[p] not in ("clean", "finding")} == {}
    assert [p for p in shells if verdicts[p] != "finding"] == []
    wait_for(
        lambda: set(shells) <= {p for p, _r, _c in d.findings()},
        "a finding for every webshell written while the disk was full",
        timeout=30,
        detail=lambda: (
            f"verdict 'finding' but no finding: {sorted(set(shells) - {p for p, _r, _c in d.findings()})}\n"
            f"{d.log_tail()}"
        ),
    )
    after = up / "after.php"  # and it goes on watching in real time
    after.write_bytes(SHELL)
    d.wait_finding(after)
    assert d.query("PRAGMA integrity_check") == [("ok",)]
    assert d.stop() == 0
