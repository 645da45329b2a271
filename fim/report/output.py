"""Rendering scan results: text for people, JSON and JSON lines for machines.

Data goes to stdout; progress and diagnostics go to stderr. Every path passes through
:func:`fim.paths.display` (text) or :mod:`fim.ecs` (JSON), never raw.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from collections import defaultdict
from typing import IO, TextIO

from fim.core import paths
from fim.core.model import NO_TENANT, Finding, ScanReport, Severity
from fim.core.version import __version__
from fim.report import ecs

_COLOURS = {
    Severity.CRITICAL: "\x1b[1;31m",
    Severity.HIGH: "\x1b[31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
}
_RESET = "\x1b[0m"
TEXT_PROBLEMS_SHOWN = 50


def use_colour(stream: IO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def dumps(document: dict) -> str:
    # ensure_ascii=False keeps names readable; display() already removed anything dangerous.
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def utc_time(ns: int | None) -> str:
    """A timestamp for people: UTC to the second, "-" when there is none."""
    if not ns:
        return "-"
    return dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def human_size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def render_text(report: ScanReport, out: TextIO, *, colour: bool = False, quiet: bool = False) -> None:
    by_tenant: dict[str, list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_tenant[f.tenant or NO_TENANT].append(f)
    # Worst tenants first, then by name; (no tenant) last among equals.
    order = sorted(
        by_tenant,
        key=lambda t: (-max(f.severity for f in by_tenant[t]), t == NO_TENANT, t),
    )
    for tenant in order:
        findings = sorted(by_tenant[tenant], key=lambda f: (-f.severity, f.path))
        count = len(findings)
        print(f"tenant {tenant}: {count} finding{'s' if count != 1 else ''}", file=out)
        for f in findings:
            sev = str(f.severity).upper()
            label = f"{_COLOURS[f.severity]}{sev:<8}{_RESET}" if colour else f"{sev:<8}"
            print(f"  {label} {paths.display(f.path)}", file=out)
            detail = f"{f.match.rule} [{f.change}]"
            if f.match.chain:
                detail += f" (decoded: {f.match.chain.replace('>', ' > ')})"
            if f.match.description:
                detail += f" - {paths.display(f.match.description)}"
            print(f"           {detail}", file=out)
            if f.writer is not None:
                row = {f"writer_{k}": getattr(f.writer, k) for k in WRITER}
                print(f"           written by {writer_text(row)}", file=out)
        print(file=out)
    if quiet:
        return
    if report.problems:
        shown = report.problems[:TEXT_PROBLEMS_SHOWN]
        total = len(report.problems) + report.problems_omitted
        print(f"not inspected ({total}):", file=out)
        for p in shown:
            print(f"  {p.status:<10} {paths.display(p.path)}: {p.reason}", file=out)
        if total > len(shown):
            print(f"  ... and {total - len(shown)} more (use --format json for all)", file=out)
        print(file=out)
    print(summary_line(report), file=out)


WRITER = ("pid", "uid", "user", "comm", "exe")


def writer_text(row: dict) -> str:
    """A writer (``writer_*`` keys of a finding row) for people: ``pid 4242 php-fpm8.2
    (/usr/sbin/php-fpm8.2), user alice (uid 2001)``; a process gone before it was looked at
    is "unknown". Every part is attacker-influenced (a process names itself): escaped."""
    pid, uid, user = row.get("writer_pid"), row.get("writer_uid"), row.get("writer_user")
    comm, exe = row.get("writer_comm"), row.get("writer_exe")
    if comm is None and uid is None and exe is None:
        return f"pid {pid} (process gone: unknown)"
    text = f"pid {pid} {paths.display(comm or '?')}"
    if exe is not None:
        text += f" ({paths.display(bytes(exe))})"
    who = paths.display(user) if user else "?"
    return text + (f", user {who} (uid {uid})" if uid is not None else "")


def summary_line(report: ScanReport) -> str:
    s = report.stats
    tenants = len({f.tenant for f in report.findings})
    parts = [
        f"{s.files_seen:,} files seen",
        f"{s.files_read:,} read ({human_size(s.bytes_read)})",
        f"{s.skipped_unchanged:,} unchanged (not read)",
        f"{s.skipped_too_large:,} too large to match",
        f"{s.special + s.vanished + s.errors:,} not inspected",
        f"{s.new:,} new, {s.changed:,} changed, {s.deleted:,} deleted",
        f"{s.findings:,} findings in {tenants} tenant{'s' if tenants != 1 else ''}",
        f"{s.elapsed_s:.1f} s",
    ]
    return "summary: " + ", ".join(parts)


def json_document(report: ScanReport, changes: list[dict] | None = None) -> dict:
    doc = {
        "fim_version": __version__,
        "ruleset_version": report.ruleset_version,
        "roots": [paths.json_path_fields(r) for r in report.roots],
        "findings": [ecs.finding_event(f) for f in report.findings],
        "errors": [ecs.problem_record(p) for p in report.problems],  # not inspected, and why
        "errors_omitted": report.problems_omitted,
        "stats": report.stats.as_dict(),
    }
    if changes is not None:
        doc["changes"] = changes
    return doc


class Progress:
    """A one-line progress display on a terminal's stderr, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO = sys.stderr):
        self.stream = stream
        self.drawn = False

    def __call__(self, report: ScanReport) -> None:
        s = report.stats
        line = (
            f"scanning: {s.files_seen:,} files, {human_size(s.bytes_read)} read, "
            f"{s.findings:,} findings, {s.elapsed_s:.0f} s"
        )
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False
