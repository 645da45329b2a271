"""Pieces of the watch layer that need no daemon: coalescing and overflow signalling."""

from __future__ import annotations

import logging

from fim.daemon.watch import Coalescer, Watches


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


def _record(msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("watchdog.observers.inotify", logging.WARNING, __file__, 1, msg, args, None)


def test_kernel_overflow_of_one_root_rescans_only_that_root():
    w = Watches(("/nonexistent/*",), Coalescer())
    try:
        w._log_handler.emit(_record("Inotify queue overflowed; filesystem events were lost"))
        w._log_handler.emit(
            _record("Inotify queue overflowed; reconciling recursive watches below %r", b"/r/a")
        )
        assert w.take_overflowed() == [b"/r/a"]
        assert w.take_overflowed() == []
    finally:
        w.stop()


def test_kernel_overflow_without_a_root_rescans_every_root_after_a_grace_period():
    w = Watches(("/nonexistent/*",), Coalescer())
    w.watched[b"/r/a"] = object()
    w.watched[b"/r/b"] = object()
    try:
        w._log_handler.emit(_record("Inotify queue overflowed; filesystem events were lost"))
        assert w.take_overflowed(grace=60) == []  # waiting for watchdog to name the root
        assert sorted(w.take_overflowed(grace=0)) == [b"/r/a", b"/r/b"]
    finally:
        w.watched.clear()
        w.stop()
