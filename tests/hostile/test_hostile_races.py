"""Files and directories that change between the walker listing them and fim using them.

A race cannot be timed through the CLI, so these tests drive :class:`fim.detect.walk.Walker` and
:class:`fim.detect.inspector.Inspector` directly and change the tree at the exact point in between.
"""

from __future__ import annotations

import os

import pytest
from hostile_support import CLEAN, SHELL, call_with_timeout, make_fifo_unblockable

from fim.core.model import Problem, Status
from fim.detect.inspector import Inspector
from fim.detect.walk import Candidate, Excludes, Walker


def _walker(problems: list[Problem]) -> Walker:
    return Walker(excludes=Excludes(()), one_file_system=False, on_problem=problems.append)


def _listed(root: bytes, name: bytes) -> tuple[Candidate, list[Candidate]]:
    """Walk ``root`` completely; return the candidate for ``name`` and all candidates."""
    problems: list[Problem] = []
    cands = list(_walker(problems).walk(root))
    assert problems == []
    (cand,) = [c for c in cands if c.name == name]
    return cand, cands


@pytest.fixture
def inspector(engine) -> Inspector:
    return Inspector(engine)


@pytest.fixture
def listed(ws):
    """A root with ``upload.php`` (clean when listed), walked; candidates released afterwards."""
    (ws.root / "upload.php").write_bytes(CLEAN)
    cand, cands = _listed(ws.broot, b"upload.php")
    yield cand
    for c in cands:
        c.release()


def test_listed_file_is_read_when_unchanged(ws, inspector, listed):
    """The baseline for the tests below: the same candidate, untouched, is read."""
    insp = inspector.inspect(listed)
    assert insp.status is Status.READ
    assert insp.matches == ()
    (ws.root / "upload.php").write_bytes(SHELL)  # same inode, new content: still the same file
    insp = inspector.inspect(listed)
    assert insp.status is Status.READ
    assert [m.rule for m in insp.matches] == ["fim_test_marker"]


def test_file_replaced_by_another_inode_after_listing_is_vanished_not_read(ws, inspector, listed):
    fresh = ws.root / "upload.php.tmp"
    fresh.write_bytes(SHELL)
    os.replace(fresh, ws.root / "upload.php")  # atomic swap: a different inode, same name
    assert os.stat(ws.root / "upload.php").st_ino != listed.lstat.st_ino
    insp = inspector.inspect(listed)
    assert insp.status is Status.VANISHED
    assert "replaced" in insp.reason
    assert insp.matches == ()
    assert insp.state is None


def test_file_replaced_by_fifo_after_listing_does_not_block(ws, inspector, listed):
    target = ws.root / "upload.php"
    target.unlink()
    os.mkfifo(target)
    try:
        insp = call_with_timeout(lambda: inspector.inspect(listed), timeout=10)
    finally:
        make_fifo_unblockable(target)
    assert insp.status is Status.SPECIAL
    assert insp.state is None
    assert insp.matches == ()


def test_file_replaced_by_symlink_after_listing_is_not_followed(ws, inspector, listed, spy):
    secret = ws.outside / "secret.php"
    secret.write_bytes(SHELL)
    target = ws.root / "upload.php"
    target.unlink()
    target.symlink_to(secret)
    spy.watch(ws.outside, secret)
    insp = inspector.inspect(listed)
    assert insp.status is Status.SYMLINK
    assert insp.matches == ()
    assert insp.state is None
    spy.assert_untouched()


def test_file_deleted_after_listing_is_vanished(ws, inspector, listed):
    (ws.root / "upload.php").unlink()
    insp = inspector.inspect(listed)
    assert insp.status is Status.VANISHED
    assert insp.state is None


def test_file_replaced_by_directory_after_listing_is_not_read(ws, inspector, listed):
    target = ws.root / "upload.php"
    target.unlink()
    target.mkdir()
    (target / "shell.php").write_bytes(SHELL)
    insp = inspector.inspect(listed)
    assert insp.status in (Status.SPECIAL, Status.VANISHED)
    assert insp.state is None
    assert insp.matches == ()


def test_parent_directory_swapped_for_symlink_after_listing_file_is_opened_in_verified_dir(
    ws, inspector, spy
):
    """The file is opened relative to the directory the walker opened, not by path: swapping
    that directory for a symlink to a look-alike outside cannot redirect the read."""
    sub = ws.root / "sub"
    sub.mkdir()
    (sub / "upload.php").write_bytes(CLEAN)
    cand, cands = _listed(ws.broot, b"upload.php")
    try:
        decoy = ws.outside / "sub"
        decoy.mkdir()
        (decoy / "upload.php").write_bytes(SHELL)
        os.rename(sub, ws.root / "sub.moved")
        sub.symlink_to(decoy)
        spy.watch(ws.outside, decoy, decoy / "upload.php")
        insp = inspector.inspect(cand)
    finally:
        for c in cands:
            c.release()
    assert insp.status is Status.READ
    assert insp.matches == ()  # the clean file that was listed, not the decoy
    assert insp.state.ino == cand.lstat.st_ino
    spy.assert_untouched()


def test_root_file_replaced_by_symlink_after_listing_is_not_followed(ws, inspector, spy):
    target = ws.root / "single.php"
    target.write_bytes(CLEAN)
    problems: list[Problem] = []
    (cand,) = list(_walker(problems).walk(os.fsencode(target)))
    assert cand.parent is not None  # a file named as a root is opened from its directory
    secret = ws.outside / "secret.php"
    secret.write_bytes(SHELL)
    target.unlink()
    target.symlink_to(secret)
    spy.watch(ws.outside, secret)
    insp = inspector.inspect(cand)
    cand.release()
    assert insp.status is Status.SYMLINK
    assert insp.matches == ()
    spy.assert_untouched()


