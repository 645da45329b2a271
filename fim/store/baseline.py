"""The baseline: what fim last saw of each file, and the SQL that reads and writes its rows."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from fim.core.model import RuleMatch


@dataclass(frozen=True, slots=True)
class BaselineRow:
    """What the baseline holds of one file: enough to tell, from a stat, that it is unchanged."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int
    ruleset: str | None
    matches: tuple[RuleMatch, ...]
    sha256: str | None
    uid: int
    mode: int
    tenant: str | None

    def same_identity(self, st: os.stat_result) -> bool:
        return (
            self.dev == st.st_dev
            and self.ino == st.st_ino
            and self.size == st.st_size
            and self.mtime_ns == st.st_mtime_ns
            and self.ctime_ns == st.st_ctime_ns
            and st.st_nlink <= 1  # several names: may change unseen through one we do not watch
        )


def parse_matches(text: str | None) -> tuple[RuleMatch, ...]:
    """The matches column (a JSON list, NULL when clean) as rule matches."""
    return tuple(RuleMatch.from_record(r) for r in json.loads(text)) if text else ()


def lookup_many(conn: sqlite3.Connection, paths: Sequence[bytes]) -> dict[bytes, BaselineRow]:
    """Baseline rows of up to a few hundred paths in one query (a walk's hot path)."""
    return {path: row_of(raw) for path, raw in lookup_raw(conn, paths).items()}


def lookup_raw(conn: sqlite3.Connection, paths: Sequence[bytes]) -> dict[bytes, tuple]:
    """The rows of :func:`lookup_many` as they come from SQLite, by path."""
    sql = _LOOKUP + ",".join("?" * len(paths)) + ")"  # placeholders only
    return {row[0]: row for row in conn.execute(sql, paths).fetchall()}


def lookup_identities(conn: sqlite3.Connection, paths: Sequence[bytes], ruleset: str) -> dict[bytes, tuple]:
    """For a rescan: by path, (path, dev, ino, size, mtime_ns, ctime_ns, clean) where ``clean``
    is 1 when the file's verdict is clean with ``ruleset``. Only what tells an unchanged file (no
    digest or tenant text built for each of a million rows); :func:`unchanged_and_clean`."""
    sql = _IDENTITY + ",".join("?" * len(paths)) + ")"  # placeholders only
    return {row[0]: row for row in conn.execute(sql, (ruleset, *paths)).fetchall()}


# A directory's rows by path, its subdirectories with rows, the rows of those read through.
Children = tuple[dict[bytes, tuple], list[bytes], dict[bytes, dict[bytes, tuple]]]


def children(conn: sqlite3.Connection, directory: bytes, ruleset: str, prefetch: int = 0) -> Children:
    """The baseline's files directly in ``directory``, by path, as :func:`lookup_identities`
    gives them plus their ``seen_scan`` last; the names of the subdirectories it has rows
    below; and, by name, the files of those subdirectories that hold files only (no deeper
    rows), read on the way: up to ``prefetch`` rows in all.

    Paths sort as bytes, so a directory's rows are one range of the primary key, with each
    subdirectory's rows a range inside it. Read in order, a subdirectory holding files only is
    read through; at the first deeper row (or once ``prefetch`` rows are read) the range is
    left and taken up again past that subdirectory's range. A directory costs one query, and
    one more for each subdirectory that is not read through.
    """
    prefix = directory.rstrip(b"/") + b"/"
    start, upper, cut = prefix, prefix[:-1] + b"0", len(prefix)
    rows: dict[bytes, tuple] = {}
    subdirs: list[bytes] = []
    whole: dict[bytes, dict[bytes, tuple]] = {}
    while start is not None:
        cursor = conn.execute(_CHILDREN, (ruleset, start, upper))
        start = None
        name, inside = b"", None  # the subdirectory being read through, its rows so far
        for row in cursor:
            path = row[0]
            slash = path.find(b"/", cut)
            if slash < 0:
                rows[path] = row
                continue
            if inside is None or path[cut:slash] != name:  # a new subdirectory
                if inside is not None:
                    whole[name] = inside  # the one before ended where this one begins
                name, inside = path[cut:slash], {}
                subdirs.append(name)
            if prefetch > 0 and path.find(b"/", slash + 1) < 0:
                inside[path] = row
                prefetch -= 1
                continue
            # Deeper rows, or enough read ahead: past this subdirectory ('0' follows '/').
            inside = None
            start = path[:slash] + b"0"
            break
        cursor.close()
        if inside is not None:  # read through to the end of the range
            whole[name] = inside
    return rows, subdirs, whole


def row_of(raw: tuple) -> BaselineRow:
    matches = tuple(RuleMatch.from_record(r) for r in json.loads(raw[7])) if raw[7] else ()
    return BaselineRow(*raw[1:7], matches, *raw[8:])


def unchanged_and_clean(ident: tuple, st: os.stat_result) -> bool:
    """``ident`` (from :func:`lookup_identities`) says the file is the one verdicted clean with
    the rules asked about: :meth:`BaselineRow.same_identity`, and a clean verdict."""
    return (
        ident[6] == 1
        and ident[1] == st.st_dev
        and ident[2] == st.st_ino
        and ident[3] == st.st_size
        and ident[4] == st.st_mtime_ns
        and ident[5] == st.st_ctime_ns
        and st.st_nlink <= 1
    )


UPSERT_FILE = """
INSERT INTO files (path, tenant, dev, ino, size, mode, uid, gid, mtime_ns, ctime_ns, sha256, md5,
                   ruleset, verdict, matches, first_seen_ns, updated_ns, seen_scan)
VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT(path) DO UPDATE SET
    tenant=excluded.tenant, dev=excluded.dev, ino=excluded.ino, size=excluded.size,
    mode=excluded.mode, uid=excluded.uid, gid=excluded.gid, mtime_ns=excluded.mtime_ns,
    ctime_ns=excluded.ctime_ns, sha256=excluded.sha256, md5=excluded.md5, ruleset=excluded.ruleset,
    verdict=excluded.verdict, matches=excluded.matches, updated_ns=excluded.updated_ns,
    seen_scan=excluded.seen_scan
"""

_IDENTITY = (
    "SELECT path, dev, ino, size, mtime_ns, ctime_ns, ruleset = ? AND matches IS NULL "
    "FROM files WHERE path IN ("
)
_CHILDREN = (
    "SELECT path, dev, ino, size, mtime_ns, ctime_ns, ruleset = ? AND matches IS NULL, seen_scan "
    "FROM files WHERE path >= ? AND path < ? ORDER BY path"
)
_LOOKUP = (
    "SELECT path, dev, ino, size, mtime_ns, ctime_ns, ruleset, matches, sha256, uid, mode, tenant "
    "FROM files WHERE path IN ("
)
