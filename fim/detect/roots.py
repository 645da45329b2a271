"""Root directories from glob patterns, found without ever following a customer's symlink.

fim runs as root inside trees its customers own. A root such as ``/home/*/public_html`` is a
name the customer controls: ``mv public_html x && ln -s /etc public_html`` must not make fim
watch, read or quarantine ``/etc``. So patterns are expanded here by directory descriptors:

- each directory on the way is opened relative to its parent with ``O_NOFOLLOW``;
- a symlink on the way (``/home -> /data/home``) is followed only when it is owned by root
  (or by the user fim runs as), i.e. placed by whoever configured fim; its target is resolved
  by the same rules, component by component;
- the root itself (the last component) is never a symlink unless the configuration lists its
  exact path in ``daemon.symlink_roots`` *and* the symlink is owned by root;
- a wildcard lists only directories opened this way.

Anything refused is returned as a :class:`Skipped` root with the reason, for the caller to
report: it is never opened. Each accepted root carries the device and inode it had when
validated, so later opens (walks, events) can check they still reach the same directory.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
import stat
from collections import deque
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from fim.core import paths
from fim.core.errors import FimError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
MAX_SYMLINKS = 40  # the kernel's own limit for one path resolution


class RootError(FimError):
    """A root (or a directory on the way to it) that is not opened; the message says why."""

    def __init__(self, message: str, *, missing: bool = False):
        super().__init__(message)
        self.missing = missing  # it does not exist (or is not a directory): nothing to report


@dataclass(frozen=True, slots=True)
class Root:
    """A root directory accepted, with the (device, inode) it had when checked."""

    path: bytes  # as matched, never resolved: what the operator and the customer see
    dev: int
    ino: int

    @property
    def identity(self) -> tuple[int, int]:
        return (self.dev, self.ino)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A match refused as a root (a symlink, or behind a customer's symlink), with why."""

    path: bytes
    reason: str


@dataclass(frozen=True, slots=True)
class Expansion:
    """What root patterns match now: the roots accepted and the matches refused."""

    roots: tuple[Root, ...]
    skipped: tuple[Skipped, ...]

    @property
    def paths(self) -> list[bytes]:
        return [r.path for r in self.roots]

    @property
    def identities(self) -> dict[bytes, tuple[int, int]]:
        return {r.path: r.identity for r in self.roots}


def trusted_owner(uid: int) -> bool:
    """Symlinks fim follows on the way to a root: root's, or those of the user fim runs as."""
    return uid == 0 or uid == os.geteuid()


def _components(path: bytes) -> list[bytes]:
    return [p for p in path.split(b"/") if p and p != b"."]


def open_dir(path: bytes, *, final_symlink: str = "refuse") -> int:
    """Open the absolute directory ``path`` one component at a time; return its descriptor.

    A symlink on the way is followed only when a trusted user owns it (see :func:`trusted_owner`).
    The last component may be a symlink as ``final_symlink`` says: ``"refuse"``, ``"root"`` (an
    explicitly allowed root: root must own it) or ``"trusted"`` (like any other component).
    Raises :class:`RootError` saying which component was refused.
    """
    if not path.startswith(b"/"):
        raise RootError(f"{paths.display(path)}: not an absolute path")
    parts: deque[tuple[bytes, bool]] = deque((p, False) for p in _components(path))
    if parts:
        parts[-1] = (parts[-1][0], True)  # (name, names the directory asked for)
    fd = os.open(b"/", DIR_FLAGS)
    walked = b""
    links = 0
    try:
        while parts:
            part, last = parts.popleft()
            walked = walked.rstrip(b"/") + b"/" + part if part != b".." else os.path.dirname(walked) or b"/"
            try:
                nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    raise RootError(f"{paths.display(walked)} does not exist", missing=True) from None
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise RootError(f"{paths.display(walked)}: {exc.strerror}") from None
                target = _link_target(fd, part, walked, last=last, final_symlink=final_symlink)
                links += 1
                if links > MAX_SYMLINKS:
                    raise RootError(f"{paths.display(path)}: too many levels of symlinks") from None
                following = [(p, False) for p in _components(target)]
                if following and last:
                    following[-1] = (following[-1][0], True)
                parts.extendleft(reversed(following))
                if target.startswith(b"/"):
                    nfd = os.open(b"/", DIR_FLAGS)
                    walked = b""
                else:
                    walked = os.path.dirname(walked) or b"/"
                    continue  # relative: resolved from the directory holding the link
            os.close(fd)
            fd = nfd
        return fd
    except BaseException:
        os.close(fd)
        raise


