"""Opening the directories quarantine works in, without being led astray by a customer.

Every directory on the way to a customer's file is opened relative to its parent with
``O_NOFOLLOW``: a symlink planted in the path is never followed (symlinks owned by root, such
as ``/home -> /data/home``, were placed by the administrator and are followed). fim's own
directories are recognised by device and inode, whatever names lead there.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Collection, Mapping, Sequence

from fim.core import paths, statefiles
from fim.detect import roots as roots_mod
from fim.respond.quarantine_records import QuarantineError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def open_dir_safely(path: bytes) -> int:
    """Open an absolute directory path one component at a time, never following a symlink that
    is not owned by root (or fim's user). A trusted symlink's target is resolved the same way,
    component by component: a customer's symlink inside it is not followed either. Returns a
    directory descriptor."""
    if not path.startswith(b"/"):
        raise QuarantineError(f"{paths.display(path)}: not an absolute path")
    if b".." in path.split(b"/"):
        raise QuarantineError(f"{paths.display(path)}: '..' in path")
    try:
        return roots_mod.open_dir(path, final_symlink="trusted")
    except roots_mod.RootError as exc:
        raise QuarantineError(str(exc)) from None


def open_below_root(
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


def refuse_protected(fd: int, trees: Sequence[bytes], dirs: Sequence[bytes]) -> None:
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


def open_quarantine_dir(directory: bytes, *, create: bool) -> int:
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


def split_path(path: bytes) -> tuple[bytes, bytes]:
    parent, _, name = path.rpartition(b"/")
    if not path.startswith(b"/") or not name:
        raise QuarantineError(f"{paths.display(path)}: not an absolute path to a file")
    return parent or b"/", name
