"""``fim hashes export``: what one server found, as a hash list every server can load."""

from __future__ import annotations

import hashlib
import sqlite3

from tests.conftest import MARKER_RULE

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_REQUEST['c']); ?>"
LOW = b"<?php echo 'FIM_TEST_MARKER_LOW';"


def _config(tmp, rules: str, bad: str = "") -> str:
    (tmp / f"{rules}.yar").write_text(
        MARKER_RULE if rules == "marker" else 'rule never { strings: $a = "NEVER_SEEN_X" condition: $a }'
    )
    config = tmp / f"{rules}.toml"
    config.write_text(
        f'[database]\npath = "{tmp}/{rules}.db"\n[rules]\nbundled = false\npaths = ["{tmp}/{rules}.yar"]\n'
        f'[tenants]\npatterns = ["{tmp}/home/{{tenant}}/"]\n'
        + (f'[hashes]\nbad = ["{bad}"]\n' if bad else "")
    )
    return str(config)


def test_exported_hashes_carry_rules_and_first_seen_but_no_paths_or_tenants(tmp_path, fim):
    site = tmp_path / "home/alice/public_html"
    site.mkdir(parents=True)
    (site / "shell.php").write_bytes(SHELL)
    (site / "low.php").write_bytes(LOW)
    config = _config(tmp_path, "marker")
    assert fim("scan", "--config", config, site).code == 1
    run = fim("hashes", "export", "--config", config, "--since", "1d")
    assert run.code == 0, run.err
    lines = [line for line in run.text.splitlines() if not line.startswith("#")]
    digest = hashlib.sha256(SHELL).hexdigest()
    assert lines == [
        f"{digest} custom.marker.test_marker_eval  # first seen {lines[0].split('first seen ')[1]}"
    ]
    assert "severity critical" in lines[0]
    for secret in ("alice", "public_html", "shell.php", str(tmp_path)):
        assert secret not in run.text
    low = fim("hashes", "export", "--config", config, "--since", "1d", "--min-severity", "low")
    assert hashlib.sha256(LOW).hexdigest() in low.text


def test_exported_list_loaded_as_a_bad_hash_list_finds_the_file_elsewhere(tmp_path, fim):
    site = tmp_path / "home/alice/public_html"
    site.mkdir(parents=True)
    (site / "shell.php").write_bytes(SHELL)
    config = _config(tmp_path, "marker")
    assert fim("scan", "--config", config, site).code == 1
    exported = tmp_path / "found.txt"
    assert fim("hashes", "export", "--config", config, "-o", exported).code == 0
    other_server = tmp_path / "home/bob/public_html"
    other_server.mkdir(parents=True)
    (other_server / "renamed.jpg").write_bytes(SHELL)
    run = fim(
        "scan", "--config", _config(tmp_path, "plain", bad=str(exported)), "--format", "jsonl", other_server
    )
    assert run.code == 1, run.err
    assert [e["rule"]["name"] for e in run.jsonl if "rule" in e] == ["known_bad_hash"]


def test_since_excludes_older_findings_and_bad_durations_are_refused(tmp_path, fim):
    site = tmp_path / "home/alice/public_html"
    site.mkdir(parents=True)
    (site / "shell.php").write_bytes(SHELL)
    config = _config(tmp_path, "marker")
    fim("scan", "--config", config, site)
    with sqlite3.connect(tmp_path / "marker.db") as conn:
        conn.execute("UPDATE findings SET detected_ns = detected_ns - 8 * 86400 * 1000000000")
    run = fim("hashes", "export", "--config", config, "--since", "7d")
    assert hashlib.sha256(SHELL).hexdigest() not in run.text
    assert "0 hash(es)" in run.text
    run = fim("hashes", "export", "--config", config, "--since", "a week")
    assert run.code == 2 and "expected a duration such as 90m, 12h or 7d" in run.err.decode()
