"""Fetching a pack over verified HTTPS with the standard library.

The server's certificate is checked against the system CAs (or a configured private CA) with
host name checking; a conditional request (``If-None-Match``/``If-Modified-Since``) lets an
unchanged pack cost a 304 and no body. Redirects are followed only on the same scheme, host and
port, at most :data:`MAX_REDIRECTS` times: a pack source is one server the operator chose. The
body is read in chunks and refused as soon as it passes ``max_size``; a body shorter than its
``Content-Length`` is refused as truncated; every connect and read has a timeout, and the whole
download a deadline.
"""

from __future__ import annotations

import http.client
import re
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from fim.core.errors import FimError
from fim.core.paths import display
from fim.core.version import __version__

MAX_REDIRECTS = 3
CHUNK = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)


class FetchError(FimError):
    """The pack could not be fetched; the message says why, with the URL."""


@dataclass(frozen=True)
class Fetched:
    """A response: ``body`` is None for 304 Not Modified."""

    body: bytes | None
    etag: str = ""
    last_modified: str = ""


def fetch(
    url: str, *, etag: str = "", last_modified: str = "", ca_file: str = "", max_size: int, timeout: float
) -> Fetched:  # fmt: skip
    context = ssl.create_default_context(cafile=ca_file or None)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    origin = _origin(url)
    deadline = time.monotonic() + max(timeout * 10, 60.0)
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        conn = _connect(current, context, timeout)
        try:
            parts = urlsplit(current)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            headers = {"User-Agent": f"fim/{__version__}", "Accept-Encoding": "identity"}
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
            except ssl.SSLCertVerificationError as exc:
                why = display(str(exc.verify_message))
                raise FetchError(f"{url}: TLS certificate not trusted: {why}") from None
            except (OSError, http.client.HTTPException) as exc:
                raise FetchError(f"{url}: request failed: {_why(exc)}") from None
            if resp.status in _REDIRECTS:
                location = resp.getheader("Location") or ""
                nxt = urljoin(current, location)
                if _origin(nxt) != origin:
                    raise FetchError(f"{url}: redirect to another host refused ({display(_origin(nxt))})")
                current = nxt
                continue
            if resp.status == 304:
                return Fetched(None, etag, last_modified)
            if resp.status != 200:
                raise FetchError(f"{url}: HTTP {resp.status} {display(resp.reason or '')[:200]}")
            body = _read_body(url, resp, max_size, deadline)
            etag_got, modified_got = resp.getheader("ETag"), resp.getheader("Last-Modified")
            return Fetched(body, _validator(etag_got), _validator(modified_got))
        finally:
            conn.close()
    raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return f"{parts.scheme}://{parts.netloc}"
    return f"https://{parts.hostname.lower()}:{parts.port or 443}"


def _connect(url: str, context: ssl.SSLContext, timeout: float) -> http.client.HTTPSConnection:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise FetchError(f"{url}: only https:// addresses are fetched")
    return http.client.HTTPSConnection(parts.hostname, parts.port or 443, context=context, timeout=timeout)


def _read_body(url: str, resp: http.client.HTTPResponse, max_size: int, deadline: float) -> bytes:
    length_text = resp.getheader("Content-Length")
    length = int(length_text) if length_text and length_text.isdigit() else None
    if length is not None and length > max_size:
        raise FetchError(f"{url}: response of {length} bytes is larger than max_size ({max_size})")
    chunks: list[bytes] = []
    received = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(f"{url}: download took too long; abandoned")
        try:
            chunk = resp.read(CHUNK)
        except http.client.IncompleteRead:
            raise FetchError(f"{url}: truncated download: the connection closed early") from None
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"{url}: download failed after {received} bytes: {_why(exc)}") from None
        if not chunk:
            break
        received += len(chunk)
        if received > max_size:
            raise FetchError(f"{url}: response is larger than max_size ({max_size} bytes); abandoned")
        chunks.append(chunk)
    if length is not None and received != length:
        raise FetchError(f"{url}: truncated download: got {received} of {length} bytes")
    return b"".join(chunks)


def _validator(value: str | None) -> str:
    """A validator to send back next time, or "" when it could not be a header value (the
    server chose it: a CR or LF in it would make the next request fail, or inject a header)."""
    if value is None or len(value) > 256 or not re.fullmatch(r"[\x20-\x7e]*", value):
        return ""
    return value


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    return display(str(exc))[:300] or type(exc).__name__  # may quote what the server sent
