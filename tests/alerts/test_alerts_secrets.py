"""Secrets in the alert configuration never reach an error message, a log line, the status file
or a command's output: not when a secret-bearing key has the wrong type (a string where a list
is expected...), and not when the token hides in a URL's host name (issue 12, defect 7)."""

from __future__ import annotations

import json
import signal

import pytest

from tests.daemon.conftest import SHELL, daemon, hosting  # noqa: F401 - the same fixtures
from tests.faults.fault_support import log_events, wait_for

PASSWORD = "Pa55w0rdXYZsecret"
TOKEN = "tok3n9876abcdef"

# Each: a sink whose secret-bearing key has the wrong type, and the secret in it.
MISTYPED = [
    ('name = "mail"\ntype = "apprise"\n' f'urls = "mailtos://user:{PASSWORD}@mail.example.com"\n'),
    ('name = "hook"\ntype = "webhook"\n' f'url = ["https://{TOKEN}.hooks.example.com/x/{PASSWORD}"]\n'),
    ('name = "hook"\ntype = "webhook"\nurl = "https://hooks.example.com/x"\n'
     f'headers = "Bearer {PASSWORD}"\n'),
    ('name = "hook"\ntype = "webhook"\nurl = "https://hooks.example.com/x"\n' f'secret = ["{PASSWORD}"]\n'),
    ('name = "cmd"\ntype = "exec"\nargv = ["/bin/true"]\n' f'env = "API_KEY={PASSWORD}"\n'),
    ('name = "hook"\ntype = "webhook"\nurl = "https://hooks.example.com/x"\n'
     f'headers = {{ "Authorization: Bearer {PASSWORD}" = "x" }}\n'),
]  # fmt: skip


@pytest.mark.parametrize("sink", MISTYPED, ids=["urls-string", "url-list", "headers-string", "secret-list",
                                                "env-string", "header-name"])  # fmt: skip
def test_config_check_names_the_mistyped_secret_key_but_never_shows_its_value(fim, tmp_path, sink):
    conf = tmp_path / "fim.toml"
    conf.write_text("[[alerts.sinks]]\n" + sink)
    r = fim("config", "check", conf)
    shown = r.text + r.err.decode()
    assert r.code == 2, shown
    assert "alerts.sinks[0]." in shown
    assert PASSWORD not in shown and TOKEN not in shown


def test_daemon_reload_with_a_mistyped_apprise_url_keeps_the_password_out_of_log_and_status(daemon, hosting):  # noqa: F811
    d = daemon().start()
    good = d.config.read_text()
    d.config.write_text(good + "[[alerts.sinks]]\n" + MISTYPED[0])
    before = len(log_events(d.log))
    d.proc.send_signal(signal.SIGHUP)
    failed = wait_for(
        lambda: [e for e in log_events(d.log)[before:] if e.get("event", "").startswith("reload failed")],
        "the reload to fail",
        detail=lambda: d.log.read_text()[-2000:],
    )
    assert "alerts.sinks[0].urls" in failed[0]["error"]
    status_file = d.db.parent / "status.json"
    wait_for(lambda: "reload failed" in json.loads(status_file.read_text())["last_error"], "status.json")
    assert d.proc.poll() is None
    assert d.stop() == 0
    assert PASSWORD not in d.log.read_text()
    assert PASSWORD not in status_file.read_text()


def test_webhook_token_in_the_host_name_is_masked_by_every_command_that_shows_sinks(
    fim, tmp_path, marker_rules
):
    # *.invalid never resolves: the sink fails, and its alerts wait in the outbox
    url = f"https://{TOKEN}.hooks.invalid/fim"
    conf = tmp_path / "fim.toml"
    conf.write_text(
        f'[alerts]\nretry_initial = 0.05\n[[alerts.sinks]]\nname = "hook"\ntype = "webhook"\n'
        f'url = "{url}"\ntimeout = 2.0\n'
    )
    db = tmp_path / "fim.db"
    tree = tmp_path / "home/alice"
    tree.mkdir(parents=True)
    (tree / "up.php").write_bytes(SHELL)
    outputs = {}
    r = fim(
        "scan", "--config", conf, "--db", db, "--alert", "--no-bundled-rules", "--rules", marker_rules, tree
    )
    assert r.code == 1, r.err
    outputs["scan --alert"] = r.text + r.err.decode()
    r = fim("alerts", "check", "--config", conf)
    assert r.code == 0 and "ok  hook" in r.text, r.err
    outputs["alerts check"] = r.text + r.err.decode()
    r = fim("alerts", "test", "--config", conf)
    assert r.code == 2 and "FAILED  hook" in r.text
    outputs["alerts test"] = r.text + r.err.decode()
    for fmt in ("text", "json"):
        r = fim("alerts", "pending", "--config", conf, "--db", db, "--format", fmt)
        assert r.code == 0 and "up.php" in r.text, r.err
        outputs[f"alerts pending {fmt}"] = r.text + r.err.decode()
    r = fim("alerts", "retry", "--config", conf, "--db", db)
    outputs["alerts retry"] = r.text + r.err.decode()
    leaks = [name for name, text in outputs.items() if TOKEN in text]
    assert not leaks, {name: outputs[name] for name in leaks}
    assert "https://" in outputs["alerts check"]  # still says what kind of URL it is
