"""fim's own state files and directories: private to fim, whatever the umask.

The database, its WAL and SHM files, the status file, the rule cache and the quarantine name
customers' files and what was found in them: directories fim creates are 0700 and files 0600,
set explicitly rather than left to the umask of whoever started fim by hand.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: str | os.PathLike[str]) -> None:
    """Create ``path`` and its missing parents, each 0700 (existing ones are left as they are)."""
    missing: list[Path] = []
    current = Path(path)
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(directory, DIR_MODE)  # exactly, whatever the umask


def write_private(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` atomically with ``data`` in a file only its owner can read (0600)."""
    target = Path(path)
    private_dir(target.parent)
    replace_file(target, data, FILE_MODE)


def replace_file(
    target: str | os.PathLike[str], data: bytes, mode: int, *, sync: bool = False, dir_fd: int | None = None
) -> None:
    """Replace ``target`` atomically with ``data`` in a file of exactly ``mode``. The temporary
    file beside it is created exclusively under a fresh name, never through a symlink, and is
    removed when anything fails (a full disk must not keep a half-written copy); ``sync``
    flushes it to disk before the rename. With ``dir_fd``, ``target`` is a name in that
    directory."""
    target = Path(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    fd = os.open(
        tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd
    )
    try:
        os.fchmod(fd, mode)  # exactly, whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
