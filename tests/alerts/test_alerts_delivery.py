"""Every finding reaches every sink once per event id, through outages, hangs and restarts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes, policy

import pytest
from alert_support import add_findings, deliver_all, finding, make_service, wait_until

from fim.alerts.sinks.webhook import signature
from fim.core.errors import ConfigError


def webhook(receiver, **extra):
    return {"name": "hook", "type": "webhook", "url": receiver.url("/hook"), "timeout": 2.0, **extra}


def event_ids(requests) -> list[str]:
    out = []
    for r in requests:
        doc = r.json
        out += [e["event"]["id"] for e in (doc if isinstance(doc, list) else [doc])]
    return out


def test_webhook_receives_the_ecs_event_signed_with_hmac_sha256(db, http_receiver):
    service = make_service(db, [webhook(http_receiver, secret="s3cret-key")])
    add_findings(db, service, [finding(b"/home/alice/www/up.php")])
    assert service.deliver_due(10) == 1
    (req,) = http_receiver.on("/hook")
    event = req.json
    assert event["event"]["kind"] == "alert" and event["file"]["path"] == "/home/alice/www/up.php"
    assert event["rule"]["name"] == "test_marker_eval" and event["fim"]["tenant"] == "alice"
    assert req.headers["X-Fim-Event-Id"] == event["event"]["id"]
    expected = (
        "sha256="
        + hmac.new(
            b"s3cret-key", req.headers["X-Fim-Timestamp"].encode() + b"." + req.body, hashlib.sha256
        ).hexdigest()
    )
    assert (
        req.headers["X-Fim-Signature"]
        == expected
        == signature(b"s3cret-key", req.headers["X-Fim-Timestamp"], req.body)
    )
    assert service.pending_count() == 0


def test_webhook_batch_posts_a_json_array_of_events(db, http_receiver):
    service = make_service(db, [webhook(http_receiver, max_batch=50)])
    add_findings(db, service, [finding(f"/home/alice/{i}.php".encode()) for i in range(120)])
    deliver_all(service)
    assert len(http_receiver.on("/hook")) == 3  # 50 + 50 + 20
    assert len(set(event_ids(http_receiver.on("/hook")))) == 120


@pytest.mark.parametrize("outage", ["connection refused", "http 500", "hanging past the timeout"])
def test_sink_down_then_back_every_finding_arrives_once_per_event_id(db, http_receiver, outage):
    service = make_service(db, [webhook(http_receiver, timeout=0.5)])
    if outage == "connection refused":
        http_receiver.stop()
    elif outage == "http 500":
        http_receiver.status = 500
    else:
        http_receiver.delay = 3.0
    findings = [finding(f"/home/alice/www/{i}.php".encode()) for i in range(5)]
    add_findings(db, service, findings)
    assert service.deliver_due(3) == 0
    pending = service.pending()
    assert len(pending) == 5  # one attempt failed; the others wait with the sink (no hammering)
    assert sorted(d.attempts for d in pending) == [0, 0, 0, 0, 1] and pending[-1].last_error
    add_findings(db, service, [finding(b"/home/alice/www/late.php")])  # produced while down

    if outage == "connection refused":
        http_receiver.start()
    http_receiver.status, http_receiver.delay = 200, 0.0
    deliver_all(service)
    ids = event_ids(http_receiver.on("/hook"))
    assert len(ids) == 6 and Counter(ids).most_common(1)[0][1] == 1


def test_failed_delivery_backs_off_and_is_not_retried_before_its_time(db, http_receiver):
    service = make_service(db, [webhook(http_receiver)], retry_initial=3600, retry_max=7200)
    http_receiver.status = 500
    add_findings(db, service, [finding(b"/home/alice/a.php")])
    service.deliver_due(5)
    http_receiver.status = 200
    assert service.deliver_due(5) == 0  # backing off (persisted: a new service sees it too)
    assert make_service(db, [webhook(http_receiver)], retry_initial=3600).deliver_due(5) == 0
    (d,) = service.pending()
    assert d.due_ns > time.time_ns() + 3000e9
    service.retry_now()  # `fim alerts retry`
    assert service.deliver_due(5) == 1


def test_pending_alerts_survive_a_restart_and_are_delivered_by_the_next_process(db, http_receiver, tmp_path):
    # Process 1 produces findings while the receiver is down, and exits.
    http_receiver.stop()
    script = f"""
