"""The time window of a report: ``--since 7d``, ``--until 2026-11-30``."""

from __future__ import annotations

import datetime as dt
import re

_LAST_NS = 2**63 - 1  # SQLite's largest integer (the year 2262)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGO = re.compile(r"(\d+)\s*([smhdw])")


def parse_when(text: str, now_ns: int) -> int:
    """A point in time, in ns: an age before ``now_ns`` (``90m``, ``12h``, ``7d``, ``2w``), ``now``,
    or an ISO 8601 date or date-time (UTC unless it names its offset)."""
    value = text.strip().lower()
    if value == "now":
        return now_ns
    ago = _AGO.fullmatch(value)
    if ago:
        return max(0, now_ns - int(ago.group(1)) * _UNITS[ago.group(2)] * 1_000_000_000)
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use an age (30m, 12h, 7d, 2w), now, or a date (2026-11-30)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    ns = int(when.timestamp()) * 1_000_000_000 + when.microsecond * 1000
    return min(max(0, ns), _LAST_NS)
