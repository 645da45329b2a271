"""The fim command as an operator uses it: real subprocess, real files, real database."""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
import time

import pytest

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_POST['x']); ?>"


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "home"
    (root / "alice/www").mkdir(parents=True)
    (root / "bob/www").mkdir(parents=True)
    (root / "alice/www/up.php").write_bytes(SHELL)
    (root / "bob/www/ok.php").write_bytes(b"<?php echo 1;")
    (root / "bob/www/low.txt").write_bytes(b"FIM_TEST_MARKER_LOW")
    return root


@pytest.fixture
def conf(tmp_path):
    path = tmp_path / "fim.toml"
    path.write_text(f'[tenants]\npatterns = ["{tmp_path}/home/{{tenant}}/"]\n')
    return path


def rules_args(marker_rules):
    return ["--no-bundled-rules", "--rules", marker_rules]


def test_version_names_fim_yara_and_python(fim):
    r = fim("--version")
    assert r.code == 0
    assert "fim " in r.text and "libyara" in r.text and "Python 3." in r.text


def test_help_explains_exit_codes(fim):
    r = fim("--help")
    assert r.code == 0 and "0 clean, 1 findings, 2 error" in r.text


def test_findings_exit_1_and_text_groups_them_by_tenant(fim, tree, conf, marker_rules, tmp_path):
    r = fim("scan", "--config", conf, "--db", tmp_path / "f.db", *rules_args(marker_rules), tree)
    assert r.code == 1, r.err
    text = r.text
    assert text.index("tenant alice: 1 finding") < text.index("tenant bob: 1 finding")  # worst first
    assert "CRITICAL" in text and str(tree / "alice/www/up.php") in text
    assert "summary: 3 files seen" in text


def test_clean_tree_exits_0(fim, tmp_path, marker_rules):
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean/a.php").write_text("<?php echo 1;")
    r = fim("scan", "--no-db", *rules_args(marker_rules), tmp_path / "clean")
    assert r.code == 0, r.err


def test_jsonl_is_one_ecs_event_per_finding(fim, tree, conf, marker_rules):
    r = fim("scan", "--config", conf, "--no-db", "--format", "jsonl", *rules_args(marker_rules), tree)
    assert r.code == 1
    events = r.jsonl
    assert len(events) == 2
    crit = next(e for e in events if e["fim"]["severity"] == "critical")
    assert crit["event"]["kind"] == "alert"
    assert crit["event"]["category"] == ["file", "malware"]
    assert crit["event"]["action"] == "file-matched"
    assert crit["file"]["path"] == str(tree / "alice/www/up.php")
    assert crit["file"]["name"] == "up.php" and crit["file"]["extension"] == "php"
    assert crit["file"]["size"] == len(SHELL)
    assert crit["file"]["owner"] == "root" or crit["file"]["owner"]
    assert len(crit["file"]["hash"]["sha256"]) == 64
    assert crit["rule"]["name"] == "test_marker_eval"
    assert crit["rule"]["ruleset"] == "custom.marker"
    assert crit["rule"]["description"]
    assert crit["fim"]["tenant"] == "alice"
    assert crit["fim"]["change"] == "new"
    assert "@timestamp" in crit
    assert "path_b64" not in crit["fim"]

    # No arrays of objects anywhere (Wazuh cannot decode them).
    def walk(v):
        if isinstance(v, list):
            assert all(not isinstance(x, (dict, list)) for x in v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)

    walk(crit)


def test_json_document_has_findings_problems_and_stats(fim, tree, marker_rules):
    r = fim("scan", "--no-db", "--format", "json", *rules_args(marker_rules), tree)
    doc = r.json
    assert set(doc) >= {"findings", "errors", "stats", "ruleset_version", "roots"}
    assert doc["stats"]["files_seen"] == 3
    assert doc["stats"]["findings"] == 2


