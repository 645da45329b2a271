"""Helpers for the alert tests: loopback receivers (HTTP, SMTP), findings, services."""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller

from fim.alerts import AlertService
from fim.config import loader as config
from fim.core.model import Change, FileState, Finding, RuleMatch, Severity
from fim.scanner.build import alert_service
from fim.store.database import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float = 30.0, step: float = 0.05) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


# -- HTTP ----------------------------------------------------------------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """An HTTP server on 127.0.0.1 that records every POST. ``status`` and ``delay`` set how it
    answers; ``stop()`` makes the port refuse connections until ``start()``."""

    port: int = field(default_factory=free_port)
    status: int = 200
    delay: float = 0.0
    requests: list[Request] = field(default_factory=list)
    _server: http.server.ThreadingHTTPServer | None = None

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay:
                    time.sleep(receiver.delay)
                    if receiver.delay >= 1:  # a hanging server: the client gave up already
                        return
                if receiver.status == 200:
                    receiver.requests.append(Request(self.path, dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def on(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]


# -- SMTP ----------------------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@dataclass
class SmtpServer:
    port: int = field(default_factory=free_port)
    mailbox: Mailbox = field(default_factory=Mailbox)
    _controller: Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def url(self) -> str:
        # apprise: plain SMTP (mode=insecure is the default for mailto://), no login
        return f"mailto://127.0.0.1:{self.port}?from=fim@example.com&to=ops@example.com"


# -- findings and services -------------------------------------------------------------------------


def finding(path: bytes, *, tenant: str | None = "alice", severity: Severity = Severity.CRITICAL,
            rule: str = "test_marker_eval", family: str = "test", content: str = "") -> Finding:  # fmt: skip
    digest = (content or path.hex()).encode().hex()[:64].ljust(64, "0")
    state = FileState(path, 1, 2, 44, 0o100644, 1000, 1000, 1, 1, digest)
    match = RuleMatch(rule, "marker", severity, "test marker: eval of request input", family)
    return Finding(path, tenant, match, Change.NEW, state, "alice", time.time_ns())


def add_findings(db: Path, service: AlertService | None, findings: list[Finding]) -> None:
    """Commit findings the way a scan does (one transaction, the alert hook inside it)."""
    with Store.open(db) as store:
        if service is not None:
            service.install(store)
        scan_id = store.begin_scan("scan", ["/"], "test")
        store.add_findings(findings, scan_id)
        store.finish_scan(scan_id, "done", {})


def make_service(db: Path, sinks: list[dict], **settings) -> AlertService:
    settings = {"retry_initial": 0.05, "retry_max": 0.2, "hostname": "testhost", **settings}
    cfg = config.from_dict({"alerts": {"sinks": sinks, **settings}, "database": {"busy_timeout": 10.0}})
    return alert_service(cfg, db)


def deliver_all(service: AlertService, expect: int | None = None, timeout: float = 30.0) -> None:
    """Deliver until the outbox is empty (retrying through backoff), within a generous timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        service.retry_now()
        service.deliver_due(5.0, flush=True)
        if service.pending_count() == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"still pending: {[(d.sink, d.last_error) for d in service.pending()]}")
