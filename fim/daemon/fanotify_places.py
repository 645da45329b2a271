"""Where a fanotify event happened: the directory a handle names, placed inside a root or not.

The directory opened from the handle is placed by ``readlink("/proc/self/fd/N")``, the kernel's
name for it, used ONLY to pick the root whose kernel name is a prefix and the path below it --
never to open anything. That relative path is then opened component by component from the
root's own descriptor with ``O_NOFOLLOW``, and the (device, inode) reached must be the handle's
directory. A symlink, a race or a directory moved meanwhile fails the check and the event is
dropped (the move's own event follows and makes the daemon walk the new place).

Why not walk up with ``..`` and compare inodes: it costs a directory listing per level, and a
customer chooses how deep and wide their tree is; readlink costs one call whatever the depth.
For names longer than the kernel's buffer (``ENAMETOOLONG``) the walk up is the fallback.
"""

from __future__ import annotations

import errno
import fnmatch
import os
from dataclasses import dataclass

MAX_DEPTH_UP = 10_000  # levels walked up from a directory whose name is longer than PATH_MAX
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
# Checking the way down needs no read access: O_PATH opens raise no open event.
PATH_FLAGS = os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass
class Root:
    """A root as the fanotify source holds it: its descriptor and the kernel's name for it."""

    path: bytes  # as configured (what everyone sees)
    fd: int  # opened safely when added; events are resolved from here
    ident: tuple[int, int]
    kernel_name: bytes  # readlink of fd: only to recognise its directories' kernel names


@dataclass
class RootIndex:
    """The roots by (device, inode) and by kernel name: placing a directory costs as many
    lookups as its name has components, whatever the number of roots."""

    by_ident: dict[tuple[int, int], Root]
    by_kernel_name: dict[bytes, Root]

    def add(self, root: Root) -> None:
        self.by_ident[root.ident] = root
        self.by_kernel_name[root.kernel_name.rstrip(b"/")] = root

    def remove(self, root: Root) -> None:
        if self.by_ident.get(root.ident) is root:
            del self.by_ident[root.ident]
        if self.by_kernel_name.get(root.kernel_name.rstrip(b"/")) is root:
            del self.by_kernel_name[root.kernel_name.rstrip(b"/")]


def locate(fd: int, index: RootIndex) -> tuple[Root, bytes] | None:
    """The root that holds the open directory ``fd`` and the directory's path under the
    root's configured name; None when it is in no root (or the check fails)."""
    st = os.fstat(fd)
    ident = (st.st_dev, st.st_ino)
    root = index.by_ident.get(ident)
    if root is not None:
        return root, root.path
    try:
        name = os.readlink(b"/proc/self/fd/%d" % fd)
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            return None
        return _locate_upwards(fd, ident, index.by_ident)
    end = 0
    while (end := name.find(b"/", end + 1)) > 0:  # outermost root first, as the daemon does
        root = index.by_kernel_name.get(name[:end])
        if root is not None and _reaches(root.fd, name[end + 1 :], ident):
            return root, root.path + b"/" + name[end + 1 :]
    return None


def _locate_upwards(
    fd: int, ident: tuple[int, int], by_ident: dict[tuple[int, int], Root]
) -> tuple[Root, bytes] | None:
    """For a directory whose name is too long for readlink: climb ``..`` to a root,
    finding each level's name by its inode, then check the way down as usual."""
    names: list[bytes] = []
    current = os.dup(fd)
    try:
        child = ident
        for _ in range(MAX_DEPTH_UP):
            parent = os.open(b"..", DIR_FLAGS, dir_fd=current)
            os.close(current)
            current = parent
            st = os.fstat(current)
            if (st.st_dev, st.st_ino) == child:
                return None  # the top of the file system: outside every root
            name = _name_of(current, child[1])
            if name is None:
                return None
            names.append(name)
            root = by_ident.get((st.st_dev, st.st_ino))
            if root is not None:
                rel = b"/".join(reversed(names))
                return (root, root.path + b"/" + rel) if _reaches(root.fd, rel, ident) else None
            child = (st.st_dev, st.st_ino)
    finally:
        os.close(current)
    return None


def matches(parts: list[bytes], pattern: list[bytes]) -> bool:
    """Component by component: a ``*`` never spans a ``/``."""
    return len(parts) == len(pattern) and all(
        fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pattern, strict=True)
    )


def _name_of(dir_fd: int, ino: int) -> bytes | None:
    with os.scandir(dir_fd) as it:
        for entry in it:
            if entry.inode() == ino and entry.is_dir(follow_symlinks=False):
                return os.fsencode(entry.name)
    return None


def _reaches(root_fd: int, rel: bytes, ident: tuple[int, int]) -> bool:
    """Opening ``rel`` from ``root_fd`` one component at a time, never following a symlink,
    reaches the directory ``ident``."""
    fd = os.dup(root_fd)
    try:
        for part in rel.split(b"/"):
            if not part or part in (b".", b".."):
                return False
            child = os.open(part, PATH_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        st = os.fstat(fd)
        return (st.st_dev, st.st_ino) == ident
    except OSError:
        return False
    finally:
        os.close(fd)
