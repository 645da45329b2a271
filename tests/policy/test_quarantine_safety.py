"""Specification: quarantine never follows a symlink a customer planted, never moves content
other than what was scanned, and when it cannot act it leaves the file in place and says why."""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest

from fim.core.model import Change, FileState, Finding, RuleMatch, Severity
from fim.respond import quarantine, quarantine_records
from fim.respond.quarantine_records import QuarantineError
from fim.respond.quarantine_responder import QuarantineConfig, QuarantineResponder

CUSTOMER = 4321
SHELL = b"<?php system($_GET['c']);"
SHA = hashlib.sha256(SHELL).hexdigest()

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="plants files owned by other users: needs root")


@pytest.fixture
def uploads(tmp_path):
    d = tmp_path / "home/dave/uploads"
    d.mkdir(parents=True)
    return d


def move(store, tmp_path, path, sha=SHA):
    return quarantine.quarantine_file(store, tmp_path / "q", bytes(path), expected_sha256=sha, tenant="dave")


def test_a_symlinked_folder_planted_by_a_customer_is_not_followed(store, tmp_path, uploads):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "x.php").write_bytes(SHELL)
    (uploads / "link").symlink_to(elsewhere)
    os.lchown(uploads / "link", CUSTOMER, CUSTOMER)
    with pytest.raises(QuarantineError, match="symlink owned by uid 4321"):
        move(store, tmp_path, uploads / "link/x.php")
    assert (elsewhere / "x.php").read_bytes() == SHELL
    assert quarantine_records.records(store) == []


def test_a_symlink_placed_by_root_is_followed(store, tmp_path):
    real = tmp_path / "data/home/dave"
    real.mkdir(parents=True)
    (real / "x.php").write_bytes(SHELL)
    (tmp_path / "home").symlink_to(tmp_path / "data/home")  # like /home -> /data/home
    rec = move(store, tmp_path, tmp_path / "home/dave/x.php")
    assert rec.status == "quarantined" and not (real / "x.php").exists()


def test_a_file_swapped_for_a_symlink_is_not_moved(store, tmp_path, uploads):
    (tmp_path / "secret").write_bytes(b"root's data")
    (uploads / "x.php").symlink_to(tmp_path / "secret")
    with pytest.raises(QuarantineError, match="symlink"):
        move(store, tmp_path, uploads / "x.php")
    assert (uploads / "x.php").is_symlink() and (tmp_path / "secret").read_bytes() == b"root's data"


def test_content_changed_since_the_scan_is_not_moved(store, tmp_path, uploads):
    (uploads / "x.php").write_bytes(b"cleaned by the customer")
    with pytest.raises(QuarantineError, match="changed since it was scanned"):
        move(store, tmp_path, uploads / "x.php")
    assert (uploads / "x.php").read_bytes() == b"cleaned by the customer"
    assert quarantine_records.records(store) == []


def test_a_quarantine_folder_owned_by_someone_else_is_refused(store, tmp_path, uploads):
    (uploads / "x.php").write_bytes(SHELL)
    (tmp_path / "q").mkdir(mode=0o777)
    os.chown(tmp_path / "q", CUSTOMER, CUSTOMER)
    with pytest.raises(QuarantineError, match="owned by uid 4321"):
        move(store, tmp_path, uploads / "x.php")
    assert (uploads / "x.php").read_bytes() == SHELL


def test_a_failed_quarantine_is_alerted_once_and_leaves_the_file(store, tmp_path, uploads):
    path = uploads / "x.php"
    path.write_bytes(SHELL)
    (tmp_path / "q").mkdir()
    os.chown(tmp_path / "q", CUSTOMER, CUSTOMER)
    messages: list[str] = []
    responder = QuarantineResponder(
        store, QuarantineConfig(enabled=True, directory=str(tmp_path / "q"), min_severity="high"),
        on_message=messages.append,
    )  # fmt: skip
    st = os.stat(path)
    state = FileState(bytes(path), st.st_dev, st.st_ino, st.st_size, st.st_mode, st.st_uid, st.st_gid,
                      st.st_mtime_ns, st.st_ctime_ns, SHA)  # fmt: skip
    finding = Finding(
        bytes(path), "dave", RuleMatch("webshell", "bundled", Severity.CRITICAL), Change.NEW, state
    )
    responder([finding])
    store.flush()
    responder([finding])  # the next scan tries again, but does not alert again
    store.flush()
    assert path.read_bytes() == SHELL
    assert len(messages) == 2 and "failed" in messages[0]
    rows = store.conn.execute(
        "SELECT description FROM findings WHERE rule = 'fim_quarantine_failed'"
    ).fetchall()
    assert len(rows) == 1 and "still in place" in rows[0][0] and "owned by uid" in rows[0][0]