import sys
sys.path[:0] = {sys.path!r}
from alert_support import add_findings, finding, make_service
from pathlib import Path
db = Path({str(db)!r})
service = make_service(db, [{webhook(http_receiver)!r}])
add_findings(db, service, [finding(f"/home/alice/{{i}}.php".encode()) for i in range(3)])
print(service.deliver_due(2), service.pending_count())
"""
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=os.getcwd(), timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "3"]
    # Process 2 (a new service on the same file) delivers them once the receiver is back.
    http_receiver.start()
    service = make_service(db, [webhook(http_receiver)])
    assert service.pending_count() == 3
    deliver_all(service)
    assert len(set(event_ids(http_receiver.on("/hook")))) == 3


def test_email_through_apprise_reaches_a_real_smtp_server(db, smtp_server):
    service = make_service(db, [{"name": "mail", "type": "apprise", "urls": [smtp_server.url]}])
    add_findings(db, service, [finding(b"/home/alice/www/up.php"), finding(b"/home/alice/www/b.php")])
    deliver_all(service)
    (envelope,) = smtp_server.mailbox.messages  # grouped: one message for the tenant
    assert envelope.rcpt_tos == ["ops@example.com"]
    msg = message_from_bytes(envelope.content, policy=policy.default)
    assert msg["Subject"] == "[fim] CRITICAL: 2 findings for tenant alice on testhost"
    body = msg.get_body(("plain",)).get_content()
    assert "/home/alice/www/up.php" in body and "/home/alice/www/b.php" in body


def test_smtp_server_down_then_back_the_email_arrives(db, smtp_server):
    smtp_server.stop()
    service = make_service(
        db, [{"name": "mail", "type": "apprise", "urls": [smtp_server.url], "timeout": 2.0}]
    )
    add_findings(db, service, [finding(b"/home/alice/www/up.php")])
    assert service.deliver_due(5, flush=True) == 0
    (d,) = service.pending()
    assert d.attempts == 1 and "127.0.0.1" in d.last_error
    smtp_server.start()
    deliver_all(service)
    assert len(smtp_server.mailbox.messages) == 1


def test_mattermost_and_json_through_apprise_post_to_loopback(db, http_receiver):
    sinks = [
        {"name": "mm", "type": "apprise", "urls": [f"mmost://127.0.0.1:{http_receiver.port}/mmtoken123"]},
        {"name": "js", "type": "apprise", "urls": [f"json://127.0.0.1:{http_receiver.port}/json"]},
    ]
    service = make_service(db, sinks)
    add_findings(db, service, [finding(b"/home/alice/www/up.php")])
    deliver_all(service)
    (mm,) = http_receiver.on("/hooks/mmtoken123")
    assert "/home/alice/www/up.php" in mm.json["text"] and "tenant alice" in mm.json["text"]
    (js,) = http_receiver.on("/json")
    assert js.json["title"].startswith("[fim] CRITICAL: 1 finding for tenant alice")
    assert "/home/alice/www/up.php" in js.json["message"]


def test_one_apprise_url_down_does_not_repeat_messages_to_the_other(db, http_receiver):
    url_ok = f"json://127.0.0.1:{http_receiver.port}/json"
    url_down = "json://127.0.0.1:1/down"
    service = make_service(
        db, [{"name": "chat", "type": "apprise", "urls": [url_ok, url_down], "timeout": 1.0}]
    )
    assert service.names == ["chat", "chat#2"]
    add_findings(db, service, [finding(b"/home/alice/a.php")])
    for _ in range(3):
        service.retry_now()
        service.deliver_due(3, flush=True)
    assert len(http_receiver.on("/json")) == 1
    assert [d.sink for d in service.pending()] == ["chat#2"]


def test_exec_sink_gets_the_ecs_json_on_stdin_in_a_minimal_environment(
    db, tmp_path, exec_program, monkeypatch
):
    monkeypatch.setenv("FIM_TEST_SECRET_IN_PARENT", "must-not-leak")
    out = tmp_path / "received.jsonl"
    service = make_service(db, [{"name": "cmd", "type": "exec", "argv": [str(exec_program), str(out)]}])
    add_findings(db, service, [finding(b"/home/alice/a.php"), finding(b"/home/alice/b.php")])
    deliver_all(service)
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(e["file"]["path"] for e in events) == ["/home/alice/a.php", "/home/alice/b.php"]
    env = dict(
        line.split("=", 1)
        for line in (tmp_path / "received.jsonl.env").read_text().splitlines()
        if "=" in line
    )
    assert "FIM_TEST_SECRET_IN_PARENT" not in env
    assert env["FIM_SINK"] == "cmd" and env["PATH"].startswith("/usr/local/sbin")
    assert set(env) <= {"PATH", "LANG", "LC_ALL", "FIM_SINK", "FIM_EVENTS", "PWD", "SHLVL", "_", "OLDPWD"}


def test_exec_timeout_kills_the_whole_process_group(db, tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    program = tmp_path / "slow"
    program.write_text(f"#!/bin/sh\nsleep 300 &\necho $! > {pid_file}\nwait\n")
    program.chmod(0o755)
    service = make_service(db, [{"name": "cmd", "type": "exec", "argv": [str(program)], "timeout": 1.0}])
    add_findings(db, service, [finding(b"/home/alice/a.php")])
    started = time.monotonic()
    assert service.deliver_due(30) == 0
    assert time.monotonic() - started < 25
    (d,) = service.pending()
    assert "did not finish within 1s" in d.last_error
    grandchild = int(pid_file.read_text())
    assert wait_until(lambda: not _alive(grandchild), timeout=10)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_exec_program_writable_by_others_is_refused(db, tmp_path, exec_program):
    exec_program.chmod(0o777)
    with pytest.raises(ConfigError) as err:
        make_service(db, [{"name": "cmd", "type": "exec", "argv": [str(exec_program), "x"]}])
    assert "alerts.sinks[0].argv" in str(err.value) and "writable by group or others" in str(err.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="ownership rules apply when fim runs as root")
def test_exec_program_not_owned_by_root_is_refused_when_running_as_root(db, exec_program):
    os.chown(exec_program, 65534, 65534)
    with pytest.raises(ConfigError) as err:
        make_service(db, [{"name": "cmd", "type": "exec", "argv": [str(exec_program), "x"]}])
    assert "not owned by root" in str(err.value)


def test_exec_program_replaced_by_a_writable_one_after_start_is_not_run(db, tmp_path, exec_program):
    out = tmp_path / "out"
    service = make_service(db, [{"name": "cmd", "type": "exec", "argv": [str(exec_program), str(out)]}])
    exec_program.chmod(0o777)
    add_findings(db, service, [finding(b"/home/alice/a.php")])
    assert service.deliver_due(5) == 0 and not out.exists()
    assert "writable by group or others" in service.pending()[0].last_error


def test_jsonl_sink_appends_one_ecs_event_per_line(db, tmp_path):
    out = tmp_path / "events.jsonl"
    out.write_text('{"earlier":1}\n')
    service = make_service(db, [{"name": "siem", "type": "jsonl", "path": str(out), "max_batch": 100}])
    add_findings(db, service, [finding(b"/home/alice/a.php"), finding(b"/home/alice/\xff.php")])
    deliver_all(service)
    lines = out.read_text().splitlines()
    assert lines[0] == '{"earlier":1}' and len(lines) == 3
    raw = {
        base64.b64decode(json.loads(x)["fim"]["path_b64"])
        for x in lines[1:]
        if "path_b64" in json.loads(x)["fim"]
    }
    assert raw == {b"/home/alice/\xff.php"}


def test_jsonl_sink_does_not_follow_a_symlink_at_its_path(db, tmp_path):
    target = tmp_path / "elsewhere"
    link = tmp_path / "events.jsonl"
    link.symlink_to(target)
    service = make_service(db, [{"name": "siem", "type": "jsonl", "path": str(link)}])
    add_findings(db, service, [finding(b"/home/alice/a.php")])
    assert service.deliver_due(5) == 0 and not target.exists()


def test_background_thread_delivers_and_stop_leaves_the_rest_in_the_database(db, http_receiver):
    service = make_service(db, [webhook(http_receiver)])
    service.start()
    try:
        add_findings(db, service, [finding(b"/home/alice/a.php")])
        assert wait_until(lambda: len(http_receiver.on("/hook")) == 1)
        http_receiver.stop()
        add_findings(db, service, [finding(b"/home/alice/b.php")])
        assert wait_until(lambda: service.pending() and service.pending()[0].attempts >= 1)
    finally:
        service.stop(10)
    assert service.pending_count() == 1
    http_receiver.start()
    deliver_all(make_service(db, [webhook(http_receiver)]))
    assert len(set(event_ids(http_receiver.on("/hook")))) == 2


def test_two_deliverers_on_one_database_never_send_the_same_alert_twice(db, http_receiver):
    http_receiver.delay = 0.3
    first, second = make_service(db, [webhook(http_receiver)]), make_service(db, [webhook(http_receiver)])
    add_findings(db, first, [finding(f"/home/alice/{i}.php".encode()) for i in range(6)])
    threads = [threading.Thread(target=s.deliver_due, args=(20,)) for s in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    deliver_all(first)
    ids = event_ids(http_receiver.on("/hook"))
    assert len(ids) == 6 == len(set(ids))


def test_smtp_password_and_webhook_secrets_never_reach_errors_or_logs(db, smtp_server, caplog):
    smtp_server.stop()
    mail = f"mailto://ops:Sup3rS3cretPw@127.0.0.1:{smtp_server.port}?from=fim@example.com&to=ops@example.com"
    hook = "http://127.0.0.1:9/services/T0KEN-ABCDEFGH/x"
    sinks = [
        {"name": "mail", "type": "apprise", "urls": [mail], "timeout": 2.0},
        {"name": "hook", "type": "webhook", "url": hook, "secret": "hmac-S3CRET", "timeout": 2.0,
         "headers": {"Authorization": "Bearer HEADER-S3CRET"}},
    ]  # fmt: skip
    service = make_service(db, sinks, health_after=0)
    caplog.set_level("DEBUG")
    add_findings(db, service, [finding(b"/home/alice/a.php")])
    service.deliver_due(5, flush=True)
    errors = " ".join(d.last_error or "" for d in service.pending())
    assert "127.0.0.1" in errors  # the errors say where, not with what
    for secret in ("Sup3rS3cretPw", "T0KEN-ABCDEFGH", "hmac-S3CRET", "HEADER-S3CRET"):
        assert secret not in errors and secret not in caplog.text


def test_exec_programs_error_output_never_shows_a_secret_from_its_environment(db, tmp_path):
    program = tmp_path / "leaky.sh"
    program.write_text('#!/bin/sh\ncat >/dev/null\necho "post failed: ?token=$API_TOKEN" >&2\nexit 3\n')
    program.chmod(0o755)
    token = "s3cr3t-T0KEN-value-9f8e7d"
    service = make_service(
        db, [{"name": "cmd", "type": "exec", "argv": [str(program)], "env": {"API_TOKEN": token}}]
    )
    add_findings(db, service, [finding(b"/srv/alice/up/x.php")])
    service.deliver_due(5.0, flush=True)
    with sqlite3.connect(db) as conn:
        stored = [row[0] for row in conn.execute("SELECT last_error FROM alert_outbox")]
        stored += [row[0] for row in conn.execute("SELECT last_error FROM alert_sinks")]
    assert any("exit status 3" in (e or "") for e in stored)  # the failure is recorded...
    assert not any(token in (e or "") for e in stored)  # ...without the token