def test_non_utf8_path_carries_base64_of_exact_bytes(fim, tmp_path, marker_rules):
    root = tmp_path / "r"
    root.mkdir()
    raw = bytes(root) + b"/\xff\xfe" + "\u202e".encode() + b".php"
    with open(raw, "wb") as fh:
        fh.write(SHELL)
    r = fim("scan", "--no-db", "--format", "jsonl", *rules_args(marker_rules), root)
    [event] = r.jsonl
    assert base64.b64decode(event["fim"]["path_b64"]) == raw
    assert "\u202e" not in event["file"]["path"]
    t = fim("scan", "--no-db", *rules_args(marker_rules), root)
    assert "\u202e" not in t.text and "\\xff\\xfe\\u202e.php" in t.text


def test_second_scan_skips_unchanged_files(fim, tree, marker_rules, tmp_path):
    db = tmp_path / "f.db"
    fim("scan", "--db", db, *rules_args(marker_rules), tree)
    r = fim("scan", "--db", db, "--format", "json", *rules_args(marker_rules), tree)
    assert r.json["stats"]["files_read"] == 0
    assert r.json["stats"]["skipped_unchanged"] == 3
    assert r.code == 1  # the shell is still there


def test_default_database_path_follows_uid(monkeypatch, tmp_path):
    from fim.config import loader as config

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert config.database_path(config.Config()) == tmp_path / "fim/fim.db"
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert str(config.database_path(config.Config())) == "/var/lib/fim/fim.db"


def test_list_changes_reports_new_changed_deleted(fim, tree, marker_rules, tmp_path):
    db = tmp_path / "f.db"
    fim("scan", "--db", db, *rules_args(marker_rules), tree)
    (tree / "bob/www/ok.php").write_bytes(b"<?php echo 2;")
    (tree / "bob/www/low.txt").unlink()
    r = fim("scan", "--db", db, "--list-changes", "--format", "json", *rules_args(marker_rules), tree)
    changes = {c["path"]: c["change"] for c in r.json["changes"]}
    assert changes == {str(tree / "bob/www/ok.php"): "changed", str(tree / "bob/www/low.txt"): "deleted"}


def test_files_from_stdin_with_null_separators(fim, tree, marker_rules):
    names = bytes(tree / "alice/www/up.php") + b"\0" + bytes(tree / "bob/www/ok.php") + b"\0"
    r = fim("scan", "--no-db", "--format", "json", "--files-from", "-", "--null", *rules_args(marker_rules),
            stdin=names)  # fmt: skip
    assert r.code == 1
    assert r.json["stats"]["files_seen"] == 2


def test_max_file_size_option_hashes_large_files_and_matches_only_their_ends(fim, tree, marker_rules):
    r = fim("scan", "--no-db", "--format", "json", "--max-file-size", "10", *rules_args(marker_rules), tree)
    assert r.json["stats"]["skipped_too_large"] == 3
    # Rules still see the first and last MiB of a file over the cap: these small files whole.
    assert r.code == 1
    assert "test_marker_eval" in {f["rule"]["name"] for f in r.json["findings"]}


def test_exclude_option(fim, tree, marker_rules):
    r = fim("scan", "--no-db", "--format", "json", "--exclude", "*.php", *rules_args(marker_rules), tree)
    assert r.json["stats"]["files_seen"] == 1


def test_nonexistent_path_exits_2_with_a_message(fim, tmp_path):
    r = fim("scan", "--no-db", tmp_path / "missing")
    assert r.code == 2
    assert b"missing: no such file or directory" in r.err
    assert b"Traceback" not in r.err


def test_rule_syntax_error_names_file_and_line_and_exits_2(fim, tree, tmp_path):
    bad = tmp_path / "broken.yar"
    bad.write_text('rule ok { condition: true }\n\nrule bad {\n  strings: $a = "x"\n  condition: $a and\n}\n')
    db = tmp_path / "f.db"
    r = fim("scan", "--db", db, "--rules", bad, tree)
    assert r.code == 2
    assert f"{bad}:6: syntax error".encode() in r.err
    assert not db.exists()  # nothing written half-way


