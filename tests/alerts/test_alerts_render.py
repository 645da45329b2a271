"""Messages for people: one renderer on top of paths.display, then what each channel interprets."""

from __future__ import annotations

import json
import re

import pytest
import requests
from alert_support import add_findings, deliver_all, finding, make_service

from fim.alerts import render
from fim.core.model import Severity

LIVE_BROADCAST = re.compile(r"@(everyone|here|all|channel)\b", re.IGNORECASE)


def row(path: bytes, tenant: str | None = "alice", severity: str = "critical", **extra) -> dict:
    base = {
        "id": 1, "event_id": "e" * 32, "scan_id": 1, "detected_ns": 1_700_000_000_000_000_000, "path": path,
        "tenant": tenant, "rule": "test_marker_eval", "ruleset": "marker", "severity": severity,
        "description": "test marker", "family": "test", "change": "new", "sha256": "ab" * 32, "size": 44,
        "uid": 1000, "owner": "alice",
    }  # fmt: skip
    return {**base, **extra}


def test_paths_in_messages_are_displayed_escaped():
    hostile = b"/home/alice/evil\xe2\x80\xaegnp.php\r\nBcc: x@example.com\xff\x1b[31m"
    msg = render.findings_message([row(hostile)], "web01")
    assert "/home/alice/evil\\u202egnp.php\\r\\nBcc: x@example.com\\xff\\x1b[31m" in msg.body
    assert "\u202e" not in msg.body and "\r" not in msg.body and "\x1b" not in msg.body
    assert all(not line.startswith("Bcc:") for line in msg.body.splitlines())


def test_one_tenant_message_lists_the_first_findings_and_counts_the_rest():
    rows = [row(f"/home/alice/{i:02}.php".encode()) for i in range(25)]
    msg = render.findings_message(rows, "web01", max_listed=10)
    assert msg.title == "[fim] CRITICAL: 25 findings for tenant alice on web01"
    assert msg.body.count("/home/alice/") == 10
    assert "... and 15 more for tenant alice." in msg.body
    assert "Run `fim scan` on web01 to list every finding." in msg.body


def test_combined_message_puts_the_worst_tenant_first():
    rows = [row(b"/home/bob/a.php", "bob", "low"), row(b"/home/alice/a.php", "alice", "critical")]
    msg = render.findings_message(rows, "web01")
    assert msg.title == "[fim] CRITICAL: 2 findings in 2 tenants on web01"
    assert msg.body.index("tenant alice: 1 finding") < msg.body.index("tenant bob: 1 finding")
    assert msg.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("@everyone look", "(at)everyone look"),
        ("x@here and @all and @channel", "x(at)here and (at)all and (at)channel"),
        ("ping @admin now", "ping (at)admin now"),
        ("<!channel> <!here|here> <@U024BE7LH> <#C1>", "<(!)channel> <(!)here|here> <(at)U024BE7LH> <(#)C1>"),
        ("mail ops@example.com", "mail ops@example.com"),
    ],
)
def test_mentions_are_neutralised_visibly(text, safe):
    assert render.neutralise_mentions(text) == safe


def test_email_subject_is_one_line_of_bounded_length():
    msg = render.Message("a\r\nBcc: x@example.com\u2028" + "y" * 500, "body", Severity.HIGH)
    subject = render.for_email(msg).title
    assert "\r" not in subject and "\n" not in subject and "\u2028" not in subject
    assert subject.startswith("a Bcc: x@example.com y") and len(subject) == render.SUBJECT_LIMIT


