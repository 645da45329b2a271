"""Inspecting one file: open it safely, read it once, hash and match the same bytes.

The open uses ``O_NOFOLLOW`` (a symlink is never followed), ``O_NONBLOCK`` (a FIFO swapped in
after listing cannot block a worker) and is relative to the directory the walker verified.
``fstat`` on the open descriptor decides: only regular files are read, and a file whose inode
differs from what the walker saw was replaced in between and is not read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fim.core import paths
from fim.core.model import FileState, Inspection, RuleMatch, Severity, Status
from fim.detect.hashlists import HashLists
from fim.detect.layered import match_layers
from fim.detect.rules import MatchTimeout, RuleEngine, externals_for
from fim.detect.tenants import Owners
from fim.detect.walk import Candidate

OPEN_FLAGS = paths.OPEN_FLAGS
CHUNK = 1 << 20

TIMEOUT_MATCH = RuleMatch(
    rule="fim_match_timeout",
    ruleset="fim",
    severity=Severity.MEDIUM,
    description="rule matching timed out on this file; content crafted to evade scanning "
    "looks like this, so inspect it by hand",
    family="evasion",
)


class ContentCheck(Protocol):
    """A signature-free check of one file (upload-area policy...). Runs in worker threads."""

    @property
    def version(self) -> str:
        """Changes whenever the check's behaviour changes; part of the rule-set version."""
        ...

    def check(self, path: bytes, head: bytes, state: FileState) -> list[RuleMatch]:
        """``head`` is the whole content, or its first bytes for files too large to match."""
        ...


HEAD_BYTES = 64 << 10
# Rules always see both ends of a file, matched apart from the rest: when the whole file is
# too large, sparse, or its matching timed out (content padded on purpose to make the match
# time out would otherwise hide a shell at either end). Each end gets its own timeout; an end
# that times out again is matched once more as a small window, which any rule set matches in
# well under a second, so a shell at the very start or end is always seen.
WINDOW_BYTES = 1 << 20
SMALL_WINDOW_BYTES = 64 << 10


@dataclass(frozen=True)
class Limits:
    """How much of one file is read, hashed and matched: the bounds a hostile file cannot exceed."""

    max_file_size: int = 32 << 20
    max_hash_size: int = 4 << 30
    match_timeout: int = 10


