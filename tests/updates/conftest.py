"""A real HTTPS server on loopback (a test CA made with cryptography.x509), signed packs, and a
configuration pointing fim at them."""

from __future__ import annotations

import datetime
import hashlib
import http.server
import ipaddress
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fim.updates import keys, pack

NEW_RULE = """
rule pack_rule_new {
    meta:
        description = "rule delivered by a pack"
        family = "test"
        severity = "critical"
    strings:
        $a = "FIM_PACK_ONLY_MARKER"
    condition:
        $a
}
"""
PACK_SHELL = b"<?php FIM_PACK_ONLY_MARKER($_REQUEST['c']); ?>"


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass(frozen=True)
class Tls:
    ca_file: Path
    cert_file: Path
    key_file: Path


def make_tls(directory: Path) -> Tls:
    """A CA and a server certificate for localhost and 127.0.0.1, valid for a day."""
    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    usage = dict.fromkeys(
        ("content_commitment", "key_encipherment", "data_encipherment", "key_agreement"), False
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("fim test CA"))
        .issuer_name(_name("fim test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - day)
        .not_valid_after(now + day)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                          encipher_only=False, decipher_only=False, **usage),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - day)
        .not_valid_after(now + day)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    tls = Tls(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    tls.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return tls


@dataclass
class Route:
    """What the server answers on a path: a body with validators, or a misbehaviour."""

    body: bytes = b""
    status: int = 200
    location: str = ""  # for redirects
    reason: str = ""  # the status line's reason phrase, when not the standard one
    truncate_to: int | None = None  # send Content-Length of the whole body, then only this much
    no_length: bool = False  # no Content-Length: the body ends when the connection closes
    etag: str = ""
    last_modified: str = "Fri, 27 Nov 2026 10:00:00 GMT"

    def __post_init__(self) -> None:
        if not self.etag:
            self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    status: int
    body_sent: int


@dataclass
class PackServer:
    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def url(self, path: str = "/pack.fimpack", host: str = "localhost") -> str:
        return f"https://{host}:{self.port}{path}"


def _handler(server: PackServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_args: object) -> None:
            pass

        def do_GET(self) -> None:
            route = server.routes.get(self.path.split("?")[0])
            headers = {k: v for k, v in self.headers.items()}
            if route is None:
                self._answer(headers, 404, b"not here\n", {})
                return
            if route.location:
                self._answer(headers, route.status, b"", {"Location": route.location})
                return
            if route.status != 200:
                self._answer(headers, route.status, b"failing\n", {}, reason=route.reason or None)
                return
            validators = {"ETag": route.etag, "Last-Modified": route.last_modified}
            if self.headers.get("If-None-Match") == route.etag:
                self._answer(headers, 304, b"", validators, length=False)
                return
            body = route.body
            self.send_response(200)
            for k, v in validators.items():
                self.send_header(k, v)
            if not route.no_length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            sent = 0
            data = body if route.truncate_to is None else body[: route.truncate_to]
            try:
                for i in range(0, len(data), 16384):
                    self.wfile.write(data[i : i + 16384])
                    sent += len(data[i : i + 16384])
            except OSError:
                pass  # the client gave up (a size limit): what was sent is recorded
            self.close_connection = True
            server.seen.append(Seen(self.path, headers, 200, sent))

        def _answer(
            self, headers: dict, status: int, body: bytes, extra: dict, length: bool = True, reason=None
        ) -> None:
            self.send_response(status, reason)
            for k, v in extra.items():
                self.send_header(k, v)
            if length:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
            server.seen.append(Seen(self.path, headers, status, len(body)))

    return Handler


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    return make_tls(tmp_path)


@pytest.fixture
def pack_server(tls: Tls):
    state = PackServer(port=0)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.cert_file, tls.key_file)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass(frozen=True)
class Publisher:
    """A publisher's key pair and a way to make packs with it."""

    directory: Path
    key_file: Path
    pub_file: Path

    def make(
        self, version: int, rules: dict[str, str] | None = None, bad: str = "", name: str = "acme"
    ) -> bytes:
        src = self.directory / f"src-{version}-{len(list(self.directory.iterdir()))}"
        (src / "rules").mkdir(parents=True)
        for file, text in (rules if rules is not None else {"pack.yar": NEW_RULE}).items():
            (src / "rules" / file).write_text(text)
        if bad:
            (src / "hashes/bad").mkdir(parents=True)
            (src / "hashes/bad/found.txt").write_text(bad)
        return pack.build(pack.collect(src), keys.load_private(self.key_file), name=name, version=version)


def make_publisher(directory: Path) -> Publisher:
    directory.mkdir(parents=True, exist_ok=True)
    key, pub = directory / "signing.key", directory / "signing.pub"
    keys.write_new_pair(key, pub)
    return Publisher(directory, key, pub)


@pytest.fixture
def publisher(tmp_path: Path) -> Publisher:
    return make_publisher(tmp_path / "publisher")


def updates_config(tmp: Path, url: str, pubkey: Path, ca: Path | None, *, extra_source: str = "",
                   extra: str = "") -> Path:  # fmt: skip
    """A configuration whose own rules are the marker rules, with one update source."""
    from tests.conftest import MARKER_RULE

    (tmp / "marker.yar").write_text(MARKER_RULE)
    config = tmp / "fim.toml"
    config.write_text(
        f'[database]\npath = "{tmp}/state/fim.db"\n'
        f'[rules]\nbundled = false\npaths = ["{tmp}/marker.yar"]\n'
        + extra
        + f'[[updates.sources]]\nurl = "{url}"\npubkey_file = "{pubkey}"\n'
        + (f'ca_file = "{ca}"\n' if ca else "")
        + extra_source
    )
    return config
