"""A finding as a report sees it: the row, plus what fim did about it and what it knows of it.

The store builds these (fim.store.report_query) and the report renders them (fim.report.customer):
the two layers are siblings, so the type they share lives here. Paths stay bytes; only the
renderers turn them into text, through :func:`fim.core.paths.display`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fim.core.model import Severity, Writer

__all__ = ["FindingRecord", "PendingAlert", "QuarantineState", "Writer"]


@dataclass(frozen=True, slots=True)
class QuarantineState:
    """The quarantine record of this content at this path: its id and where it stands."""

    id: int
    status: str  # pending | quarantined | restored
    quarantined_ns: int
    restored_ns: int | None = None


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """A delivery still in the outbox (delivered ones are deleted, so they are not known)."""

    sink: str
    attempts: int
    due_ns: int
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """One stored finding with its context, for reports.

    ``chain`` is the decode chain the rule matched on ("base64>gzinflate"; "" for the file as
    stored) when the baseline still holds the verdict for this very content, else None
    (unknown: the findings table does not keep it). ``present``: the baseline still lists this
    content at this path (as of the last scan that saw it).
    """

    id: int
    event_id: str
    detected_ns: int
    path: bytes
    tenant: str | None
    rule: str
    ruleset: str
    severity: Severity
    description: str
    family: str
    change: str
    sha256: str | None
    size: int | None
    owner: str | None
    chain: str | None = None
    writer: Writer | None = None
    quarantine: QuarantineState | None = None
    pending_alerts: tuple[PendingAlert, ...] = ()
    present: bool = False

    @property
    def action(self) -> str:
        """What fim did with the file: quarantined, quarantine_pending, restored, gone, left_in_place."""
        if self.quarantine is not None:
            return {"pending": "quarantine_pending"}.get(self.quarantine.status, self.quarantine.status)
        return "left_in_place" if self.present else "gone"
