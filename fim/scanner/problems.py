"""Counting and listing what could not be inspected (a scan report's problems)."""

from __future__ import annotations

from fim.core.model import Problem, ScanReport, Status

MAX_PROBLEMS_LISTED = 10_000


def add_problem(problem: Problem, report: ScanReport, *, count: bool = True) -> None:
    """Count ``problem`` in ``report``'s stats (unless ``count`` is false) and list it, up to
    :data:`MAX_PROBLEMS_LISTED`. Symlinks are common and harmless: counted, not listed."""
    stats = report.stats
    if count:
        if problem.status is Status.SYMLINK:
            stats.symlinks += 1
            if not problem.always_list:
                return
        if problem.status is Status.SPECIAL:
            stats.special += 1
        elif problem.status is Status.VANISHED:
            stats.vanished += 1
        else:
            stats.errors += 1
    if len(report.problems) < MAX_PROBLEMS_LISTED:
        report.problems.append(problem)
    else:
        report.problems_omitted += 1