def test_restore_does_not_follow_a_symlink_planted_where_the_folder_was(store, tmp_path, uploads):
    (uploads / "x.php").write_bytes(SHELL)
    rec = move(store, tmp_path, uploads / "x.php")
    shutil.rmtree(uploads)
    target = tmp_path / "etc-like"
    target.mkdir()
    uploads.symlink_to(target)
    os.lchown(uploads, CUSTOMER, CUSTOMER)
    with pytest.raises(QuarantineError, match="symlink"):
        quarantine.restore(store, rec.id)
    assert list(target.iterdir()) == []
    assert quarantine_records.record(store, rec.id).status == "quarantined"


def test_restore_into_a_folder_that_is_gone_says_so(store, tmp_path, uploads):
    (uploads / "x.php").write_bytes(SHELL)
    rec = move(store, tmp_path, uploads / "x.php")
    shutil.rmtree(uploads)
    with pytest.raises(QuarantineError, match="does not exist"):
        quarantine.restore(store, rec.id)


def test_a_tampered_quarantine_copy_is_not_restored(store, tmp_path, uploads):
    (uploads / "x.php").write_bytes(SHELL)
    rec = move(store, tmp_path, uploads / "x.php")
    stored = tmp_path / "q" / rec.stored_name
    os.chmod(stored, 0o600)
    stored.write_bytes(b"something else")
    with pytest.raises(QuarantineError, match="does not match its record"):
        quarantine.restore(store, rec.id)
    assert not (uploads / "x.php").exists()


def test_a_path_outside_the_configured_roots_is_refused(store, tmp_path, uploads):
    elsewhere = tmp_path / "opt"
    elsewhere.mkdir()
    (elsewhere / "x.php").write_bytes(SHELL)
    with pytest.raises(QuarantineError, match="outside the configured roots"):
        quarantine.quarantine_file(
            store,
            tmp_path / "q",
            bytes(elsewhere / "x.php"),
            expected_sha256=SHA,
            roots={bytes(uploads): None},
        )
    assert (elsewhere / "x.php").read_bytes() == SHELL and quarantine_records.records(store) == []


def test_a_root_replaced_since_it_was_validated_is_refused(store, tmp_path, uploads):
    (uploads / "x.php").write_bytes(SHELL)
    st = os.stat(uploads)
    os.rename(uploads, tmp_path / "old")
    uploads.mkdir()
    (uploads / "x.php").write_bytes(SHELL)
    with pytest.raises(QuarantineError, match="replaced since it was validated"):
        quarantine.quarantine_file(
            store, tmp_path / "q", bytes(uploads / "x.php"), expected_sha256=SHA,
            roots={bytes(uploads): (st.st_dev, st.st_ino)},
        )  # fmt: skip
    assert (uploads / "x.php").exists() and quarantine_records.records(store) == []


def test_nothing_is_moved_from_a_protected_state_directory(store, tmp_path, uploads):
    (uploads / "x.php").write_bytes(SHELL)
    with pytest.raises(QuarantineError, match="fim's own state directory"):
        quarantine.quarantine_file(
            store, tmp_path / "q", bytes(uploads / "x.php"), expected_sha256=SHA,
            roots={bytes(tmp_path / "home"): None}, protected_dirs=[bytes(uploads)],
        )  # fmt: skip
    with pytest.raises(QuarantineError, match="fim's own state directory"):
        quarantine.quarantine_file(
            store, tmp_path / "q", bytes(uploads / "x.php"), expected_sha256=SHA,
            roots={bytes(tmp_path / "home"): None}, protected=[bytes(tmp_path / "home/dave")],
        )  # fmt: skip
    assert (uploads / "x.php").read_bytes() == SHELL and quarantine_records.records(store) == []


def test_a_name_linked_in_during_the_move_keeps_its_owner_and_mode(store, tmp_path, uploads, monkeypatch):
    shell = uploads / "x.php"
    shell.write_bytes(SHELL)
    os.chown(shell, 2001, 2001)
    shell.chmod(0o644)
    other = tmp_path / "home/dave/other-name"
    real_move = quarantine._move

    def move_then_link(qfd, stored, *rest):
        # The race: another name appears for the inode after the link count was checked.
        method, sfd = real_move(qfd, stored, *rest)
        os.link(stored, other, src_dir_fd=qfd)
        return method, sfd

    monkeypatch.setattr(quarantine, "_move", move_then_link)
    rec = move(store, tmp_path, shell)
    st = other.stat()
    assert (st.st_uid, st.st_mode & 0o777) == (2001, 0o644)  # the other name is untouched
    assert "linked to it during the move" in (rec.note or "")
