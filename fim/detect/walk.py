"""Enumerating a tree without ever following a symlink, even one planted during the walk.

Every directory is opened relative to its parent's file descriptor with ``O_NOFOLLOW``, so a
directory swapped for a symlink mid-walk fails to open instead of leading elsewhere, and paths
longer than ``PATH_MAX`` work. Files are handed out with the descriptor of their directory; the
inspector opens them relative to it. Descriptors are reference-counted: a directory stays open
while a child directory waits to be entered or a file waits to be inspected.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

from fim.core import paths
from fim.core.model import Problem, Status
from fim.detect import roots

_FS_ENCODING = sys.getfilesystemencoding()
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class DirHandle:
    """An open directory shared by the walker and pending inspections."""

    __slots__ = ("_refs", "fd", "listed", "path")

    def __init__(self, fd: int, path: bytes):
        self.fd = fd
        self.path = path
        self._refs = 1
        self.listed = False  # listed whole, and told to Walker.on_listed

    def acquire(self) -> DirHandle:
        self._refs += 1
        return self

    def release(self) -> None:
        self._refs -= 1
        if self._refs == 0:
            os.close(self.fd)
            self.fd = -1


class Candidate(NamedTuple):
    """A regular file found by a walk (or an event): where it is and what ``lstat`` said.

    Immutable; a named tuple rather than a frozen dataclass because every walk builds one per
    file, and it builds in half the time."""

    path: bytes
    name: bytes
    parent: DirHandle | None  # None: open ``path`` as is (final component still not followed)
    lstat: os.stat_result | None

    def release(self) -> None:
        if self.parent is not None:
            self.parent.release()


class Excludes:
    """Glob excludes. A pattern with a ``/`` matches the whole path, otherwise the name."""

    def __init__(self, patterns: Sequence[str]):
        self._full = [p.encode() for p in patterns if "/" in p]
        self._name = [p.encode() for p in patterns if "/" not in p]

    def __bool__(self) -> bool:
        return bool(self._full or self._name)

    def excluded(self, path: bytes, name: bytes) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in self._name) or any(
            fnmatch.fnmatchcase(path, p) for p in self._full
        )


def _special_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink (not followed)"
    if stat.S_ISFIFO(mode):
        return "FIFO (not opened)"
    if stat.S_ISSOCK(mode):
        return "socket (not opened)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device node (not opened)"
    return "special file (not opened)"


def _special(path: bytes, mode: int) -> Problem:
    status = Status.SYMLINK if stat.S_ISLNK(mode) else Status.SPECIAL
    return Problem(path, status, _special_kind(mode))


def lexists_beneath(root: bytes, path: bytes) -> bool | None:
    """Whether ``path`` (inside ``root``) exists, without following a symlink and whatever its
    length: every directory below ``root`` is opened relative to its parent (``os.path.lexists``
    says False past PATH_MAX, which would read as "deleted"). None when it cannot be told
    (permission, a symlink where a directory was)."""
    path = os.path.normpath(path)
    if path == root:
        return os.path.lexists(root)
    if not paths.is_within(path, root):
        return None
    parts = path[len(root.rstrip(b"/")) + 1 :].split(b"/")
    try:
        fd = os.open(root, DIR_FLAGS)
    except OSError as exc:
        return False if exc.errno in (errno.ENOENT, errno.ENOTDIR) else None
    try:
        for part in parts[:-1]:
            child = os.open(part, DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        os.stat(parts[-1], dir_fd=fd, follow_symlinks=False)
        return True
    except OSError as exc:
        return False if exc.errno in (errno.ENOENT, errno.ENOTDIR) else None
    finally:
        os.close(fd)


class Walker:
    """Walk roots depth-first, yielding :class:`Candidate` for each regular file.

    ``on_problem`` receives what could not be walked or is not a regular file. ``unlisted``
    collects directories that could not be listed, so a baseline sweep does not mistake their
    contents for deleted files.
    """

    def __init__(
        self,
        *,
        excludes: Excludes,
        one_file_system: bool,
        on_problem: Callable[[Problem], None],
        on_directory: Callable[[bytes, os.stat_result], None] | None = None,
        root_ids: Mapping[bytes, tuple[int, int]] | None = None,
    ):
        self._excludes = excludes
        self._one_fs = one_file_system
        self._on_problem = on_problem
        self._on_directory = on_directory
        # (device, inode) of roots validated by fim.roots: a walk or event below such a root
        # goes on only while the path still reaches that very directory.
        self.root_ids: Mapping[bytes, tuple[int, int]] = root_ids or {}
        self.symlink_roots: frozenset[bytes] = frozenset()  # roots allowed to be root's symlinks
        self.unlisted: list[bytes] = []
        # Told of each directory listed whole, before its files are yielded (a comparison
        # with the baseline a directory at a time: fim.scanner.merge).
        self.on_listed: Callable[[DirHandle], None] | None = None

    def _open_root(self, root: bytes) -> int:
        """Open a directory to walk: every component with ``O_NOFOLLOW`` (a symlink on the way
        only when root owns it), and a validated root only if it is still the same directory."""
        return roots.open_root(root, symlink_roots=self.symlink_roots, expect=self.root_ids.get(root))

    def walk(self, root: bytes) -> Iterator[Candidate]:
        """Walk a root directory, or look at one file named as a root (``fim scan FILE``).

        A validated root (in ``root_ids``) is only ever opened as that very directory: never
        looked at through its path string, which a customer's symlink above it could lead to a
        file outside every tree. Any other path is looked at from its parent directory, opened
        as :func:`fim.detect.roots.open_dir` does (a customer's symlink on the way is refused).
        """
        if root in self.root_ids:  # opened only as the directory validated, else a problem
            yield from self._walk_opened(root)
            return
        where = paths.absolute(root)  # opened from "/"; reported as given
        if where == b"/":
            yield from self._walk_opened(root)
            return
        parent, name = os.path.dirname(where), paths.basename(where)
        try:
            pfd = roots.open_dir(parent, final_symlink="trusted")
        except roots.RootError as exc:
            self._root_refused(root, exc)
            return
        handle = DirHandle(pfd, parent)
        try:
            try:
                st = os.stat(name, dir_fd=pfd, follow_symlinks=False)
            except OSError as exc:
                self._problem(root, exc)
                self.unlisted.append(root)
                return
            if stat.S_ISREG(st.st_mode):
                yield Candidate(root, name, handle.acquire(), st)
                return
        finally:
            handle.release()
        if stat.S_ISLNK(st.st_mode) and root not in self.symlink_roots:
            reason = "a symlink given as a path is not followed: name its target instead"
            self._on_problem(Problem(root, Status.SYMLINK, reason, always_list=True))
            return
        if not stat.S_ISDIR(st.st_mode) and not stat.S_ISLNK(st.st_mode):
            self._on_problem(_special(root, st.st_mode))
            return
        yield from self._walk_opened(root)

    def _walk_opened(self, root: bytes) -> Iterator[Candidate]:
        try:
            fd = self._open_root(root)
        except roots.RootError as exc:
            self._root_refused(root, exc)
            return
        except OSError as exc:
            self._problem(root, exc)
            self.unlisted.append(root)
            return
        yield from self._walk_from(DirHandle(fd, root), os.fstat(fd).st_dev)

    def _root_refused(self, root: bytes, exc: roots.RootError) -> None:
        if exc.missing:  # gone, or not a directory where one was: as a failed lstat said
            self._on_problem(Problem(root, Status.VANISHED, str(exc)))
        else:
            self._on_problem(Problem(root, Status.SYMLINK, str(exc), always_list=True))
        self.unlisted.append(root)

    def walk_paths(self, items: Iterable[bytes]) -> Iterator[Candidate]:
        """Walk each of ``items`` (files or directories; ``--files-from``), not excluded ones.

        Every component below ``/`` is opened with ``O_NOFOLLOW``: a listed path whose directory
        a customer swapped for a symlink is not followed. List real paths (realpath)."""
        for raw in items:
            path = paths.absolute(raw)
            if self._excludes and self._excludes.excluded(path, paths.basename(path)):
                continue
            yield from self.walk_beneath(b"/", path)

    def walk_beneath(self, root: bytes, path: bytes) -> Iterator[Candidate]:
        """Walk ``path`` (a file or directory inside ``root``) opening every component below
        ``root`` with ``O_NOFOLLOW``: a directory swapped for a symlink is never followed out.

        Used for paths from events, which arrive without the walk that verifies their parents.
        A path that no longer exists yields nothing and reports nothing (its deletion is news,
        not a problem).
        """
        path = os.path.normpath(path)  # no "..", "." or "//" may steer the walk
        if path == root:
            yield from self.walk(root)
            return
        if not paths.is_within(path, root):
            return
        parts = path[len(root.rstrip(b"/")) + 1 :].split(b"/")
        try:
            fd = self._open_root(root)
        except roots.RootError as exc:
            self._on_problem(Problem(root, Status.SYMLINK, str(exc), always_list=True))
            return
        except OSError as exc:
            self._problem(root, exc)
            return
        handle = DirHandle(fd, root)
        try:
            current = root.rstrip(b"/")
            for part in parts[:-1]:
                current += b"/" + part
                if self._excludes and self._excludes.excluded(current, part):
                    return
                child = self._open_dir_quietly(handle, part, current)
                if child is None:
                    return
                handle.release()
                handle = child
            name = parts[-1]
            if self._excludes and self._excludes.excluded(path, name):
                return
            try:
                st = os.stat(name, dir_fd=handle.fd, follow_symlinks=False)
            except OSError as exc:
                if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                    self._problem(path, exc)
                return
            if stat.S_ISREG(st.st_mode):
                yield Candidate(path, name, handle.acquire(), st)
            elif stat.S_ISDIR(st.st_mode):
                child = self._open_dir_quietly(handle, name, path)
                if child is not None:
                    yield from self._walk_from(child, st.st_dev)
            else:
                self._on_problem(_special(path, st.st_mode))
        finally:
            handle.release()

    def _open_dir_quietly(self, parent: DirHandle, name: bytes, path: bytes) -> DirHandle | None:
        try:
            return DirHandle(os.open(name, DIR_FLAGS, dir_fd=parent.fd), path)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                reason = "a directory in the path is a symlink or file (not followed)"
                self._on_problem(Problem(path, Status.SYMLINK, reason))
            else:
                self._problem(path, exc)
            return None

    def _walk_from(self, top: DirHandle, device: int) -> Iterator[Candidate]:
        # Stack of directories still to list; each holds a reference to its parent's handle.
        stack: list[tuple[DirHandle, bytes, bytes] | DirHandle] = [top]
        while stack:
            item = stack.pop()
            if isinstance(item, DirHandle):
                handle = item
            else:
                parent, name, path = item
                handle = self._open_dir(parent, name, path)
                parent.release()
                if handle is None:
                    continue
            try:
                subdirs = yield from self._list(handle, device)
                # Reverse so that the first subdirectory listed is walked first.
                for name, path in reversed(subdirs):
                    stack.append((handle.acquire(), name, path))
            finally:
                handle.release()

    def _open_dir(self, parent: DirHandle, name: bytes, path: bytes) -> DirHandle | None:
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=parent.fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                reason = "replaced by a symlink or file during the walk (not followed)"
                self._on_problem(Problem(path, Status.VANISHED, reason))
            else:
                self._problem(path, exc)
            self.unlisted.append(path)
            return None
        return DirHandle(fd, path)

    def _list(self, handle: DirHandle, device: int):
        """Yield the files of one directory; return its subdirectories to walk."""
        subdirs: list[tuple[bytes, bytes]] = []
        base = handle.path.rstrip(b"/") + b"/" if handle.path != b"/" else b"/"
        if self._on_directory is not None:
            self._on_directory(handle.path, os.fstat(handle.fd))
        try:
            with os.scandir(handle.fd) as it:
                entries = list(it)
        except OSError as exc:
            self._problem(handle.path, exc)
            self.unlisted.append(handle.path)
            return subdirs
        if self.on_listed is not None:
            handle.listed = True
            self.on_listed(handle)
        # The hot loop of every walk: locals instead of attribute look-ups, once per directory.
        excludes = self._excludes if self._excludes else None
        encoding, is_dir, is_reg = _FS_ENCODING, stat.S_ISDIR, stat.S_ISREG
        one_fs = self._one_fs
        for entry in entries:
            name = entry.name.encode(encoding, "surrogateescape")  # os.fsencode, minus its checks
            path = base + name
            if excludes is not None and excludes.excluded(path, name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)  # fstatat() relative to handle.fd
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    self._problem(path, exc)
                continue  # gone since listed: nothing to report
            mode = st.st_mode
            if is_reg(mode):
                handle._refs += 1  # handle.acquire(), for the candidate
                yield Candidate(path, name, handle, st)
            elif is_dir(mode):
                if one_fs and st.st_dev != device:
                    self.unlisted.append(path)
                    continue
                subdirs.append((name, path))
            else:
                self._on_problem(_special(path, mode))
        return subdirs

    def _problem(self, path: bytes, exc: OSError) -> None:
        status = Status.VANISHED if exc.errno == errno.ENOENT else Status.ERROR
        self._on_problem(Problem(path, status, exc.strerror or str(exc)))
