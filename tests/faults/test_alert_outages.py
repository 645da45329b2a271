"""Alert sinks that fail in every way a receiver can while the daemon finds webshells: nothing
found during the outage is lost, whether the sink comes back while the daemon runs or after the
daemon itself was killed."""

from __future__ import annotations

import json
import signal
import sqlite3
from collections import Counter

from tests.alerts.alert_support import HttpReceiver
from tests.daemon.conftest import SHELL
from tests.faults.fault_support import alerts_pending, jsonl_paths, wait_for

FAST_RETRIES = "[alerts]\nretry_initial = 0.2\nretry_max = 1.0\n"


def _expected_event_ids(d) -> dict[str, bytes]:
    conn = sqlite3.connect(d.db, timeout=10)
    try:
        return dict(conn.execute("SELECT event_id, path FROM findings").fetchall())
    finally:
        conn.close()


def _received_event_ids(receiver: HttpReceiver) -> list[str]:
    ids = []
    for request in receiver.on("/hook"):
        document = request.json
        ids.extend(e["event"]["id"] for e in (document if isinstance(document, list) else [document]))
    return ids


def test_webhook_sink_down_then_back_gets_every_finding_once_per_event_id(daemon, hosting):
    receiver = HttpReceiver()  # not started: its port refuses connections
    sink = f'[[alerts.sinks]]\nname = "hook"\ntype = "webhook"\nurl = "{receiver.url("/hook")}"\n'
    d = daemon(extra_config=FAST_RETRIES + sink + "timeout = 1.0\n").start()
    up = hosting / "home/alice/public_html/uploads"
    shells: list[bytes] = []

    def outage(phase: str, error: str) -> None:
        for i in range(2):
            shell = up / f"{phase}-{i}.php"
            shell.write_bytes(SHELL)
            shells.append(bytes(shell))
            d.wait_finding(shell)

        def shown() -> bool:
            rows, _err = alerts_pending(d.config)
            return {r["path"] for r in rows} >= {s.decode() for s in shells} and any(
                error in (r["last_error"] or "") for r in rows
            )

        wait_for(shown, f"`fim alerts pending` to list every finding and the error {error!r}",
                 detail=lambda: f"{alerts_pending(d.config)}\n{d.log.read_text()[-2000:]}")  # fmt: skip
        text, err = alerts_pending(d.config, "text")
        assert "last error: " in text and error in text, text
        assert "sink hook: failing since" in err and error in err, err

    try:
        outage("refused", "connection refused")
        receiver.status = 500
        receiver.start()
        outage("http500", "answered HTTP 500")
        receiver.delay = 3.0  # longer than the sink's timeout: the receiver never answers in time
        outage("hanging", "no answer within 1s")
        assert receiver.requests == []  # nothing was accepted so far
        receiver.status, receiver.delay = 200, 0.0  # back

        expected = _expected_event_ids(d)
        assert sorted(expected.values()) == sorted(shells)  # one finding per webshell
        wait_for(
            lambda: set(_received_event_ids(receiver)) >= set(expected),
            "every finding delivered",
            detail=lambda: f"{Counter(_received_event_ids(receiver))}\n{d.log.read_text()[-2000:]}",
        )
        wait_for(lambda: alerts_pending(d.config)[0] == [], "an empty outbox")
        received = Counter(_received_event_ids(receiver))
        assert set(received) == set(expected)  # nothing else was sent
        assert all(received[i] >= 1 for i in expected)  # at least once; duplicates only by retry
        assert d.stop() == 0
    finally:
        receiver.stop()


def test_sigkill_with_pending_alerts_delivers_them_after_restart(daemon, hosting):
    sink = hosting / "siem.jsonl"
    sink.mkdir()  # a directory where the sink's file should be: every append fails
    d = daemon(
        extra_config=FAST_RETRIES + f'[[alerts.sinks]]\nname = "siem"\ntype = "jsonl"\npath = "{sink}"\n'
    )
    d.start()
    shells = [hosting / f"home/{t}/public_html/uploads/k{i}.php" for t in ("alice", "bob") for i in range(3)]
    for shell in shells:
        shell.write_bytes(SHELL)
    for shell in shells:
        d.wait_finding(shell)

    def pending_with_error() -> bool:
        rows, _err = alerts_pending(d.config)
        return {r["path"] for r in rows} >= {str(s) for s in shells} and any(
            "Is a directory" in (r["last_error"] or "") for r in rows
        )

    wait_for(pending_with_error, "the alerts pending with the sink's error",
             detail=lambda: f"{alerts_pending(d.config)}\n{d.log.read_text()[-2000:]}")  # fmt: skip
    assert d.stop(signal.SIGKILL) == -signal.SIGKILL
    assert jsonl_paths(sink) == []

    sink.rmdir()  # the sink is fixed while fim is down
    d.start()
    wait_for(lambda: set(jsonl_paths(sink)) >= {str(s) for s in shells}, "every finding in the sink",
             detail=lambda: f"{jsonl_paths(sink)}\n{d.log.read_text()[-2000:]}")  # fmt: skip
    wait_for(lambda: alerts_pending(d.config)[0] == [], "an empty outbox")
    events = [json.loads(line) for line in sink.read_text().splitlines()]
    assert {e["event"]["id"] for e in events} == set(_expected_event_ids(d))
    assert d.stop() == 0
