"""A full scan compares each directory it lists with the baseline in one range read.

What it must keep from the lookup it replaces: every deletion found (a file, a whole
subdirectory, a deep subtree), nothing swept that the walk could not list or that an event
recorded meanwhile, names that sort next to a directory's range, and the sightings that
retention dates files by (refreshed once a day, not by every scan).
"""

from __future__ import annotations

import os
import time

import pytest

import fim
from fim.config import loader as config_mod
from fim.core.model import Change
from fim.scanner import merge


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    for rel in (
        "a.php", "a/x.php", "a/deep/1/2/3/y.php", "a.txt", "a0.php", "a-b/z.php", "b/gone/old.php",
        "b/kept.php", "c/only/sub/file.php",
    ):  # fmt: skip
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"<?php echo '%s';" % rel.encode())
    return root


def scan(root, store, marker_rules, **config):
    changes = []
    report = fim.scan(
        [root], config=config_mod.from_dict(config), store=store, extra_rules=[str(marker_rules)],
        use_bundled=False, on_change=changes.append,
    )  # fmt: skip
    return report, {os.path.relpath(os.fsdecode(c.path), root): c.change for c in changes}


def paths_in(store, root):
    rows = store.conn.execute("SELECT path FROM files").fetchall()
    return sorted(os.path.relpath(os.fsdecode(p), root) for (p,) in rows)


def test_rescan_finds_deleted_files_directories_and_deep_subtrees_and_nothing_else(site, store, marker_rules):
    scan(site, store, marker_rules)
    os.unlink(site / "a/x.php")
    for p in ("b/gone/old.php", "c/only/sub/file.php", "a/deep/1/2/3/y.php"):
        os.unlink(site / p)
    os.removedirs(site / "b/gone")
    os.removedirs(site / "c/only/sub")
    os.removedirs(site / "a/deep/1/2/3")
    report, changes = scan(site, store, marker_rules)
    assert changes == {
        "a/x.php": Change.DELETED,
        "b/gone/old.php": Change.DELETED,
        "c/only/sub/file.php": Change.DELETED,
        "a/deep/1/2/3/y.php": Change.DELETED,
    }
    assert report.stats.skipped_unchanged == 5 and report.stats.files_read == 0
    assert paths_in(store, site) == ["a-b/z.php", "a.php", "a.txt", "a0.php", "b/kept.php"]


def test_names_sorting_around_a_directory_are_neither_lost_nor_taken_for_its_files(site, store, marker_rules):
    scan(site, store, marker_rules)
    # "a.php", "a-b/..." and "a0.php" sort just before and after the range of "a/"
    report, changes = scan(site, store, marker_rules)
    assert changes == {} and report.stats.skipped_unchanged == 9
    os.unlink(site / "a0.php")
    os.unlink(site / "a-b/z.php")
    _report, changes = scan(site, store, marker_rules)
    assert changes == {"a0.php": Change.DELETED, "a-b/z.php": Change.DELETED}


def test_a_directory_that_became_a_file_and_a_file_that_became_a_directory(site, store, marker_rules):
    scan(site, store, marker_rules)
    os.unlink(site / "a-b/z.php")
    os.rmdir(site / "a-b")
    (site / "a-b").write_bytes(b"now a file")
    os.unlink(site / "a.txt")
    (site / "a.txt").mkdir()
    (site / "a.txt/inside.php").write_bytes(b"<?php")
    _report, changes = scan(site, store, marker_rules)
    assert changes == {
        "a-b/z.php": Change.DELETED,
        "a-b": Change.NEW,
        "a.txt": Change.DELETED,
        "a.txt/inside.php": Change.NEW,
    }
    assert "a-b" in paths_in(store, site) and "a.txt/inside.php" in paths_in(store, site)


def test_a_changed_file_is_read_again_and_its_sibling_is_not(site, store, marker_rules):
    scan(site, store, marker_rules)
    (site / "b/kept.php").write_bytes(b"<?php FIM_TEST_MARKER_EVAL($_POST['x']);")
    report, changes = scan(site, store, marker_rules)
    assert changes == {"b/kept.php": Change.CHANGED}
    assert report.stats.files_read == 1 and report.stats.skipped_unchanged == 8
    assert [f.match.rule for f in report.findings] == ["test_marker_eval"]
    again, _ = scan(site, store, marker_rules)
    assert again.stats.files_read == 0 and [f.change for f in again.findings] == [Change.UNCHANGED]


