"""SIGKILL the daemon at random moments during a burst: nothing written is ever left without a
verdict once it runs again, and the database always opens cleanly."""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time

from tests.daemon.conftest import SHELL


def test_repeated_sigkill_during_a_burst_loses_no_verdict(daemon, hosting):
    rng = random.Random(20261125)
    d = daemon().start()
    up = hosting / "home/alice/public_html/uploads"
    written: list[bytes] = []
    shells: list[bytes] = []
    done = threading.Event()

    def writer() -> None:
        for i in range(3000):
            p = up / f"b{i:05d}.{'php' if i % 50 == 0 else 'txt'}"
            p.write_bytes(SHELL if i % 50 == 0 else b"data %d" % i)
            written.append(bytes(p))
            if i % 50 == 0:
                shells.append(bytes(p))
            if i % 100 == 0:
                time.sleep(0.01)
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    kills = 0
    while not done.is_set() or kills < 6:
        time.sleep(rng.uniform(0.05, 0.6))
        d.stop(signal.SIGKILL)
        kills += 1
        conn = sqlite3.connect(d.db)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
        d.start()
    t.join()
    verdicts = d.wait_verdicts(set(written), timeout=120)
    assert all(verdicts[p] in ("clean", "finding") for p in written)
    assert all(verdicts[p] == "finding" for p in shells)
    found = {p for p, _r, _c in d.findings()}
    assert set(shells) <= found
    assert kills >= 6
    assert d.stop() == 0
