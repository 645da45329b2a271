"""Building delivery targets from ``[[alerts.sinks]]`` entries (secrets read, programs checked)."""

from __future__ import annotations

from fim.alerts.config import SinkConfig
from fim.alerts.secret_values import Masker, SecretError
from fim.alerts.sinks.base import Sink
from fim.alerts.sinks.registry import KIND_MODULES, kind


def build(cfg: SinkConfig, masker: Masker) -> tuple[list[Sink], list[str]]:
    """The targets of one sink entry, and the problems (``key: message``) that prevent it."""
    if cfg.type not in KIND_MODULES:
        return [], [f"type: unknown sink type {cfg.type!r}"]
    try:
        return kind(cfg.type).build(cfg, masker)
    except SecretError as exc:
        return [], [str(exc)]
