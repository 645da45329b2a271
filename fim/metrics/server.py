"""The ``/metrics`` endpoint: the client library's exposition on the configured address,
serving one registry (never the library's global one).

One connection at a time, each with a deadline: any local user can reach a loopback port,
and the client library's own server starts a thread per connection, so idle connections
could pile up threads until the unit's task limit stops the daemon forking its workers. A
scrape takes milliseconds; a client that dawdles is cut off and Prometheus simply retries.
"""

from __future__ import annotations

import socket
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from fim.metrics.config import ListenAddress

CONNECTION_TIMEOUT = 5.0  # seconds a client may take to send its request and read the answer


class _OneAtATime(WSGIServer):
    """wsgiref's server is not threaded: requests are served in turn, each with a deadline."""

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.settimeout(CONNECTION_TIMEOUT)
        return conn, addr


class _OneAtATimeV6(_OneAtATime):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not news: the base class would write each one to stderr."""


class MetricsServer:
    """A running endpoint; :meth:`stop` closes its socket."""

    def __init__(self, address: ListenAddress, registry: CollectorRegistry):
        self.address = address
        server_class = _OneAtATimeV6 if ":" in address.host else _OneAtATime
        # Raises OSError (address in use, not available here...) for the caller to report.
        self._server = make_server(
            address.host,
            address.port,
            make_wsgi_app(registry),
            server_class=server_class,
            handler_class=_Quiet,
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="fim-metrics", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_port

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)
