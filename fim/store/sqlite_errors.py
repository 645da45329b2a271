"""sqlite3 errors as messages an operator can act on: locked, corrupt, read-only, disk full."""

from __future__ import annotations

import os
import sqlite3

from fim.core.errors import DatabaseFull, StoreError

_SQLITE_FULL = 13
_SQLITE_IOERR = 10


def translate(exc: sqlite3.Error, where: str) -> StoreError:
    """An operator's message for a sqlite3 error (:class:`DatabaseFull` when out of space)."""
    text = str(exc)
    if _is_full(exc, where):
        return DatabaseFull(f"database {where}: the file system is full ({text}); free space there")
    if "locked" in text or "busy" in text:
        return StoreError(
            f"database {where} is locked by another process (is another fim running?); "
            "try again later or raise database.busy_timeout"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(
            f"database {where} is corrupt or not a fim database ({text}); move it aside to "
            "start a new baseline"
        )
    if "readonly" in text or "unable to open" in text:
        return StoreError(f"database {where} cannot be written ({text})")
    return StoreError(f"database {where}: {text}")


def _is_full(exc: sqlite3.Error, where: str) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if (code is not None and code & 0xFF == _SQLITE_FULL) or "disk is full" in str(exc):
        return True
    # Creating the WAL index of a database on a full disk fails as an I/O error.
    if (code is not None and code & 0xFF == _SQLITE_IOERR) or "disk I/O error" in str(exc):
        return free_bytes(where) < 64 << 10
    return False


def free_bytes(where: str) -> int:
    try:
        st = os.statvfs(os.path.dirname(os.path.abspath(where)))
    except (OSError, ValueError):
        return 1 << 62  # cannot tell: not known to be full
    return st.f_bavail * st.f_frsize


class Guard:
    """Turn sqlite3 errors into :class:`StoreError` with a message for the operator."""

    def __init__(self, where: str):
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, typ, exc, tb) -> None:
        if isinstance(exc, sqlite3.Error):
            raise translate(exc, self.where) from None
