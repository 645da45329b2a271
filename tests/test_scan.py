"""fim scan through the library: baseline, changes, hash lists, limits, tenants."""

from __future__ import annotations

import os
import sqlite3

import pytest

import fim
from fim.config import loader as config_mod
from fim.core.model import Change, Status
from fim.store.database import Store

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_POST['x']); ?>"


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "home"
    (root / "alice/public_html/uploads").mkdir(parents=True)
    (root / "bob/public_html").mkdir(parents=True)
    (root / "alice/public_html/index.php").write_bytes(b"<?php echo 'hello';")
    (root / "alice/public_html/uploads/shell.php").write_bytes(SHELL)
    (root / "bob/public_html/index.html").write_bytes(b"<html></html>")
    return root


def cfg(tmp_path, **sections):
    data = {"tenants": {"patterns": [f"{tmp_path}/home/{{tenant}}/"]}, **sections}
    return config_mod.from_dict(data)


def run(tree, tmp_path, store, marker_rules, **sections):
    return fim.scan(
        [tree],
        config=cfg(tmp_path, **sections),
        store=store,
        extra_rules=[str(marker_rules)],
        use_bundled=False,
    )


def test_planted_shell_is_found_and_attributed_to_its_tenant(tree, tmp_path, store, marker_rules):
    report = run(tree, tmp_path, store, marker_rules)
    assert report.exit_code == 1
    [finding] = report.findings
    assert finding.path == bytes(tree / "alice/public_html/uploads/shell.php")
    assert finding.tenant == "alice"
    assert finding.change is Change.NEW
    assert finding.match.rule == "test_marker_eval"
    assert report.stats.files_seen == 3 and report.stats.files_read == 3


def test_second_scan_reads_nothing_unchanged_but_still_reports_the_shell(tree, tmp_path, store, marker_rules):
    run(tree, tmp_path, store, marker_rules)
    report = run(tree, tmp_path, store, marker_rules)
    assert report.stats.files_read == 0
    assert report.stats.skipped_unchanged == 3
    [finding] = report.findings
    assert finding.change is Change.UNCHANGED
    assert report.exit_code == 1


def test_rescan_reports_new_changed_and_deleted_files(tree, tmp_path, store, marker_rules):
    run(tree, tmp_path, store, marker_rules)
    (tree / "bob/public_html/index.html").unlink()
    (tree / "alice/public_html/index.php").write_bytes(b"<?php FIM_TEST_MARKER_EVAL(1);")
    (tree / "bob/public_html/new.txt").write_bytes(b"new")
    changes = []
    report = fim.scan(
        [tree], config=cfg(tmp_path), store=store, extra_rules=[str(marker_rules)], use_bundled=False,
        on_change=changes.append,
    )  # fmt: skip
    by_path = {c.path: c.change for c in changes}
    assert by_path == {
        bytes(tree / "bob/public_html/index.html"): Change.DELETED,
        bytes(tree / "alice/public_html/index.php"): Change.CHANGED,
        bytes(tree / "bob/public_html/new.txt"): Change.NEW,
    }
    assert report.stats.deleted == 1 and report.stats.changed == 1 and report.stats.new == 1
    assert report.stats.files_read == 2  # the changed and the new file only
    changed = [f for f in report.findings if f.change is Change.CHANGED]
    assert [f.path for f in changed] == [bytes(tree / "alice/public_html/index.php")]


def test_deleted_rows_leave_the_baseline(tree, tmp_path, store, marker_rules):
    run(tree, tmp_path, store, marker_rules)
    (tree / "alice/public_html/uploads/shell.php").unlink()
    report = run(tree, tmp_path, store, marker_rules)
    assert report.exit_code == 0
    assert store.count("files") == 2


def test_changing_rule_content_forces_a_rematch(tree, tmp_path, store, marker_rules):
    first = run(tree, tmp_path, store, marker_rules)
    marker_rules.write_text(marker_rules.read_text().replace("FIM_TEST_MARKER_LOW", "FIM_OTHER"))
    second = run(tree, tmp_path, store, marker_rules)
    assert second.ruleset_version != first.ruleset_version
    assert second.stats.files_read == 3
    assert second.stats.skipped_unchanged == 0


