"""Specification: the path string of a root, or of a file named as one, never leads fim past a
customer's symlink; a root-owned symlink is followed only component by component.

Two attacks run for real, as a real customer uid (``setpriv``):

- a validated root (``srv/*/sites/*`` matched ``sites/shadow``) whose parent ``sites`` the
  customer then swaps for a symlink to a root-only directory holding a file named ``shadow``:
  a walk of the root must not read, hash or record that file;
- a quarantined file under an allowed root-owned symlink root (``www/alice ->
  home/alice/public_html``): the customer swaps ``public_html`` for a symlink to a root-only
  directory, and ``fim quarantine restore`` must not write the customer's file there.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_support import ALICE, as_user, customer_reachable_dir

from fim.config import loader
from fim.core.model import ScanReport
from fim.detect import roots
from fim.detect.walk import Excludes, Walker
from fim.respond import quarantine, quarantine_records
from fim.respond.quarantine_records import QuarantineError
from fim.scanner.build import build_scanner
from fim.store.database import Store

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as customer uids with setpriv")

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_REQUEST['c']); ?>\n"
SECRET = b"root:$6$SECRETHASH:19000:0:99999:7:::\nFIM_TEST_MARKER_EVAL\n"


@pytest.fixture
def base() -> Iterator[Path]:
    """A directory customers can traverse (pytest's own temp dirs are private to root), with
    ``etc/shadow``: a root-only file fim must never read on a customer's say-so."""
    with customer_reachable_dir("fim-rootpaths-") as where:
        (where / "etc").mkdir(mode=0o755)
        (where / "etc/shadow").write_bytes(SECRET)
        os.chmod(where / "etc/shadow", 0o600)
        yield where


@pytest.fixture
def sites(base: Path) -> Path:
    """``srv/alice/sites/shadow``: a customer's site directory, everything from ``alice`` down
    owned by the customer."""
    shadow = base / "srv/alice/sites/shadow"
    shadow.mkdir(parents=True)
    os.chmod(base / "srv", 0o755)
    for p in (base / "srv/alice", base / "srv/alice/sites", shadow):
        os.chown(p, ALICE, ALICE)
    return base / "srv/alice/sites"


def swap_for_symlink(directory: Path, target: Path) -> None:
    """The customer moves ``directory`` away and puts a symlink to ``target`` in its place."""
    as_user(ALICE, "mv", directory, directory.with_name(directory.name + ".old"))
    as_user(ALICE, "ln", "-s", target, directory)


def scanner_config(tmp_path: Path, marker_rules: Path, extra: str = "") -> Path:
    config = tmp_path / "fim.toml"
    config.write_text(f'[rules]\nbundled = false\npaths = ["{marker_rules}"]\n{extra}')
    return config


def test_a_validated_root_led_to_a_root_only_file_by_a_customer_symlink_above_it_is_not_read(
    base, sites, tmp_path, marker_rules
):
    expansion = roots.expand([f"{base}/srv/*/sites/*"])
    root = bytes(sites / "shadow")
    assert expansion.paths == [root]
    swap_for_symlink(sites, base / "etc")
    assert os.path.isfile(root)  # the path string now names the root-only file

    store = Store.memory()
    scanner = build_scanner(loader.load(scanner_config(tmp_path, marker_rules)), store)
    try:
        report = ScanReport(ruleset_version=scanner.version)
        walker = scanner.walker(report)
        walker.root_ids = expansion.identities  # as the daemon's walks do
        candidates = list(walker.walk(root))
        scan_id = store.begin_scan("rescan", [], scanner.version)
        scanner.process(iter(candidates), report, scan_id, time.monotonic())
    finally:
        scanner.close()
    assert candidates == []
    assert store.lookup(root) is None  # no size, owner, mode or hash of the root-only file
    assert report.findings == []
    assert [p.path for p in report.problems] == [root]
    assert "uid 2001" in report.problems[0].reason
    assert root in walker.unlisted  # so a sweep does not take the root's files for deleted


def test_a_validated_root_replaced_by_a_file_is_reported_not_read(base, sites):
    expansion = roots.expand([f"{base}/srv/*/sites/*"])
    root = sites / "shadow"
    as_user(ALICE, "mv", root, sites / "old")
    as_user(ALICE, "sh", "-c", f"echo FIM_TEST_MARKER_EVAL > '{root}'")
    problems = []
    walker = Walker(excludes=Excludes(()), one_file_system=True, on_problem=problems.append,
                    root_ids=expansion.identities)  # fmt: skip
    assert list(walker.walk(bytes(root))) == []
    assert [p.path for p in problems] == [bytes(root)]


def test_a_file_named_on_the_command_line_behind_a_customer_symlink_is_not_read(
    base, sites, tmp_path, marker_rules
):
    swap_for_symlink(sites, base / "etc")
    config = scanner_config(tmp_path, marker_rules)
    r = subprocess.run(
        [sys.executable, "-m", "fim", "scan", "--config", str(config), "--db", str(tmp_path / "fim.db"),
         "--format", "json", str(sites / "shadow")],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert b"FIM_TEST_MARKER_EVAL" not in r.stdout
    assert json.loads(r.stdout)["findings"] == []
    assert b"uid 2001" in r.stdout + r.stderr
    with Store.open(tmp_path / "fim.db") as store:
        assert store.lookup(bytes(sites / "shadow")) is None


def test_a_file_named_on_the_command_line_through_a_root_owned_symlink_is_read(base, tmp_path, marker_rules):
    (base / "data/site").mkdir(parents=True)
    (base / "data/site/up.php").write_bytes(SHELL)
    (base / "www").symlink_to(base / "data")  # like /home -> /data/home, placed by root
    problems: list = []
    walker = Walker(excludes=Excludes(()), one_file_system=True, on_problem=problems.append)
    found = list(walker.walk(bytes(base / "www/site/up.php")))
    try:
        assert [c.path for c in found] == [bytes(base / "www/site/up.php")]
        assert found[0].parent is not None  # opened relative to its verified directory
        assert problems == []
    finally:
        for c in found:
            c.release()


@pytest.fixture
def linked_site(base: Path) -> tuple[Path, Path]:
    """``www/alice`` -> ``home/alice/public_html``: a root-owned symlink root, allowed by the
    configuration; ``public_html`` and ``home/alice`` owned by the customer."""
    html = base / "home/alice/public_html"
    html.mkdir(parents=True)
    os.chmod(base / "home", 0o755)
    for p in (base / "home/alice", html):
        os.chown(p, ALICE, ALICE)
    (base / "www").mkdir(mode=0o755)
    (base / "www/alice").symlink_to(html)
    (base / "etc/profile.d").mkdir(mode=0o755)
    return base / "www/alice", html


def quarantine_shell(base: Path, root: Path, html: Path, store: Store) -> quarantine_records.QuarantineRecord:
    (html / "zz.sh").write_bytes(SHELL)
    os.chown(html / "zz.sh", ALICE, ALICE)
    os.chmod(html / "zz.sh", 0o644)
    expansion = roots.expand([f"{base}/www/*"], symlink_roots=[bytes(root)])
    assert expansion.paths == [bytes(root)]
    return quarantine.quarantine_file(
        store, bytes(base / "state/q"), bytes(root / "zz.sh"),
        expected_sha256=hashlib.sha256(SHELL).hexdigest(),
        roots=expansion.identities, symlink_roots=[bytes(root)],
    )  # fmt: skip


def test_restore_through_a_root_owned_symlink_does_not_follow_a_customer_symlink_in_its_target(
    base, linked_site
):
    root, html = linked_site
    with Store.open(base / "state/fim.db") as store:
        rec = quarantine_shell(base, root, html, store)
        swap_for_symlink(html, base / "etc/profile.d")
        with pytest.raises(QuarantineError, match="owned by uid 2001"):
            quarantine.restore(store, rec.id)
        assert quarantine_records.record(store, rec.id).status == "quarantined"
    assert list((base / "etc/profile.d").iterdir()) == []


def test_restore_through_a_root_owned_symlink_still_works_when_nothing_was_swapped(base, linked_site):
    root, html = linked_site
    with Store.open(base / "state/fim.db") as store:
        rec = quarantine_shell(base, root, html, store)
        assert not (html / "zz.sh").exists()
        quarantine.restore(store, rec.id)
    st = os.lstat(html / "zz.sh")
    assert (st.st_uid, st.st_mode & 0o777) == (ALICE, 0o644)
    assert (html / "zz.sh").read_bytes() == SHELL


def test_restore_into_fims_own_state_directory_is_refused(base, linked_site, tmp_path):
    root, html = linked_site
    state = base / "state"
    with Store.open(state / "fim.db") as store:
        rec = quarantine_shell(base, root, html, store)
    # The administrator re-points the root-owned link at fim's own state directory.
    (base / "www/alice").unlink()
    (base / "www/alice").symlink_to(state)
    config = tmp_path / "fim.toml"
    config.write_text(f'[quarantine]\ndirectory = "{state / "q"}"\n')
    r = subprocess.run(
        [sys.executable, "-m", "fim", "quarantine", "restore", str(rec.id), "--config", str(config),
         "--db", str(state / "fim.db")],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert r.returncode != 0
    assert b"state directory" in r.stderr
    assert not (state / "zz.sh").exists()


def test_quarantine_never_opens_a_file_named_as_a_root_by_its_path(base, tmp_path):
    site = base / "site"
    site.mkdir(mode=0o755)
    (site / "x.php").write_bytes(SHELL)
    with (
        Store.open(tmp_path / "fim.db") as store,
        pytest.raises(QuarantineError, match="outside the configured roots"),
    ):
        quarantine.quarantine_file(
            store, bytes(tmp_path / "q"), bytes(site / "x.php"),
            expected_sha256=hashlib.sha256(SHELL).hexdigest(), roots={bytes(site / "x.php"): None},
        )  # fmt: skip
    assert (site / "x.php").read_bytes() == SHELL
