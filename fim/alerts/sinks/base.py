"""The sink seam: what the dispatcher hands a sink, and how a sink says it failed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from fim.alerts.render import Message
from fim.core.errors import FimError

Audience = Literal["people", "machines"]


@dataclass(frozen=True, slots=True)
class Batch:
    """What one send carries: the ECS events (for machines) and their rendering (for people)."""

    events: tuple[dict, ...]
    message: Message


class SinkError(FimError):
    """A send failed. The message is for the operator and never contains a secret."""


class Sink(Protocol):
    """One delivery target. ``send`` returns when the receiver accepted the batch, else raises
    :class:`SinkError`. It must give up after ``timeout`` seconds (give or take a connect)."""

    name: str
    audience: Audience

    def send(self, batch: Batch, timeout: float) -> None: ...

    def describe(self) -> str:
        """Where it delivers, with secrets masked (for `fim alerts test` and health alerts)."""
        ...
