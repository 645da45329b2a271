"""A running ``fim daemon`` pulling packs: a new pack's rule finds a shell already on disk and
new ones, without a restart; a source failing too long raises a health finding."""

from __future__ import annotations

import json
import time

import pytest

from tests.daemon.conftest import spawn_daemons
from tests.updates.conftest import PACK_SHELL, Route


@pytest.fixture
def hosting(tmp_path):
    for tenant in ("alice", "bob"):
        (tmp_path / f"home/{tenant}/public_html/uploads").mkdir(parents=True)
    return tmp_path


@pytest.fixture
def daemon(hosting):
    yield from spawn_daemons(hosting)


def source_toml(pack_server, publisher, tls, interval: float = 1) -> str:
    return (
        f'[[updates.sources]]\nurl = "{pack_server.url()}"\npubkey_file = "{publisher.pub_file}"\n'
        f'ca_file = "{tls.ca_file}"\ninterval = {interval}\n'
    )


def test_new_pack_rule_finds_a_shell_already_on_disk_without_a_restart(
    daemon, hosting, pack_server, publisher, tls
):
    shell = hosting / "home/alice/public_html/uploads/new-kind.php"
    shell.write_bytes(PACK_SHELL)
    d = daemon(extra_config=source_toml(pack_server, publisher, tls)).start()
    d.wait_verdicts({bytes(shell)})
    assert d.verdicts()[bytes(shell)] == "clean"  # the running rules do not know it yet
    pid = d.proc.pid
    pack_server.routes["/pack.fimpack"] = Route(publisher.make(7))
    d.wait_finding(shell, timeout=60)
    later = hosting / "home/bob/public_html/uploads/written-after.php"
    later.write_bytes(PACK_SHELL)
    d.wait_finding(later)
    assert d.proc.poll() is None and d.proc.pid == pid
    rules = {r for p, r, _c in d.findings() if p in (bytes(shell), bytes(later))}
    assert rules == {"pack_rule_new"}
    log = [json.loads(line) for line in d.log.read_text().splitlines() if line.startswith("{")]
    assert any(e.get("event") == "rule pack installed" for e in log)
    assert any(e.get("event") == "reloaded" for e in log)


def test_source_failing_longer_than_health_after_raises_a_health_finding(
    daemon, hosting, pack_server, publisher, tls, fim
):
    pack_server.routes["/pack.fimpack"] = Route(b"", status=500)
    extra = source_toml(pack_server, publisher, tls) + "[updates]\nhealth_after = 0\n"
    d = daemon(extra_config=extra).start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(r == "fim_update_failing" for _p, r, _c in d.findings()):
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"no health finding; log:\n{d.log.read_text()[-3000:]}")
    status = fim("status", "--config", d.config, "--format", "json").json
    assert "rule updates failing" in status["degraded"]["updates"]
    assert "HTTP 500" in status["update_sources"][0]["last_error"]
    health = [r for _p, r, _c in d.findings() if r == "fim_update_failing"]
    time.sleep(3)  # more failed checks: still one health finding for this failing period
    assert [r for _p, r, _c in d.findings() if r == "fim_update_failing"] == health


def test_daemon_keeps_its_pack_when_a_later_one_does_not_compile(
    daemon, hosting, pack_server, publisher, tls
):
    pack_server.routes["/pack.fimpack"] = Route(publisher.make(7))
    d = daemon(extra_config=source_toml(pack_server, publisher, tls)).start()
    first = hosting / "home/alice/public_html/uploads/a.php"
    first.write_bytes(PACK_SHELL)
    d.wait_finding(first, timeout=60)
    broken = publisher.make(8, rules={"broken.yar": "rule broken { condition: nope }"})
    pack_server.routes["/pack.fimpack"] = Route(broken)
    deadline = time.monotonic() + 60
    while "does not compile" not in d.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "pack does not compile with the running rules; refused" in d.log.read_text()
    assert "keeping pack version 7" in d.log.read_text()
    second = hosting / "home/alice/public_html/uploads/b.php"
    second.write_bytes(PACK_SHELL)
    d.wait_finding(second)  # the running rules (pack 7) still find what only they know
    assert d.proc.poll() is None


def test_daemon_picks_up_a_pack_installed_by_fim_rules_update(
    daemon, hosting, pack_server, publisher, tls, fim
):
    # An hour between the daemon's own checks: only the command installs the pack.
    d = daemon(extra_config=source_toml(pack_server, publisher, tls, interval=3600)).start()
    shell = hosting / "home/bob/public_html/uploads/c.php"
    shell.write_bytes(PACK_SHELL)
    d.wait_verdicts({bytes(shell)})
    deadline = time.monotonic() + 30
    while "HTTP 404" not in d.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)  # the daemon's first check (nothing published yet) is done
    assert "HTTP 404" in d.log.read_text()
    pack_server.routes["/pack.fimpack"] = Route(publisher.make(9))
    run = fim("rules", "update", "--config", d.config)
    assert "installed pack acme version 9" in run.text, run.err
    d.wait_finding(shell, timeout=60)
    assert d.proc.poll() is None
