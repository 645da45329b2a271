r"""SQL views over fim.db for people with plain SQLite tools (sqlite3, sqlite-utils, datasette).

Paths are BLOBs (exact bytes). Each view shows a path twice: ``path_text``, readable and safe to
print, and ``path_bytes``, the exact bytes. The escaping is done in SQL, so it works without
fim's Python functions registered:

- printable ASCII: as is, with ``\`` doubled (the fast path, most paths);
- valid UTF-8: characters as they are, except ``\n \r \t``, other ASCII controls as ``\xNN``,
  and C1 controls, format characters (bidi embeddings/overrides/isolates and marks,
  zero-width characters...), line/paragraph separators and private use characters as
  ``\uNNNN`` / ``\UNNNNNNNN``: the same text as :func:`fim.core.paths.display`, except for
  code points unassigned in Unicode 14, which display() escapes and the views show as they are;
- not valid UTF-8: printable ASCII bytes as they are, every other byte as ``\xNN`` (what
  display() shows for the undecodable bytes; valid non-ASCII characters in such a name are
  shown as bytes too). A valid name never shows ``\x`` with a value of 80 or more, so the two
  forms cannot be confused.

Validity is tested character by character: SQLite reads text leniently, and a character it read
re-encodes to the same bytes only if they were valid UTF-8.

The views are data of the "views" migration component. A shipped migration never changes: to
change a view, append a migration that drops and re-creates it (the ``_v1`` builders below stay
as they shipped).
"""

# This module only builds constant SQL text from its own fragments: nothing from outside is
# ever formatted into it.
# ruff: noqa: S608

from __future__ import annotations

# Code points shown escaped in valid UTF-8 besides ASCII controls: every control, format
# character (bidi embeddings, overrides, isolates and marks, zero-width characters, BOM...),
# line/paragraph separator and private use character of Unicode 14 (Python 3.11's), plus
# Unicode 15's new Egyptian format controls: the ones display() escapes by category. display()
# also escapes unassigned code points, which a fixed list cannot know. Up to U+FFFF shown as
# \uNNNN, above as \UNNNNNNNN, like display().
_WIDE_ESCAPED = (
    "u BETWEEN 128 AND 159 OR u = 173 OR u BETWEEN 1536 AND 1541 OR u = 1564 OR u = 1757 "
    "OR u = 1807 OR u BETWEEN 2192 AND 2193 OR u = 2274 OR u = 6158 OR u BETWEEN 8203 AND 8207 "
    "OR u BETWEEN 8232 AND 8238 OR u BETWEEN 8288 AND 8303 OR u BETWEEN 57344 AND 63743 "
    "OR u = 65279 OR u BETWEEN 65529 AND 65531"
)
_LONG_ESCAPED = (
    "u = 69821 OR u = 69837 OR u BETWEEN 78896 AND 78911 OR u BETWEEN 113824 AND 113827 "
    "OR u BETWEEN 119155 AND 119162 OR u BETWEEN 917504 AND 917631 OR u >= 983040"
)


def _char_v1(ch: str, u: str) -> str:
    """SQL: the escaped form of the one-character text ``ch`` (valid UTF-8), code point ``u``."""
    wide = _WIDE_ESCAPED.replace("u ", f"{u} ")
    long = _LONG_ESCAPED.replace("u ", f"{u} ")
    return (
        f"CASE WHEN {u} = 92 THEN '\\\\' WHEN {u} = 10 THEN '\\n' WHEN {u} = 13 THEN '\\r' "
        f"WHEN {u} = 9 THEN '\\t' "
        f"WHEN {u} < 32 OR {u} = 127 THEN '\\x' || printf('%02x', {u}) "
        f"WHEN {wide} THEN '\\u' || printf('%04x', {u}) "
        f"WHEN {long} THEN '\\U' || printf('%08x', {u}) "
        f"ELSE {ch} END"
    )


def _byte_v1(b: str) -> str:
    """SQL: the escaped form of the one-byte BLOB ``b`` (a name that is not valid UTF-8)."""
    return (
        f"CASE WHEN {b} = x'5c' THEN '\\\\' WHEN {b} = x'0a' THEN '\\n' WHEN {b} = x'0d' THEN '\\r' "
        f"WHEN {b} = x'09' THEN '\\t' "
        f"WHEN {b} BETWEEN x'20' AND x'7e' THEN CAST({b} AS TEXT) "
        f"ELSE '\\x' || lower(hex({b})) END"
    )


