"""``fim daemon`` with ``[metrics] listen``: a real daemon scraped over loopback, its values
checked against what its database says after a known sequence of events."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.daemon.conftest import SHELL
from tests.daemon.metrics_support import free_port, query, scrape, scrape_until

LOW = b"<?php // FIM_TEST_MARKER_LOW\n"
CLEAN = b"<?php echo 'a perfectly ordinary page';\n"


def metrics_config(port: int, sink: Path, dead_port: int) -> str:
    """Metrics on loopback, a JSON-lines sink that works and a webhook nobody answers."""
    return (
        f'[metrics]\nlisten = "127.0.0.1:{port}"\n'
        "[alerts]\n"
        f'[[alerts.sinks]]\nname = "siem"\ntype = "jsonl"\npath = "{sink}"\n'
        f'[[alerts.sinks]]\nname = "hook"\ntype = "webhook"\nurl = "http://127.0.0.1:{dead_port}/"\n'
    )


def catchup_done(m) -> bool:
    return m.value("fim_walks_total", kind="catch-up") == 1


def settled(previous: list, keys: tuple[str, ...]):
    """A readiness check true once two scrapes from different snapshots agree on ``keys``."""

    def check(m) -> bool:
        stamp = m.value("fim_daemon_last_update_timestamp_seconds")
        values = tuple(m.value(k) for k in keys)
        if previous and previous[-1][0] != stamp and previous[-1][1] == values:
            return True
        previous.append((stamp, values))
        return False

    return check


def stored_findings(db: Path) -> dict[tuple[str, str], float]:
    rows = query(db, "SELECT severity, family, COUNT(*) FROM findings GROUP BY severity, family")
    return {(s, f): float(n) for s, f, n in rows}


def walk_totals(db: Path, since_ns: int) -> dict[str, int]:
    """ScanStats summed over the scans (walks, and the events' scan) of one daemon run."""
    totals: dict[str, int] = {}
    for (stats,) in query(
        db, "SELECT stats FROM scans WHERE started_ns >= ? AND stats IS NOT NULL", since_ns
    ):
        for key, value in json.loads(stats).items():
            totals[key] = totals.get(key, 0) + int(value)
    return totals


@pytest.mark.slow
def test_daemon_metrics_match_the_database_after_a_known_sequence_of_events(daemon, hosting, event_source):
    port, dead_port = free_port(), free_port()
    sink = hosting / "alerts.jsonl"
    d = daemon(extra_config=metrics_config(port, sink, dead_port))
    started_ns = time.time_ns()
    d.start()
    scrape_until(port, catchup_done)  # events from here on are events, not the catch-up's finds

    uploads = hosting / "home/alice/public_html/uploads"
    (uploads / "clean.php").write_bytes(CLEAN)
    shell = hosting / "home/bob/public_html/uploads/shell.php"
    shell.write_bytes(SHELL)
    (uploads / "low.php").write_bytes(LOW)
    os.utime(hosting / "home/bob/public_html/index.php")  # touched, content unchanged
    d.wait_finding(shell)
    d.wait_finding(uploads / "low.php")
    d.wait_verdicts({bytes(uploads / "clean.php")})
    # The jsonl sink takes both findings; the webhook fails and keeps them in the outbox.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (sink.exists() and len(sink.read_text().splitlines()) == 2):
        time.sleep(0.1)
    seen: list = []
    m = scrape_until(
        port,
        lambda m: (
            (m.value("fim_alert_deliveries_total", sink="hook", outcome="failed") or 0) >= 1
            and m.value("fim_alert_deliveries_total", sink="siem", outcome="delivered") == 2
            and (m.value("fim_files_scanned_total") or 0) >= 6
            and settled(
                seen, ("fim_files_scanned_total", "fim_files_seen_total", "fim_events_received_total")
            )(m)
        ),
    )
    db = d.db

    # Findings: the stored ones by severity and family, exactly; and the detections counted.
    assert {(dict(k)["severity"], dict(k)["family"]): v for k, v in m.labelled("fim_findings").items()} == (
        stored_findings(db)
    )
    assert stored_findings(db) == {("critical", "test"): 1.0, ("low", "test"): 1.0}
    assert m.value("fim_findings_detected_total", severity="critical", family="test") == 1
    assert m.value("fim_findings_detected_total", severity="low", family="test") == 1
    assert not any("path" in dict(k) or "tenant" in dict(k) for (_n, k) in m.samples)  # no unbounded labels

    # Files: the baseline's size; the touched file read again and found unchanged.
    assert m.value("fim_baseline_files") == query(db, "SELECT COUNT(*) FROM files")[0][0] == 5

    # Alerts: the backlog per sink is the outbox's, the failing sink's streak is alert_sinks'.
    outbox = dict(query(db, "SELECT sink, COUNT(*) FROM alert_outbox GROUP BY sink"))
    assert m.by("fim_alerts_pending", "sink") == {"siem": 0.0, "hook": float(outbox["hook"])}
    assert outbox["hook"] == 2 and "siem" not in outbox
    (failures,) = query(db, "SELECT failures FROM alert_sinks WHERE sink='hook'")[0]
    assert m.value("fim_alert_sink_consecutive_failures", sink="hook") == failures >= 1
    assert m.value("fim_alert_sink_consecutive_failures", sink="siem") == 0
    (oldest,) = query(db, "SELECT MIN(created_ns) FROM alert_outbox WHERE sink='hook'")[0]
    before = time.time()
    age = scrape(port).value("fim_alert_oldest_pending_age_seconds", sink="hook")
    assert before - oldest / 1e9 <= age <= time.time() - oldest / 1e9
    assert m.value("fim_alert_oldest_pending_age_seconds", sink="siem") == 0
    assert m.value("fim_alert_sink_last_success_timestamp_seconds", sink="siem") is not None

    # Events: three new files timed from their event to their verdict; the source is the one configured.
    assert m.value("fim_event_to_verdict_seconds_count") == 3
    assert m.value("fim_event_source_info", source=event_source) == 1
    assert m.value("fim_event_source_up", source=event_source) == 1
    assert m.value("fim_events_received_total") >= m.value("fim_events_coalesced_total") >= 0
    assert m.value("fim_events_received_total") >= 4
    assert m.by("fim_queue_depth", "queue") == {"events": 0.0, "inspection": 0.0}

    # Coverage: both roots and every directory below them watched, nothing left to rescans.
    assert m.value("fim_watched_roots") == 2
    assert m.value("fim_rescan_only_roots") == 0
    assert m.value("fim_rescan_only_directories") == 0
    if event_source == "inotify":
        assert m.value("fim_watched_directories") >= 4  # public_html and uploads, two tenants
    else:  # a file system mark covers every directory: no per-directory watch exists
        assert m.value("fim_watched_directories") == 0

    # State, rules, catch-up, database.
    assert m.value("fim_daemon_state", state="running") == 1
    assert m.value("fim_daemon_degraded") == 0
    (ruleset,) = query(db, "SELECT DISTINCT ruleset FROM scans")[0]
    assert m.value("fim_rules_info", version=ruleset) == 1
    assert started_ns / 1e9 <= m.value("fim_last_catchup_timestamp_seconds") <= time.time()
    assert m.value("fim_database_size_bytes", file="main") > 0
    assert m.value("fim_database_readable") == 1

    # Once stopped, the scans table holds what the counters counted (walks and the events' scan).
    scanned, seen_files = m.value("fim_files_scanned_total"), m.value("fim_files_seen_total")
    unchanged = m.value("fim_files_skipped_unchanged_total")
    assert d.stop() == 0
    totals = walk_totals(db, started_ns)
    assert (scanned, seen_files, unchanged) == (
        totals["files_read"],
        totals["files_seen"],
        totals["skipped_unchanged"],
    )
    assert scanned == 6  # two in the catch-up; clean, shell, low and the touched page by events

    # A restart's catch-up skips every unchanged file; the backlog waits on.
    d.start()
    m2 = scrape_until(port, catchup_done)
    assert m2.value("fim_files_skipped_unchanged_total") == 5
    assert m2.value("fim_files_scanned_total") == 0
    assert m2.value("fim_findings_detected_total", severity="critical", family="test") is None
    assert m2.by("fim_alerts_pending", "sink")["hook"] == 2
    assert d.stop() == 0


def test_metrics_are_off_unless_configured(daemon):
    d = daemon().start()
    own = {int(line.split()[1].split(":")[1], 16) for line in _listening(d.proc.pid)}
    assert own == set()  # the daemon listens on no TCP port at all
    assert d.stop() == 0


def _listening(pid: int) -> list[str]:
    """Lines of /proc/net/tcp{,6} for listening sockets whose inode the process ``pid`` holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    lines = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.read().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                    lines.append(line)
    return lines


def test_metrics_port_taken_degrades_the_daemon_which_keeps_detecting(daemon, hosting):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        d = daemon(extra_config=f'[metrics]\nlisten = "127.0.0.1:{port}"\n').start()
        status = d.db.parent / "status.json"
        deadline = time.monotonic() + 30
        doc: dict = {}
        while time.monotonic() < deadline:
            doc = json.loads(status.read_text()) if status.exists() else {}
            if "metrics" in doc.get("degraded", {}):
                break
            time.sleep(0.1)
        assert doc["state"] == "degraded"
        assert f"metrics.listen: cannot serve on 127.0.0.1:{port}" in doc["degraded"]["metrics"]
        shell = hosting / "home/alice/public_html/uploads/shell.php"
        shell.write_bytes(SHELL)
        d.wait_finding(shell)
        assert d.stop() == 0


@pytest.mark.parametrize(
    ("listen", "message"),
    [
        ("9464", 'metrics.listen: expected "HOST:PORT" such as "127.0.0.1:9464"'),
        ("127.0.0.1:99999", "metrics.listen: '127.0.0.1:99999': the port must be a number from 1 to 65535"),
        ("metrics.example.com:9464", "the host must be an IP address (or localhost), not a name"),
        ("::1:9464", "write an IPv6 address in brackets"),
    ],
)
def test_bad_metrics_listen_is_a_config_error_naming_the_key(daemon, listen, message):
    d = daemon(extra_config=f'[metrics]\nlisten = "{listen}"\n')
    d.start(wait_ready=False)
    assert d.proc.wait(timeout=60) == 78  # EX_CONFIG
    d._logfh.close()
    errors = [json.loads(line).get("error", "") for line in d.log.read_text().splitlines()]
    assert any(message in error for error in errors)
    check = subprocess.run(
        [sys.executable, "-m", "fim", "config", "check", str(d.config)], capture_output=True, text=True
    )
    assert check.returncode != 0
    assert message in check.stdout + check.stderr


def test_reload_moves_the_endpoint_to_the_new_listen_address(daemon):
    old, new = free_port(), free_port()
    d = daemon(extra_config=f'[metrics]\nlisten = "127.0.0.1:{old}"\n').start()
    scrape_until(old, lambda m: m.value("fim_daemon_state", state="running") == 1)
    d.config.write_text(d.config.read_text().replace(f":{old}", f":{new}"))
    d.proc.send_signal(signal.SIGHUP)
    scrape_until(new, lambda m: m.value("fim_daemon_state", state="running") == 1)
    with pytest.raises(OSError):
        scrape(old)  # the old address is closed
    assert d.stop() == 0