def _link_target(fd: int, part: bytes, walked: bytes, *, last: bool, final_symlink: str) -> bytes:
    where = paths.display(walked)
    try:
        st = os.stat(part, dir_fd=fd, follow_symlinks=False)
    except OSError as exc:
        raise RootError(f"{where}: {exc.strerror}", missing=exc.errno == errno.ENOENT) from None
    if not stat.S_ISLNK(st.st_mode):
        raise RootError(f"{where} is not a directory", missing=True)
    if last and final_symlink != "trusted":
        if final_symlink != "root":
            raise RootError(
                f"{where} is a symlink (owned by uid {st.st_uid}); not followed: a root may be a "
                "symlink only when listed in daemon.symlink_roots and owned by root"
            )
        if st.st_uid != 0:
            raise RootError(f"{where} is a symlink owned by uid {st.st_uid}, not by root; not followed")
    elif not trusted_owner(st.st_uid):
        raise RootError(f"{where} is a symlink owned by uid {st.st_uid}; not followed")
    try:
        return os.readlink(part, dir_fd=fd)
    except OSError as exc:
        raise RootError(f"{where}: {exc.strerror}") from None


def open_root(
    path: bytes, *, symlink_roots: Collection[bytes] = (), expect: tuple[int, int] | None = None
) -> int:
    """Open a root directory safely (see :func:`open_dir`); with ``expect``, it must still be
    the directory (device, inode) that was validated, else :class:`RootError`."""
    fd = open_dir(path, final_symlink="root" if path in symlink_roots else "refuse")
    if expect is not None:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != expect:
            os.close(fd)
            raise RootError(f"{paths.display(path)} was replaced since it was validated; not followed")
    return fd


def identity(path: bytes, *, symlink_roots: Collection[bytes] = ()) -> tuple[int, int]:
    """(device, inode) of a root opened safely now; raises :class:`RootError`."""
    fd = open_root(path, symlink_roots=symlink_roots)
    try:
        st = os.fstat(fd)
        return (st.st_dev, st.st_ino)
    finally:
        os.close(fd)


def expand(patterns: Iterable[str | bytes], *, symlink_roots: Iterable[str | bytes] = ()) -> Expansion:
    """The root directories ``patterns`` match now, and the matches refused with the reason.

    ``*``, ``?`` and ``[...]`` match within one component; like the shell, they do not match a
    leading dot unless the pattern does. A pattern or match that does not exist (or is a plain
    file) is not a problem: it is left out quietly, as a glob would.
    """
    allowed = frozenset(paths.absolute(os.fsencode(p)) for p in symlink_roots)
    found: dict[bytes, Root] = {}
    skipped: dict[bytes, Skipped] = {}
    for pattern in patterns:
        for candidate, problem in _matches(paths.absolute(os.fsencode(pattern))):
            if problem is not None:
                skipped.setdefault(candidate, Skipped(candidate, problem))
                continue
            try:
                fd = open_root(candidate, symlink_roots=allowed)
            except RootError as exc:
                if not exc.missing:
                    skipped.setdefault(candidate, Skipped(candidate, str(exc)))
                continue
            try:
                st = os.fstat(fd)
            finally:
                os.close(fd)
            found[candidate] = Root(candidate, st.st_dev, st.st_ino)
    for path in found:
        skipped.pop(path, None)
    return Expansion(tuple(found[p] for p in sorted(found)), tuple(skipped[p] for p in sorted(skipped)))


def _matches(pattern: bytes) -> list[tuple[bytes, str | None]]:
    """Concrete paths for ``pattern``: (path, None) to validate, or (path, reason) refused while
    listing a wildcard's directory."""
    parts = _components(pattern)
    prefixes: list[bytes] = [b"/"]
    out: list[tuple[bytes, str | None]] = []
    for part in parts:
        if not glob.has_magic(part):
            prefixes = [_join(p, part) for p in prefixes]
            continue
        grown: list[bytes] = []
        for prefix in prefixes:
            try:
                names = _list(prefix)
            except RootError as exc:
                if not exc.missing:
                    out.append((prefix, str(exc)))
                continue
            hidden_ok = part.startswith(b".")
            grown.extend(
                _join(prefix, name)
                for name in names
                if fnmatch.fnmatchcase(name, part) and (hidden_ok or not name.startswith(b"."))
            )
        prefixes = grown
        if not prefixes:
            break
    out.extend((p, None) for p in prefixes)
    return out


def _join(prefix: bytes, name: bytes) -> bytes:
    return prefix.rstrip(b"/") + b"/" + name


def _list(directory: bytes) -> list[bytes]:
    """Names in a directory on the way to roots (a trusted symlink to it is followed)."""
    fd = open_dir(directory, final_symlink="trusted")
    try:
        return sorted(os.fsencode(name) for name in os.listdir(fd))
    except OSError as exc:
        raise RootError(f"{paths.display(directory)}: {exc.strerror}") from None
    finally:
        os.close(fd)
