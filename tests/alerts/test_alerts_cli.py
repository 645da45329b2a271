"""`fim scan --alert` and `fim alerts ...` as an operator runs them, against real receivers."""

from __future__ import annotations

import base64
import json
import os
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from alert_support import HttpReceiver

from fim.core import paths

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_POST['x']); ?>"
LIVE_BROADCAST = re.compile(r"@(everyone|here|all|channel)\b", re.IGNORECASE)
HOSTILE_NAMES = [
    b"$(touch fim-pwned-dollar).php",
    b"`touch fim-pwned-backtick`.php",
    b"a;touch fim-pwned-semi;.php",
    b"evil\r\nBcc: victim@example.com\r\nX-Injected: 1.php",
    b"@everyone <!channel> @here.php",
    "evil\u202egnp.php".encode(),
    b"bad\xff\xfe.php",
]
LITERAL_TMP_X = b"$(touch /tmp/x).php"  # a path, not a name: directories "$(touch ", "tmp", "x).php"


def toml_sinks(sinks: list[dict]) -> str:
    out = []
    for sink in sinks:
        out.append("[[alerts.sinks]]")
        out += [f"{k} = {json.dumps(v)}" for k, v in sink.items()]
    return "\n".join(out) + "\n"


def write_config(tmp_path: Path, sinks: list[dict], **alerts) -> Path:
    conf = tmp_path / "fim.toml"
    settings = {"hostname": "web01", "retry_initial": 0.05, "retry_max": 0.2, **alerts}
    conf.write_text(
        f'[tenants]\npatterns = ["{tmp_path}/home/{{tenant}}/"]\n'
        "[alerts]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in settings.items()) + toml_sinks(sinks)
    )
    return conf


def scan_args(conf, db, marker_rules, tree):
    return [
        "scan",
        "--config",
        conf,
        "--db",
        db,
        "--alert",
        "--no-bundled-rules",
        "--rules",
        marker_rules,
        tree,
    ]


def raw_paths(events: list[dict]) -> list[bytes]:
    return [
        base64.b64decode(e["fim"]["path_b64"]) if "path_b64" in e["fim"] else e["file"]["path"].encode()
        for e in events
    ]


def hostile_tree(tmp_path: Path) -> tuple[Path, set[bytes]]:
    www = tmp_path / "home" / "alice" / "www"
    www.mkdir(parents=True)
    made = set()
    for name in HOSTILE_NAMES:
        path = os.fsencode(www) + b"/" + name
        with open(path, "wb") as fh:
            fh.write(SHELL)
        made.add(path)
    literal = os.fsencode(www) + b"/" + LITERAL_TMP_X
    os.makedirs(os.path.dirname(literal))
    with open(literal, "wb") as fh:
        fh.write(SHELL)
    made.add(literal)
    return tmp_path / "home", made


def test_hostile_names_are_alerted_everywhere_rendered_safely_and_nothing_runs(
    fim, tmp_path, marker_rules, http_receiver, smtp_server, exec_program
):
    tree, made = hostile_tree(tmp_path)
    exec_out, jsonl_out, db = tmp_path / "exec.jsonl", tmp_path / "siem.jsonl", tmp_path / "fim.db"
    port = http_receiver.port
    conf = write_config(
        tmp_path,
        [
            {"name": "hook", "type": "webhook", "url": http_receiver.url("/hook"), "secret": "k3y"},
            {"name": "json", "type": "apprise", "urls": [f"json://127.0.0.1:{port}/json"]},
            {"name": "mm", "type": "apprise", "urls": [f"mmost://127.0.0.1:{port}/mmt0ken"]},
            {"name": "mail", "type": "apprise", "urls": [smtp_server.url]},
            {"name": "cmd", "type": "exec", "argv": [str(exec_program), str(exec_out)]},
            {"name": "siem", "type": "jsonl", "path": str(jsonl_out)},
        ],
    )
    tmp_x_before = os.path.exists("/tmp/x") and os.stat("/tmp/x").st_mtime_ns
    r = fim(*scan_args(conf, db, marker_rules, tree))
    assert r.code == 1, r.err
    assert b"not delivered" not in r.err

    # Nothing was executed: no file the names ask a shell to create exists anywhere it could.
    for where in (Path("/"), Path.cwd(), tmp_path, exec_program.parent):
        assert not list(where.glob("fim-pwned-*")), where
    assert (os.path.exists("/tmp/x") and os.stat("/tmp/x").st_mtime_ns) == tmp_x_before

    # Machines: every finding once, with the exact bytes recoverable.
    hook_events = [req.json for req in http_receiver.on("/hook")]
    for events in (hook_events, _lines(exec_out), _lines(jsonl_out)):
        assert sorted(raw_paths(events)) == sorted(made)
        assert len({e["event"]["id"] for e in events}) == len(made)
        assert all(
            e["file"]["path"] == paths.display(p) for e, p in zip(events, raw_paths(events), strict=True)
        )

    # Email: one message for the tenant, to the configured recipient only, no injected header.
    (envelope,) = smtp_server.mailbox.messages
    assert envelope.rcpt_tos == ["ops@example.com"]
    msg = message_from_bytes(envelope.content, policy=policy.default)
    assert "Bcc" not in msg and "X-Injected" not in msg
    assert msg["Subject"] == f"[fim] CRITICAL: {len(made)} findings for tenant alice on web01"
    body = msg.get_body(("plain",)).get_content()
    assert "evil\\r\\nBcc: victim@example.com\\r\\nX-Injected: 1.php" in body
    assert "evil\\u202egnp.php" in body and "bad\\xff\\xfe.php" in body and "\u202e" not in body
    assert not any(line.startswith(("Bcc:", "X-Injected:")) for line in body.splitlines())

    # Chat: the names are there, escaped; no mention pings.
    (mm,) = http_receiver.on("/hooks/mmt0ken")
    text = mm.json["text"]
    assert "(at)everyone <(!)channel> (at)here.php" in text and not LIVE_BROADCAST.search(text)
    # Mattermost renders Markdown: the displayed backslash is escaped, so it shows as one.
    assert "\u202e" not in text and "evil\\\\u202egnp.php" in text
    (js,) = http_receiver.on("/json")
    assert "$(touch fim-pwned-dollar).php" in js.json["message"]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_rescanning_the_same_content_does_not_alert_again_but_new_content_does(
    fim, tmp_path, marker_rules, http_receiver
):
    tree = tmp_path / "home"
    (tree / "alice").mkdir(parents=True)
    (tree / "alice" / "up.php").write_bytes(SHELL)
    conf = write_config(tmp_path, [{"name": "hook", "type": "webhook", "url": http_receiver.url("/hook")}])
    db = tmp_path / "fim.db"
    assert fim(*scan_args(conf, db, marker_rules, tree)).code == 1
    os.utime(tree / "alice" / "up.php")  # touched, same content: read again, same verdict
    assert fim(*scan_args(conf, db, marker_rules, tree)).code == 1
    assert len(http_receiver.on("/hook")) == 1
    (tree / "alice" / "up.php").write_bytes(SHELL + b"\n// changed")
    assert fim(*scan_args(conf, db, marker_rules, tree)).code == 1
    ids = [req.json["event"]["id"] for req in http_receiver.on("/hook")]
    assert len(ids) == 2 and len(set(ids)) == 2


