"""``fim report`` over a database written by a real ``fim scan``: one customer's report holds
that customer's findings and nothing of anyone else's, with hostile names shown safely."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sqlite3
import unicodedata
from pathlib import Path

import pytest
from report_support import BOB_NAME, BOB_SHELL, alice_paths, bob_path, hosting

from fim.core import paths

UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


def _bob_traces() -> list[str]:
    """Everything of bob's that could leak: his name, his file, its content, its hash."""
    return ["bob", BOB_NAME.decode(), "bob-only-payload", hashlib.sha256(BOB_SHELL).hexdigest()]


@pytest.fixture
def scanned(tmp_path: Path, fim):
    h = hosting(tmp_path)
    alice = alice_paths(h)
    bob_path(h)
    h.scan(fim)
    return h, alice


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_report_for_one_tenant_contains_nothing_of_another(scanned, fim, fmt):
    h, alice = scanned
    r = h.report(fim, "--tenant", "alice", "--format", fmt)
    assert r.code == 0, r.err
    for trace in _bob_traces():
        assert trace not in r.text, f"{trace!r} leaked into alice's {fmt} report"
    if fmt == "json":
        doc = r.json
        assert doc["tenant"] == "alice"
        assert doc["total"] == len(alice) == len(doc["findings"])
        assert sum(doc["counts"].values()) == len(alice)
        assert doc["counts"] == {"critical": len(alice) - 1, "high": 0, "medium": 0, "low": 1}


def test_report_all_writes_one_file_per_tenant_each_with_only_its_own_findings(scanned, fim, tmp_path):
    h, alice = scanned
    out = tmp_path / "reports"
    r = h.report(fim, "--all", "--output-dir", out, "--format", "json")
    assert r.code == 0, r.err
    assert sorted(os.listdir(out)) == ["alice.json", "bob.json"]
    a = json.loads((out / "alice.json").read_text())
    b = json.loads((out / "bob.json").read_text())
    assert a["total"] == len(alice) and b["total"] == 1
    for trace in _bob_traces():
        assert trace not in (out / "alice.json").read_text()
    assert "alice" not in (out / "bob.json").read_text()
    assert [f["path"] for f in b["findings"]] == [paths.display(os.path.join(h.tenant_dir("bob"), BOB_NAME))]
    assert oct(os.stat(out / "alice.json").st_mode & 0o777) == "0o600"  # customers' file names


def test_report_all_gives_hostile_tenant_names_safe_distinct_file_names_inside_the_output_dir(tmp_path, fim):
    h = hosting(tmp_path)
    tenants = [b"..x", b".hidden", b"-rf", b"a b", b"<i>eve", b"ev\nil", b"\xff\xfe", b"Alice", b"alice"]
    for t in tenants:
        os.makedirs(h.tenant_dir(t))
        with open(os.path.join(h.tenant_dir(t), b"s.php"), "wb") as f:
            f.write(b"<?php FIM_TEST_MARKER_EVAL(1); // " + t)
    (h.root / "orphan.php").write_bytes(b"<?php FIM_TEST_MARKER_EVAL(1); // outside every tenant")
    h.scan(fim)
    out = tmp_path / "reports"
    r = h.report(fim, "--all", "--output-dir", out, "--format", "text")
    assert r.code == 0, r.err
    names = os.listdir(out)
    assert len(names) == len(tenants) + 1  # one each, none overwritten by a look-alike
    assert "alice.txt" in names and "Alice.txt" in names
    assert "orphan.php" in (out / "_no-tenant.txt").read_text()
    names.remove("_no-tenant.txt")
    for name in names:  # never a leading dot or dash; hashed names carry a "~"
        assert re.fullmatch(
            r"[A-Za-z0-9][A-Za-z0-9._-]*\.txt|[A-Za-z0-9_][A-Za-z0-9._-]*~[0-9a-f]{16}\.txt", name
        )
    assert sorted(os.listdir(tmp_path)) == ["fim.toml", "home", "reports", "rules.yar", "state"]
    for name in names:  # each file reports on exactly one tenant, named safely
        text = (out / name).read_text()
        assert text.count("s.php") == 1 and "orphan" not in text
        assert all(unicodedata.category(c) not in UNSAFE for c in text.replace("\n", ""))


