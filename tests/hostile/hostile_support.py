"""Helpers for the hostile-tree tests.

fim runs as root among files chosen by attackers. These tests build such trees for real in a
temporary directory and check four things for every hostile item: the scan completes (the CLI
runs in a subprocess with a timeout), the item is reported correctly, nothing outside the
scanned root is opened or read (an inotify watch proves it), and the output is safe to show.

The bundled rules are not used: a tiny rule matching ``FIM_TEST_MARKER_EVAL`` stands for
"a webshell". The rule file lives outside every scanned root.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import errno
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fim.core import paths

MARKER = b"FIM_TEST_MARKER_EVAL"
SHELL = b"<?php FIM_TEST_MARKER_EVAL($_POST['x']); ?>\n"
CLEAN = b"<?php echo 'hello'; ?>\n"
RULE_NAME = "fim_test_marker"
RULE_TEXT = """\
rule fim_test_marker
{
    meta:
        severity = "high"
        description = "hostile-tree test marker"
    strings:
        $m = "FIM_TEST_MARKER_EVAL"
    condition:
        $m
}
"""
CLI_TIMEOUT = 60

# Characters that must never reach a terminal or a log raw: bidi embeddings/overrides/isolates.
BIDI = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# Unicode categories that must never appear in text output (controls, format characters,
# line/paragraph separators, surrogates, private use).
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})

# Running the CLI as nobody. The interpreter may live where nobody cannot read it, so fim and
# everything it imports lazily is loaded while still root, then privileges are dropped for good
# before the command runs: the scan itself runs with nobody's rights only.
AS_NOBODY = """\
import os, pwd, sys
import importlib.metadata
import fim.cli.main, fim.store.database
fim.store.database.Store.memory().close()  # loads sqlite-utils plugins (lazy imports)
pw = pwd.getpwnam("nobody")
os.setgroups([])
os.setgid(pw.pw_gid)
os.setuid(pw.pw_uid)
if os.getuid() != pw.pw_uid or os.geteuid() != pw.pw_uid:
    sys.exit("could not drop privileges")