class _Captured:
    """Stands in for a vendor's API (Slack, Discord cannot run here): records the exact payload."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple[str, dict]] = []
        monkeypatch.setattr(requests, "post", self.post)
        monkeypatch.setattr(requests, "request", self.request)

    def post(self, url, data=None, **kwargs):
        self.calls.append((url, json.loads(data)))
        return _Response()

    def request(self, method, url, data=None, **kwargs):
        return self.post(url, data=data, **kwargs)


class _Response:
    status_code = 200
    content = b"ok"
    text = "ok"
    headers: dict = {}  # noqa: RUF012

    def json(self):
        return {}


HOSTILE = b"/home/alice/www/@everyone <!channel> <@U024BE7LH> a&b <x>.php"


def test_slack_payload_escapes_markup_once_and_pings_nobody(db, monkeypatch):
    api = _Captured(monkeypatch)
    url = "slack://T1abcdef/B1abcdefg/abcdefghijklmnopqrstuvwx"
    service = make_service(db, [{"name": "slack", "type": "apprise", "urls": [url]}])
    add_findings(db, service, [finding(HOSTILE)])
    deliver_all(service)
    ((endpoint, payload),) = api.calls
    assert endpoint == "https://hooks.slack.com/services/T1abcdef/B1abcdefg/abcdefghijklmnopqrstuvwx"
    text = payload["attachments"][0]["text"]
    assert (
        "/home/alice/www/(at)everyone &lt;(!)channel&gt; &lt;(at)U024BE7LH&gt; a&amp;b &lt;x&gt;.php" in text
    )
    assert "&amp;lt;" not in text  # not escaped twice
    assert "<" not in text and ">" not in text and not LIVE_BROADCAST.search(text)


def test_discord_payload_has_no_live_mention(db, monkeypatch):
    api = _Captured(monkeypatch)
    service = make_service(
        db,
        [{"name": "discord", "type": "apprise", "urls": ["discord://1234567890/abcdefghijklmnopqrstuvwxyz"]}],
    )
    add_findings(db, service, [finding(HOSTILE)])
    deliver_all(service)
    ((_endpoint, payload),) = api.calls
    content = payload["content"]
    assert "(at)everyone" in content and "<(at)U024BE7LH>" in content
    assert not LIVE_BROADCAST.search(content) and "<@" not in content and "<!" not in content
    assert "allowed_mentions" not in payload or payload["allowed_mentions"].get("parse") == []


def test_mattermost_post_pings_nobody(db, http_receiver):
    url = f"mmost://127.0.0.1:{http_receiver.port}/tok3nvalue"
    service = make_service(db, [{"name": "mm", "type": "apprise", "urls": [url]}])
    add_findings(db, service, [finding(b"/home/alice/@all @here @channel x@everyone.php")])
    deliver_all(service)
    (req,) = http_receiver.on("/hooks/tok3nvalue")
    text = req.json["text"]
    assert "(at)all (at)here (at)channel x(at)everyone.php" in text and not LIVE_BROADCAST.search(text)


MARKDOWN_NAME = b"/home/alice/[urgent: reset your password](https://evil.example/login)_**x**_||y||`z`.php"


def test_mattermost_post_shows_a_markdown_link_in_a_file_name_as_text(db, http_receiver):
    url = f"mmost://127.0.0.1:{http_receiver.port}/tok3nvalue"
    service = make_service(db, [{"name": "mm", "type": "apprise", "urls": [url]}])
    add_findings(db, service, [finding(MARKDOWN_NAME)])
    deliver_all(service)
    (req,) = http_receiver.on("/hooks/tok3nvalue")
    text = req.json["text"]
    assert "](" not in text.replace("\\]", "")  # no live [text](url) link
    assert (
        r"\[urgent: reset your password\](https://evil.example/login)\_\*\*x\*\*\_\|\|y\|\|\`z\`.php" in text
    )


def test_discord_content_shows_a_markdown_link_in_a_file_name_as_text(db, monkeypatch):
    api = _Captured(monkeypatch)
    url = "discord://1234567890/abcdefghijklmnopqrstuvwxyz"
    service = make_service(db, [{"name": "discord", "type": "apprise", "urls": [url]}])
    add_findings(db, service, [finding(MARKDOWN_NAME)])
    deliver_all(service)
    ((_endpoint, payload),) = api.calls
    assert r"\[urgent: reset your password\](https://evil.example/login)" in payload["content"]
    assert "](" not in payload["content"].replace("\\]", "")


def test_markdown_escaping_keeps_every_character_readable():
    shown = r"/home/a/[x](y)_*~`|\u202e.php"
    escaped = render.markdown_escape(shown)
    assert re.sub(r"\\(.)", r"\1", escaped) == shown
