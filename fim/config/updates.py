"""``[updates]``: where signed rule packs are pulled from (see :mod:`fim.updates`)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from fim.core.values import size_field


@dataclass(frozen=True)
class UpdateSource:
    """``[[updates.sources]]``: one HTTPS address serving a signed pack, and the key it is signed with."""

    url: str = ""  # https://host/path/pack.fimpack
    pubkey_file: str = ""  # the publisher's Ed25519 public key (PEM), from `fim pack keygen`
    interval: float = 3600.0  # seconds between checks (the daemon adds up to 10 % jitter)
    ca_file: str = ""  # PEM bundle of a private CA; "" = the system's CAs
    max_size: int = size_field("64M")  # a larger response is refused while it streams
    timeout: float = 30.0  # seconds to connect, and for each read

    def validate(self) -> list[str]:
        problems = []
        parts = urlsplit(self.url)
        if parts.scheme != "https" or not parts.hostname:
            problems.append(f"url: expected an https:// address, got {self.url!r}")
        elif parts.username or parts.password:
            problems.append("url: must not carry a user name or password")
        if not self.pubkey_file.startswith("/"):
            problems.append("pubkey_file: expected the absolute path of the publisher's public key")
        if self.ca_file and not self.ca_file.startswith("/"):
            problems.append('ca_file: expected an absolute path (or "" for the system\'s CAs)')
        if self.interval < 1:
            problems.append("interval: must be at least 1 second")
        if self.timeout <= 0:
            problems.append("timeout: must be more than 0 seconds")
        if self.max_size < 1024:
            problems.append("max_size: must be at least 1K")
        return problems


@dataclass(frozen=True)
class UpdatesConfig:
    """``[updates]``: the pack sources, and how long one may fail before a health alert."""

    sources: tuple[UpdateSource, ...] = ()
    health_after: float = 86400.0  # a source failing this many seconds raises a health alert
