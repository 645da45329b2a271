"""Storm control: grouping per tenant, rate limits, digests; health alerts when a sink fails."""

from __future__ import annotations

import re
import sqlite3

from alert_support import HttpReceiver, add_findings, deliver_all, finding, make_service

from fim.core.model import Severity


def chat_sinks(receiver, **extra) -> list[dict]:
    return [
        {"name": "json", "type": "apprise", "urls": [f"json://127.0.0.1:{receiver.port}/json"], **extra},
        {"name": "mm", "type": "apprise", "urls": [f"mmost://127.0.0.1:{receiver.port}/tok3nvalue"], **extra},
    ]


def counted(title: str) -> int:
    return int(re.search(r"(\d+) findings?", title).group(1))


def test_a_thousand_findings_in_a_minute_make_a_handful_of_messages_per_chat_sink(db, http_receiver):
    service = make_service(db, chat_sinks(http_receiver, group_window=60))
    for batch in range(20):  # 20 scans' worth, 50 findings each, spread over 40 tenants
        tenants = [f"t{(batch * 50 + i) % 40}" for i in range(50)]
        add_findings(
            db,
            service,
            [finding(f"/home/{t}/{batch}-{i}.php".encode(), tenant=t) for i, t in enumerate(tenants)],
        )
    assert service.pending_count() == 2000
    deliver_all(service)
    json_posts, mm_posts = http_receiver.on("/json"), http_receiver.on("/hooks/tok3nvalue")
    assert 1 <= len(json_posts) <= 5 and 1 <= len(mm_posts) <= 5
    assert sum(counted(r.json["title"]) for r in json_posts) == 1000
    assert "in 40 tenants" in json_posts[0].json["title"]
    assert len(json_posts[0].json["message"]) < 20_000  # lists the first few, counts the rest


def test_findings_of_one_window_become_one_message_per_tenant(db, http_receiver):
    service = make_service(db, chat_sinks(http_receiver, group_window=60)[:1])
    add_findings(db, service, [finding(b"/home/alice/a.php"), finding(b"/home/bob/a.php", tenant="bob")])
    add_findings(db, service, [finding(b"/home/alice/b.php")])  # joins alice's open group
    dues = {d.tenant: d.due_ns for d in service.pending() if d.tenant == "alice"}
    assert len(set(dues.values())) == 1
    assert service.deliver_due(5) == 0  # the window is still open
    deliver_all(service)
    titles = sorted(r.json["title"] for r in http_receiver.on("/json"))
    assert titles == [
        "[fim] CRITICAL: 1 finding for tenant bob on testhost",
        "[fim] CRITICAL: 2 findings for tenant alice on testhost",
    ]


def test_rate_limit_merges_what_is_due_and_holds_the_rest(db, http_receiver):
    service = make_service(db, chat_sinks(http_receiver, group_window=0, rate_limit=2, rate_period=3600)[:1])
    add_findings(db, service, [finding(b"/home/a/1.php", tenant="a")])
    assert service.deliver_due(5) == 1
    add_findings(db, service, [finding(f"/home/{t}/1.php".encode(), tenant=t) for t in "bcd"])
    assert service.deliver_due(5) == 3  # one token left: the three tenants share one message
    add_findings(db, service, [finding(b"/home/e/1.php", tenant="e")])
    assert service.deliver_due(5) == 0 and service.pending_count() == 1  # no token until one refills
    titles = [r.json["title"] for r in http_receiver.on("/json")]
    assert titles == [
        "[fim] CRITICAL: 1 finding for tenant a on testhost",
        "[fim] CRITICAL: 3 findings in 3 tenants on testhost",
    ]


