"""A report for one customer: what was found in a time window, where, when, by which rule, what
fim did about it. The data only (frozen); :mod:`fim.report.customer_render` turns it into text,
JSON or HTML.

Everything an attacker chose (paths, tenant names, rule descriptions from third-party rules,
writer names, sink errors) leaves this module already passed through
:func:`fim.core.paths.display` in :func:`context`: a template can print any value without
thinking, and HTML templates escape on top.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from fim.core import paths
from fim.core.findings_record import FindingRecord, PendingAlert, QuarantineState
from fim.core.model import NO_TENANT, Severity
from fim.core.version import __version__

SEVERITY_COLOURS = {
    Severity.CRITICAL: "#8b0000",
    Severity.HIGH: "#d32f2f",
    Severity.MEDIUM: "#ef8f00",
    Severity.LOW: "#1976d2",
}


@dataclass(frozen=True, slots=True)
class CustomerReport:
    """The findings of one tenant (None: outside every tenant) detected in [since_ns, until_ns)."""

    tenant: str | None
    since_ns: int
    until_ns: int
    generated_ns: int
    hostname: str
    findings: tuple[FindingRecord, ...]

    @property
    def severity_counts(self) -> dict[Severity, int]:
        """Findings per severity, most severe first, every level present (0 when none)."""
        counts = dict.fromkeys(sorted(Severity, reverse=True), 0)
        for f in self.findings:
            counts[f.severity] += 1
        return counts


def build(
    tenant: str | None,
    records: Iterable[FindingRecord],
    *,
    since_ns: int,
    until_ns: int,
    generated_ns: int,
    hostname: str = "",
) -> CustomerReport:
    """The report of ``tenant``. Records of any other tenant are refused, not silently dropped:
    a caller that mixed them up has a bug that must not reach a customer. fim's notices of its
    own actions are left out (the findings they are about carry the action)."""
    findings = tuple(records)
    for f in findings:
        if f.tenant != tenant:
            raise ValueError(f"finding #{f.id} belongs to another tenant than this report's")
    # fim's own notices of what it did ("fim_quarantined", "fim_quarantine_failed") are not
    # detections: each finding's action already says it, with the quarantine ID.
    detections = tuple(f for f in findings if not (f.ruleset == "fim" and f.family == "response"))
    return CustomerReport(tenant, since_ns, until_ns, generated_ns, hostname, detections)


def utc(ns: int | None) -> str:
    if not ns:
        return ""
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def context(report: CustomerReport) -> dict:
    """The values templates and the JSON document see: plain data, attacker text displayed."""
    counts = report.severity_counts
    return {
        "fim_version": __version__,
        "tenant": tenant_label(report.tenant),
        "hostname": paths.display(report.hostname),
        "since": utc(report.since_ns),
        "until": utc(report.until_ns),
        "generated": utc(report.generated_ns),
        "total": len(report.findings),
        "counts": {str(s): n for s, n in counts.items()},
        "chart": _chart(counts),
        "actions": _action_counts(report.findings),
        "findings": [_entry(f) for f in report.findings],
    }


def tenant_label(tenant: str | None) -> str:
    return NO_TENANT if tenant is None else paths.display(tenant)


def _entry(f: FindingRecord) -> dict:
    path_fields = paths.json_path_fields(f.path)
    q = f.quarantine
    return {
        "id": f.id,
        "event_id": f.event_id,
        "detected": utc(f.detected_ns),
        "detected_ns": f.detected_ns,
        "path": path_fields["path"],
        "path_b64": path_fields.get("path_b64"),
        "severity": str(f.severity),
        "rule": paths.display(f.rule),
        "ruleset": paths.display(f.ruleset),
        "description": paths.display(f.description),
        "family": paths.display(f.family),
        "change": paths.display(f.change),
        # None: the store no longer knows; []: the rule matched the file as stored.
        "chain": None if f.chain is None else [paths.display(s) for s in f.chain.split(">") if s],
        "sha256": f.sha256,
        "size": f.size,
        "owner": paths.display(f.owner) if f.owner else None,
        "writer": None
        if f.writer is None
        else {
            "pid": f.writer.pid,
            "uid": f.writer.uid,
            "user": paths.display(f.writer.user) if f.writer.user else None,
            "comm": paths.display(f.writer.comm) if f.writer.comm else None,
            "exe": paths.display(f.writer.exe) if f.writer.exe else None,
        },
        "action": f.action,
        "quarantine": None if q is None else _quarantine(q),
        "alerts_pending": [_pending(a) for a in f.pending_alerts],
        "present": f.present,
    }


def _quarantine(q: QuarantineState) -> dict:
    return {
        "id": q.id,
        "status": paths.display(q.status),
        "since": utc(q.quarantined_ns),
        "restored": utc(q.restored_ns) or None,
    }


def _pending(a: PendingAlert) -> dict:
    return {
        "sink": paths.display(a.sink),
        "attempts": a.attempts,
        "due": utc(a.due_ns),
        "last_error": paths.display(a.last_error) if a.last_error else None,
    }


def _action_counts(findings: Iterable[FindingRecord]) -> dict[str, int]:
    out: dict[str, int] = {}
    for f in findings:
        out[f.action] = out.get(f.action, 0) + 1
    return dict(sorted(out.items()))


def _chart(counts: dict[Severity, int]) -> list[dict]:
    """Bars of the inline SVG: numbers only (widths in px of a 300 px track)."""
    top = max(counts.values()) or 1
    return [
        {
            "label": str(s),
            "count": n,
            "width": round(300 * n / top),
            "colour": SEVERITY_COLOURS[s],
            "y": 8 + 28 * i,
        }
        for i, (s, n) in enumerate(counts.items())
    ]