def test_file_over_size_cap_is_hashed_reported_and_only_its_ends_matched(tree, tmp_path, store, marker_rules):
    import hashlib

    big = tree / "alice/public_html/big.php"
    big.write_bytes(SHELL + b"x" * 5000)
    middle = tree / "alice/public_html/middle.php"
    middle.write_bytes(b"x" * (3 << 20) + SHELL + b"x" * (3 << 20))
    report = run(tree, tmp_path, store, marker_rules, scan={"max_file_size": "1K"})
    assert report.stats.skipped_too_large == 2
    [problem] = [p for p in report.problems if p.path == bytes(big)]
    assert problem.status is Status.TOO_LARGE
    # The start of the file is still matched: a size cap must not hide a shell at either end.
    assert {f.match.rule for f in report.findings if f.path == bytes(big)} == {"test_marker_eval"}
    # The middle of a file over the cap is not (that is what the cap is for).
    assert all(f.path != bytes(middle) for f in report.findings)
    row = store.conn.execute("SELECT sha256, verdict FROM files WHERE path=?", (bytes(big),)).fetchone()
    assert row == (hashlib.sha256(big.read_bytes()).hexdigest(), "finding")
    row = store.conn.execute("SELECT sha256, verdict FROM files WHERE path=?", (bytes(middle),)).fetchone()
    assert row == (hashlib.sha256(middle.read_bytes()).hexdigest(), "too_large")


def test_known_bad_hash_produces_a_finding_and_known_good_suppresses(tree, tmp_path, store, marker_rules):
    import hashlib

    index = tree / "bob/public_html/index.html"
    bad = tmp_path / "bad.txt"
    bad.write_text(f"# dropper seen on host 7\n{hashlib.md5(index.read_bytes()).hexdigest()} dropper-v2\n")
    good = tmp_path / "good.txt"
    good.write_text(hashlib.sha256(SHELL).hexdigest() + "\n")
    report = run(tree, tmp_path, store, marker_rules, hashes={"bad": [str(bad)], "good": [str(good)]})
    [finding] = report.findings
    assert finding.path == bytes(index)
    assert finding.match.rule == "known_bad_hash"
    assert "dropper-v2" in finding.match.description


def test_bad_hash_list_line_names_file_and_line(tree, tmp_path, marker_rules):
    bad = tmp_path / "bad.txt"
    bad.write_text("# ok\nnot-a-hash\n")
    with pytest.raises(fim.FimError, match=r"bad.txt:2: expected a SHA-256"):
        fim.scan([tree], config=cfg(tmp_path, hashes={"bad": [str(bad)]}), extra_rules=[str(marker_rules)])


def test_excluded_names_are_not_scanned(tree, tmp_path, store, marker_rules):
    report = run(tree, tmp_path, store, marker_rules, scan={"exclude": ["uploads"]})
    assert report.findings == []
    assert report.stats.files_seen == 2


def test_files_of_users_without_path_tenant_fall_back_to_owner(tmp_path, marker_rules):
    (tmp_path / "srv").mkdir()
    shell = tmp_path / "srv/x.php"
    shell.write_bytes(SHELL)
    os.chown(shell, 4242, 4242)
    report = fim.scan([tmp_path / "srv"], extra_rules=[str(marker_rules)], use_bundled=False)
    assert report.findings[0].tenant == "4242"  # no such user: the uid stands for the owner


def test_missing_root_is_a_usage_error(tmp_path, marker_rules):
    with pytest.raises(fim.FimError, match="no such file or directory"):
        fim.scan([tmp_path / "nope"], extra_rules=[str(marker_rules)])


def test_database_records_exact_path_bytes_and_stat_identity(tmp_path, store, marker_rules):
    root = tmp_path / "t"
    root.mkdir()
    name = b"\xff\xfe\nshell.php"
    path = bytes(root) + b"/" + name
    with open(path, "wb") as fh:
        fh.write(SHELL)
    report = fim.scan([root], store=store, extra_rules=[str(marker_rules)], use_bundled=False)
    assert report.findings[0].path == path
    st = os.lstat(path)
    row = store.conn.execute(
        "SELECT dev, ino, size, mode, uid, gid, mtime_ns, ctime_ns, verdict FROM files WHERE path=?", (path,)
    ).fetchone()
    assert row == (st.st_dev, st.st_ino, st.st_size, st.st_mode, st.st_uid, st.st_gid,
                   st.st_mtime_ns, st.st_ctime_ns, "finding")  # fmt: skip
    [(stored,)] = store.conn.execute("SELECT path FROM findings").fetchall()
    assert stored == path


def test_database_is_in_wal_mode_and_schema_versioned(tmp_path, store):
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] >= 1


def test_database_from_a_newer_fim_is_refused(tmp_path):
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    with pytest.raises(fim.FimError, match="newer than this fim"):
        Store.open(path)


def test_scanning_does_not_change_access_times(tmp_path, marker_rules):
    root = tmp_path / "t"
    root.mkdir()
    f = root / "old.php"
    f.write_bytes(SHELL)
    os.utime(f, ns=(1_000_000_000, 1_000_000_000))
    fim.scan([root], extra_rules=[str(marker_rules)], use_bundled=False)
    assert os.stat(f).st_atime_ns == 1_000_000_000
