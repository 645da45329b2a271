"""The outbox: deliveries commit with their findings, follow them on deletion, honour filters."""

from __future__ import annotations

import sqlite3

import pytest
from alert_support import HttpReceiver, finding, make_service

from fim.core.model import Severity
from fim.store.database import Store


def outbox(db) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT o.sink, f.path FROM alert_outbox o JOIN findings f ON f.id = o.finding_id"
            " ORDER BY o.sink, f.path"
        ).fetchall()


def down_webhook(name: str = "hook", **extra) -> dict:
    return {"name": name, "type": "webhook", "url": HttpReceiver().url("/hook"), **extra}


def test_the_alerts_component_has_its_own_migrations(db):
    make_service(db, [down_webhook()])
    with Store.open(db) as store:
        versions = dict(store.conn.execute("SELECT component, version FROM schema_migrations"))
    assert versions["alerts"] == 1


def counts(db) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        return tuple(
            conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("findings", "alert_outbox")
        )


def test_a_finding_and_its_deliveries_commit_together_or_not_at_all(db):
    service = make_service(db, [down_webhook()])

    def broken_hook(conn, rows):
        raise RuntimeError("disk full, say")

    with Store.open(db) as store:
        service.install(store)
        store.finding_hooks.append(broken_hook)
        scan_id = store.begin_scan("scan", ["/"], "test")
        with pytest.raises(RuntimeError):
            store.add_findings([finding(b"/home/alice/a.php")], scan_id)
            store.flush()
        assert counts(db) == (0, 0)  # neither the finding nor its delivery
        store.finding_hooks.remove(broken_hook)  # the trouble passes; the store retries its buffer
    assert counts(db) == (1, 1)  # both


def test_the_hook_sees_the_inserted_rows_and_writes_one_delivery_per_matching_sink(db):
    service = make_service(db, [down_webhook("a"), down_webhook("b")])
    with Store.open(db) as store:
        service.install(store)
        scan_id = store.begin_scan("scan", ["/"], "test")
        store.add_findings([finding(b"/home/alice/a.php"), finding(b"/home/alice/b.php")], scan_id)
        store.flush()
        rows = store.conn.execute(
            "SELECT o.sink, o.event_id = f.event_id, o.tenant, o.severity FROM alert_outbox o"
            " JOIN findings f ON f.id = o.finding_id"
        ).fetchall()
    assert sorted(rows) == [("a", 1, "alice", "critical")] * 2 + [("b", 1, "alice", "critical")] * 2


def test_deleting_a_finding_deletes_its_pending_deliveries(db):
    service = make_service(db, [down_webhook()])
    with Store.open(db) as store:
        service.install(store)
        scan_id = store.begin_scan("scan", ["/"], "test")
        store.add_findings(
            [finding(b"/home/alice/a.php"), finding(b"/home/bob/b.php", tenant="bob")], scan_id
        )
        store.flush()
    service.deliver_due(2)  # fails: still pending, with attempts recorded
    assert service.pending_count() == 2
    with Store.open(db) as store, store.conn:  # retention or `tenant forget`, elsewhere in fim
        store.conn.execute("DELETE FROM findings WHERE tenant='bob'")
    assert [(d.sink, d.tenant) for d in service.pending()] == [("hook", "alice")]


def test_each_sink_gets_only_the_findings_its_filters_accept(db):
    sinks = [
        down_webhook("all"),
        down_webhook("serious", min_severity="high"),
        down_webhook("mailers", families=["mailer"]),
        down_webhook("hashes", rulesets=["hashlist"]),
        down_webhook("bob", tenants=["bob"]),
    ]
    service = make_service(db, sinks)
    findings = [
        finding(b"/home/alice/low.php", severity=Severity.LOW),
        finding(b"/home/alice/mail.php", family="mailer", severity=Severity.MEDIUM),
        finding(b"/home/bob/shell.php", tenant="bob"),
    ]
    with Store.open(db) as store:
        service.install(store)
        scan_id = store.begin_scan("scan", ["/"], "test")
        store.add_findings(findings, scan_id)
        store.flush()
    got = {}
    for sink, path in outbox(db):
        got.setdefault(sink, []).append(path.decode())
    assert got == {
        "all": ["/home/alice/low.php", "/home/alice/mail.php", "/home/bob/shell.php"],
        "serious": ["/home/bob/shell.php"],
        "mailers": ["/home/alice/mail.php"],
        "bob": ["/home/bob/shell.php"],
    }


def test_a_delivery_lease_held_by_a_killed_process_is_taken_over_at_once(db):
    import os
    import subprocess
    import sys
    import time

    from fim.alerts import state

    Store.open(db).close()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()  # its pid now names no process
    conn = sqlite3.connect(db)
    now = time.time_ns()
    in_an_hour = now + 3600 * 10**9
    assert state.acquire(conn, "hook", f"{gone.pid}:killed", now, in_an_hour)
    assert state.acquire(conn, "hook", f"{os.getpid()}:next", now, in_an_hour)  # holder gone: taken
    assert not state.acquire(conn, "hook", f"{os.getppid()}:other", now, in_an_hour)  # holder alive: kept
    conn.close()