def test_text_report_shows_hostile_names_escaped_on_one_line_each(scanned, fim):
    h, alice = scanned
    r = h.report(fim, "--tenant", "alice")
    assert r.code == 0, r.err
    text = r.text
    assert all(unicodedata.category(c) not in UNSAFE for c in text.replace("\n", ""))
    for p in alice:
        assert f"  {paths.display(p)}\n" in text
    assert (
        "invoice\\u202egnp.php" in text
        and "new\\nline.php" in text
        and "\\xff\\xfe<i>latin1-\\xe9.php" in text
    )


def test_json_report_gives_display_paths_and_the_exact_bytes_when_they_differ(scanned, fim):
    h, alice = scanned
    doc = h.report(fim, "--tenant", "alice", "--format", "json").json
    by_path = {f["path"]: f for f in doc["findings"]}
    assert set(by_path) == {paths.display(p) for p in alice}
    for p in alice:
        f = by_path[paths.display(p)]
        if f["path_b64"] is None:
            assert f["path"].encode() == p
        else:
            assert base64.b64decode(f["path_b64"]) == p
    weird = by_path[paths.display(next(p for p in alice if p.endswith(b"latin1-\xe9.php")))]
    assert weird["path_b64"] is not None


def test_report_shows_the_decode_chain_and_the_rule(scanned, fim):
    h, _ = scanned
    doc = h.report(fim, "--tenant", "alice", "--format", "json").json
    [encoded] = [f for f in doc["findings"] if f["path"].endswith("encoded.php")]
    assert encoded["chain"] == ["base64"]
    assert encoded["rule"] == "report_marker_low" and encoded["severity"] == "low"
    assert encoded["description"] == "obfuscated <marker> & friends"
    plain = [f for f in doc["findings"] if f["rule"] == "report_marker_eval"]
    assert plain and all(f["chain"] == [] for f in plain)
    assert doc["findings"][0]["severity"] == "critical"  # most severe first
    assert all(f["action"] == "left_in_place" and f["writer"] is None for f in doc["findings"])
    text = h.report(fim, "--tenant", "alice").text
    assert "decoded:   base64" in text and "Act now." in text


def test_report_says_what_fim_did_quarantine_id_and_status(tmp_path, fim):
    if os.geteuid() != 0:
        pytest.skip("quarantine moves files between owners: needs root")
    h = hosting(tmp_path, extra_config=f'[quarantine]\nenabled = true\ndirectory = "{tmp_path}/quarantine"\n')
    alice = alice_paths(h)
    h.scan(fim)
    listed = fim("quarantine", "list", "--config", h.config, "--db", h.db, "--format", "json").json[
        "quarantine"
    ]
    ids = {q["path"]: q["id"] for q in listed}
    doc = h.report(fim, "--tenant", "alice", "--format", "json").json
    # fim's own "fim_quarantined" notices are not detections: the action carries them.
    assert doc["total"] == len(alice) and not any(f["rule"].startswith("fim_") for f in doc["findings"])
    for f in doc["findings"]:
        if f["severity"] == "critical":
            assert f["action"] == "quarantined"
            assert f["quarantine"]["id"] == ids[f["path"]] and f["quarantine"]["status"] == "quarantined"
        else:  # below [quarantine] min_severity: left where it was
            assert f["action"] == "left_in_place" and f["quarantine"] is None
    assert len(ids) == len(alice) - 1
    text = h.report(fim, "--tenant", "alice").text
    assert f"quarantined (quarantine #{min(ids.values())}, quarantined" in text


def test_report_lists_alerts_still_pending_with_their_sink(tmp_path, fim):
    h = hosting(
        tmp_path, extra_config='[[alerts.sinks]]\nname = "pager"\ntype = "exec"\nargv = ["/bin/false"]\n'
    )
    bob_path(h)
    h.scan(fim, "--alert")
    doc = h.report(fim, "--tenant", "bob", "--format", "json").json
    [f] = doc["findings"]
    [pending] = f["alerts_pending"]
    assert pending["sink"] == "pager" and pending["attempts"] >= 1 and pending["last_error"]
    assert "pending for pager" in h.report(fim, "--tenant", "bob").text


