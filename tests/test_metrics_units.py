"""The pieces of the metrics that need no daemon: config values, bounded labels, the
daemon's walk totals, and the coalescer's counts."""

from __future__ import annotations

import pytest

from fim.config import loader
from fim.core.errors import ConfigError
from fim.core.model import ScanStats
from fim.daemon.coalescer import Coalescer
from fim.daemon.metrics_snapshot import WalkTotals
from fim.daemon.status import WalkSummary
from fim.metrics.config import ListenAddress
from fim.metrics.labels import FamilyLabels, severity


def test_metrics_are_off_by_default():
    assert loader.Config().metrics.listen == ""
    assert loader.Config().metrics.address is None


@pytest.mark.parametrize(
    ("listen", "address"),
    [
        ("127.0.0.1:9464", ListenAddress("127.0.0.1", 9464)),
        ("localhost:9464", ListenAddress("127.0.0.1", 9464)),
        ("[::1]:9464", ListenAddress("::1", 9464)),
        ("0.0.0.0:1", ListenAddress("0.0.0.0", 1)),
    ],
)
def test_listen_addresses_accepted(listen, address):
    assert loader.from_dict({"metrics": {"listen": listen}}).metrics.address == address


@pytest.mark.parametrize(
    "listen",
    ["9464", ":9464", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "[127.0.0.1]:1", "host:1", 9464],
)
def test_bad_listen_addresses_are_refused_with_the_key(listen):
    with pytest.raises(ConfigError) as err:
        loader.from_dict({"metrics": {"listen": listen}})
    assert "metrics.listen: " in str(err.value)


def test_unknown_metrics_key_is_refused_with_a_suggestion():
    with pytest.raises(
        ConfigError, match=r"metrics\.listn: unknown key \(did you mean 'metrics\.listen'\?\)"
    ):
        loader.from_dict({"metrics": {"listn": "127.0.0.1:9464"}})


def test_family_labels_stay_bounded_and_never_take_odd_text():
    families = FamilyLabels(limit=3)
    assert [families(f) for f in ("a", "b", "a", "c", "d", "b")] == ["a", "b", "a", "c", "other", "b"]
    assert families("x\ny") == families("") == families(None) == families("</script>") == "other"
    assert severity("CRITICAL") == "critical" and severity("bogus") == "other"


def test_walk_totals_only_grow_across_walks_that_finish_fail_or_come_and_go_unseen():
    totals = WalkTotals()
    events = ScanStats(files_read=1)
    running = ScanStats(files_read=5, skipped_unchanged=2)
    assert totals.update([("catch-up", 1.0, running)], None, events)["files_read"] == 6
    running.files_read = 7  # the walk goes on
    assert totals.update([("catch-up", 1.0, running)], None, events)["files_read"] == 8
    # It finishes; its summary replaces it (counted once, not twice).
    done = WalkSummary("catch-up", 1.0, 2.0, {"files_read": 7, "skipped_unchanged": 2})
    t = totals.update([], done, events)
    assert (t["files_read"], t["skipped_unchanged"]) == (8, 2)
    assert totals.update([], done, events)["files_read"] == 8  # the same summary seen again
    # A walk that started and finished between two snapshots: known by its summary alone.
    quick = WalkSummary("new-root", 3.0, 3.5, {"files_read": 4})
    assert totals.update([], quick, events)["files_read"] == 12
    # A walk seen running that ends without a summary (failed) keeps counting as it stood.
    failed = ScanStats(files_read=3)
    assert totals.update([("rescan", 4.0, failed)], quick, events)["files_read"] == 15
    assert totals.update([], quick, events)["files_read"] == 15
    assert totals.walks == {"catch-up": 1, "new-root": 1}


def test_coalescer_counts_events_merged_and_overflows_and_tells_first_event_times():
    now = [10.0]
    told: list[tuple[bytes, float]] = []
    c = Coalescer(settle=0.2, max_delay=2.0, max_pending=2, clock=lambda: now[0],
                  on_due=lambda p, first: told.append((p, first)))  # fmt: skip
    c.add(b"/a")
    now[0] = 10.1
    c.add(b"/a")  # a second chunk of the same write
    c.add(b"/b")
    assert (c.events, c.coalesced, c.overflows) == (3, 1, 0)
    now[0] = 11.0
    assert sorted(c.pop_due()) == [b"/a", b"/b"]
    assert sorted(told) == [(b"/a", 10.0), (b"/b", 10.1)]
    c.add(b"/c")
    c.add(b"/d")
    c.add(b"/e")  # a third path waiting: over max_pending
    assert c.overflows == 1 and len(c) == 0


def test_idle_connections_to_the_endpoint_start_no_threads_and_do_not_block_a_scrape(monkeypatch):
    """Any local user can connect to a loopback port: connections that never finish their
    request must not start a thread each (the daemon's task limit is shared with its inspection
    workers), and each is cut off after the connection timeout, so the scrape gets through."""
    import socket
    import threading
    import time
    import urllib.request

    from prometheus_client import CollectorRegistry, Gauge

    from fim.metrics import server as server_mod
    from fim.metrics.config import ListenAddress

    monkeypatch.setattr(server_mod, "CONNECTION_TIMEOUT", 0.2)
    registry = CollectorRegistry()
    Gauge("fim_test_up", "a gauge to find", registry=registry).set(1)
    srv = server_mod.MetricsServer(ListenAddress("127.0.0.1", 0), registry)
    try:
        before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(20)]
        for conn in idle:
            conn.send(b"GET /metrics HTTP/1.1\r\n")  # and never the blank line that ends it
        time.sleep(0.2)
        assert threading.active_count() == before
        with urllib.request.urlopen(f"http://127.0.0.1:{srv.port}/metrics", timeout=60) as resp:
            assert b"fim_test_up 1.0" in resp.read()
        for conn in idle:
            conn.close()
    finally:
        srv.stop()
