"""The file system holding the database fills up: the daemon keeps running, says so, and once
space returns every file written during the outage has its verdict and every webshell its
finding, in a database that is still sound."""

from __future__ import annotations

import os

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