def path_text_v1(col: str) -> str:
    """SQL: the readable, escaped text of the path BLOB ``col`` (see the module docstring)."""
    text = f"CAST({col} AS TEXT)"
    # Each step carries the next character and its code point (read once, used many times).
    valid = (
        f"(WITH RECURSIVE s(t) AS (SELECT {text}), "
        "c(i, ch, u, ok, out) AS (SELECT 1, substr(t, 1, 1), unicode(substr(t, 1, 1)), 1, '' FROM s "
        "UNION ALL SELECT c.i + 1, substr(s.t, c.i + 1, 1), unicode(substr(s.t, c.i + 1, 1)), "
        "c.ok AND CAST(char(c.u) AS BLOB) = CAST(c.ch AS BLOB), "
        f"c.out || ({_char_v1('c.ch', 'c.u')}) FROM c, s WHERE c.i <= length(s.t)) "
        "SELECT CASE WHEN ok THEN out END FROM c ORDER BY i DESC LIMIT 1)"
    )
    raw = (
        f"(WITH RECURSIVE b(i, byte, out) AS (SELECT 1, substr({col}, 1, 1), '' UNION ALL "
        f"SELECT b.i + 1, substr({col}, b.i + 1, 1), b.out || ({_byte_v1('b.byte')}) "
        f"FROM b WHERE b.i <= length({col})) "
        "SELECT out FROM b ORDER BY i DESC LIMIT 1)"
    )
    return (
        f"CASE WHEN {col} IS NULL THEN NULL "
        f"WHEN {text} NOT GLOB '*[^ -~]*' THEN replace({text}, '\\', '\\\\') "
        f"ELSE coalesce({valid}, {raw}) END"
    )


def _utc(ns: str) -> str:
    return f"strftime('%Y-%m-%dT%H:%M:%SZ', {ns} / 1000000000, 'unixepoch')"


def _views_v1() -> str:
    latest_q = (
        "FROM quarantine q WHERE q.path = f.path AND q.tenant IS f.tenant "
        "AND (f.sha256 IS NULL OR q.sha256 = f.sha256) ORDER BY q.id DESC LIMIT 1"
    )
    return f"""
    CREATE VIEW v_findings AS
    SELECT f.id, f.tenant, {_utc("f.detected_ns")} AS detected_utc, f.severity, f.rule,
        f.description, f.family, f.change,
        {path_text_v1("f.path")} AS path_text, f.path AS path_bytes,
        f.sha256, f.size, f.owner,
        (SELECT q.id {latest_q}) AS quarantine_id,
        (SELECT q.status {latest_q}) AS quarantine_status,
        (SELECT count(*) FROM alert_outbox o WHERE o.finding_id = f.id) AS alerts_pending,
        f.writer_pid, f.writer_uid, f.writer_user,
        {path_text_v1("CAST(f.writer_comm AS BLOB)")} AS writer_comm_text,
        {path_text_v1("f.writer_exe")} AS writer_exe_text, f.writer_exe AS writer_exe_bytes,
        f.event_id, f.detected_ns
    FROM findings f
    ORDER BY f.tenant, f.detected_ns, f.id;

    CREATE VIEW v_open_findings AS
    SELECT v.* FROM v_findings v
    WHERE v.id IN (SELECT max(id) FROM findings GROUP BY event_id)
        AND EXISTS (SELECT 1 FROM files fl WHERE fl.path = v.path_bytes AND fl.sha256 = v.sha256
                    AND fl.verdict = 'finding')
        AND (v.quarantine_status IS NULL OR v.quarantine_status = 'restored');

    CREATE VIEW v_tenant_summary AS
    SELECT f.tenant, count(*) AS findings,
        sum(f.severity = 'critical') AS critical, sum(f.severity = 'high') AS high,
        sum(f.severity = 'medium') AS medium, sum(f.severity = 'low') AS low,
        {_utc("min(f.detected_ns)")} AS first_utc, {_utc("max(f.detected_ns)")} AS last_utc
    FROM findings f
    GROUP BY f.tenant
    ORDER BY f.tenant;

    CREATE VIEW v_quarantine AS
    SELECT q.id, q.status, q.tenant, {_utc("q.quarantined_ns")} AS quarantined_utc,
        {_utc("q.restored_ns")} AS restored_utc, q.severity, q.reason,
        {path_text_v1("q.path")} AS path_text, q.path AS path_bytes,
        q.sha256, q.size, q.method, q.note,
        {path_text_v1("q.directory")} AS directory_text, q.stored_name
    FROM quarantine q
    ORDER BY q.id;

    CREATE VIEW v_alert_backlog AS
    SELECT o.id, o.sink, o.kind, o.tenant, o.severity, {_utc("o.created_ns")} AS created_utc,
        {_utc("o.due_ns")} AS due_utc, o.attempts, o.last_error,
        {_utc("o.last_attempt_ns")} AS last_attempt_utc,
        CAST(strftime('%s', 'now') AS INTEGER) - o.created_ns / 1000000000 AS age_s,
        o.finding_id, f.rule,
        {path_text_v1("f.path")} AS path_text, f.path AS path_bytes
    FROM alert_outbox o LEFT JOIN findings f ON f.id = o.finding_id
    ORDER BY o.created_ns, o.id;
    """


VIEW_MIGRATIONS: tuple[str, ...] = (
    # 1: v_findings, v_open_findings, v_tenant_summary, v_quarantine, v_alert_backlog
    _views_v1(),
)
