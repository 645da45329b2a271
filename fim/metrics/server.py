"""The ``/metrics`` endpoint: the client library's HTTP server on the configured address,
serving one registry (never the library's global one)."""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from fim.metrics.config import ListenAddress


class MetricsServer:
    """A running endpoint; :meth:`stop` closes its socket."""

    def __init__(self, address: ListenAddress, registry: CollectorRegistry):
        self.address = address
        self._server: WSGIServer
        self._thread: threading.Thread
        # Raises OSError (address in use, not available here...) for the caller to report.
        self._server, self._thread = start_http_server(address.port, addr=address.host, registry=registry)

    @property
    def port(self) -> int:
        return self._server.server_port

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)
