"""The SQL views over fim.db, read with plain SQLite (no fim function registered), after real
scans of a hostile tree: paths readable and escaped next to their exact bytes."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_support import alice_paths, bob_path, hosting

from fim.core import paths
from fim.store import views

VIEWS = {"v_findings", "v_open_findings", "v_tenant_summary", "v_quarantine", "v_alert_backlog"}
UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


def rows(db: Path, sql: str, *args) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)  # a plain connection: what sqlite3, sqlite-utils or datasette have
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def byte_form(raw: bytes) -> str:
    """What the views show for a name that is not UTF-8: printable ASCII, other bytes as \\xNN."""
    short = {0x5C: "\\\\", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}
    return "".join(short.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}") for b in raw)


def test_migration_creates_the_views(tmp_path, fim):
    h = hosting(tmp_path)
    bob_path(h)
    h.scan(fim)
    names = {r["name"] for r in rows(h.db, "SELECT name FROM sqlite_master WHERE type = 'view'")}
    assert names == VIEWS
    [(version,)] = rows(h.db, "SELECT version FROM schema_migrations WHERE component = 'views'")
    assert version == len(views.VIEW_MIGRATIONS)


def test_findings_view_shows_hostile_paths_escaped_next_to_their_exact_bytes(tmp_path, fim):
    h = hosting(tmp_path)
    alice = alice_paths(h)
    bob_path(h)
    h.scan(fim)
    got = rows(h.db, "SELECT tenant, path_text, path_bytes, severity, quarantine_status FROM v_findings")
    mine = [r for r in got if r["tenant"] == "alice"]
    assert sorted(r["path_bytes"] for r in mine) == sorted(alice)
    for r in mine:
        assert r["path_text"] == paths.display(r["path_bytes"])
        assert not any(unicodedata.category(c) in UNSAFE for c in r["path_text"])
        assert r["quarantine_status"] is None
    shown = {r["path_text"] for r in mine}
    assert any(s.endswith("/invoice\\u202egnp.php") for s in shown)
    assert any(s.endswith("/\\xff\\xfe<i>latin1-\\xe9.php") for s in shown)
    assert any(s.endswith("/new\\nline.php") for s in shown)
    assert [r["tenant"] for r in got] == sorted(r["tenant"] for r in got)  # by tenant


def test_sqlite_utils_reads_the_views_as_plain_json(tmp_path, fim):
    h = hosting(tmp_path)
    alice = alice_paths(h)
    h.scan(fim)
    proc = subprocess.run(
        [sys.executable, "-m", "sqlite_utils", "query", str(h.db),
         "SELECT path_text FROM v_open_findings WHERE tenant = 'alice'"],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    assert sorted(r["path_text"] for r in json.loads(proc.stdout)) == sorted(paths.display(p) for p in alice)


def test_tenant_summary_counts_findings_per_tenant_by_severity(tmp_path, fim):
    h = hosting(tmp_path)
    alice = alice_paths(h)
    bob_path(h)
    h.scan(fim)
    got = {r["tenant"]: dict(r) for r in rows(h.db, "SELECT * FROM v_tenant_summary")}
    assert got["alice"]["findings"] == len(alice) and got["alice"]["low"] == 1
    assert got["alice"]["critical"] == len(alice) - 1
    assert (got["bob"]["findings"], got["bob"]["critical"]) == (1, 1)
    assert got["bob"]["last_utc"].endswith("Z")


def test_open_findings_leave_out_quarantined_and_deleted_files(tmp_path, fim):
    if os.geteuid() != 0:
        pytest.skip("quarantine moves files between owners: needs root")
    h = hosting(tmp_path, extra_config=f'[quarantine]\nenabled = true\ndirectory = "{tmp_path}/quarantine"\n')
    alice = alice_paths(h)
    extra = os.path.join(h.tenant_dir("alice"), b"doomed-low.php")
    with open(extra, "wb") as f:
        f.write(b"<?php FIM_TEST_MARKER_LOW // doomed")
    h.scan(fim)
    os.unlink(extra)
    h.scan(fim)  # still a finding left: the low-severity encoded.php
    [open_one] = rows(h.db, "SELECT path_bytes, path_text, severity FROM v_open_findings")
    assert open_one["path_bytes"].endswith(b"/encoded.php") and open_one["severity"] == "low"
    quarantined = rows(h.db, "SELECT * FROM v_quarantine")
    assert sorted(r["path_bytes"] for r in quarantined) == sorted(alice[:-1])  # every critical one
    for r in quarantined:
        assert r["status"] == "quarantined" and r["path_text"] == paths.display(r["path_bytes"])
        assert r["directory_text"] == paths.display(r["directory_text"].encode())
    findings = rows(
        h.db, "SELECT quarantine_id, quarantine_status FROM v_findings WHERE severity = 'critical'"
    )
    assert {r["quarantine_status"] for r in findings} == {"quarantined"}
    assert {r["quarantine_id"] for r in findings} == {r["id"] for r in quarantined}


def test_alert_backlog_lists_undelivered_alerts_with_readable_paths(tmp_path, fim):
    h = hosting(
        tmp_path, extra_config='[[alerts.sinks]]\nname = "pager"\ntype = "exec"\nargv = ["/bin/false"]\n'
    )
    alice = alice_paths(h)
    h.scan(fim, "--alert")
    backlog = rows(h.db, "SELECT * FROM v_alert_backlog")
    assert sorted(r["path_bytes"] for r in backlog) == sorted(alice)
    assert any(r["attempts"] >= 1 and r["last_error"] for r in backlog)  # the sink failed
    for r in backlog:
        assert r["sink"] == "pager"
        assert r["path_text"] == paths.display(r["path_bytes"]) and r["age_s"] >= 0
    counts = rows(h.db, "SELECT alerts_pending FROM v_findings")
    assert {r["alerts_pending"] for r in counts} == {1}


_SQL = f"SELECT {views.path_text_v1('?1')}"
_CONN = sqlite3.connect(":memory:")
# Names of assigned characters (display() also escapes unassigned ones; see fim.store.views).
_assigned = st.text(st.characters(blacklist_categories=("Cn", "Cs"), blacklist_characters="\0"), max_size=12)


@given(_assigned)
def test_view_text_equals_display_for_every_utf8_name_of_assigned_characters(name):
    raw = name.encode()
    assert _CONN.execute(_SQL, (raw,)).fetchone()[0] == paths.display(raw)


@given(st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b))
def test_view_text_shows_a_name_that_is_not_utf8_byte_by_byte(raw):
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        assert _CONN.execute(_SQL, (raw,)).fetchone()[0] == byte_form(raw)
    else:
        shown = _CONN.execute(_SQL, (raw,)).fetchone()[0]
        assert not any(unicodedata.category(c) in {"Cc", "Cs", "Zl", "Zp"} for c in shown)


def test_view_text_escapes_every_control_format_separator_and_private_use_character_like_display():
    unsafe = [c for c in range(0x80, 0x110000) if unicodedata.category(chr(c)) in UNSAFE - {"Cs"}]
    others = [c for c in range(0x20, 0x110000, 97) if unicodedata.category(chr(c)) not in UNSAFE | {"Cn"}]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, p BLOB)")
    names = [f"a{chr(c)}b".encode() for c in [*range(1, 0x20), 0x7F, *unsafe, *others]]
    conn.executemany("INSERT INTO t (p) VALUES (?)", [(n,) for n in names])
    shown = [r[0] for r in conn.execute(f"SELECT {views.path_text_v1('p')} FROM t ORDER BY id")]
    wrong = [(n, s) for n, s in zip(names, shown, strict=True) if s != paths.display(n)]
    assert wrong == []
    assert len(unsafe) > 130_000  # the private use planes, the format characters, C1 controls


def test_findings_view_shows_the_writer_with_its_command_and_executable_escaped(tmp_path):
    from fim.store.database import Store

    display = paths.display
    db = tmp_path / "fim.db"
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO findings (path, tenant, rule, ruleset, severity, description, family, change, "
        "detected_ns, event_id, writer_pid, writer_uid, writer_user, writer_comm, writer_exe) "
        "VALUES (?, 'alice', 'r', 'fim', 'critical', '', 'webshell', 'new', 1, 'e1', "
        "4242, 2001, 'alice', ?, ?)",
        (b"/srv/alice/x.php", "php\u202efpm\n", b"/usr/bin/ph\xffp"),
    )
    conn.commit()
    row = conn.execute(
        "SELECT writer_pid, writer_uid, writer_user, writer_comm_text, writer_exe_text, writer_exe_bytes "
        "FROM v_findings"
    ).fetchone()
    assert row == (
        4242,
        2001,
        "alice",
        display("php\u202efpm\n"),
        display(b"/usr/bin/ph\xffp"),
        b"/usr/bin/ph\xffp",
    )
