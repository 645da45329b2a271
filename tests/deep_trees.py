"""Deep and long directory trees for tests, made and removed through descriptors: no recursion
(a 1,000-deep tree), no path longer than PATH_MAX handed to the kernel."""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def make_chain(top: Path | bytes, depth: int, name: bytes = b"d", leaf: bytes | None = None,
               content: bytes = b"") -> bytes:  # fmt: skip
    """``depth`` nested directories ``name`` below ``top`` (with file ``leaf`` at the bottom);
    returns the full path of the leaf (or of the deepest directory)."""
    fd = os.open(top, DIR)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            child = os.open(name, DIR, dir_fd=fd)
            os.close(fd)
            fd = child
        if leaf is not None:
            out = os.open(leaf, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
            os.write(out, content)
            os.close(out)
    finally:
        os.close(fd)
    return bytes(top) + (b"/" + name) * depth + (b"/" + leaf if leaf else b"")


def write_beneath(top: Path | bytes, relative: bytes, content: bytes) -> None:
    """Write the file ``top/relative`` opening one component at a time (any length)."""
    *dirs, leaf = relative.split(b"/")
    fd = os.open(top, DIR)
    try:
        for part in dirs:
            child = os.open(part, DIR, dir_fd=fd)
            os.close(fd)
            fd = child
        out = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644, dir_fd=fd)
        os.write(out, content)
        os.close(out)
    finally:
        os.close(fd)


def remove_tree(top: Path | bytes) -> None:
    """``shutil.rmtree`` without its recursion: every entry below ``top``, then ``top``."""
    top = bytes(top)
    if not os.path.lexists(top):
        return
    stack: list[int] = [os.open(top, DIR)]
    try:
        while stack:
            fd = stack[-1]
            descended = False
            for entry in os.scandir(fd):
                name = os.fsencode(entry.name)
                if stat.S_ISDIR(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode):
                    stack.append(os.open(name, DIR, dir_fd=fd))
                    descended = True
                    break
                os.unlink(name, dir_fd=fd)
            if descended:
                continue
            os.close(stack.pop())
            if stack:  # the now empty directory: find its name in the parent and remove it
                parent = stack[-1]
                for entry in os.scandir(parent):
                    name = os.fsencode(entry.name)
                    if stat.S_ISDIR(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode):
                        try:
                            os.rmdir(name, dir_fd=parent)
                        except OSError:
                            continue
                        break
    finally:
        for fd in stack:
            os.close(fd)
    os.rmdir(top)
