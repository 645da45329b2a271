"""Label values kept bounded: a label takes a value from a small set fim controls or the
operator configured (severities, rule families, sink names), never a path or a tenant."""

from __future__ import annotations

import re
import threading

from fim.core.model import Severity

SEVERITIES = tuple(str(s) for s in Severity)
OTHER = "other"
# Rule families come from rule metadata (the operator's rule files included), not from files
# being scanned; still, a rule set with hundreds of families must not make hundreds of series.
MAX_FAMILIES = 64
_FAMILY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,47}$")


def severity(value: object) -> str:
    text = str(value).strip().lower()
    return text if text in SEVERITIES else OTHER


class FamilyLabels:
    """Maps a rule family to its label value: itself while fewer than :data:`MAX_FAMILIES`
    distinct families were seen and it looks like a family name, else ``"other"``.
    Thread-safe: the scanner and the scrape thread both ask."""

    def __init__(self, limit: int = MAX_FAMILIES):
        self.limit = limit
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, family: object) -> str:
        text = family if isinstance(family, str) else ""
        if not _FAMILY.match(text):
            return OTHER
        with self._lock:
            if text in self._known:
                return text
            if len(self._known) >= self.limit:
                return OTHER
            self._known.add(text)
            return text
