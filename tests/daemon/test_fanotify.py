"""fanotify: our ctypes structures against the running kernel, and the source's filtering.

Everything runs against the real kernel: a real FID-mode group with a file system mark, real
directories made, moved and swapped. Skipped (with the kernel's reason) only where this
process may not use fanotify.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fim.core.model import Writer
from fim.daemon import fanotify_abi as fa
from fim.daemon import sources
from fim.daemon.coalescer import Coalescer
from fim.daemon.events import EventSource
from fim.daemon.fanotify_source import EVENT_MASK, FanotifySource
from fim.daemon.inotify_reader import InotifyReader
from fim.detect.writers import WriterCache, read_writer
from tests.daemon.conftest import fanotify_skip_reason
from tests.deep_trees import remove_tree


@pytest.fixture
def needs_fanotify():
    reason = fanotify_skip_reason()
    if reason:
        pytest.skip(f"fanotify not usable by this process: {reason}")


def read_events(group: int, timeout: float = 2.0) -> list[fa.Event]:
    out: list[fa.Event] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            out.extend(fa.parse(os.read(group, 65536)))
        except BlockingIOError:
            if out:
                return out
            time.sleep(0.02)
    return out


def test_structures_have_the_kernel_header_sizes():
    assert ctypes.sizeof(fa.EventMetadata) == 24
    assert ctypes.sizeof(fa.InfoHeader) == 4
    assert ctypes.sizeof(fa.InfoFid) == 12
    assert ctypes.sizeof(fa.FileHandleHead) == 8
    # The struct formats the parser uses say the same.
    assert fa.METADATA.size == ctypes.sizeof(fa.EventMetadata)
    assert fa.INFO_FID.size == ctypes.sizeof(fa.InfoFid)
    assert fa.HANDLE_HEAD.size == ctypes.sizeof(fa.FileHandleHead)
    meta = fa.EventMetadata(event_len=24, vers=3, metadata_len=24, mask=fa.FAN_ONDIR | 8, fd=-1, pid=99)
    assert fa.METADATA.unpack(bytes(meta)) == (24, 3, 0, 24, fa.FAN_ONDIR | 8, -1, 99)


def test_events_parsed_from_the_kernel_name_the_directory_the_entry_and_the_writer(tmp_path, needs_fanotify):
    group = fa.fanotify_init()
    top = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fa.mark_filesystem(group, top, EVENT_MASK)
        (tmp_path / "sub").mkdir()
        (tmp_path / "sub/shell.php").write_bytes(b"<?php")
        os.rename(tmp_path / "sub/shell.php", tmp_path / "moved.php")
        got = [e for e in read_events(group) if e.name in (b"sub", b"shell.php", b"moved.php")]
        by_name = {e.name: e for e in got}
        assert set(by_name) == {b"sub", b"shell.php", b"moved.php"}
        assert by_name[b"sub"].mask & fa.FAN_CREATE and by_name[b"sub"].mask & fa.FAN_ONDIR
        assert by_name[b"shell.php"].mask & fa.FAN_CLOSE_WRITE
        assert by_name[b"moved.php"].mask & fa.FAN_MOVED_TO
        for event in got:
            assert event.pid == os.getpid()  # the writer: this very process
            assert event.fsid == fa.fsid_of(top)  # the fsid reported is the one fstatfs gives
        # The handle opens to the very directory the entry is in.
        fd = fa.open_by_handle(top, by_name[b"shell.php"].handle_type, by_name[b"shell.php"].handle,
                               os.O_RDONLY | os.O_DIRECTORY)  # fmt: skip
        st, want = os.fstat(fd), os.stat(tmp_path / "sub")
        os.close(fd)
        assert (st.st_dev, st.st_ino) == (want.st_dev, want.st_ino)
    finally:
        os.close(top)
        os.close(group)


def test_a_truncated_or_foreign_buffer_ends_the_batch_without_raising():
    version = fa.FANOTIFY_METADATA_VERSION
    good = bytes(fa.EventMetadata(event_len=24, vers=version, metadata_len=24, mask=2, fd=-1, pid=7))
    assert [e.pid for e in fa.parse(good)] == [7]
    assert list(fa.parse(good[:20])) == []  # cut short
    assert list(fa.parse(bytes(fa.EventMetadata(event_len=24, vers=2, metadata_len=24)))) == []
    assert list(fa.parse(bytes(fa.EventMetadata(event_len=4000, vers=3, metadata_len=24)))) == []


def test_both_sources_satisfy_the_event_source_protocol(tmp_path):
    for source in (InotifyReader(Coalescer()), FanotifySource(Coalescer())):
        try:
            assert isinstance(source, EventSource)
            assert source.name in ("inotify", "fanotify")
        finally:
            source.stop()


def test_auto_picks_fanotify_where_it_works_and_explicit_inotify_is_kept(tmp_path, needs_fanotify):
    assert sources.choose("auto", [bytes(tmp_path)]).name == "fanotify"
    assert sources.choose("inotify", [bytes(tmp_path)]).name == "inotify"
    fan = sources.choose("fanotify", [bytes(tmp_path)])
    assert (fan.name, fan.problem) == ("fanotify", "")


def test_auto_falls_back_to_inotify_with_the_reason_where_fanotify_is_refused():
    """In a user namespace root has no CAP_SYS_ADMIN over the file system: fanotify_init fails."""
    code = (
        "from fim.daemon import sources\n"
        "c = sources.choose('auto', [b'/'])\n"
        "print(c.name); print(c.reason)\n"
        "print(sources.choose('fanotify', [b'/']).problem)\n"
    )
    run = subprocess.run(["unshare", "--user", "--map-root-user", sys.executable, "-c", code],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    if run.returncode != 0 and "unshare" in run.stderr:
        pytest.skip(f"cannot make a user namespace here: {run.stderr.strip()}")
    name, reason, problem = run.stdout.splitlines()
    assert name == "inotify"
    assert "fanotify not usable here" in reason and "CAP_SYS_ADMIN" in reason
    assert "CAP_SYS_ADMIN" in problem  # configured explicitly: the daemon refuses to start (78)


@pytest.fixture
def source(tmp_path, needs_fanotify):
    made: list[FanotifySource] = []

    def make(*roots: Path) -> tuple[FanotifySource, Coalescer]:
        coalescer = Coalescer(settle=0.0, max_delay=0.0)
        s = FanotifySource(coalescer)
        s.start()
        for root in roots:
            assert s.add_root(bytes(root)) is None
        made.append(s)
        return s, coalescer

    yield make
    for s in made:
        s.stop()


def wait_paths(coalescer: Coalescer, want: set[bytes], timeout: float = 5.0) -> set[bytes]:
    got: set[bytes] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not want <= got:
        got |= set(coalescer.pop_due(10_000))
        time.sleep(0.02)
    return got


def test_events_outside_the_roots_are_dropped_and_inside_reported_with_the_root_path(tmp_path, source):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "uploads").mkdir(parents=True)
    outside.mkdir()
    s, coalescer = source(root)
    (outside / "noise.php").write_bytes(b"x")
    (root / "uploads/shell.php").write_bytes(b"x")
    got = wait_paths(coalescer, {bytes(root / "uploads/shell.php")})
    assert bytes(root / "uploads/shell.php") in got
    assert not any(p.startswith(bytes(outside)) for p in got)
    assert s.alive and s.event_errors == 0


def test_a_new_customer_directory_is_covered_at_once_without_any_setup(tmp_path, source):
    root = tmp_path / "root"
    root.mkdir()
    _s, coalescer = source(root)
    deep = root / "a/b/c/d"
    deep.mkdir(parents=True)
    (deep / "shell.php").write_bytes(b"x")  # at once: no watch had to be placed on a/b/c/d
    assert bytes(deep / "shell.php") in wait_paths(coalescer, {bytes(deep / "shell.php")})


def test_a_directory_moved_in_from_outside_is_not_left_cached_as_outside(tmp_path, source):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    (outside / "kit").mkdir(parents=True)
    _s, coalescer = source(root)
    (outside / "kit/first.txt").write_bytes(b"x")  # the handle of kit is cached as outside
    time.sleep(0.3)
    coalescer.pop_due(10_000)
    os.rename(outside / "kit", root / "kit")
    (root / "kit/shell.php").write_bytes(b"x")
    want = {bytes(root / "kit"), bytes(root / "kit/shell.php")}
    assert want <= wait_paths(coalescer, want)


def test_a_directory_reached_through_a_customer_symlink_is_not_reported_under_the_root(tmp_path, source):
    root, elsewhere = tmp_path / "root", tmp_path / "elsewhere"
    root.mkdir()
    elsewhere.mkdir()
    (root / "link").symlink_to(elsewhere)
    _s, coalescer = source(root)
    (elsewhere / "x.php").write_bytes(b"x")  # written through nothing in the root
    (root / "link/y.php").write_bytes(b"x")  # through the symlink: the file is outside
    (root / "real.php").write_bytes(b"x")
    got = wait_paths(coalescer, {bytes(root / "real.php")})
    assert bytes(root / "real.php") in got
    assert not any(b"x.php" in p or b"y.php" in p for p in got)


def test_an_error_on_one_event_is_counted_and_the_reader_goes_on(tmp_path, source, monkeypatch):
    root = tmp_path / "root"
    root.mkdir()
    s, coalescer = source(root)
    original = s._directory

    def fail_once(event):
        if event.name == b"poison.php":
            raise OSError(5, "injected")
        return original(event)

    monkeypatch.setattr(s, "_directory", fail_once)
    (root / "poison.php").write_bytes(b"x")
    (root / "after.php").write_bytes(b"x")
    assert bytes(root / "after.php") in wait_paths(coalescer, {bytes(root / "after.php")})
    assert s.alive and s.event_errors >= 1
    assert any("injected" in e for e in s.take_event_errors())


def test_thousand_deep_tree_and_its_files_are_reported_without_watches(tmp_path, source):
    root = tmp_path / "root"
    root.mkdir()
    s, coalescer = source(root)
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(1000):
            os.mkdir("d", dir_fd=fd)
            fd, old = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd), fd
            os.close(old)
        out = os.open("deep.php", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, b"x")
        os.close(out)
    finally:
        os.close(fd)
    try:
        deep = bytes(root) + b"/d" * 1000 + b"/deep.php"
        assert deep in wait_paths(coalescer, {deep}, timeout=20)
        assert s.alive and s.event_errors == 0
    finally:
        remove_tree(root)


def test_rename_storm_keeps_the_reader_alive_and_events_attributed(tmp_path, source):
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    s, coalescer = source(root)
    libc = ctypes.CDLL(None, use_errno=True)
    stop = time.monotonic() + 2

    def storm() -> None:
        a, b = bytes(root / "a"), bytes(root / "b")
        i = 0
        while time.monotonic() < stop:
            libc.renameat2(-100, a, -100, b, 2)  # RENAME_EXCHANGE
            try:  # the other thread races the same names: a lost race is part of the storm
                os.rename(root / "a", root / "c")
                os.rename(root / "c", root / "a")
                with open(root / "a" / f"f{i % 20}.txt", "wb") as fh:
                    fh.write(b"x")
            except OSError:
                pass
            i += 1

    threads = [threading.Thread(target=storm) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (root / "b/after.php").write_bytes(b"x")
    assert bytes(root / "b/after.php") in wait_paths(coalescer, {bytes(root / "b/after.php")}, timeout=20)
    assert s.alive and s.error is None


def test_writer_is_read_from_proc_and_a_gone_process_is_unknown():
    me = read_writer(os.getpid())
    assert me.pid == os.getpid() and me.uid == os.geteuid()
    assert me.comm and me.exe == os.readlink(b"/proc/self/exe")
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert read_writer(child.pid) == Writer(child.pid)  # reaped: nothing but its pid


def test_writer_cache_reads_proc_once_per_process_and_second():
    now = [0.0]
    cache = WriterCache(clock=lambda: now[0])
    first = cache.get(os.getpid())
    assert cache.get(os.getpid()) is first
    now[0] = 5.0
    assert cache.get(os.getpid()) is not first


def test_coalescer_keeps_the_latest_writer_of_a_path_but_not_a_blank_for_a_known_one():
    c = Coalescer(settle=0.0, max_delay=0.0)
    alice, bob = Writer(10, 2001, None, "php-fpm", b"/usr/sbin/php-fpm"), Writer(20, 2002, comm="sftp-server")
    c.add(b"/r/x.php", writer=alice)
    c.add(b"/r/x.php", writer=bob)
    c.add(b"/r/x.php")  # an event without a writer does not erase it
    c.add(b"/r/y.php", writer=alice)
    c.add(b"/r/y.php", writer=Writer(10))  # the same process seen after it was gone
    assert dict(c.pop_due_entries()) == {b"/r/x.php": bob, b"/r/y.php": alice}


def test_daemon_configured_for_fanotify_where_it_is_refused_exits_78_saying_why(tmp_path):
    from tests.daemon.conftest import DaemonProc

    (tmp_path / "home/alice/public_html").mkdir(parents=True)
    d = DaemonProc(tmp_path, [f"{tmp_path}/home/*/public_html"], events="fanotify")
    argv = ["unshare", "--user", "--map-root-user", sys.executable, "-m", "fim", "daemon",
            "--config", str(d.config), "--log-format", "json"]  # fmt: skip
    run = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=d.env)
    if run.returncode != 78 and "unshare" in run.stderr:
        pytest.skip(f"cannot make a user namespace here: {run.stderr.strip()}")
    assert run.returncode == 78, run.stderr
    assert "daemon.events: fanotify not usable" in run.stderr and "CAP_SYS_ADMIN" in run.stderr


def test_a_new_customer_directory_matching_a_root_pattern_asks_for_an_immediate_glob_refresh(
    tmp_path, source
):
    (tmp_path / "home/alice/public_html").mkdir(parents=True)
    s, _coalescer = source(tmp_path / "home/alice/public_html")
    s.set_patterns((f"{tmp_path}/home/*/public_html",))
    (tmp_path / "home/bob").mkdir(parents=True)
    (tmp_path / "home/bob/not_public").mkdir()  # matches no pattern
    time.sleep(0.3)
    assert s.take_root_hint() is False
    (tmp_path / "home/bob/public_html").mkdir()
    deadline = time.monotonic() + 5
    while not s.take_root_hint():
        assert time.monotonic() < deadline, "no hint for the new customer's directory"
        time.sleep(0.02)
    (tmp_path / "home/bob/x/public_html").mkdir(parents=True)  # a * never spans a /
    time.sleep(0.3)
    assert s.take_root_hint() is False


def test_kernel_queue_overflow_is_handed_to_the_daemon_once(tmp_path, source):
    s, _coalescer = source(tmp_path)
    s._handle(fa.Event(fa.FAN_Q_OVERFLOW, 0))  # as the kernel reports it: no handle, no pid
    assert s.take_overflow() is True
    assert s.take_overflow() is False
    assert s.alive


def test_a_root_moved_away_or_deleted_is_reported_lost(tmp_path, source):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    s, _coalescer = source(tmp_path / "a", tmp_path / "b")
    assert s.take_lost_roots() == []
    os.rename(tmp_path / "a", tmp_path / "a-moved")
    (tmp_path / "b").rmdir()
    assert sorted(s.take_lost_roots()) == [bytes(tmp_path / "a"), bytes(tmp_path / "b")]
    assert s.take_lost_roots() == []  # and no longer watched


def test_root_in_finds_the_outermost_root_by_prefixes_not_by_a_search_of_every_root():
    from fim.daemon.walks import root_in

    roots = {b"/home/a/public_html", b"/home/a/public_html/sub", b"/srv/x"}
    assert root_in(b"/home/a/public_html/sub/y.php", roots) == b"/home/a/public_html"
    assert root_in(b"/home/a/public_html", roots) == b"/home/a/public_html"
    assert root_in(b"/home/a/public_htmlx/y.php", roots) is None  # a name that only starts alike
    assert root_in(b"/srv/x/" + b"d/" * 2000 + b"f", roots) == b"/srv/x"
    assert root_in(b"/elsewhere", roots) is None


BIND_MOUNT_SCENARIO = r"""
import json, os, subprocess, sys, time
from fim.daemon.coalescer import Coalescer
from fim.daemon.fanotify_source import FanotifySource
base = os.fsencode(sys.argv[1])
for d in (b"/a/x", b"/data/www/b/x", b"/www"):
    os.makedirs(base + d)
