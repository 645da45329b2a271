"""Padding attacks: a shell hidden before or after megabytes that make rule matching slow, a
shell at the start of a sparse file, and one customer's padded files delaying another's verdict.

These use the bundled rules on purpose: padding with ``$_POST`` is slow for them (every
occurrence is a match to verify and count), which is what an attacker exploits. Outcomes do not
depend on the machine's speed: a padded file either times out (then its ends are matched apart)
or is matched whole; either way the shell must be reported with its rule's own severity.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.daemon.conftest import daemon, hosting  # noqa: F401 - the daemon fixtures

SHELL = b"<?php @eval($_POST[1]); __halt_compiler();"
TAIL_SHELL = b"<?php @eval($_POST[1]); ?>\n"
PADDING = b"$_POST"
SERIOUS = {"critical", "high"}
CLI_TIMEOUT = 300


def fim_scan(tmp: Path, target: Path, config: str = "") -> dict:
    """``fim scan`` in a subprocess with the bundled rules; its JSON report."""
    cfg = tmp / "fim.toml"
    cfg.write_text(config)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fim",
            "scan",
            "--config",
            str(cfg),
            "--no-db",
            "--format",
            "json",
            str(target),
        ],
        capture_output=True,
        timeout=CLI_TIMEOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(tmp), "NO_COLOR": "1"},
    )
    assert b"Traceback" not in proc.stderr, proc.stderr.decode("utf-8", "replace")
    assert proc.returncode in (0, 1), proc.stderr.decode("utf-8", "replace")
    return json.loads(proc.stdout)


def rules_by_severity(doc: dict, path: Path) -> dict[str, str]:
    return {
        f["rule"]["name"]: f["fim"]["severity"] for f in doc["findings"] if f["file"]["path"] == str(path)
    }


def real_rule_hits(found: dict[str, str]) -> set[str]:
    """Matches of signature rules (not fim's own timeout finding, not the policy)."""
    return {
        rule
        for rule, sev in found.items()
        if sev in SERIOUS and not rule.startswith(("fim_match", "policy."))
    }


def write_padded(
    path: Path, *, head: bytes = b"", tail: bytes = b"", size: int, pad: bytes = PADDING
) -> None:
    with open(path, "wb") as f:
        f.write(head)
        f.write(pad * (size // len(pad)))
        f.write(tail)


# -- a shell at either end of a padded file ---------------------------------------------------


@pytest.mark.slow
def test_shell_before_32mb_of_padding_that_times_out_is_reported_with_its_rule_severity(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    padded = root / "pad.php"
    write_padded(padded, head=SHELL, size=30 << 20)  # under max_file_size: matched whole first
    doc = fim_scan(tmp_path, root, "[scan]\nmatch_timeout = 1\n")
    found = rules_by_severity(doc, padded)
    assert real_rule_hits(found), f"shell at the head hidden by padding: {found}"
    # The timeout itself stays reported (medium), beside the real match.
    if "fim_match_timeout" in found:
        assert found["fim_match_timeout"] == "medium"


@pytest.mark.slow
def test_shell_after_32mb_of_padding_is_reported_with_its_rule_severity(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    padded = root / "tail.php"
    write_padded(padded, head=b"<?php __halt_compiler();", tail=TAIL_SHELL, size=30 << 20)
    doc = fim_scan(tmp_path, root, "[scan]\nmatch_timeout = 1\n")
    found = rules_by_severity(doc, padded)
    assert real_rule_hits(found), f"shell at the tail hidden by padding: {found}"


def test_shells_at_both_ends_of_a_file_over_max_file_size_are_matched(tmp_path):
    """Over the size cap nothing is matched whole; the ends still are (no timing involved)."""
    root = tmp_path / "site"
    root.mkdir()
    head = root / "head.php"
    write_padded(head, head=SHELL, size=4 << 20, pad=b"x")
    tail = root / "tail.php"
    write_padded(tail, head=b"<?php /*", tail=b"*/\n" + TAIL_SHELL, size=4 << 20, pad=b"x")
    doc = fim_scan(tmp_path, root, '[scan]\nmatch_timeout = 5\nmax_file_size = "64K"\n')
    for path in (head, tail):
        found = rules_by_severity(doc, path)
        assert real_rule_hits(found), f"{path.name}: shell at one end of an over-cap file missed: {found}"
    assert {p["status"] for p in doc["errors"]} == {"too_large"}


# -- sparse files -----------------------------------------------------------------------------


def test_sparse_php_in_uploads_gets_policy_findings_and_its_head_matched(tmp_path):
    uploads = tmp_path / "site/wp-content/uploads"
    uploads.mkdir(parents=True)
    sparse = uploads / "sp.php"
    with open(sparse, "wb") as f:
        f.write(TAIL_SHELL)
        f.truncate(64 << 20)
    assert os.stat(sparse).st_blocks * 512 < 1 << 20  # really sparse
    doc = fim_scan(tmp_path, tmp_path / "site", "[policy]\nenabled = true\n")
    found = rules_by_severity(doc, sparse)
    assert {"policy.executable_extension", "policy.script"} <= set(found), found
    assert real_rule_hits(found), f"the shell at the head of a sparse file was not matched: {found}"


# -- fairness between tenants -------------------------------------------------------------------


def first_finding_ids(db: Path) -> dict[bytes, int]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return dict(conn.execute("SELECT path, MIN(id) FROM findings GROUP BY path").fetchall())
    finally:
        conn.close()


@pytest.mark.slow
def test_one_tenants_padded_files_do_not_hold_back_another_tenants_verdict(daemon, hosting):  # noqa: F811
    d = daemon(extra_config="[scan]\nmatch_timeout = 1\njobs = 2\n")
    d.config.write_text(d.config.read_text().replace("bundled = false", "bundled = true"))
    d.start()
    d.wait_verdicts({bytes(hosting / f"home/{t}/public_html/index.php") for t in ("alice", "bob")})
    padded = []
    for i in range(6):
        path = hosting / f"home/alice/public_html/uploads/pad{i}.php"
        write_padded(path, head=SHELL, size=8 << 20)  # each one costs a worker seconds
        padded.append(bytes(path))
    shell = hosting / "home/bob/public_html/uploads/x.php"
    shell.write_bytes(TAIL_SHELL)
    d.wait_verdicts({*padded, bytes(shell)}, timeout=240)
    deadline = time.monotonic() + 30
    while len(ids := first_finding_ids(d.db)) < len(padded) + 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert set(padded) | {bytes(shell)} <= set(ids), ids
    # Order of recorded findings, not wall-clock: bob's shell must not wait for alice's queue
    # (with a first-come queue and two workers, at least four of her files came first).
    ahead = [p for p in padded if ids[p] < ids[bytes(shell)]]
    assert len(ahead) <= 1, f"{len(ahead)} of alice's padded files were recorded before bob's shell"
    conn = sqlite3.connect(d.db, timeout=10)
    try:
        severities = {
            r for (r,) in conn.execute("SELECT severity FROM findings WHERE path=?", (bytes(shell),))
        }
    finally:
        conn.close()
    assert severities & SERIOUS
    assert d.stop() == 0
