"""Pieces of the watch layer that need no daemon: coalescing, and the one inotify reader
(real inotify, in this process)."""

from __future__ import annotations

import ctypes
import os
import threading
import time

import pytest

from fim.daemon.coalescer import Coalescer
from fim.daemon.coverage import inode_key, watched_inodes
from fim.daemon.inotify_reader import InotifyReader
from fim.daemon.watch import Watches
from tests.deep_trees import make_chain, remove_tree


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_chunked_writes_are_scanned_once_after_the_last_close():
    clock = Clock()
    c = Coalescer(settle=0.2, max_delay=2.0, clock=clock)
    for _ in range(5):
        c.add(b"/r/f.php")
        clock.now += 0.1
        assert c.pop_due() == []
    clock.now += 0.2
    assert c.pop_due() == [b"/r/f.php"]
    assert c.pop_due() == []


def test_a_writer_that_keeps_writing_cannot_postpone_the_scan_past_max_delay():
    clock = Clock()
    c = Coalescer(settle=0.2, max_delay=1.0, clock=clock)
    seen = []
    for _ in range(30):
        c.add(b"/r/busy.php")
        clock.now += 0.1
        seen += c.pop_due()
    assert seen and seen[0] == b"/r/busy.php"


def test_modification_without_close_is_scanned_after_max_delay():
    clock = Clock()
    c = Coalescer(settle=0.2, max_delay=2.0, clock=clock)
    c.add(b"/r/open-forever.php", settle=False)
    clock.now += 1.9
    assert c.pop_due() == []
    clock.now += 0.2
    assert c.pop_due() == [b"/r/open-forever.php"]


def test_too_many_pending_paths_drop_them_and_ask_for_a_rescan():
    c = Coalescer(max_pending=10)
    for i in range(11):
        c.add(b"/r/%d" % i)
    assert c.take_overflow() is True
    assert len(c) == 0
    assert c.take_overflow() is False


# -- the reader ----------------------------------------------------------------------------------

RENAME_EXCHANGE = 2
AT_FDCWD = -100


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def disk_dirs(top: bytes) -> set[bytes]:
    return {dirpath for dirpath, _dirs, _files in os.walk(top)}


@pytest.fixture
def watches(tmp_path):
    made: list[Watches] = []

    def make(pattern: str) -> Watches:
        w = Watches((pattern,), Coalescer(settle=0.01, max_delay=0.05))
        w.start()
        made.append(w)
        return w

    yield make
    for w in made:
        w.stop()


def test_one_reader_thread_serves_every_root(tmp_path, watches):
    for i in range(30):
        (tmp_path / f"home/u{i}/public_html/uploads").mkdir(parents=True)
    before = threading.active_count()
    w = watches(f"{tmp_path}/home/*/public_html")
    new, failures = w.refresh()
    assert len(new) == 30 and failures == []
    assert threading.active_count() - before == 1
    assert len(w.reader.watched_paths()) == 60


def test_thousand_deep_tree_is_watched_without_recursion(tmp_path, watches):
    root = tmp_path / "root"
    root.mkdir()
    try:
        make_chain(root, 1000, b"before")
        w = watches(str(root))
        w.refresh()
        deep = make_chain(root, 1000, b"after", b"x.php")  # made while watched: event by event
        assert wait_until(lambda: len(w.reader.watched_paths()) == 2001)
        assert w.reader.alive and w.reader.error is None
        assert deep.rsplit(b"/", 1)[0] in w.reader.watched_paths()
    finally:
        remove_tree(root)  # shutil.rmtree recurses