fim.cli.main.main(sys.argv[1:])
"""


# -- output checks -------------------------------------------------------------------------------


def assert_safe_text(text: str) -> None:
    """No control, format, bidi or separator character anywhere except the line feeds."""
    for lineno, line in enumerate(text.split("\n"), 1):
        for ch in line:
            assert ch not in BIDI, f"bidi control U+{ord(ch):04X} on output line {lineno}: {line!r}"
            cat = unicodedata.category(ch)
            assert cat not in UNSAFE_CATEGORIES, (
                f"unsafe character U+{ord(ch):04X} ({cat}) on output line {lineno}: {line!r}"
            )


def exact_path(record: dict, b64: str | None) -> bytes:
    """The exact bytes a JSON record names: ``path_b64`` when given, else ``path`` itself.

    Also checks the record is self-consistent: without ``path_b64`` the shown path must be the
    exact path; with it, the shown path must be the display form of those bytes.
    """
    shown = record["path"]
    assert_safe_text(shown)
    if b64 is None:
        raw = shown.encode("utf-8")
        assert paths.display(raw) == shown, f"path_b64 missing although {shown!r} is not the exact path"
        return raw
    raw = base64.b64decode(b64, validate=True)
    assert paths.display(raw) == shown
    return raw


@dataclass
class Result:
    rc: int
    stdout: bytes
    stderr: bytes
    fmt: str
    doc: dict | None = None
    events: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8")  # strict: raw non-UTF-8 bytes must never leak

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    def finding_paths(self) -> list[bytes]:
        if self.fmt == "json":
            evs = self.doc["findings"]
        elif self.fmt == "jsonl":
            evs = self.events
        else:
            raise AssertionError("finding_paths() needs json or jsonl output")
        out = []
        for ev in evs:
            raw = exact_path(ev["file"], ev["fim"].get("path_b64"))
            out.append(raw)
        return out

    def problems(self) -> dict[bytes, dict]:
        assert self.fmt == "json"
        return {exact_path(p, p.get("path_b64")): p for p in self.doc["errors"]}

    @property
    def stats(self) -> dict:
        assert self.fmt == "json"
        return self.doc["stats"]

    def shows_path_line(self, raw: bytes) -> bool:
        """True when text output has a line that ends with the path, shown safely."""
        shown = paths.display(raw)
        assert paths.undisplay(shown) == raw
        return any(line.endswith(" " + shown) or (" " + shown + ": ") in line for line in self.lines)


@dataclass
class Workspace:
    """A scratch area: ``root`` is scanned, ``outside`` is not, rules and database elsewhere."""

    base: Path
    root: Path
    outside: Path
    rule_file: Path
    state: Path

    @classmethod
    def create(cls, base: Path) -> Workspace:
        root, outside, rules, state = (base / n for n in ("root", "outside", "rules", "state"))
        for d in (root, outside, rules, state):
            d.mkdir()
        rule_file = rules / "marker.yar"
        rule_file.write_text(RULE_TEXT)
        return cls(base, root, outside, rule_file, state)

    @property
    def broot(self) -> bytes:
        return os.fsencode(self.root)

    def scan_args(self, fmt: str, db: str | None = None) -> list[str]:
        return [
            "scan",
            "--no-bundled-rules",
            "--rules",
            str(self.rule_file),
            "--db",
            db or str(self.state / "fim.db"),
            "--format",
            fmt,
        ]

    def run(
        self,
        *targets: bytes | str | os.PathLike,
        fmt: str = "json",
        extra: tuple[str, ...] = (),
        cwd: Path | None = None,
        timeout: float = CLI_TIMEOUT,
        as_nobody: bool = False,
        db: str | None = None,
        raw_args: list[bytes | str] | None = None,
    ) -> Result:
        args: list[bytes | str] = [*self.scan_args(fmt, db), *extra]
        args += [os.fsencode(t) for t in targets]
        if raw_args is not None:
            args = raw_args
        env = {**os.environ, "HOME": str(self.base), "NO_COLOR": "1"}
        env.pop("PYTHONWARNINGS", None)
        runner = ["-c", AS_NOBODY] if as_nobody else ["-m", "fim"]
        cmd = [sys.executable, *runner, *args]
        proc = subprocess.run(
            cmd,
            capture_output=True,
            timeout=timeout,
            cwd=cwd or self.base,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        res = Result(proc.returncode, proc.stdout, proc.stderr, fmt)
        assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
        assert res.rc in (0, 1, 2), (res.rc, proc.stderr)
        stderr = proc.stderr.decode("utf-8")
        assert_safe_text(stderr)
        if fmt == "json" and res.rc in (0, 1):
            res.doc = json.loads(res.text)
        elif fmt == "jsonl" and res.rc in (0, 1):
            res.events = [json.loads(line) for line in res.text.splitlines() if line]
        if res.rc in (0, 1):
            assert_safe_text(res.text)
        return res


# -- proof that something was never opened or read -----------------------------------------------

IN_ACCESS = 0x00000001
IN_OPEN = 0x00000020
IN_NONBLOCK = os.O_NONBLOCK
IN_CLOEXEC = os.O_CLOEXEC
_EVENT = struct.Struct("iIII")


class AccessSpy:
    """inotify watches reporting every open and read of the watched inodes (and, for a
    directory, of the entries in it), by anyone, through any path: symlink, hard link or not."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            err = ctypes.get_errno()
            pytest.skip(f"inotify unavailable: {os.strerror(err)}")
        self._names: dict[int, bytes] = {}

    def watch(self, *targets: os.PathLike | str | bytes) -> AccessSpy:
        for target in targets:
            raw = os.fsencode(target)
            wd = self._libc.inotify_add_watch(self.fd, raw, IN_ACCESS | IN_OPEN)
            if wd < 0:
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err), raw)
            self._names[wd] = raw
        self.events()  # forget what setting up caused
        return self

    def events(self) -> list[tuple[bytes, str, bytes]]:
        out = []
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            i = 0
            while i < len(buf):
                wd, mask, _cookie, length = _EVENT.unpack_from(buf, i)
                name = buf[i + _EVENT.size : i + _EVENT.size + length].rstrip(b"\0")
                kind = "open" if mask & IN_OPEN else "access" if mask & IN_ACCESS else hex(mask)
                out.append((self._names.get(wd, b"?"), kind, name))
                i += _EVENT.size + length

    def assert_untouched(self) -> None:
        seen = self.events()
        assert not seen, f"fim opened or read files outside the scanned root: {seen}"

    def close(self) -> None:
        os.close(self.fd)


# -- misc ----------------------------------------------------------------------------------------


def call_with_timeout(fn, timeout: float = 10.0):
    """Run ``fn`` in a daemon thread; fail (instead of hanging the suite) if it blocks."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        pytest.fail(f"call blocked for more than {timeout} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def make_fifo_unblockable(path: bytes | str) -> None:
    """Best effort: open a FIFO for writing so a reader stuck on it (a bug) is released."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as exc:
        if exc.errno not in (errno.ENXIO, errno.ENOENT):
            raise


# -- customers as real users ------------------------------------------------------------------

ALICE, BOB = 2001, 2002  # customer uids; setpriv needs no passwd entry for them


def as_user(uid: int, *argv: str | os.PathLike) -> None:
    """Run ``argv`` as the real user ``uid`` (no shell)."""
    subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *map(os.fspath, argv)],
        check=True,
        timeout=30,
    )


@contextlib.contextmanager
def customer_reachable_dir(prefix: str) -> Iterator[Path]:
    """A directory customers can traverse (pytest's own temp dirs are private to root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        os.chmod(path, 0o755)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
