"""``fim hashes export``: the content one server found bad, as a hash list for every server.

Only content verdicts are exported (YARA rules and hash lists): fim's own notices (ruleset
``fim``) and upload-area policy findings (``policy``: about *where* a file is, so an ordinary
application file misplaced in an upload area would become "bad" everywhere) are left out.
Each line is ``SHA256 rule,rule  # first seen ..., severity ...``: no paths, no tenants.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from fim.core.model import Severity
from fim.store.database import Store

NOT_CONTENT = ("fim", "policy")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")


def parse_duration(text: str) -> float:
    """``"7d"`` -> 604800.0 (s, m, h, d, w; a bare number is seconds)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"expected a duration such as 90m, 12h or 7d, not {text!r}")
    return float(m.group(1)) * _SECONDS[m.group(2)]


@dataclass(frozen=True)
class ExportedHash:
    sha256: str
    rules: tuple[str, ...]  # ruleset.rule, sorted
    severity: Severity  # the worst among its findings
    first_seen_ns: int


def found_hashes(store: Store, since_ns: int, min_severity: Severity) -> list[ExportedHash]:
    """Every SHA-256 with a content finding at or above ``min_severity`` since ``since_ns``."""
    skip = ", ".join("?" * len(NOT_CONTENT))
    rows = store.conn.execute(
        f"SELECT sha256, ruleset, rule, severity, MIN(detected_ns) FROM findings "  # noqa: S608 placeholders
        f"WHERE detected_ns >= ? AND sha256 IS NOT NULL AND ruleset NOT IN ({skip}) "
        "GROUP BY sha256, ruleset, rule, severity",
        (since_ns, *NOT_CONTENT),
    ).fetchall()
    by_hash: dict[str, tuple[set[str], Severity, int]] = {}
    for sha256, ruleset, rule, severity_text, first in rows:
        try:
            severity = Severity.parse(severity_text)
        except ValueError:
            continue
        if severity < min_severity or not re.fullmatch(r"[0-9a-f]{64}", sha256):
            continue
        names, worst, seen = by_hash.get(sha256, (set(), severity, first))
        names.add(_UNSAFE.sub("_", f"{ruleset}.{rule}"))
        by_hash[sha256] = (names, max(worst, severity), min(seen, first))
    return [
        ExportedHash(digest, tuple(sorted(names)), worst, seen)
        for digest, (names, worst, seen) in sorted(by_hash.items(), key=lambda kv: (kv[1][2], kv[0]))
    ]


def render(hashes: list[ExportedHash], *, since: str, min_severity: Severity) -> str:
    """A hash list fim reads back (:func:`fim.detect.hashlists.parse`): the rule names are the
    label, first-seen time and severity a comment."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lines = [
        f"# fim hashes export at {now}: content found with findings of severity {min_severity} "
        f"or worse in the last {since}",
        f"# {len(hashes)} hash(es); no paths or customer names",
    ]
    for h in hashes:
        seen = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(h.first_seen_ns / 1e9))
        lines.append(f"{h.sha256} {','.join(h.rules)}  # first seen {seen}, severity {h.severity}")
    return "\n".join(lines) + "\n"