def test_files_of_a_directory_the_walk_cannot_list_are_not_swept(site, store, marker_rules, monkeypatch):
    scan(site, store, marker_rules)
    before = paths_in(store, site)
    scandir = os.scandir
    refused = os.fsencode(site / "b")

    def refusing(fd):
        if isinstance(fd, int) and os.readlink(f"/proc/self/fd/{fd}".encode()) == refused:
            raise PermissionError(13, "Permission denied")
        return scandir(fd)

    monkeypatch.setattr(os, "scandir", refusing)
    os.unlink(site / "b/kept.php")  # gone, but the walk cannot tell
    report, changes = scan(site, store, marker_rules)
    assert changes == {} and paths_in(store, site) == before
    assert [p.path for p in report.problems] == [refused]


def test_a_file_named_as_a_root_is_looked_up_on_its_own_and_its_siblings_are_not_swept(
    site, store, marker_rules
):
    scan(site, store, marker_rules)
    report, changes = scan(site / "b/kept.php", store, marker_rules)
    assert changes == {} and report.stats.skipped_unchanged == 1
    assert len(paths_in(store, site)) == 9
    os.unlink(site / "a.php")  # a sibling of that root: not this scan's business
    _report, changes = scan(site / "b/kept.php", store, marker_rules)
    assert changes == {} and len(paths_in(store, site)) == 9


def test_unchanged_files_are_marked_seen_once_a_day_not_by_every_scan(site, store, marker_rules, monkeypatch):
    scan(site, store, marker_rules)
    first = store.conn.execute("SELECT DISTINCT seen_scan FROM files").fetchall()
    scan(site, store, marker_rules)
    assert store.conn.execute("SELECT DISTINCT seen_scan FROM files").fetchall() == first
    # a day later the sightings are brought up to date
    later = time.time_ns() + (merge.SEEN_REFRESH_S + 60) * 1_000_000_000
    monkeypatch.setattr(merge.time, "time_ns", lambda: later)
    store.conn.execute("UPDATE scans SET started_ns = started_ns - ?", (later - time.time_ns(),))
    store.conn.commit()
    scan(site, store, marker_rules)
    latest = store.conn.execute("SELECT MAX(id) FROM scans").fetchone()[0]
    assert store.conn.execute("SELECT DISTINCT seen_scan FROM files").fetchall() == [(latest,)]


@pytest.mark.parametrize("read_ahead", [0, 1, merge.READ_AHEAD_ROWS])
def test_directories_holding_files_only_are_read_with_their_parent_and_deletions_still_found(
    tmp_path, store, marker_rules, monkeypatch, read_ahead
):
    root = tmp_path / "wide"
    for d in range(6):
        for f in range(3):
            path = root / f"c{d}" / f"leaf{d}" / f"f{f}.php"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"<?php echo %d;" % f)
    scan(root, store, marker_rules)
    monkeypatch.setattr(merge, "READ_AHEAD_ROWS", read_ahead)
    queried: list[bytes] = []
    children = store.children
    monkeypatch.setattr(store, "children", lambda d, *a: queried.append(d) or children(d, *a))
    os.unlink(root / "c2/leaf2/f1.php")
    for f in range(3):
        os.unlink(root / f"c4/leaf4/f{f}.php")
    os.rmdir(root / "c4/leaf4")
    report, changes = scan(root, store, marker_rules)
    assert changes == {
        "c2/leaf2/f1.php": Change.DELETED,
        **{f"c4/leaf4/f{f}.php": Change.DELETED for f in range(3)},
    }
    assert report.stats.skipped_unchanged == 14 and report.stats.files_read == 0
    leaves = [d for d in queried if os.path.basename(d).startswith(b"leaf")]
    # with room to read ahead, no leaf directory is queried on its own; without (or with less
    # than one leaf's rows), each leaf still listed is
    assert len(leaves) == (0 if read_ahead >= 18 else 5)