def test_unreadable_rule_path_exits_2(fim, tree, tmp_path):
    r = fim("scan", "--no-db", "--rules", tmp_path / "nope.yar", tree)
    assert r.code == 2 and b"nope.yar: no such rule file" in r.err


def test_malformed_config_names_the_key_and_exits_2(fim, tree, tmp_path):
    conf = tmp_path / "bad.toml"
    conf.write_text("[scan]\nmax_file_size = true\n")
    r = fim("scan", "--config", conf, "--no-db", tree)
    assert r.code == 2
    assert b"scan.max_file_size: expected a size" in r.err


def test_corrupt_database_exits_2_and_says_so(fim, tree, tmp_path, marker_rules):
    db = tmp_path / "f.db"
    db.write_bytes(b"this is not sqlite" * 100)
    r = fim("scan", "--db", db, *rules_args(marker_rules), tree)
    assert r.code == 2
    assert b"corrupt or not a fim database" in r.err
    assert db.read_bytes() == b"this is not sqlite" * 100


def test_locked_database_exits_2_after_busy_timeout(fim, tree, tmp_path, marker_rules):
    db = tmp_path / "f.db"
    fim("scan", "--db", db, *rules_args(marker_rules), tree)
    conf = tmp_path / "c.toml"
    conf.write_text("[database]\nbusy_timeout = 0.5\n")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3,sys,time; c=sqlite3.connect(sys.argv[1], isolation_level=None);"
         "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(30)", str(db)],
        stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == b"locked\n"
        started = time.monotonic()
        r = fim("scan", "--config", conf, "--db", db, *rules_args(marker_rules), tree)
        assert r.code == 2
        assert b"locked by another process" in r.err
        assert time.monotonic() - started < 30
    finally:
        holder.kill()
        holder.wait()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_no_progress_output_when_stderr_is_not_a_terminal(fim, tree, marker_rules):
    r = fim("scan", "--no-db", *rules_args(marker_rules), tree)
    assert b"\r" not in r.err and b"scanning:" not in r.err


def test_quiet_prints_only_findings(fim, tree, marker_rules):
    r = fim("scan", "--no-db", "--quiet", *rules_args(marker_rules), tree)
    assert "summary" not in r.text and "up.php" in r.text


def test_usage_error_exits_2(fim):
    assert fim("scan").code == 2
    assert fim("scan", "--format", "xml", "x").code == 2


def test_rules_check_reports_file_and_line(fim, tmp_path):
    bad = tmp_path / "b.yar"
    bad.write_text("rule x {\n condition: nope\n}\n")
    good = tmp_path / "g.yar"
    good.write_text('rule g { condition: filename == "x" and extension == ".php" }\n')
    r = fim("rules", "check", bad, good)
    assert r.code == 2
    assert f"{bad}:2:".encode() in r.err
    assert str(good).encode() not in r.err
    ok = fim("rules", "check", good)
    assert ok.code == 0, ok.err


def test_rules_test_shows_matched_strings_and_offsets(fim, tmp_path, marker_rules):
    sample = tmp_path / "s.php"
    sample.write_bytes(b"0123" + SHELL)
    r = fim("rules", "test", "--no-bundled-rules", "--rules", marker_rules, sample)
    assert r.code == 1
    assert "test_marker_eval" in r.text
    assert "$a at 0x" in r.text


def test_public_style_rules_using_externals_load(fim, tmp_path, tree):
    pub = tmp_path / "public.yar"
    pub.write_text(
        'rule ext { meta: score = 70\n condition: extension == ".php" and filename matches /up/ '
        'and filepath contains "alice" and filetype == "" and owner != "nobody-x" }\n'
    )
    r = fim("scan", "--no-db", "--format", "jsonl", "--no-bundled-rules", "--rules", pub, tree)
    assert r.code == 1, r.err
    [event] = r.jsonl
    assert event["file"]["name"] == "up.php"
    assert event["fim"]["severity"] == "high"  # score 70 -> high
