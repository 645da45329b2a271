"""Symlinks and hard links: a customer must not be able to make fim read (and report, and so
leak the name or content of) anything outside the scanned root."""

from __future__ import annotations

import os

from hostile_support import CLEAN, SHELL

import fim
from fim.core import paths


def test_symlink_to_file_outside_root_with_marker_gives_no_finding(ws, spy):
    target = ws.outside / "wp-config.php"
    target.write_bytes(SHELL)
    (ws.root / "config.php").symlink_to(target)
    (ws.root / "rel.php").symlink_to(os.path.relpath(target, ws.root))
    (ws.root / "index.php").write_bytes(CLEAN)
    spy.watch(ws.outside, target)
    res = ws.run(ws.root, fmt="json")
    assert res.rc == 0
    assert res.doc["findings"] == []
    assert res.stats["symlinks"] == 2
    assert res.stats["files_seen"] == 1  # index.php only
    assert os.fsencode(ws.outside) not in res.stdout
    spy.assert_untouched()


def test_symlink_to_another_customers_directory_is_not_followed(ws, spy):
    home = ws.root / "home"
    alice = home / "alice" / "public_html"
    bob = home / "bob" / "public_html"
    alice.mkdir(parents=True)
    bob.mkdir(parents=True)
    (alice / "index.php").write_bytes(CLEAN)
    (bob / "shell.php").write_bytes(SHELL)
    (alice / "bob").symlink_to("../../bob/public_html")
    spy.watch(bob, bob / "shell.php", home / "bob")
    res = ws.run(home / "alice", fmt="json")
    assert res.rc == 0
    assert res.doc["findings"] == []
    assert res.stats["symlinks"] == 1
    assert res.stats["files_seen"] == 1
    assert b"bob/public_html/shell.php" not in res.stdout
    spy.assert_untouched()


def test_symlink_to_directory_outside_root_is_not_followed(ws, spy):
    etc = ws.outside / "etc"
    etc.mkdir()
    (etc / "shadow.php").write_bytes(SHELL)
    (ws.root / "etc").symlink_to(etc)
    (ws.root / "slash").symlink_to("/")
    spy.watch(ws.outside, etc, etc / "shadow.php")
    res = ws.run(ws.root, fmt="json", timeout=60)
    assert res.rc == 0
    assert res.doc["findings"] == []
    assert res.stats["symlinks"] == 2
    assert res.stats["files_seen"] == 0
    spy.assert_untouched()


def test_symlink_loops_are_counted_and_scan_completes(ws):
    (ws.root / "a").symlink_to("b")
    (ws.root / "b").symlink_to("a")
    (ws.root / "self").symlink_to("self")
    (ws.root / "here").symlink_to(".")
    (ws.root / "up").symlink_to("..")
    sub = ws.root / "sub"
    sub.mkdir()
    (sub / "loop").symlink_to(ws.root)
    (sub / "shell.php").write_bytes(SHELL)
    res = ws.run(ws.root, fmt="json", timeout=60)
    assert res.rc == 1
    assert res.finding_paths() == [os.fsencode(sub / "shell.php")]  # once: no loop through a link
    assert res.stats["symlinks"] == 6
    assert res.stats["files_seen"] == 1


def test_dangling_symlink_is_counted_not_an_error(ws):
    (ws.root / "gone.php").symlink_to(ws.outside / "does-not-exist.php")
    (ws.root / "gone-rel.php").symlink_to("nowhere/at/all")
    res = ws.run(ws.root, fmt="json")
    assert res.rc == 0
    assert res.stats["symlinks"] == 2
    assert res.stats["errors"] == 0
    assert res.stats["vanished"] == 0


def test_symlink_given_as_root_path_is_not_followed(ws, spy):
    site = ws.outside / "site"
    site.mkdir()
    (site / "shell.php").write_bytes(SHELL)
    link = ws.root / "site"
    link.symlink_to(site)
    spy.watch(ws.outside, site, site / "shell.php")
    res = ws.run(link, fmt="json")
    assert res.rc == 0
    assert res.doc["findings"] == []
    assert res.stats["files_seen"] == 0
    assert res.stats["symlinks"] == 1
    spy.assert_untouched()


def test_symlink_to_file_given_as_root_path_is_not_followed(ws, spy):
    target = ws.outside / "shell.php"
    target.write_bytes(SHELL)
    link = ws.root / "index.php"
    link.symlink_to(target)
    spy.watch(ws.outside, target)
    report = fim.scan([link], use_bundled=False, extra_rules=[str(ws.rule_file)])
    assert report.findings == []
    assert report.stats.symlinks == 1
    assert report.stats.files_seen == 0
    spy.assert_untouched()


def test_symlink_given_as_root_path_is_reported_to_the_operator(ws):
    """An operator who names a path must learn it was not scanned: exit 0 with "0 files seen"
    and no word about the path reads as "this site is clean"."""
    site = ws.outside / "site"
    site.mkdir()
    (site / "shell.php").write_bytes(SHELL)
    link = ws.root / "site"
    link.symlink_to(site)
    res = ws.run(link, fmt="json")
    problem = res.problems().get(os.fsencode(link))
    assert problem is not None, res.doc
    assert problem["status"] == "symlink"
    text = ws.run(link, fmt="text", db=str(ws.state / "text.db"))
    assert any(
        paths.display(os.fsencode(link)) in line for line in text.lines if not line.startswith("summary")
    )


def test_hard_link_to_file_outside_root_is_reported_under_its_name_inside_root(ws):
    """A hard link is a name inside the root for the same inode: indistinguishable from a file
    created there, it is read and reported by its in-root name; the outside name never appears."""
    target = ws.outside / "private.php"
    target.write_bytes(SHELL)
    link = ws.root / "linked.php"
    os.link(target, link)
    assert os.stat(link).st_nlink == 2
    res = ws.run(ws.root, fmt="json")
    assert res.rc == 1
    assert res.finding_paths() == [os.fsencode(link)]
    assert os.fsencode(ws.outside) not in res.stdout
    assert res.stats["files_seen"] == 1


def test_listed_symlink_is_not_followed(ws, spy):
    target = ws.outside / "shell.php"
    target.write_bytes(SHELL)
    link = ws.root / "avatar.php"
    link.symlink_to(target)
    listing = ws.base / "list0"
    listing.write_bytes(os.fsencode(link) + b"\0")
    spy.watch(ws.outside, target)
    res = ws.run(fmt="json", extra=("--files-from", str(listing), "--null"))
    assert res.rc == 0
    assert res.doc["findings"] == []
    assert res.stats["symlinks"] == 1
    spy.assert_untouched()


def test_listed_path_through_a_directory_swapped_for_a_symlink_is_not_followed(ws, spy):
    """README's own recipe is `find /home ... -print0 | fim scan --files-from - --null`; by the
    time fim reads the list, a customer can have replaced a listed directory with a symlink."""
    private = ws.outside / "private"
    private.mkdir()
    (private / "shell.php").write_bytes(SHELL)
    uploads = ws.root / "uploads"
    uploads.mkdir()
    (uploads / "shell.php").write_bytes(CLEAN)
    listing = ws.base / "list0"
    listing.write_bytes(os.fsencode(uploads / "shell.php") + b"\0")  # what find printed
    uploads.rename(ws.root / "uploads.old")  # ... and then the customer swapped the directory
    uploads.symlink_to(private)
    spy.watch(ws.outside, private, private / "shell.php")
    res = ws.run(fmt="json", extra=("--files-from", str(listing), "--null"))
    assert res.doc["findings"] == []
    spy.assert_untouched()
