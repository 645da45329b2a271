"""The ``[metrics]`` section: where ``fim daemon`` serves ``/metrics`` (off unless set)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from fim.core.values import describe

EXAMPLE = "127.0.0.1:9464"


@dataclass(frozen=True)
class ListenAddress:
    """An IP address and TCP port to serve on (``host`` without brackets for IPv6)."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(value: Any) -> str:
    """``"HOST:PORT"`` (``[::1]:9464`` for IPv6), or ``""`` for off. HOST is an IP address or
    ``localhost``: a name would make the daemon's start depend on DNS."""
    if not isinstance(value, str):
        raise ValueError(f'expected a string "HOST:PORT" such as "{EXAMPLE}", got {describe(value)}')
    if value == "":
        return ""
    listen_address(value)
    return value


def listen_address(value: str) -> ListenAddress:
    """The address ``value`` names (ValueError with the reason when it names none)."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not host:
        raise ValueError(f'expected "HOST:PORT" such as "{EXAMPLE}", got {value!r}')
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        if ":" not in host:
            raise ValueError(f"{value!r}: brackets are only for IPv6 addresses")
    elif ":" in host:
        raise ValueError(f"{value!r}: write an IPv6 address in brackets, as [::1]:9464")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{value!r}: the host must be an IP address (or localhost), not a name") from None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"{value!r}: the port must be a number from 1 to 65535")
    return ListenAddress(host, int(port_text))


@dataclass(frozen=True)
class MetricsConfig:
    """``[metrics]``: the address ``fim daemon`` serves Prometheus metrics on; "" = off."""

    # "127.0.0.1:9464" serves http://127.0.0.1:9464/metrics; off by default.
    listen: str = field(default="", metadata={"parse": parse_listen})

    @property
    def address(self) -> ListenAddress | None:
        return listen_address(self.listen) if self.listen else None
