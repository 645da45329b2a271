"""SIGKILL the daemon at random moments during a burst, many times: the database always opens
cleanly, every file written gets a verdict, every webshell a finding, and every finding reaches
the alert sink at least once (each line of which is a whole JSON document)."""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time

from tests.daemon.conftest import SHELL
from tests.faults.fault_support import jsonl_paths, wait_for


def test_repeated_sigkill_during_a_burst_loses_no_verdict_and_no_alert(daemon, hosting):
    rng = random.Random(20261125)
    sink = hosting / "alerts.jsonl"
    d = daemon(
        extra_config=(
            "[alerts]\nretry_initial = 0.2\nretry_max = 1.0\n"
            f'[[alerts.sinks]]\nname = "siem"\ntype = "jsonl"\npath = "{sink}"\n'
        )
    ).start()
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
        jsonl_paths(sink)  # every line written so far is a whole JSON document
        d.start()
    t.join()
    assert kills >= 6
    verdicts = d.wait_verdicts(set(written), timeout=120)
    assert all(verdicts[p] in ("clean", "finding") for p in written)
    assert all(verdicts[p] == "finding" for p in shells)
    assert set(shells) <= {p for p, _r, _c in d.findings()}
    expected = {p.decode() for p in shells}
    wait_for(
        lambda: set(jsonl_paths(sink)) >= expected,
        "every webshell in the sink",
        timeout=60,
        detail=lambda: (
            f"never delivered: {sorted(expected - set(jsonl_paths(sink)))}\n{d.log.read_text()[-3000:]}"
        ),
    )
    assert d.stop() == 0
