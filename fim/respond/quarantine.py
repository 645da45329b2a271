"""Quarantine: move a file out of customers' reach, put it back, or delete it for good.

The quarantine directory is root-only (0700, owned by fim's user); each file in it is named by
a random token, mode 0400 and (as root) owned by root, so no customer can read or run it. The
record (exact path bytes, owner, group, mode, atime/mtime in ns, size, SHA-256) is committed
*before* the move, so a crash never leaves a moved file nobody knows about.

The directories on the way are opened as fim.respond.quarantine_dirs describes. The file is
hashed through the same descriptor that is then moved, and must match what the scan saw.
Whatever fails, the file stays where it was and the error says why.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from fim.core import paths
from fim.core.model import Severity
from fim.respond import quarantine_records as qrecords
from fim.respond.quarantine_dirs import (
    DIR_FLAGS,
    open_below_root,
    open_dir_safely,
    open_quarantine_dir,
    refuse_protected,
    split_path,
)
from fim.respond.quarantine_records import QuarantineError, QuarantineRecord

if TYPE_CHECKING:
    from fim.store.database import Store

OPEN_FLAGS = paths.OPEN_FLAGS
CREATE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
CHUNK = 1 << 20
DAY_NS = 86_400 * 1_000_000_000


def _hash_fd(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    h = hashlib.sha256()
    while chunk := os.read(fd, CHUNK):
        h.update(chunk)
    return h.hexdigest()


def _copy_fd(src: int, dst: int) -> str:
    """Copy ``src`` from its start into ``dst``, fsync it; return the SHA-256 of what was copied."""
    os.lseek(src, 0, os.SEEK_SET)
    h = hashlib.sha256()
    while chunk := os.read(src, CHUNK):
        h.update(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(dst, view) :]
    os.fsync(dst)
    return h.hexdigest()


# -- quarantine ------------------------------------------------------------------------------------


def quarantine_file(
    store: Store,
    directory: bytes | str,
    path: bytes,
    *,
    expected_sha256: str | None,
    tenant: str | None = None,
    reason: str = "",
    severity: Severity = Severity.HIGH,
    roots: Mapping[bytes, tuple[int, int] | None] | None = None,
    symlink_roots: Collection[bytes] = (),
    protected: Sequence[bytes] = (),
    protected_dirs: Sequence[bytes] = (),
    min_free_percent: float = 5.0,
) -> QuarantineRecord:
    """Move ``path`` into ``directory`` and record it. Raises :class:`QuarantineError` (the file
    left in place) when it cannot, including when its content is no longer ``expected_sha256``
    or when copying it would leave less than ``min_free_percent`` of the quarantine file system
    free. A database error is raised as :class:`StoreError` (the file left in place).

    With ``roots`` (root path -> the (device, inode) it had when validated, or None), a path
    outside them is refused, and below its root no symlink at all is followed. Nothing in the
    ``protected`` trees (the quarantine directory, the rule cache), nor directly in one of
    ``protected_dirs`` (the database's and status file's directories) is ever moved, whatever
    names lead there: directories are compared by device and inode.
    A file with more than one hard link is refused: its other names may belong to another
    user, whose file would change owner and mode."""
    directory = os.fsencode(directory)
    if not expected_sha256:
        raise QuarantineError("not hashed (larger than max_hash_size): cannot verify what would be moved")
    if paths.is_within(path, directory):
        raise QuarantineError("already in the quarantine directory")
    parent, name = split_path(path)
    # With roots, always from the root down: even a file named as a root itself is refused,
    # not opened by a path whose directories could lead elsewhere.
    pfd = open_dir_safely(parent) if roots is None else open_below_root(parent, roots, symlink_roots)
    try:
        refuse_protected(pfd, [directory, *protected], protected_dirs)
        try:
            fd = os.open(name, OPEN_FLAGS, dir_fd=pfd)
        except OSError as exc:
            why = "replaced by a symlink (not followed)" if exc.errno == errno.ELOOP else exc.strerror
            raise QuarantineError(f"cannot open: {why}", gone=exc.errno == errno.ENOENT) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise QuarantineError("not a regular file")
            if st.st_nlink > 1:
                raise QuarantineError(
                    f"it has {st.st_nlink} hard links (other names may belong to another user); "
                    "left in place for an administrator"
                )
            if _hash_fd(fd) != expected_sha256:
                raise QuarantineError("content changed since it was scanned; it will be examined again")
            qfd = open_quarantine_dir(directory, create=True)
            try:
                where = (directory, qfd, pfd, name, min_free_percent)
                with store._guard():  # sqlite3 errors as StoreError: locked, disk full
                    return _move_and_record(
                        store, where, fd, st, expected_sha256, path, tenant, reason, severity
                    )
            finally:
                os.close(qfd)
        finally:
            os.close(fd)
    finally:
        os.close(pfd)


def _move_and_record(store, where, fd, st, sha, path, tenant, reason, severity) -> QuarantineRecord:
    directory, qfd, pfd, name, min_free_percent = where
    stored = secrets.token_hex(16)
    now = time.time_ns()
    record_id = qrecords.add_pending(  # committed before anything moves
        store, directory, stored, path, st, sha, tenant=tenant, reason=reason, severity=severity, now_ns=now
    )
    try:
        method, sfd = _move(qfd, stored, pfd, name, fd, st, min_free_percent)
    except (QuarantineError, OSError) as exc:
        why = str(exc) if isinstance(exc, QuarantineError) else f"cannot move: {exc.strerror}"
        kept = exc.kept if isinstance(exc, QuarantineError) else not _still_there(pfd, name, st)
        if kept:  # moved, but not as planned: the record stays, so the file is never lost
            qrecords.update(store, record_id, note=why)
            raise QuarantineError(f"{why} (kept in quarantine as #{record_id})", kept=True) from None
        qrecords.delete(store, [record_id])
        raise QuarantineError(why) from None
    note = None
    try:
        if os.fstat(sfd).st_nlink > 1:
            # A name was linked to it between the check and the move: its owner and mode are
            # that other name's too, so they stay as they are.
            note = "another name was linked to it during the move; owner and mode left unchanged"
        else:
            if os.geteuid() == 0:
                os.fchown(sfd, 0, 0)
            os.fchmod(sfd, 0o400)
        sha = _hash_fd(sfd)  # what is kept: a writer holding the file open may still have written
        os.fsync(sfd)
    except OSError as exc:
        note = f"could not lock the copy down: {exc.strerror}"
    finally:
        os.close(sfd)
    try:
        qrecords.update(store, record_id, status="quarantined", method=method, sha256=sha, note=note)
    except sqlite3.Error as exc:  # moved: the 'pending' record committed above still finds it
        why = f"moved, but its record stays 'pending' as #{record_id} ({exc})"
        raise QuarantineError(why, kept=True) from None
    return qrecords.record(store, record_id)


def _still_there(pfd: int, name: bytes, st: os.stat_result) -> bool:
    try:
        now = os.stat(name, dir_fd=pfd, follow_symlinks=False)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino)


def _move(
    qfd: int, stored: str, pfd: int, name: bytes, fd: int, st: os.stat_result, min_free_percent: float
) -> tuple[str, int]:
    """Move the verified file; return how, and a descriptor of the copy kept in quarantine."""
    try:
        os.rename(name, stored, src_dir_fd=pfd, dst_dir_fd=qfd)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise QuarantineError(f"cannot move: {exc.strerror}") from None
        _check_room(qfd, st.st_size, min_free_percent)
        return "copy", _copy_out(qfd, stored, pfd, name, fd, st)
    moved = os.stat(stored, dir_fd=qfd, follow_symlinks=False)
    if (moved.st_dev, moved.st_ino) != (st.st_dev, st.st_ino):
        # The name was swapped between verifying and moving: put back what we moved.
        try:
            os.stat(name, dir_fd=pfd, follow_symlinks=False)
        except FileNotFoundError:
            os.rename(stored, name, src_dir_fd=qfd, dst_dir_fd=pfd)
            raise QuarantineError("replaced while being quarantined; nothing moved") from None
        raise QuarantineError(
            "replaced while being quarantined; what was moved is kept in quarantine", kept=True
        )
    os.fsync(qfd)
    return "rename", os.dup(fd)


def _check_room(qfd: int, size: int, min_free_percent: float) -> None:
    """Refuse a copy that would leave less than ``min_free_percent`` of the quarantine file
    system free (a rename on the same file system takes no space and is never refused)."""
    vfs = os.fstatvfs(qfd)
    total = vfs.f_blocks * vfs.f_frsize
    free_after = vfs.f_bavail * vfs.f_frsize - size
    reserve = total * min_free_percent / 100
    if free_after < reserve:
        raise QuarantineError(
            f"not enough space: a copy of {size} bytes would leave {max(free_after, 0)} bytes free on "
            f"the quarantine file system, less than quarantine.min_free_percent = {min_free_percent:g}% "
            f"of {total} bytes"
        )


def _copy_out(qfd: int, stored: str, pfd: int, name: bytes, fd: int, st: os.stat_result) -> int:
    """Another file system: copy, fsync, then unlink the original if it is still the same file."""
    try:
        cfd = os.open(stored, CREATE_FLAGS, 0o600, dir_fd=qfd)
    except OSError as exc:
        raise QuarantineError(f"cannot create the quarantine copy: {exc.strerror}") from None
    try:
        copied = _copy_fd(fd, cfd)
        os.fsync(qfd)
        if copied != _hash_fd(fd):
            raise QuarantineError("changed while being copied")
        now = os.stat(name, dir_fd=pfd, follow_symlinks=False)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise QuarantineError("replaced while being copied")
        os.unlink(name, dir_fd=pfd)
        os.fsync(pfd)
    except BaseException as exc:
        os.close(cfd)
        try:
            os.unlink(stored, dir_fd=qfd)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise QuarantineError(f"cannot move: {exc.strerror}") from None
        raise
    return cfd


# -- restore ---------------------------------------------------------------------------------------


def restore(
    store: Store, record_id: int, *, protected: Sequence[bytes] = (), protected_dirs: Sequence[bytes] = ()
) -> QuarantineRecord:
    """Put a quarantined file back, byte for byte, with its owner, group, mode and timestamps.

    Refuses when something now exists at the original path (restore never overwrites), and
    when the directory reached is in fim's own places (``protected`` trees, the quarantine
    directory, ``protected_dirs``), as :func:`quarantine_file` does.
    """
    rec = qrecords.record(store, record_id)
    if rec.status == "restored":
        raise QuarantineError(f"#{rec.id} was already restored")
    shown = paths.display(rec.path)
    qfd = open_quarantine_dir(rec.directory, create=False)
    try:
        try:
            sfd = os.open(rec.stored_name, OPEN_FLAGS, dir_fd=qfd)
        except FileNotFoundError:
            raise QuarantineError(f"#{rec.id}: the quarantined copy is missing") from None
        try:
            if _hash_fd(sfd) != rec.sha256:
                raise QuarantineError(f"#{rec.id}: the quarantined copy does not match its record")
            parent, name = split_path(rec.path)
            pfd = open_dir_safely(parent)
            try:
                refuse_protected(pfd, [rec.directory, *protected], protected_dirs)
                _put_back(rec, qfd, sfd, pfd, name, shown)
            finally:
                os.close(pfd)
        finally:
            os.close(sfd)
    finally:
        os.close(qfd)
    with store._guard():  # sqlite3 errors as StoreError: locked, disk full
        qrecords.update(store, rec.id, status="restored", restored_ns=time.time_ns())
        return qrecords.record(store, rec.id)


def _put_back(rec: QuarantineRecord, qfd: int, sfd: int, pfd: int, name: bytes, shown: str) -> None:
    try:
        os.link(rec.stored_name, name, src_dir_fd=qfd, dst_dir_fd=pfd, follow_symlinks=False)
        linked = True
    except FileExistsError:
        raise QuarantineError(f"{shown} exists now; move it away first (restore never overwrites)") from None
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM):
            raise QuarantineError(f"cannot restore {shown}: {exc.strerror}") from None
        linked = False
    try:
        if linked:
            rfd = os.open(name, OPEN_FLAGS, dir_fd=pfd)
            if os.fstat(rfd)[1:3] != os.fstat(sfd)[1:3]:  # (ino, dev)
                os.close(rfd)
                raise QuarantineError(f"{shown} was replaced while being restored")
        else:
            try:
                rfd = os.open(name, CREATE_FLAGS, 0o600, dir_fd=pfd)
            except FileExistsError:
                raise QuarantineError(f"{shown} exists now; move it away first") from None
        try:
            if not linked and _copy_fd(sfd, rfd) != rec.sha256:
                raise QuarantineError("the copy does not match the record")
            if os.geteuid() == 0 or rec.uid == os.geteuid():
                os.fchown(rfd, rec.uid, rec.gid)
            os.fchmod(rfd, stat.S_IMODE(rec.mode))  # after chown, which clears set-id bits
            os.utime(rfd, ns=(rec.atime_ns, rec.mtime_ns))
            os.fsync(rfd)
        finally:
            os.close(rfd)
    except BaseException:
        try:
            os.unlink(name, dir_fd=pfd)  # ours: created or linked just above
        except OSError:
            pass
        raise
    os.unlink(rec.stored_name, dir_fd=qfd)
    os.fsync(pfd)


# -- removal (purge, retention, tenant forget) ---------------------------------------------------


def remove_records(store: Store, recs: Sequence[QuarantineRecord]) -> tuple[int, int, list[str]]:
    """Delete the quarantined copies and the records. Returns (records, files, errors); a record
    whose copy could not be deleted is kept, so no file is left without its record."""
    done, files, errors = [], 0, []
    for rec in recs:
        if rec.status != "restored":
            try:
                qfd = os.open(rec.directory, DIR_FLAGS)
                try:
                    os.unlink(rec.stored_name, dir_fd=qfd)
                    files += 1
                finally:
                    os.close(qfd)
            except FileNotFoundError:
                pass
            except OSError as exc:
                errors.append(f"#{rec.id} {paths.display(rec.path)}: {exc.strerror}")
                continue
        done.append(rec.id)
    qrecords.delete(store, done)
    return len(done), files, errors


def purge(store: Store, *, older_than_days: float, now: float | None = None) -> tuple[int, int, list[str]]:
    """Delete quarantined files (and records, restored ones too) older than ``older_than_days``.

    ``now`` is in seconds since the epoch (``time.time()``), for tests and schedulers.
    """
    now_ns = int((time.time() if now is None else now) * 1e9)
    cutoff = now_ns - int(older_than_days * DAY_NS)
    return remove_records(store, [r for r in qrecords.records(store) if r.quarantined_ns < cutoff])
