"""Space set aside next to the database, given back when the disk is too full to open it."""

from __future__ import annotations

import os

# Space set aside next to the database (``<db>-reserve``) by long-running processes: when the
# disk is full at start, giving it back lets SQLite create the WAL index (32 KiB) and write a
# few pages, so the daemon starts (degraded) instead of failing at every restart.
RESERVE_BYTES = 256 << 10


def _reserve_path(where: str) -> str:
    return where + "-reserve"


def make_reserve(where: str, size: int) -> bool:
    """Whether ``<where>-reserve`` now holds ``size`` bytes (created if there is room)."""
    path = _reserve_path(where)
    try:
        if os.stat(path).st_size >= size:
            return True
    except OSError:
        pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return False
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError:  # no room for it now: none rather than a partial one
        try:
            os.unlink(path)
        except OSError:
            pass
        return False
    finally:
        os.close(fd)
    return True


def release_reserve(where: str) -> bool:
    try:
        os.unlink(_reserve_path(where))
    except OSError:
        return False
    return True
