"""Append ECS JSON lines to a file (read by Filebeat, Vector, Wazuh...) or standard output."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from fim.alerts.events import dumps, encode
from fim.alerts.sinks.base import Audience, Batch, SinkError

if TYPE_CHECKING:
    from fim.alerts.config import SinkConfig
    from fim.alerts.secret_values import Masker
    from fim.alerts.sinks.base import Sink


class JsonlSink:
    """Appends ECS events as JSON lines for a SIEM (the file is opened without following symlinks)."""

    audience: Audience = "machines"

    def __init__(self, name: str, path: str):
        self.name = name
        self.path = path

    def describe(self) -> str:
        return "standard output" if self.path == "-" else self.path

    def send(self, batch: Batch, timeout: float) -> None:
        data = encode("".join(dumps(e) + "\n" for e in batch.events))
        if self.path == "-":
            try:
                sys.stdout.buffer.write(data)
                sys.stdout.flush()
            except (OSError, ValueError) as exc:
                raise SinkError(f"cannot write to standard output: {exc}") from None
            return
        try:
            # O_NOFOLLOW: a symlink planted at the log path must not redirect root's writes.
            fd = os.open(
                self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
            )
        except OSError as exc:
            raise SinkError(f"cannot open {self.path}: {exc.strerror}") from None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        except OSError as exc:
            raise SinkError(f"cannot write {self.path}: {exc.strerror}") from None
        finally:
            os.close(fd)


# -- the sink kind (see fim.alerts.sinks.registry) ------------------------------------------------

TYPE = "jsonl"
KEYS = frozenset({"path", "max_batch"})


def validate(cfg: SinkConfig) -> list[str]:
    if not cfg.path:
        return ['path: required, a file to append to, or "-" for standard output']
    if cfg.path != "-" and not cfg.path.startswith("/"):
        return ["path: must be an absolute path or -"]
    return []


def build(cfg: SinkConfig, masker: Masker) -> tuple[list[Sink], list[str]]:
    return [JsonlSink(cfg.name, cfg.path)], []
