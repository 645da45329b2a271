"""The quarantine table: what was moved where, and the SQL that reads and writes its records.

A record is written ('pending') before a file moves and completed ('quarantined') after, so
a crash never leaves a moved file that no record finds (see fim.respond.quarantine).
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fim.core import paths
from fim.core.errors import FimError
from fim.core.model import Severity

if TYPE_CHECKING:
    from fim.store.database import Store


class QuarantineError(FimError):
    """Quarantine or restore refused or failed; the file is where it was (unless ``kept``)."""

    def __init__(self, message: str, *, kept: bool = False, gone: bool = False):
        super().__init__(message)
        self.kept = kept  # what was moved stays in quarantine, with its record
        self.gone = gone  # nothing at the path any more: there was nothing to move


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    """One quarantined file: everything needed to find its copy and put it back exactly."""

    id: int
    directory: bytes
    stored_name: str
    path: bytes
    tenant: str | None
    uid: int
    gid: int
    mode: int
    atime_ns: int
    mtime_ns: int
    size: int
    sha256: str
    reason: str
    severity: str
    method: str | None
    status: str
    note: str | None
    quarantined_ns: int
    restored_ns: int | None

    def as_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        del out["path"], out["directory"]
        out.update(paths.json_path_fields(self.path))
        out["mode"] = f"{stat.S_IMODE(self.mode):04o}"
        return out


_COLUMNS = [f.name for f in dataclasses.fields(QuarantineRecord)]


def records(store: Store, *, tenant: str | None = None, status: str | None = None) -> list[QuarantineRecord]:
    sql = f"SELECT {', '.join(_COLUMNS)} FROM quarantine"  # noqa: S608 constant columns
    where, args = [], []
    if tenant is not None:
        where.append("tenant = ?")
        args.append(tenant)
    if status is not None:
        where.append("status = ?")
        args.append(status)
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [QuarantineRecord(*row) for row in store.conn.execute(sql + " ORDER BY id", args)]


def record(store: Store, record_id: int) -> QuarantineRecord:
    sql = f"SELECT {', '.join(_COLUMNS)} FROM quarantine WHERE id = ?"  # noqa: S608 constant columns
    row = store.conn.execute(sql, (record_id,)).fetchone()
    if row is None:
        raise QuarantineError(f"no quarantine record #{record_id}")
    return QuarantineRecord(*row)


def add_pending(
    store: Store,
    directory: bytes,
    stored: str,
    path: bytes,
    st: os.stat_result,
    sha: str,
    *,
    tenant: str | None,
    reason: str,
    severity: Severity,
    now_ns: int,
) -> int:
    """Commit a 'pending' record of the file ``st`` describes, before it moves; return its id."""
    with store.conn:
        cur = store.conn.execute(
            "INSERT INTO quarantine (directory, stored_name, path, tenant, uid, gid, mode, atime_ns, "
            "mtime_ns, size, sha256, reason, severity, status, note, quarantined_ns) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'pending',?,?)",
            (directory, stored, path, tenant, st.st_uid, st.st_gid, st.st_mode, st.st_atime_ns,
             st.st_mtime_ns, st.st_size, sha, reason, str(severity),
             "hard links remain elsewhere" if st.st_nlink > 1 else None, now_ns),
        )  # fmt: skip
    return int(cur.lastrowid or 0)


def update(store: Store, record_id: int, **values: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    with store.conn:
        store.conn.execute(f"UPDATE quarantine SET {sets} WHERE id = ?", [*values.values(), record_id])  # noqa: S608


def delete(store: Store, record_ids: Iterable[int]) -> None:
    with store.conn:
        store.conn.executemany("DELETE FROM quarantine WHERE id = ?", [(i,) for i in record_ids])


def exists(store: Store, path: bytes, sha: str | None, status: str) -> bool:
    """Whether a record of this content at this path has ``status``."""
    row = store.conn.execute(
        "SELECT 1 FROM quarantine WHERE path = ? AND sha256 = ? AND status = ?", (path, sha, status)
    ).fetchone()
    return row is not None