def test_directory_exchange_races_leave_the_watches_matching_the_disk(tmp_path, watches):
    root = tmp_path / "root"
    for d in ("a/one/two", "b/three"):
        (root / d).mkdir(parents=True)
    w = watches(str(root))
    w.refresh()
    libc = ctypes.CDLL(None, use_errno=True)
    stop = time.monotonic() + 3

    def exchange() -> None:
        a, b = bytes(root / "a"), bytes(root / "b")
        while time.monotonic() < stop:
            assert libc.renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0, ctypes.get_errno()

    def churn() -> None:
        i = 0
        while time.monotonic() < stop:
            for d in ("a", "b", "a/one", "b/three"):
                try:
                    (root / d / f"f{i % 20}.php").write_bytes(b"x")
                    (root / d / f"k{i % 5}").mkdir()
                except OSError:
                    pass  # swapped away meanwhile
            i += 1

    threads = [threading.Thread(target=exchange), threading.Thread(target=churn)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Once the races stop, the watches are exactly the directories on disk, and the kernel holds
    # no watch we forgot (each directory watched once).
    want = disk_dirs(bytes(root))
    assert wait_until(lambda: set(w.reader.watched_paths()) == want), set(w.reader.watched_paths()) ^ want
    assert w.reader.alive and w.reader.error is None
    inodes = {inode_key(os.stat(p).st_dev, os.stat(p).st_ino) for p in want}
    assert watched_inodes() == inodes


def test_symlinked_directory_is_never_watched(tmp_path, watches):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "site").mkdir(parents=True)
    outside.mkdir()
    (root / "link").symlink_to(outside)
    w = watches(str(root))
    w.refresh()
    (root / "site" / "later").symlink_to(outside)
    (root / "site" / "real").mkdir()
    assert wait_until(lambda: bytes(root / "site/real") in w.reader.watched_paths())
    st = os.stat(outside)
    assert inode_key(st.st_dev, st.st_ino) not in watched_inodes()