def test_digest_waits_for_its_time_then_sends_one_message_beside_immediate_chat(db, http_receiver):
    sinks = [
        {"name": "mail", "type": "apprise", "urls": [f"json://127.0.0.1:{http_receiver.port}/digest"],
         "mode": "digest", "digest_interval": 3600},
        {"name": "chat", "type": "apprise", "urls": [f"json://127.0.0.1:{http_receiver.port}/chat"],
         "group_window": 0},
    ]  # fmt: skip
    service = make_service(db, sinks)
    add_findings(db, service, [finding(f"/home/{t}/x.php".encode(), tenant=t) for t in ("alice", "bob")])
    service.deliver_due(5, flush=True)
    assert len(http_receiver.on("/chat")) == 2 and http_receiver.on("/digest") == []
    (d,) = {d.due_ns for d in service.pending()}
    assert d % (3600 * 10**9) == 0  # on the hour
    with sqlite3.connect(db) as conn:  # an hour passes
        conn.execute("UPDATE alert_outbox SET due_ns = 0")
    deliver_all(service)
    (digest,) = http_receiver.on("/digest")
    assert digest.json["title"] == "[fim digest] CRITICAL: 2 findings in 2 tenants on testhost"


def test_a_sink_failing_too_long_raises_a_health_alert_through_the_others(db, http_receiver):
    hook_receiver = HttpReceiver()  # not started: connection refused
    secret_url = hook_receiver.url("/hook/S3CRETT0KEN")
    sinks = [
        {"name": "hook", "type": "webhook", "url": secret_url, "timeout": 2.0},
        {"name": "chat", "type": "apprise", "urls": [f"json://127.0.0.1:{http_receiver.port}/chat"],
         "group_window": 0},
    ]  # fmt: skip
    service = make_service(db, sinks, health_after=0)
    add_findings(db, service, [finding(b"/home/alice/a.php")])
    service.deliver_due(5)  # the hook fails and backs off; chat gets the finding and the health alert
    chat = [r.json for r in http_receiver.on("/chat")]
    health = [m for m in chat if "has been failing" in m["message"]]
    assert len(health) == 1 and health[0]["title"].startswith("[fim] HIGH: Alert sink hook")
    assert "connection refused" in health[0]["message"] and "S3CRETT0KEN" not in health[0]["message"]
    assert all("S3CRETT0KEN" not in (d.last_error or "") for d in service.pending())

    hook_receiver.start()
    try:
        deliver_all(service)  # the hook is back: the finding, then "delivers again" everywhere
    finally:
        hook_receiver.stop()
    hook_events = [r.json for r in hook_receiver.on("/hook/S3CRETT0KEN")]
    assert [e["event"]["dataset"] for e in hook_events] == ["fim.finding", "fim.health"]
    assert "delivers again" in hook_events[1]["message"]


def test_health_alerts_are_deduplicated_by_key(db, http_receiver):
    service = make_service(db, chat_sinks(http_receiver, group_window=0), health_repeat=3600)
    assert service.health("inotify watch limit reached: 8192 watches", "high", "watch-limit") is True
    assert service.health("inotify watch limit reached: 8192 watches", "high", "watch-limit") is False
    assert service.health("database almost full", Severity.MEDIUM, "disk") is True
    deliver_all(service)
    titles = sorted(r.json["title"] for r in http_receiver.on("/json"))
    assert titles == [
        "[fim] HIGH: inotify watch limit reached: 8192 watches on testhost",
        "[fim] MEDIUM: database almost full on testhost",
    ]


def test_health_alerts_honour_min_severity_and_the_health_switch(db, http_receiver):
    sinks = chat_sinks(http_receiver, group_window=0)
    sinks[0]["min_severity"] = "high"
    sinks[1]["health"] = False
    service = make_service(db, sinks)
    service.health("low disk", "medium", "disk")
    service.health("watch limit", "critical", "watch")
    deliver_all(service)
    assert [r.json["title"] for r in http_receiver.on("/json")] == ["[fim] CRITICAL: watch limit on testhost"]
    assert http_receiver.on("/hooks/tok3nvalue") == []