class Inspector:
    """Turns a :class:`Candidate` into an :class:`Inspection`. Safe to call from many threads."""

    def __init__(
        self,
        engine: RuleEngine,
        *,
        hashes: HashLists | None = None,
        limits: Limits | None = None,
        owners: Owners | None = None,
        checks: Sequence[ContentCheck] = (),
    ):
        self.engine = engine
        self.checks = tuple(checks)
        self._noatime = True
        self.hashes = hashes or HashLists()
        self._want_md5 = self.hashes.needs_md5  # looks at every listed hash: once, not per file
        self.limits = limits or Limits()
        self.owners = owners or Owners()

    def inspect(self, candidate: Candidate) -> Inspection:
        path = candidate.path
        try:
            fd = self.open(candidate)
        except OSError as exc:
            return open_failure(path, exc)
        try:
            return self.inspect_fd(fd, path, listed_identity(candidate))
        finally:
            os.close(fd)

    def inspect_fd(self, fd: int, path: bytes, listed: tuple[int, int] | None) -> Inspection:
        """Inspect a file opened by :meth:`open` (the caller closes ``fd``). ``listed`` is the
        (device, inode) the walk saw, None when it saw none; ``path`` is only reported and
        given to rules, never opened. Worker processes run this on a descriptor passed to them."""
        try:
            return self._inspect_fd(fd, path, listed)
        except OSError as exc:
            return Inspection(path, Status.ERROR, reason=f"read failed: {exc.strerror or exc}")

    def open(self, candidate: Candidate) -> int:
        """Open without updating the access time when allowed (root, or the file's owner):
        a scan should not rewrite every customer's atime. Elsewhere O_NOATIME fails with EPERM
        and we stop asking."""
        dir_fd = candidate.parent.fd if candidate.parent is not None else None
        name = candidate.name if dir_fd is not None else candidate.path
        if self._noatime:
            try:
                return os.open(name, OPEN_FLAGS | os.O_NOATIME, dir_fd=dir_fd)
            except PermissionError as exc:
                if exc.errno != errno.EPERM:  # EACCES: unreadable, with or without O_NOATIME
                    raise
                self._noatime = False
        return os.open(name, OPEN_FLAGS, dir_fd=dir_fd)

    def _inspect_fd(self, fd: int, path: bytes, listed: tuple[int, int] | None) -> Inspection:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return Inspection(path, Status.SPECIAL, reason="not a regular file when opened")
        if listed is not None and listed != (st.st_dev, st.st_ino):
            return Inspection(path, Status.VANISHED, reason="replaced between listing and opening")
        limits = self.limits
        want_md5 = self._want_md5
        if st.st_size > limits.max_hash_size:
            return self._ends_only(fd, path, st, "larger than max_hash_size")
        if st.st_size > limits.max_file_size and st.st_blocks * 512 < st.st_size // 2:
            # Mostly holes: cheap for anyone to create at any apparent size, slow to hash. Its
            # name and both ends are still checked: holes cost nothing to hide a shell behind.
            return self._ends_only(fd, path, st, "sparse file larger than max_file_size")
        data = _read_upto(fd, limits.max_file_size + 1, st.st_size)
        sha = hashlib.sha256(data)
        md5 = hashlib.md5(data, usedforsecurity=False) if want_md5 else None
        if len(data) > limits.max_file_size:
            # Too large to match whole: stream the rest through the hashes, reading each byte
            # once, then match the two ends on their own.
            total = len(data)
            head = data[:WINDOW_BYTES]
            del data
            while total <= limits.max_hash_size:
                chunk = os.read(fd, CHUNK)
                if not chunk:
                    break
                total += len(chunk)
                sha.update(chunk)
                if md5 is not None:
                    md5.update(chunk)
            if total > limits.max_hash_size:
                return self._ends_only(fd, path, st, "grew past max_hash_size")
            state = _state(path, st, sha.hexdigest(), md5.hexdigest() if md5 else None)
            if self.hashes.is_good(state.sha256, state.md5):
                return Inspection(path, Status.TOO_LARGE, state, (), "larger than max_file_size")
            tail = os.pread(fd, WINDOW_BYTES, max(0, total - WINDOW_BYTES))
            matches = [
                *self._hash_matches(state),
                *self._match_ends(path, st, head, tail, timed_out=False),
                *self._checks(path, head[:HEAD_BYTES], state),
            ]
            return Inspection(path, Status.TOO_LARGE, state, tuple(matches), "larger than max_file_size")
        state = _state(path, st, sha.hexdigest(), md5.hexdigest() if md5 else None)
        if self.hashes.is_good(state.sha256, state.md5):
            return Inspection(path, Status.READ, state)  # known-good content: nothing to match
        matches = list(self._hash_matches(state))
        externals = externals_for(path, data[:16], self.owners.name(st.st_uid))
        try:
            # The stored bytes and every layer unpacked from them, within match_timeout.
            matches += match_layers(self.engine, data, externals, limits.match_timeout, TIMEOUT_MATCH)
        except MatchTimeout:
            # The timeout stays a finding of its own; what the ends hold is reported as well,
            # with its own severity (a timeout must not downgrade a shell to "medium").
            matches.append(TIMEOUT_MATCH)
            # A file no larger than a window timed out whole: go straight to the small windows.
            size = WINDOW_BYTES if len(data) > WINDOW_BYTES else SMALL_WINDOW_BYTES
            tail = data[-size:] if len(data) > size else b""
            matches += self._match_ends(path, st, data[:size], tail, timed_out=True)
        matches += self._checks(path, data, state)
        return Inspection(path, Status.READ, state, tuple(matches))

    def _ends_only(self, fd: int, path: bytes, st: os.stat_result, reason: str) -> Inspection:
        """A file not hashed (too large or sparse): its name and its two ends are still checked.

        Reading the ends costs at most two windows, holes or not.
        """
        state = _state(path, st)
        head = os.pread(fd, WINDOW_BYTES, 0)
        tail = os.pread(fd, WINDOW_BYTES, st.st_size - WINDOW_BYTES) if st.st_size > WINDOW_BYTES else b""
        matches = [
            *self._match_ends(path, st, head, tail, timed_out=False),
            *self._checks(path, head[:HEAD_BYTES], state),
        ]
        return Inspection(path, Status.TOO_LARGE, state, tuple(matches), reason)

    def _match_ends(
        self, path: bytes, st: os.stat_result, head: bytes, tail: bytes, *, timed_out: bool
    ) -> list[RuleMatch]:
        """Rule matches in the first and last bytes of a file that is not matched whole.

        Each window is matched on its own, with its own timeout (a quarter of the file's, at
        least a second: the ends together cost about half a ``match_timeout`` more). A window that times
        out is matched again cut to :data:`SMALL_WINDOW_BYTES` next to its end of the file.
        ``filesize`` in a rule is the window's size here. One match per rule is kept.
        """
        timeout = max(1, self.limits.match_timeout // 4)
        externals = externals_for(path, head[:16], self.owners.name(st.st_uid))
        found: dict[tuple[str, str], RuleMatch] = {}
        slow = False
        windows = [(head, head[:SMALL_WINDOW_BYTES])]
        if tail:
            windows.append((tail, tail[-SMALL_WINDOW_BYTES:]))
        for window, small in windows:
            for attempt in (window, small):
                if not attempt:
                    break
                try:
                    hits = self.engine.match(attempt, externals, timeout)
                except MatchTimeout:
                    slow = True
                    if len(attempt) <= len(small):
                        break
                    continue
                for hit in hits:
                    found.setdefault((hit.ruleset, hit.rule), hit)
                break
        if slow and not timed_out:
            found[(TIMEOUT_MATCH.ruleset, TIMEOUT_MATCH.rule)] = TIMEOUT_MATCH
        return list(found.values())

    def _checks(self, path: bytes, head: bytes, state: FileState) -> list[RuleMatch]:
        found: list[RuleMatch] = []
        for check in self.checks:
            found += check.check(path, head, state)
        return found

    def _hash_matches(self, state: FileState) -> tuple[RuleMatch, ...]:
        bad = self.hashes.bad_match(state.sha256, state.md5)
        return (bad,) if bad else ()


def _read_upto(fd: int, limit: int, size_hint: int) -> bytes:
    """Read at most ``limit`` bytes; one system call for a file that is not growing.

    We ask for one byte more than ``fstat`` reported: a short read of a regular file means end
    of file, and getting the extra byte means it grew, so we keep reading up to ``limit``.
    """
    want = min(limit, size_hint + 1)
    first = os.read(fd, want)
    if len(first) < want or len(first) >= limit:
        return first
    parts = [first]
    total = len(first)
    while total < limit:
        chunk = os.read(fd, min(CHUNK, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def _state(path: bytes, st: os.stat_result, sha256: str | None = None, md5: str | None = None):
    return FileState(
        path=path,
        dev=st.st_dev,
        ino=st.st_ino,
        size=st.st_size,
        mode=st.st_mode,
        uid=st.st_uid,
        gid=st.st_gid,
        mtime_ns=st.st_mtime_ns,
        ctime_ns=st.st_ctime_ns,
        sha256=sha256,
        md5=md5,
        nlink=st.st_nlink,
    )


def state_from_stat(path: bytes, st: os.stat_result) -> FileState:
    return _state(path, st)


def listed_identity(candidate: Candidate) -> tuple[int, int] | None:
    """(device, inode) the walk saw for ``candidate``; the opened file must be that one."""
    st = candidate.lstat
    return (st.st_dev, st.st_ino) if st is not None else None


def open_failure(path: bytes, exc: OSError) -> Inspection:
    if exc.errno == errno.ENOENT:
        return Inspection(path, Status.VANISHED, reason="deleted before it could be read")
    if exc.errno == errno.ELOOP:
        return Inspection(path, Status.SYMLINK, reason="replaced by a symlink (not followed)")
    if exc.errno in (errno.ENXIO, errno.ENODEV, errno.EOPNOTSUPP):
        return Inspection(path, Status.SPECIAL, reason="not a regular file when opened")
    return Inspection(path, Status.ERROR, reason=exc.strerror or str(exc))