def _dir_stated_before_last_file(root) -> bytes:
    """Make ``root`` hold ``victim/`` and files such that, in listing order, some file comes
    after ``victim``: when the walker yields that file, it has already stat'ed ``victim`` and
    queued it as a directory to enter."""
    (root / "victim").mkdir()
    for i in range(64):
        (root / f"f{i:02d}.php").write_bytes(CLEAN)
        order = os.listdir(root)
        if order.index("victim") < len(order) - 1:
            return os.fsencode(order[-1])
    pytest.skip("could not get a file listed after the directory")


def test_directory_replaced_by_symlink_between_listing_and_descending_is_not_followed(ws, spy):
    root = ws.root
    last = _dir_stated_before_last_file(root)
    (root / "victim" / "inside.php").write_bytes(CLEAN)
    elsewhere = ws.outside / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.php").write_bytes(SHELL)

    problems: list[Problem] = []
    walker = _walker(problems)
    gen = walker.walk(ws.broot)
    seen: list[Candidate] = []
    try:
        for cand in gen:  # step by step, until the root listing is complete
            seen.append(cand)
            if cand.path == ws.broot + b"/" + last:
                break
        else:
            pytest.fail("the walker never yielded the last file of the root")
        assert not any(c.path.startswith(ws.broot + b"/victim/") for c in seen)
        # The swap: victim/ was listed as a directory; now it is a symlink to outside.
        os.rename(root / "victim", ws.base / "victim.moved")
        (root / "victim").symlink_to(elsewhere)
        spy.watch(ws.outside, elsewhere, elsewhere / "secret.php")
        seen.extend(gen)
    finally:
        for c in seen:
            c.release()
    victim = ws.broot + b"/victim"
    assert not any(c.path.startswith(victim + b"/") for c in seen)
    assert [p for p in problems if p.path == victim] == [
        Problem(victim, Status.VANISHED, "replaced by a symlink or file during the walk (not followed)")
    ]
    assert victim in walker.unlisted  # so a baseline sweep does not call its files deleted
    spy.assert_untouched()


def test_directory_replaced_by_symlink_before_it_is_stated_is_not_followed(ws, spy):
    """The other ordering of the same race: swapped before the walker's lstat sees it."""
    (ws.root / "victim").mkdir()
    elsewhere = ws.outside / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "secret.php").write_bytes(SHELL)
    problems: list[Problem] = []
    walker = _walker(problems)
    gen = walker.walk(ws.broot)
    os.rmdir(ws.root / "victim")
    (ws.root / "victim").symlink_to(elsewhere)
    spy.watch(ws.outside, elsewhere, elsewhere / "secret.php")
    seen = list(gen)
    for c in seen:
        c.release()
    assert seen == []
    assert [p.status for p in problems] == [Status.SYMLINK]
    spy.assert_untouched()


def test_file_that_grows_after_listing_is_read_to_its_end(ws, inspector, listed):
    with open(ws.root / "upload.php", "ab") as fh:
        fh.write(b"\n" * 100_000 + SHELL)  # the marker lands beyond the size the walker saw
    insp = inspector.inspect(listed)
    assert insp.status is Status.READ
    assert insp.state.size == os.stat(ws.root / "upload.php").st_size
    assert [m.rule for m in insp.matches] == ["fim_test_marker"]


# -- paths from events: Walker.walk_beneath opens every component below the root itself --------


def test_event_path_through_a_directory_swapped_for_a_symlink_is_not_followed(ws, spy):
    private = ws.outside / "private"
    private.mkdir()
    (private / "shell.php").write_bytes(SHELL)
    (ws.root / "uploads").symlink_to(private)  # the event named uploads/shell.php, then this
    spy.watch(ws.outside, private, private / "shell.php")
    problems: list[Problem] = []
    walker = _walker(problems)
    seen = list(walker.walk_beneath(ws.broot, ws.broot + b"/uploads/shell.php"))
    for c in seen:
        c.release()
    assert seen == []
    assert [(p.path, p.status) for p in problems] == [(ws.broot + b"/uploads", Status.SYMLINK)]
    spy.assert_untouched()


def test_event_path_to_a_file_swapped_for_a_symlink_is_not_followed(ws, spy):
    secret = ws.outside / "secret.php"
    secret.write_bytes(SHELL)
    (ws.root / "uploads").mkdir()
    (ws.root / "uploads" / "a.php").symlink_to(secret)
    spy.watch(ws.outside, secret)
    problems: list[Problem] = []
    seen = list(_walker(problems).walk_beneath(ws.broot, ws.broot + b"/uploads/a.php"))
    for c in seen:
        c.release()
    assert seen == []
    assert [p.status for p in problems] == [Status.SYMLINK]
    spy.assert_untouched()


def test_event_path_with_dot_dot_does_not_leave_the_root(ws, spy):
    secret = ws.outside / "secret.php"
    secret.write_bytes(SHELL)
    spy.watch(ws.outside, secret)
    problems: list[Problem] = []
    walker = _walker(problems)
    seen = list(walker.walk_beneath(ws.broot, ws.broot + b"/../outside/secret.php"))
    seen += list(walker.walk_beneath(ws.broot, ws.broot + b"/../outside"))
    for c in seen:
        c.release()
    assert seen == []
    spy.assert_untouched()