def test_scan_with_a_sink_down_keeps_the_alerts_and_retry_delivers_them_later(fim, tmp_path, marker_rules):
    receiver = HttpReceiver()  # down: nothing listens yet
    tree = tmp_path / "home"
    (tree / "alice").mkdir(parents=True)
    (tree / "alice" / "up.php").write_bytes(SHELL)
    secret_url = receiver.url("/hook/T0PS3CRET")
    conf = write_config(tmp_path, [{"name": "hook", "type": "webhook", "url": secret_url, "timeout": 2.0}])
    db = tmp_path / "fim.db"

    r = fim(*scan_args(conf, db, marker_rules, tree))
    assert r.code == 1
    assert b"1 not delivered yet" in r.err and b"sink hook:" in r.err and b"T0PS3CRET" not in r.err

    r = fim("alerts", "pending", "--config", conf, "--db", db)
    assert r.code == 0 and b"1 alert(s) pending" in r.err
    assert (
        "up.php" in r.text and "connection refused" in r.text and "T0PS3CRET" not in r.text + r.err.decode()
    )
    r = fim("alerts", "pending", "--config", conf, "--db", db, "--format", "json")
    (pending,) = r.json["pending"]
    assert (
        pending["sink"] == "hook" and pending["attempts"] == 1 and pending["path"].endswith("/alice/up.php")
    )

    receiver.start()
    try:
        r = fim("alerts", "retry", "--config", conf, "--db", db)
        assert r.code == 0, r.err
        assert b"1 alert(s) delivered, 0 pending" in r.err
        assert [req.json["file"]["name"] for req in receiver.on("/hook/T0PS3CRET")] == ["up.php"]
    finally:
        receiver.stop()


def test_alerts_test_sends_through_each_sink_and_reports_failures(fim, tmp_path, http_receiver):
    conf = write_config(
        tmp_path,
        [
            {"name": "hook", "type": "webhook", "url": http_receiver.url("/hook")},
            {"name": "chat", "type": "apprise", "urls": [f"json://127.0.0.1:{http_receiver.port}/json"]},
            {"name": "down", "type": "webhook", "url": HttpReceiver().url("/x/S3CR3T"), "timeout": 2.0},
        ],
    )
    r = fim("alerts", "test", "--config", conf, "--sink", "hook", "--sink", "chat")
    assert r.code == 0, r.text + r.err.decode()
    (hook,) = http_receiver.on("/hook")
    assert hook.json["event"]["dataset"] == "fim.test"
    (chat,) = http_receiver.on("/json")
    assert (
        chat.json["title"] == "[fim] LOW: test alert on web01" and "through sink chat" in chat.json["message"]
    )

    r = fim("alerts", "test", "--config", conf)
    assert (
        r.code == 2 and "FAILED  down" in r.text and "connection refused" in r.text and "S3CR3T" not in r.text
    )
    assert fim("alerts", "test", "--config", conf, "--sink", "nosuch").code == 2


def test_alerts_check_builds_every_sink(fim, tmp_path, exec_program):
    conf = write_config(tmp_path, [{"name": "cmd", "type": "exec", "argv": [str(exec_program)]}])
    r = fim("alerts", "check", "--config", conf)
    assert r.code == 0 and f"command {exec_program}" in r.text
    exec_program.chmod(0o777)
    r = fim("alerts", "check", "--config", conf)
    assert r.code == 2 and b"alerts.sinks[0].argv:" in r.err


@pytest.mark.parametrize("extra", [["--no-db"]])
def test_scan_alert_needs_a_database(fim, tmp_path, marker_rules, extra):
    (tmp_path / "t").mkdir()
    r = fim("scan", "--alert", *extra, "--no-bundled-rules", "--rules", marker_rules, tmp_path / "t")
    assert r.code == 2 and b"--alert needs a database" in r.err
