"""fim daemon as a real process on a real tree: inotify, SQLite, signals, sd_notify."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import time

import pytest

from tests.daemon.conftest import SHELL


def test_written_webshell_is_found_moments_after_close(daemon, hosting):
    d = daemon().start()
    shell = hosting / "home/alice/public_html/uploads/x.php"
    shell.write_bytes(SHELL)
    d.wait_finding(shell, timeout=10)
    assert d.stop() == 0


def test_slow_chunked_write_is_scanned_with_its_full_content(daemon, hosting):
    d = daemon().start()
    shell = hosting / "home/alice/public_html/uploads/slow.php"
    with open(shell, "wb") as fh:
        for i in range(0, len(SHELL), 5):
            fh.write(SHELL[i : i + 5])
            fh.flush()
            time.sleep(0.05)
    d.wait_finding(shell, timeout=10)
    assert d.stop() == 0


def test_file_renamed_in_from_outside_the_tree_is_found(daemon, hosting):
    d = daemon().start()
    outside = hosting / "outside.tmp"
    outside.write_bytes(SHELL)
    target = hosting / "home/bob/public_html/uploads/moved.php"
    os.rename(outside, target)
    d.wait_finding(target, timeout=10)
    assert d.stop() == 0


def test_new_customer_directory_matching_the_glob_is_watched_without_restart(daemon, hosting):
    d = daemon().start()
    (hosting / "home/carol/public_html/uploads").mkdir(parents=True)
    time.sleep(1.5)  # the glob is expanded every 0.5 s in this test's config
    shell = hosting / "home/carol/public_html/uploads/c.php"
    shell.write_bytes(SHELL)
    d.wait_finding(shell, timeout=15)
    later = hosting / "home/carol/public_html/uploads/later.php"
    later.write_bytes(SHELL)
    d.wait_finding(later, timeout=15)
    assert d.stop() == 0


def test_directory_moved_in_with_files_is_walked(daemon, hosting):
    d = daemon().start()
    staging = hosting / "staging/deep/er"
    staging.mkdir(parents=True)
    (staging / "s.php").write_bytes(SHELL)
    os.rename(hosting / "staging", hosting / "home/alice/public_html/uploads/staging")
    d.wait_finding(hosting / "home/alice/public_html/uploads/staging/deep/er/s.php", timeout=10)
    assert d.stop() == 0


def test_restart_after_sigkill_catches_up_on_changes_made_while_down(daemon, hosting):
    d = daemon().start()
    first = hosting / "home/alice/public_html/uploads/one.php"
    first.write_bytes(SHELL)
    d.wait_finding(first)
    d.stop(signal.SIGKILL)
    # While fim is down: a new shell, a changed file, a deleted file.
    created = hosting / "home/bob/public_html/uploads/while-down.php"
    created.write_bytes(SHELL)
    changed = hosting / "home/alice/public_html/index.php"
    changed.write_bytes(b"<?php FIM_TEST_MARKER_EVAL(1); ?>")
    first.unlink()
    d.start()
    d.wait_finding(created, timeout=20)
    d.wait_finding(changed, timeout=20)
    deadline = time.monotonic() + 20
    while bytes(first) in d.verdicts() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert bytes(first) not in d.verdicts()
    assert d.stop() == 0


def test_deleted_file_leaves_the_baseline(daemon, hosting):
    d = daemon().start()
    f = hosting / "home/alice/public_html/uploads/gone.txt"
    f.write_bytes(b"x")
    d.wait_verdicts({bytes(f)})
    f.unlink()
    deadline = time.monotonic() + 10
    while bytes(f) in d.verdicts() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bytes(f) not in d.verdicts()
    assert d.stop() == 0


def test_burst_of_files_every_file_gets_a_verdict(daemon, hosting):
    d = daemon().start()
    up = hosting / "home/bob/public_html/uploads"
    names = set()
    for i in range(5000):
        p = up / f"f{i:05d}.txt"
        p.write_bytes(b"plain %d" % i)
        names.add(bytes(p))
    got = d.wait_verdicts(names, timeout=120)
    assert all(got[n] == "clean" for n in names)
    assert d.stop() == 0


def test_sighup_with_a_broken_rule_keeps_the_running_rules(daemon, hosting):
    d = daemon().start()
    d.rules.write_text("rule broken { condition: nope }\n")
    n = len(d.notify.messages)
    d.proc.send_signal(signal.SIGHUP)
    d.notify.wait_for("RELOADING=1", after=n)
    d.notify.wait_for("READY=1", after=n)
    shell = hosting / "home/alice/public_html/uploads/after-bad-reload.php"
    shell.write_bytes(SHELL)
    d.wait_finding(shell, timeout=10)
    assert "reload failed" in d.log.read_text()
    assert d.stop() == 0


def test_sighup_with_new_rules_rematches_existing_files(daemon, hosting):
    existing = hosting / "home/alice/public_html/uploads/old.txt"
    existing.write_bytes(b"NEW_SIGNATURE_XYZ")
    d = daemon().start()
    d.wait_verdicts({bytes(existing)})
    d.rules.write_text(
        d.rules.read_text() + '\nrule newsig { strings: $a = "NEW_SIGNATURE_XYZ" condition: $a }\n'
    )
    d.proc.send_signal(signal.SIGHUP)
    d.wait_finding(existing, timeout=20)
    assert d.stop() == 0


def test_bad_config_at_start_exits_78(daemon, hosting):
    d = daemon()
    d.config.write_text(d.config.read_text() + "\n[scan]\nmax_file_sise = 1\n")
    d.start(wait_ready=False)
    assert d.proc.wait(timeout=20) == 78
    assert "max_file_sise" in d.log.read_text()


def test_sigterm_stops_gracefully_within_seconds(daemon, hosting):
    d = daemon().start()
    n = len(d.notify.messages)
    started = time.monotonic()
    assert d.stop(signal.SIGTERM, timeout=10) == 0
    assert time.monotonic() - started < 10
    d.notify.wait_for("STOPPING=1", after=n, timeout=1)


def test_ready_comes_after_watches_with_status_before(daemon, hosting):
    d = daemon().start()
    texts = [m for _t, m in d.notify.messages]
    ready = next(i for i, m in enumerate(texts) if "READY=1" in m.split("\n"))
    assert any(m.startswith("STATUS=") for m in texts[:ready])
    assert d.stop() == 0


def test_status_file_and_command_show_watched_roots_and_findings(daemon, hosting, fim, event_source):
    d = daemon().start()
    shell = hosting / "home/alice/public_html/uploads/s.php"
    shell.write_bytes(SHELL)
    d.wait_finding(shell)
    time.sleep(2.5)
    r = fim("status", "--config", d.config, "--format", "json")
    assert r.code == 0, r.err
    doc = r.json
    assert doc["running"] is True
    assert len(doc["watched_roots"]) == 2
    assert doc["findings_24h"] == {"alice": 1}
    # Which event source runs, and what it covers (inotify: its watches; fanotify: all).
    assert doc["events"] == event_source
    expected = "directories watched" if event_source == "inotify" else "every directory covered"
    assert expected in doc["coverage"]
    assert bool(doc["inotify"]) is (event_source == "inotify")  # its limits matter only to it
    text = fim("status", "--config", d.config)
    assert "fim daemon: running" in text.text and "alice: 1" in text.text
    assert f"events: {event_source} (" in text.text
    ready = next(m for _t, m in d.notify.messages if "READY=1" in m.split("\n"))
    assert f"with {event_source} (" in ready
    assert d.stop() == 0
    stopped = fim("status", "--config", d.config)
    assert stopped.code == 3


def test_log_lines_are_json_with_safe_paths(daemon, hosting):
    d = daemon().start()
    shell = hosting / "home/alice/public_html/uploads" / "x\u202e\n.php"
    shell.write_bytes(SHELL)
    d.wait_finding(bytes(shell))
    assert d.stop() == 0
    lines = [json.loads(line) for line in d.log.read_text().splitlines() if line.strip()]
    finding = next(x for x in lines if x.get("event") == "finding")
    assert finding["path"].endswith("x\\u202e\\n.php")


def test_watchdog_pings_at_half_the_interval_while_healthy(daemon, hosting):
    d = daemon(env={"WATCHDOG_USEC": "400000"}).start()
    time.sleep(2.0)
    d.notify.poll()
    pings = [t for t, m in d.notify.messages if "WATCHDOG=1" in m.split("\n")]
    assert len(pings) >= 5  # every 0.2 s over 2 s, with slack
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert max(gaps) < 0.4 * 1.5  # never a gap near the timeout itself
    assert d.stop() == 0


def test_watchdog_pings_stop_while_the_work_loop_is_stuck(daemon, hosting):
    import sqlite3
    import subprocess
    import sys

    d = daemon(env={"WATCHDOG_USEC": "400000"}).start()
    # The loop blocks on the database (busy timeout 5 s) while another process holds it.
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None);"
         "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(4)", str(d.db)],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == b"locked\n"
        (hosting / "home/alice/public_html/uploads/during-lock.txt").write_bytes(b"x")
        holder.wait(timeout=30)
    finally:
        holder.kill()
    time.sleep(1.0)
    d.notify.poll()
    pings = [t for t, m in d.notify.messages if "WATCHDOG=1" in m.split("\n")]
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert max(gaps) > 2.0  # no pings while stuck...
    assert pings[-1] > time.monotonic() - 1.0  # ...and pinging again once unstuck
    assert sqlite3.connect(d.db).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert d.stop() == 0


def test_watch_limit_reached_is_loud_and_covered_by_rescans(daemon, hosting, fim, event_source):
    """In a user namespace whose inotify watch limit is 3, the second customer's tree cannot be
    watched: fim logs it, stores a health finding, shows it in status, and still finds a shell
    written there by rescanning."""
    import shutil

    if event_source == "fanotify":
        pytest.skip("watch limits are inotify's: fanotify places no watch per directory")

    if shutil.which("unshare") is None:
        raise AssertionError("util-linux unshare is needed for this test")
    d = daemon()
    argv_prefix = ["unshare", "--user", "--map-root-user", "sh", "-c",
                   'echo 3 > /proc/sys/user/max_inotify_watches && exec "$@"', "sh"]  # fmt: skip
    import subprocess
    import sys

    d._logfh = open(d.log, "ab")  # noqa: SIM115
    d.proc = subprocess.Popen(
        [
            *argv_prefix,
            sys.executable,
            "-m",
            "fim",
            "daemon",
            "--config",
            str(d.config),
            "--log-format",
            "json",
        ],
        stderr=d._logfh,
        stdout=subprocess.DEVNULL,
        env=d.env,
    )
    d.notify.wait_for("READY=1")
    deadline = time.monotonic() + 30  # the coverage check follows the catch-up walk
    while "fim_watch_failed" not in [r for _p, r, _c in d.findings()] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "fim_watch_failed" in [r for _p, r, _c in d.findings()]
    assert "inotify watch limit reached" in d.log.read_text()
    bob = hosting / "home/bob/public_html/uploads/late.php"
    bob.write_bytes(SHELL)
    d.wait_finding(bob, timeout=30)  # rescans every 2 s in this test's config
    time.sleep(2.5)
    doc = fim("status", "--config", d.config, "--format", "json").json
    assert doc["rescan_only_roots"], doc
    assert "max_user_watches" in doc["hint"]
    assert d.stop() == 0


def test_daemon_delivers_each_finding_to_a_jsonl_sink(daemon, hosting):
    sink = hosting / "alerts.jsonl"
    d = daemon(extra_config=f'[alerts]\n[[alerts.sinks]]\nname = "siem"\ntype = "jsonl"\npath = "{sink}"\n')
    d.start()
    shell = hosting / "home/bob/public_html/uploads/y.php"
    shell.write_bytes(SHELL)
    d.wait_finding(shell)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (sink.exists() and str(shell) in sink.read_text()):
        time.sleep(0.1)
    events = [json.loads(line) for line in sink.read_text().splitlines()]
    [event] = [e for e in events if e.get("file", {}).get("path") == str(shell)]
    assert event["fim"]["tenant"] == "bob" and event["rule"]["name"] == "test_marker_eval"
    assert d.stop() == 0


def test_daemon_applies_upload_policy_and_quarantine_in_real_time(daemon, hosting):
    qdir = hosting / "quarantine"
    d = daemon(
        extra_config=(
            '[policy]\nenabled = true\n[[policy.rules]]\nname = "uploads"\npaths = ["*/uploads/**"]\n'
            'forbid = ["executable_extension", "script"]\nseverity = "high"\naction = "quarantine"\n'
            f'[quarantine]\nenabled = true\ndirectory = "{qdir}"\n'
        )
    )
    d.start()
    planted = hosting / "home/alice/public_html/uploads/innocent.php.jpg"
    planted.write_bytes(b"<?php echo 'policy, not a signature';")
    d.wait_finding(planted)
    deadline = time.monotonic() + 20
    while planted.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not planted.exists()  # moved out of the customer's reach
    legit = hosting / "home/alice/public_html/index.php"
    assert legit.exists()  # PHP outside uploads is not policy's business
    rules = {r for p, r, _c in d.findings() if p == bytes(planted)}
    assert any(r.startswith("policy.") for r in rules)
    assert d.stop() == 0


def test_daemon_raises_its_open_files_soft_limit_so_deep_trees_cannot_exhaust_it(daemon, hosting):
    import resource
    from pathlib import Path

    import pytest

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard <= 256:
        pytest.skip("the hard limit leaves nothing to raise")
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))  # the daemon inherits 256
    try:
        d = daemon().start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    limits = Path(f"/proc/{d.proc.pid}/limits").read_text()
    (line,) = [ln for ln in limits.splitlines() if ln.startswith("Max open files")]
    daemon_soft = line.split()[3]
    assert daemon_soft != "256"
    assert (
        daemon_soft == ("unlimited" if hard == resource.RLIM_INFINITY else str(hard))
        or int(daemon_soft) > 256
    )
    assert d.stop() == 0


def walks_finished(d) -> list[dict]:
    lines = [json.loads(line) for line in d.log.read_text().splitlines() if '"walk finished"' in line]
    return [line for line in lines if line.get("event") == "walk finished"]


def test_catch_up_sweeps_a_directory_removed_while_down_and_reads_no_unchanged_file(daemon, hosting):
    d = daemon().start()
    gone = hosting / "home/alice/public_html/uploads/old"
    (gone / "sub").mkdir(parents=True)
    (gone / "a.txt").write_bytes(b"a")
    (gone / "sub/b.txt").write_bytes(b"b")
    d.wait_verdicts({bytes(gone / "a.txt"), bytes(gone / "sub/b.txt")})
    before = len(walks_finished(d))
    assert d.stop() == 0
    shutil.rmtree(gone)
    d.start()
    deadline = time.monotonic() + 30
    while len(walks_finished(d)) <= before and time.monotonic() < deadline:
        time.sleep(0.05)
    catch_up = walks_finished(d)[before]
    assert catch_up["deleted"] == 2 and catch_up["files_read"] == 0
    assert catch_up["skipped_unchanged"] == catch_up["files_seen"] > 0
    assert not [p for p in d.verdicts() if p.startswith(bytes(gone))]
    assert d.stop() == 0