subprocess.run(["mount", "--bind", base + b"/data/www", base + b"/www"], check=True)
coalescer = Coalescer(settle=0.0, max_delay=0.0)
source = FanotifySource(coalescer)
added = [source.add_root(base + r) for r in (b"/a", b"/www/b")]
source.start()
time.sleep(0.2)
for f in (b"/a/x/one.php", b"/www/b/x/two.php"):
    with open(base + f, "wb") as fh:
        fh.write(b"<?php")
time.sleep(0.5)
due = [p.decode() for p in coalescer.pop_due()]
source.stop()
print(json.dumps({"added": added, "due": due}))
"""


def test_root_reached_through_a_bind_mount_of_a_marked_file_system_gets_its_events(needs_fanotify, tmp_path):
    """Hosting servers bind-mount customer trees (vhosts, CageFS); a handle opened through the
    first root's mount is named by that mount's path, so a root on another mount of the same
    file system needs a descriptor of its own mount to be recognised."""
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a private mount namespace here")
    result = subprocess.run(
        [
            "unshare",
            "-m",
            "--propagation",
            "private",
            sys.executable,
            "-c",
            BIND_MOUNT_SCENARIO,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["added"] == [None, None]
    assert sorted(out["due"]) == [f"{tmp_path}/a/x/one.php", f"{tmp_path}/www/b/x/two.php"]


def test_writers_of_one_uid_cost_one_passwd_lookup(monkeypatch):
    """The passwd lookup may go to LDAP or sssd while the reader thread waits: many processes
    of one customer (php-fpm workers, a burst of short-lived ones) look the name up once."""
    from fim.detect import writers

    looked_up: list[int | None] = []
    real = writers._user
    monkeypatch.setattr(writers, "_user", lambda uid: looked_up.append(uid) or real(uid))
    children = [subprocess.Popen(["sleep", "30"]) for _ in range(3)]
    try:
        cache = WriterCache()
        found = [cache.get(child.pid) for child in children]
    finally:
        for child in children:
            child.kill()
    assert [w.pid for w in found] == [c.pid for c in children]
    assert {w.uid for w in found} == {os.geteuid()}
    assert looked_up == [os.geteuid()]
