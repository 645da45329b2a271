"""Alerts: findings to chat, e-mail, webhooks, commands and JSON lines, none lost, none abused.

Light on import; the service loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fim.alerts.config import AlertsConfig, SinkConfig

if TYPE_CHECKING:
    from fim.alerts.service import AlertService

__all__ = ["AlertService", "AlertsConfig", "SinkConfig"]


def __getattr__(name: str) -> Any:
    if name == "AlertService":
        from fim.alerts.service import AlertService

        return AlertService
    raise AttributeError(f"module 'fim.alerts' has no attribute {name!r}")
