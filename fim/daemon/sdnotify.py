"""systemd's notify protocol in a few lines of stdlib (the sdnotify package swallows errors)."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping


class Notifier:
    """Sends ``READY=1``, ``STATUS=``, ``WATCHDOG=1``... to ``$NOTIFY_SOCKET`` when set.

    Without ``NOTIFY_SOCKET`` (not under systemd) every call does nothing.
    """

    def __init__(self, env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract namespace
            address = "\0" + address[1:]
        self._address = address or None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        wanted = usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid()))
        # Ping at half the timeout, as sd_watchdog_enabled(3) recommends.
        self.watchdog_interval: float | None = int(usec) / 2e6 if wanted else None
        self._sock: socket.socket | None = None
        self._next_ping = 0.0

    def send(self, *lines: str) -> None:
        if self._address is None:
            return
        if self._sock is None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        message = "\n".join(line.replace("\n", " ") for line in lines).encode()
        try:
            self._sock.sendto(message, self._address)
        except OSError:
            pass  # systemd gone or socket full: the service keeps working; systemd will notice

    def ready(self, status: str = "") -> None:
        self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> None:
        self.send(f"STATUS={text}")

    def reloading(self) -> None:
        self.send("RELOADING=1", f"MONOTONIC_USEC={time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000}")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def ping(self, now: float | None = None) -> None:
        """Send ``WATCHDOG=1`` if due. Call it from the loop that does the work, never a timer."""
        if self.watchdog_interval is None:
            return
        now = time.monotonic() if now is None else now
        if now >= self._next_ping:
            self.send("WATCHDOG=1")
            self._next_ping = now + self.watchdog_interval

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