def test_report_shows_the_writer_the_event_source_recorded_escaped(scanned, fim):
    h, alice = scanned
    conn = sqlite3.connect(h.db)
    exe = b"/usr/bin/<script>php\xff"
    conn.execute(
        "UPDATE findings SET writer_pid=4242, writer_uid=2001, writer_user='alice', writer_comm='php-fpm\n', "
        "writer_exe=? WHERE path=?",
        (exe, alice[0]),
    )
    conn.commit()
    conn.close()
    doc = h.report(fim, "--tenant", "alice", "--format", "json").json
    writers = {f["path"]: f["writer"] for f in doc["findings"]}
    assert writers.pop(paths.display(alice[0])) == {
        "pid": 4242, "uid": 2001, "user": "alice", "comm": "php-fpm\\n", "exe": paths.display(exe)
    }  # fmt: skip
    assert set(writers.values()) == {None}
    html = h.report(fim, "--tenant", "alice", "--format", "html").text
    assert "&lt;script&gt;php\\xff" in html and "<script>php" not in html
    assert "written by: php-fpm\\n pid 4242 user alice" in h.report(fim, "--tenant", "alice").text


def test_report_window_leaves_out_findings_outside_since_and_until(scanned, fim):
    h, alice = scanned
    assert h.report(fim, "--tenant", "alice", "--format", "json").json["total"] == len(alice)
    future = h.report(
        fim, "--tenant", "alice", "--format", "json", "--since", "2100-01-01", "--until", "2999-01-01"
    )
    assert future.json["total"] == 0 and future.json["findings"] == []
    assert h.report(fim, "--tenant", "alice", "--since", "2100-01-01").code == 2  # after --until (now)
    past = h.report(fim, "--tenant", "alice", "--format", "json", "--until", "1h")  # before the scan
    assert past.json["total"] == 0
    bad = h.report(fim, "--tenant", "alice", "--since", "last tuesday")
    assert bad.code == 2 and b"is not a time" in bad.err


def test_template_dir_overrides_the_templates_it_has_and_falls_back_for_the_rest(scanned, fim, tmp_path):
    h, _ = scanned
    company = tmp_path / "company"
    company.mkdir()
    (company / "advice.txt.j2").write_text(
        "{% macro advice(f) %}Bitte handeln Sie sofort ({{ f.severity }}, {{ f.action }}).{% endmacro %}"
    )
    text = h.report(fim, "--tenant", "alice", "--template", company).text
    assert "Bitte handeln Sie sofort (critical, left_in_place)." in text
    assert "Security report for alice" in text  # report.txt.j2: the bundled one
    html = h.report(fim, "--tenant", "alice", "--format", "html", "--template", company).text
    assert "Bitte handeln Sie sofort (low, left_in_place)." in html and "<svg" in html
    (company / "report.html.j2").write_text("<p>{{ findings[0].path }}</p>{{ no_such_value }}")
    broken = h.report(fim, "--tenant", "alice", "--format", "html", "--template", company)
    assert broken.code == 2 and b"report template" in broken.err and b"no_such_value" in broken.err
    missing = h.report(fim, "--tenant", "alice", "--template", tmp_path / "nope")
    assert missing.code == 2 and b"not a directory" in missing.err


def test_report_refuses_unclear_requests_and_a_missing_database(scanned, fim, tmp_path):
    h, _ = scanned
    assert h.report(fim).code == 2  # neither --tenant nor --all
    assert h.report(fim, "--tenant", "alice", "--all").code == 2
    assert h.report(fim, "--all").code == 2  # --all needs --output-dir
    r = fim("report", "--tenant", "alice", "--db", tmp_path / "none.db")
    assert r.code == 2 and b"no database" in r.err and not (tmp_path / "none.db").exists()


def test_html_report_is_one_self_contained_page_with_an_inline_chart(scanned, fim):
    h, alice = scanned
    html = h.report(fim, "--tenant", "alice", "--format", "html").text
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)", html)  # nothing loaded from anywhere
    assert "<link" not in html and "<script" not in html  # no markup from a name, no script of ours
    assert html.count("<rect") == 4  # one bar per severity
    for p in alice:
        assert paths.display(p).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace(
            '"', "&#34;").replace("'", "&#39;") in html  # fmt: skip
