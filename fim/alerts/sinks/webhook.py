"""POST the ECS event (or a batch of them) to a URL, signed with HMAC-SHA256.

Body: one ECS event as a JSON object, or with ``max_batch > 1`` and several events due, a JSON
array of events. Headers:

- ``Content-Type: application/json``; ``X-Fim-Event-Id`` (the event's id, or the ids joined by
  commas for a batch) so the receiver can de-duplicate (delivery is at least once);
- ``X-Fim-Timestamp``: Unix seconds when the request was signed;
- ``X-Fim-Signature: sha256=<hex>``, only with a secret: HMAC-SHA256 keyed with the secret over
  ``<X-Fim-Timestamp> + "." + <raw body bytes>``. A receiver recomputes it, compares in constant
  time, and rejects stale timestamps (replays).

The system CA store verifies HTTPS; redirects are not followed (a redirect is a failure).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from fim.alerts.events import encode
from fim.alerts.secret_values import Masker, one_source, read_secret, shown_url
from fim.alerts.sinks.base import Audience, Batch, SinkError
from fim.core.version import __version__

if TYPE_CHECKING:
    from fim.alerts.config import SinkConfig
    from fim.alerts.secret_values import Masker
    from fim.alerts.sinks.base import Sink


SIGNATURE_HEADER = "X-Fim-Signature"
TIMESTAMP_HEADER = "X-Fim-Timestamp"
EVENT_ID_HEADER = "X-Fim-Event-Id"
_RESPONSE_LIMIT = 65536


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[override]
        return None  # urllib then raises HTTPError with the 3xx status


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookSink:
    """POSTs ECS events as raw JSON, signed with HMAC, following no redirect."""

    audience: Audience = "machines"

    def __init__(self, name: str, url: str, *, headers: dict[str, str], secret: str, masker: Masker):
        self.name = name
        self._url = url
        self._headers = dict(headers)
        self._secret = secret.encode()
        self._masker = masker
        self._shown = shown_url(url)  # a token may be anywhere in it, the host name included
        context = ssl.create_default_context()
        self._opener = urllib.request.build_opener(
            _NoRedirect(), urllib.request.HTTPSHandler(context=context)
        )

    def describe(self) -> str:
        return f"webhook {self._shown}"

    def send(self, batch: Batch, timeout: float) -> None:
        events = batch.events
        document = events[0] if len(events) == 1 else list(events)
        body = encode(json.dumps(document, ensure_ascii=False, separators=(",", ":")))
        stamp = str(int(time.time()))
        headers = {
            "User-Agent": f"fim/{__version__}",
            **self._headers,
            "Content-Type": "application/json",
            EVENT_ID_HEADER: ",".join(e["event"]["id"] for e in events),
            TIMESTAMP_HEADER: stamp,
        }
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(self._secret, stamp, body)
        # The scheme was checked when the sink was built: http or https only.
        request = urllib.request.Request(self._url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with self._opener.open(request, timeout=timeout) as response:
                response.read(_RESPONSE_LIMIT)
                status = response.status
        except urllib.error.HTTPError as exc:
            raise SinkError(f"{self._shown} answered HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise SinkError(self._masker.mask(f"{self._shown}: {_reason(exc.reason, timeout)}")) from None
        except TimeoutError:
            raise SinkError(f"{self._shown}: no answer within {timeout:g}s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise SinkError(self._masker.mask(f"{self._shown}: {exc.__class__.__name__}: {exc}")) from None
        if not 200 <= status < 300:
            raise SinkError(f"{self._shown} answered HTTP {status}")


def _reason(reason: object, timeout: float) -> str:
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g}s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason)


# -- the sink kind (see fim.alerts.sinks.registry) ------------------------------------------------

TYPE = "webhook"
KEYS = frozenset(
    {"url", "url_file", "url_env", "headers", "secret", "secret_file", "secret_env", "max_batch"}
)


def validate(cfg: SinkConfig) -> list[str]:
    problems = one_source("url", bool(cfg.url), cfg.url_file, cfg.url_env)
    if cfg.url and not cfg.url.lower().startswith(("https://", "http://")):
        problems.append("url: must start with https:// (or http://)")  # never echo the URL
    if sum(map(bool, (cfg.secret, cfg.secret_file, cfg.secret_env))) > 1:
        problems.append("secret: give one of secret, secret_file, secret_env")
    for key in cfg.headers:
        if not re.fullmatch(r"[A-Za-z0-9-]{1,64}", key):
            # not quoted: a mistyped "Authorization: Bearer <token>" key holds the token
            problems.append("headers: a key is not a valid header name (letters, digits, '-')")
    return problems


def build(cfg: SinkConfig, masker: Masker) -> tuple[list[Sink], list[str]]:
    url = read_secret(cfg.url, cfg.url_file, cfg.url_env, "url")
    masker.add(url, url=True)
    secret = read_secret(cfg.secret, cfg.secret_file, cfg.secret_env, "secret")
    masker.add(secret)
    for value in cfg.headers.values():
        masker.add(value)
    if not url.lower().startswith(("https://", "http://")):
        return [], ["url: must start with https:// (or http://)"]
    return [WebhookSink(cfg.name, url, headers=cfg.headers, secret=secret, masker=masker)], []
