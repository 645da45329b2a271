"""Quarantine: move a file out of customers' reach, record how to put it back, and restore it.

The quarantine directory is root-only (0700, owned by fim's user); each file in it is named by
a random token, mode 0400 and (as root) owned by root, so no customer can read or run it. The
record (exact path bytes, owner, group, mode, atime/mtime in ns, size, SHA-256) is committed
*before* the move, so a crash never leaves a moved file nobody knows about.

Every directory on the way to a customer's file is opened relative to its parent with
``O_NOFOLLOW``: a symlink planted in the path is never followed (symlinks owned by root, such
as ``/home -> /data/home``, were placed by the administrator and are followed). The file is
hashed through the same descriptor that is then moved, and must match what the scan saw.
Whatever fails, the file stays where it was and the error says why.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fim.core import locations, paths, statefiles
from fim.core.errors import FimError, StoreError
from fim.core.model import Finding, RuleMatch, Severity, event_id
from fim.core.values import choice, percent
from fim.detect import roots as roots_mod
from fim.detect.policy import PolicyCheck

if TYPE_CHECKING:
    from fim.store.database import Store

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
OPEN_FLAGS = paths.OPEN_FLAGS
CREATE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
CHUNK = 1 << 20
DAY_NS = 86_400 * 1_000_000_000
SEVERITIES = ("off", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class QuarantineConfig:
    enabled: bool = False  # master switch: nothing is ever moved unless true
    # "" = /var/lib/fim/quarantine for root, $XDG_STATE_HOME/fim/quarantine otherwise
    directory: str = ""
    # Rule and hash-list findings at least this severe are quarantined; "off": only policy rules
    # whose action is "quarantine".
    min_severity: str = field(default="critical", metadata={"parse": choice(SEVERITIES)})
    # A file whose copy would leave less than this share of the quarantine directory's file
    # system free is not moved (reported instead): a customer must not fill fim's own disk.
    min_free_percent: float = field(default=5.0, metadata={"parse": percent})


class QuarantineError(FimError):
    """Quarantine or restore refused or failed; the file is where it was (unless ``kept``)."""

    def __init__(self, message: str, *, kept: bool = False, gone: bool = False):
        super().__init__(message)
        self.kept = kept  # what was moved stays in quarantine, with its record
        self.gone = gone  # nothing at the path any more: there was nothing to move


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
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


def directory_of(config: QuarantineConfig) -> bytes:
    return locations.quarantine_dir(config.directory)


# -- opening directories safely ------------------------------------------------------------------


def open_dir_safely(path: bytes) -> int:
    """Open an absolute directory path one component at a time, never following a symlink that
    is not owned by root. Returns a directory descriptor."""
    if not path.startswith(b"/"):
        raise QuarantineError(f"{paths.display(path)}: not an absolute path")
    fd = os.open(b"/", DIR_FLAGS)
    walked = b""
    try:
        for part in (p for p in path.split(b"/") if p):
            walked += b"/" + part
            if part == b"..":
                raise QuarantineError(f"{paths.display(path)}: '..' in path")
            try:
                nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                nfd = _follow_root_symlink(fd, part, walked, exc)
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


def _open_below_root(
    parent: bytes, roots: Mapping[bytes, tuple[int, int] | None], symlink_roots: Collection[bytes]
) -> int:
    """Open ``parent`` through the configured root that holds it: the root as validated
    (see fim.roots), then each directory below it with ``O_NOFOLLOW`` and no exception."""
    holding = [r for r in roots if paths.is_within(parent, r)]
    if not holding:
        raise QuarantineError("outside the configured roots; never moved")
    root = max(holding, key=len)
    try:
        fd = roots_mod.open_root(root, symlink_roots=symlink_roots, expect=roots[root])
    except roots_mod.RootError as exc:
        raise QuarantineError(str(exc)) from None
    walked = root.rstrip(b"/")
    try:
        for part in (p for p in parent[len(walked) :].split(b"/") if p):
            walked += b"/" + part
            if part in (b"..", b"."):
                raise QuarantineError(f"{paths.display(parent)}: '{part.decode()}' in path")
            try:
                nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise QuarantineError(
                        f"{paths.display(walked)} is a symlink or not a directory (not followed)"
                    ) from None
                raise QuarantineError(f"{paths.display(walked)}: {exc.strerror}") from None
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


def _identities(directories: Sequence[bytes]) -> set[tuple[int, int]]:
    found = set()
    for directory in directories:
        try:
            st = os.stat(directory)
        except OSError:
            continue  # not there (yet): nothing of it can be moved
        found.add((st.st_dev, st.st_ino))
    return found


def _refuse_protected(fd: int, trees: Sequence[bytes], dirs: Sequence[bytes]) -> None:
    """Raise when the directory ``fd`` is one of ``dirs`` or lies inside one of ``trees``.

    Compared by device and inode, walking up with ``..`` from the descriptor itself: a
    customer chooses names, not where a directory really is."""
    banned, exact = _identities(trees), _identities(dirs)
    st = os.fstat(fd)
    if (st.st_dev, st.st_ino) in exact:
        raise QuarantineError("in fim's own state directory; never moved")
    if not banned:
        return
    current = os.dup(fd)
    try:
        for _depth in range(4096):
            st = os.fstat(current)
            if (st.st_dev, st.st_ino) in banned:
                raise QuarantineError("inside fim's own state directory; never moved")
            up = os.open(b"..", DIR_FLAGS, dir_fd=current)
            top = os.fstat(up)
            os.close(current)
            current = up
            if (top.st_dev, top.st_ino) == (st.st_dev, st.st_ino):  # "/" is its own parent
                return
    finally:
        os.close(current)


def _follow_root_symlink(fd: int, part: bytes, walked: bytes, exc: OSError) -> int:
    where = paths.display(walked)
    if exc.errno == errno.ENOENT:
        raise QuarantineError(f"{where} does not exist") from None
    if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
        raise QuarantineError(f"{where}: {exc.strerror}") from None
    st = os.stat(part, dir_fd=fd, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        raise QuarantineError(f"{where}: not a directory") from None
    if st.st_uid != 0:
        raise QuarantineError(f"{where} is a symlink owned by uid {st.st_uid} (not followed)") from None
    return os.open(part, DIR_FLAGS & ~os.O_NOFOLLOW, dir_fd=fd)


def _open_quarantine_dir(directory: bytes, *, create: bool) -> int:
    if create:
        try:
            statefiles.private_dir(os.fsdecode(os.path.dirname(directory)))
            os.mkdir(directory, 0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise QuarantineError(f"cannot create {paths.display(directory)}: {exc.strerror}") from None
    try:
        fd = os.open(directory, DIR_FLAGS)
    except OSError as exc:
        raise QuarantineError(f"quarantine directory {paths.display(directory)}: {exc.strerror}") from None
    st = os.fstat(fd)
    if st.st_uid != os.geteuid():
        os.close(fd)
        raise QuarantineError(
            f"quarantine directory {paths.display(directory)} is owned by uid {st.st_uid}, not by fim"
        )
    if st.st_mode & 0o077:
        os.fchmod(fd, 0o700)  # root-only: customers must not reach what is in it
    return fd


def _split(path: bytes) -> tuple[bytes, bytes]:
    parent, _, name = path.rpartition(b"/")
    if not path.startswith(b"/") or not name:
        raise QuarantineError(f"{paths.display(path)}: not an absolute path to a file")
    return parent or b"/", name


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


# -- records -------------------------------------------------------------------------------------


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


def _update(store: Store, record_id: int, **values: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    with store.conn:
        store.conn.execute(f"UPDATE quarantine SET {sets} WHERE id = ?", [*values.values(), record_id])  # noqa: S608


# -- quarantine ----------------------------------------------------------------------------------


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
    parent, name = _split(path)
    if roots is None or path in roots:  # no roots known, or a file named as a root itself
        pfd = open_dir_safely(parent)
    else:
        pfd = _open_below_root(parent, roots, symlink_roots)
    try:
        _refuse_protected(pfd, [directory, *protected], protected_dirs)
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
            qfd = _open_quarantine_dir(directory, create=True)
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
    with store.conn:  # committed before anything moves
        cur = store.conn.execute(
            "INSERT INTO quarantine (directory, stored_name, path, tenant, uid, gid, mode, atime_ns, "
            "mtime_ns, size, sha256, reason, severity, status, note, quarantined_ns) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'pending',?,?)",
            (directory, stored, path, tenant, st.st_uid, st.st_gid, st.st_mode, st.st_atime_ns,
             st.st_mtime_ns, st.st_size, sha, reason, str(severity),
             "hard links remain elsewhere" if st.st_nlink > 1 else None, now),
        )  # fmt: skip
    record_id = int(cur.lastrowid or 0)
    try:
        method, sfd = _move(qfd, stored, pfd, name, fd, st, min_free_percent)
    except (QuarantineError, OSError) as exc:
        why = str(exc) if isinstance(exc, QuarantineError) else f"cannot move: {exc.strerror}"
        kept = exc.kept if isinstance(exc, QuarantineError) else not _still_there(pfd, name, st)
        if kept:  # moved, but not as planned: the record stays, so the file is never lost
            _update(store, record_id, note=why)
            raise QuarantineError(f"{why} (kept in quarantine as #{record_id})", kept=True) from None
        with store.conn:
            store.conn.execute("DELETE FROM quarantine WHERE id = ?", (record_id,))
        raise QuarantineError(why) from None
    note = None
    try:
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
        _update(store, record_id, status="quarantined", method=method, sha256=sha, note=note)
    except sqlite3.Error as exc:  # moved: the 'pending' record committed above still finds it
        why = f"moved, but its record stays 'pending' as #{record_id} ({exc})"
        raise QuarantineError(why, kept=True) from None
    return record(store, record_id)


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


# -- restore -------------------------------------------------------------------------------------


def restore(store: Store, record_id: int) -> QuarantineRecord:
    """Put a quarantined file back, byte for byte, with its owner, group, mode and timestamps.

    Refuses when something now exists at the original path (restore never overwrites).
    """
    rec = record(store, record_id)
    if rec.status == "restored":
        raise QuarantineError(f"#{rec.id} was already restored")
    shown = paths.display(rec.path)
    qfd = _open_quarantine_dir(rec.directory, create=False)
    try:
        try:
            sfd = os.open(rec.stored_name, OPEN_FLAGS, dir_fd=qfd)
        except FileNotFoundError:
            raise QuarantineError(f"#{rec.id}: the quarantined copy is missing") from None
        try:
            if _hash_fd(sfd) != rec.sha256:
                raise QuarantineError(f"#{rec.id}: the quarantined copy does not match its record")
            parent, name = _split(rec.path)
            pfd = open_dir_safely(parent)
            try:
                _put_back(rec, qfd, sfd, pfd, name, shown)
            finally:
                os.close(pfd)
        finally:
            os.close(sfd)
    finally:
        os.close(qfd)
    _update(store, rec.id, status="restored", restored_ns=time.time_ns())
    return record(store, rec.id)


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
        done.append((rec.id,))
    with store.conn:
        store.conn.executemany("DELETE FROM quarantine WHERE id = ?", done)
    return len(done), files, errors


def purge(store: Store, *, older_than_days: float, now: float | None = None) -> tuple[int, int, list[str]]:
    """Delete quarantined files (and records, restored ones too) older than ``older_than_days``.

    ``now`` is in seconds since the epoch (``time.time()``), for tests and schedulers.
    """
    now_ns = int((time.time() if now is None else now) * 1e9)
    cutoff = now_ns - int(older_than_days * DAY_NS)
    return remove_records(store, [r for r in records(store) if r.quarantined_ns < cutoff])


# -- the responder -------------------------------------------------------------------------------

MessageCallback = Callable[[str], None]


class QuarantineResponder:
    """Called by the scanner with all findings of one file; quarantines when configured to.

    Policy findings follow their rule's action; other findings (rules, hash lists) follow
    ``min_severity``. Content an operator restored at that path is not quarantined again.
    """

    def __init__(
        self,
        store: Store,
        config: QuarantineConfig,
        policy: PolicyCheck | None = None,
        on_message: MessageCallback | None = None,
    ):
        self.store = store
        self.directory = directory_of(config)
        self.min_severity = None if config.min_severity == "off" else Severity.parse(config.min_severity)
        self.min_free_percent = config.min_free_percent
        self.policy = policy
        self.on_message = on_message
        # Where files may be moved from: root -> validated (device, inode) or None. Set by
        # whoever walks (the scan's roots, the daemon's validated roots); None: the file's
        # own path, opened without following a customer's symlink.
        self.roots: Mapping[bytes, tuple[int, int] | None] | None = None
        self.symlink_roots: frozenset[bytes] = frozenset()
        self.protected: tuple[bytes, ...] = (self.directory,)  # fim's own trees: never moved from
        self.protected_dirs: tuple[bytes, ...] = ()  # directories holding fim's own files

    def set_roots(
        self, roots: Mapping[bytes, tuple[int, int] | None], symlink_roots: Collection[bytes] = ()
    ) -> None:
        self.roots = dict(roots)
        self.symlink_roots = frozenset(symlink_roots)

    def wants(self, finding: Finding) -> bool:
        match = finding.match
        if match.ruleset == "policy":
            check = match.rule.removeprefix("policy.")
            return self.policy is not None and self.policy.action_for(finding.path, check) == "quarantine"
        if match.ruleset == "fim":  # fim's own notices (timeouts, quarantine) are not detections
            return False
        return self.min_severity is not None and match.severity >= self.min_severity

    def __call__(self, found: list[Finding]) -> None:
        triggers = [f for f in found if self.wants(f)]
        if not triggers:
            return
        first = triggers[0]
        sha = first.state.sha256 if first.state else None
        if self._restored_before(first.path, sha):
            return
        severity = max(f.severity for f in triggers)
        reason = ", ".join(
            sorted({f"{f.match.ruleset}.{f.match.rule}".removeprefix("policy.") for f in triggers})
        )
        shown = paths.display(first.path)
        try:
            rec = quarantine_file(
                self.store, self.directory, first.path, expected_sha256=sha,
                tenant=first.tenant, reason=reason, severity=severity, roots=self.roots,
                symlink_roots=self.symlink_roots, protected=self.protected,
                protected_dirs=self.protected_dirs, min_free_percent=self.min_free_percent,
            )  # fmt: skip
        except (QuarantineError, StoreError, OSError) as exc:
            # StoreError: the record could not be written (locked, disk full), so nothing moved.
            why = str(exc) if isinstance(exc, FimError) else (exc.strerror or str(exc))
            gone = getattr(exc, "gone", False)
            if gone and self._quarantined(first.path, sha):
                return  # an earlier verdict on the same file moved it already: nothing to say
            if getattr(exc, "kept", False):
                where = "see fim quarantine list"
            elif gone:
                where = "the file was gone before it could be moved"
            else:
                where = "the file is still in place"
            text = f"quarantine failed, {where}: {why} (because of {reason})"
            if not self._notified(first.path, sha, "fim_quarantine_failed"):  # once, not every scan
                self._notice(first, "fim_quarantine_failed", severity, text)
            self._say(f"fim: quarantine of {shown} failed: {why}")
            return
        text = (
            f"moved to quarantine as #{rec.id} because of {reason}; "
            f"restore with: fim quarantine restore {rec.id}"
        )
        self._notice(first, "fim_quarantined", severity, text)
        self._say(f"fim: quarantined {shown} as #{rec.id} ({reason})")

    def _quarantined(self, path: bytes, sha: str | None) -> bool:
        row = self.store.conn.execute(
            "SELECT 1 FROM quarantine WHERE path = ? AND sha256 = ? AND status = 'quarantined'", (path, sha)
        ).fetchone()
        return row is not None

    def _restored_before(self, path: bytes, sha: str | None) -> bool:
        with self.store._guard():
            row = self.store.conn.execute(
                "SELECT 1 FROM quarantine WHERE path = ? AND sha256 = ? AND status = 'restored'", (path, sha)
            ).fetchone()
        return row is not None

    def _notified(self, path: bytes, sha: str | None, rule: str) -> bool:
        with self.store._guard():
            row = self.store.conn.execute(
                "SELECT 1 FROM findings WHERE event_id = ?", (event_id(path, sha, rule, "fim"),)
            ).fetchone()
        return row is not None

    def _notice(self, finding: Finding, rule: str, severity: Severity, text: str) -> None:
        match = RuleMatch(rule=rule, ruleset="fim", severity=severity, description=text, family="response")
        notice = dataclasses.replace(finding, match=match, detected_ns=time.time_ns())
        self.store.add_findings([notice], None)  # the alert outbox carries it

    def _say(self, text: str) -> None:
        if self.on_message is not None:
            self.on_message(text)