def test_directory_beyond_path_max_is_watched_and_its_events_carry_the_full_path(tmp_path, watches):
    root = tmp_path / "root"
    root.mkdir()
    w = watches(str(root))
    w.refresh()
    deep = make_chain(root, 30, b"d" * 200)
    assert len(deep) > 4096
    assert wait_until(lambda: deep in w.reader.watched_paths())
    fd = os.open(root, os.O_RDONLY)
    for _ in range(30):
        fd, old = os.open(b"d" * 200, os.O_RDONLY, dir_fd=fd), fd
        os.close(old)
    out = os.open(b"late.php", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.close(out)
    os.close(fd)
    due: set[bytes] = set()
    assert wait_until(lambda: due.update(w.coalescer.pop_due()) or deep + b"/late.php" in due)


def test_queue_overflow_watches_what_was_missed_and_asks_to_rescan_every_root(tmp_path):
    (tmp_path / "r1").mkdir()
    (tmp_path / "r2").mkdir()
    reader = InotifyReader(Coalescer())  # not started: this thread plays the reader
    try:
        assert reader._add_root(bytes(tmp_path / "r1")) is None
        assert reader._add_root(bytes(tmp_path / "r2")) is None
        (tmp_path / "r1/made-while-events-were-lost/deeper").mkdir(parents=True)
        reader._handle(-1, 0x4000, b"")  # IN_Q_OVERFLOW, as the kernel sends it
        assert reader.take_overflow() is True
        assert bytes(tmp_path / "r1/made-while-events-were-lost/deeper") in reader.watched_paths()
        assert reader.take_overflow() is False
    finally:
        reader._stopping = True
        reader.close()


def test_reader_that_dies_is_replaced_and_every_root_is_given_back_for_a_rescan(tmp_path, watches):
    for name in ("a", "b"):
        (tmp_path / "roots" / name).mkdir(parents=True)
    w = watches(f"{tmp_path}/roots/*")
    w.refresh()
    first = w.reader

    def broken(wd: int, mask: int, name: bytes) -> None:
        raise KeyError(name)  # what watchdog's observer raised in the field

    first._handle = broken
    (tmp_path / "roots/a/boom").write_bytes(b"")
    assert wait_until(lambda: w.reader_dead())
    assert sorted(w.dead_roots()) == [bytes(tmp_path / "roots/a"), bytes(tmp_path / "roots/b")]
    assert "KeyError" in w.failure and "broken" in w.failure_trace
    assert w.reader is not first and w.reader.alive and w.deaths == 1
    (tmp_path / "roots/b/after.php").write_bytes(b"")
    due: set[bytes] = set()
    assert wait_until(
        lambda: due.update(w.coalescer.pop_due()) or bytes(tmp_path / "roots/b/after.php") in due
    )


def test_reader_that_cannot_start_leaves_roots_to_rescans_and_is_retried(tmp_path, monkeypatch):
    import ctypes as _ctypes
    import errno

    import fim.daemon.inotify_reader

    (tmp_path / "roots/a").mkdir(parents=True)

    def no_instance() -> int:
        _ctypes.set_errno(errno.EMFILE)
        return -1

    monkeypatch.setattr(fim.daemon.inotify_reader, "inotify_init", no_instance)
    w = Watches((f"{tmp_path}/roots/*",), Coalescer())
    w.start()
    try:
        new, failures = w.refresh()
        assert new == [bytes(tmp_path / "roots/a")]
        assert "instance limit" in failures[0].reason and w.unwatched
        assert w.reader_dead()
        monkeypatch.undo()  # the limit is raised: the next look starts a working reader
        assert w.dead_roots() == [bytes(tmp_path / "roots/a")]
        assert w.reader.alive and list(w.watched) == [bytes(tmp_path / "roots/a")]
        assert "instance limit" in w.failure
    finally:
        w.stop()


def test_rescan_of_a_directory_beyond_path_max_walks_it_through_descriptors(tmp_path):
    """A directory that could not be watched is rescanned by path: past PATH_MAX that path can
    only be walked from its root down, one descriptor at a time."""
    from fim.daemon.service import Daemon
    from fim.detect.walk import Excludes, Walker

    root = tmp_path / "root"
    root.mkdir()
    shell = make_chain(root, 24, b"d" * 200, b"shell.php")
    target = shell.rsplit(b"/", 1)[0]
    assert len(target) > 4096
    daemon = Daemon.__new__(Daemon)  # only the watch list is needed to find the root
    daemon.watches = Watches((str(root),), Coalescer())
    daemon.watches.unwatched[bytes(root)] = "test"
    problems: list = []
    walker = Walker(excludes=Excludes([]), one_file_system=False, on_problem=problems.append)
    found = list(daemon._walk_target(walker, target))
    assert [c.path for c in found] == [shell] and problems == []
    for cand in found:
        cand.release()


def test_a_walk_slice_whose_baseline_lookup_fails_is_looked_at_again_and_not_swept_as_deleted(tmp_path):
    """A locked or full database fails the lookup of a whole slice of a walk: the walk has
    moved past those files, so they go back to the due queue (walked again from their root
    once the store is back) and onto the list the deletion sweep leaves alone."""
    import itertools

    from fim.core.errors import StoreError
    from fim.daemon.coalescer import Coalescer
    from fim.daemon.walks import DaemonWalks
    from fim.detect.walk import Excludes, Walker

    root = tmp_path / "root"
    root.mkdir()
    for n in range(5):
        (root / f"f{n}.php").write_bytes(b"<?php")

    class LockedScanner:
        def submit_many(self, chunk, report, scan_id, *, writer=None, settle=None):
            for cand in chunk:
                cand.release()
            raise StoreError("database is locked")

    class Walks(DaemonWalks):
        def __init__(self):
            self.scanner, self.coalescer, self._hardlinks = LockedScanner(), Coalescer(settle=0.0), set()

    walks = Walks()
    walker = Walker(excludes=Excludes([]), one_file_system=False, on_problem=lambda p: None)
    candidates = walker.walk(bytes(root))
    unlisted: list[bytes] = []
    with pytest.raises(StoreError):
        walks._submit_slice(itertools.islice(candidates, 3), 3, None, 1, None, unlisted)
    assert len(unlisted) == 3
    assert sorted(walks.coalescer.pop_due()) == sorted(unlisted)
    assert all(p.startswith(bytes(root) + b"/f") for p in unlisted)


def test_new_directory_hints_refresh_the_roots_at_most_once_a_second():
    """fanotify sees every directory matching a root pattern appear; a customer creating and
    removing one in a loop must not keep the daemon expanding every glob, yet a hint that
    arrives too soon is kept, not lost."""
    from fim.daemon import watch as watch_mod

    class Hinting:
        hint = False

        def take_root_hint(self):
            hint, self.hint = self.hint, False
            return hint

    watches = Watches(("/srv/*/public_html",), Coalescer(settle=0.0))
    watches.reader = reader = Hinting()
    assert watches.take_root_hint(now=100.0) is False  # no hint: nothing to do
    reader.hint = True
    assert watches.take_root_hint(now=100.0) is True
    reader.hint = True
    assert watches.take_root_hint(now=100.2) is False  # too soon after the last refresh...
    assert watches.take_root_hint(now=100.2 + watch_mod.HINT_INTERVAL) is True  # ...kept for later
    assert watches.take_root_hint(now=105.0) is False  # and taken once
