"""What a scan tells its caller while it runs: findings, progress, and files that changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fim.core.model import Change, Finding, ScanReport


@dataclass(frozen=True)
class ChangeEvent:
    """A file the scanner found new, changed or deleted: what ``fim scan`` lists besides findings."""

    path: bytes
    change: Change
    tenant: str | None


FindingCallback = Callable[[Finding], None]
ProgressCallback = Callable[[ScanReport], None]
ChangeCallback = Callable[[ChangeEvent], None]
