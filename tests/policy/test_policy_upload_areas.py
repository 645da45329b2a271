"""Specification: with the shipped upload-area policy, `fim scan` reports every file that must not
be in an upload folder — no signature needed — and nothing legitimate."""

from __future__ import annotations

import pytest

from tests.policy.hosting import build_site, findings_by_path, scan_args, write_config


@pytest.fixture
def site(tmp_path):
    return build_site(tmp_path / "home", "dave")


@pytest.fixture
def scanned(fim, site, tmp_path, marker_rules):
    config = write_config(tmp_path)
    r = fim(*scan_args(config, tmp_path / "fim.db", marker_rules, tmp_path / "home"))
    assert r.code == 1, r.err
    return findings_by_path(r.jsonl), r.jsonl


EXPECTED = {
    "shell.php": {"policy.script", "policy.executable_extension"},
    "avatar.jpg": {"policy.script", "policy.disguised"},  # PHP named like an image
    "invoice.php.jpg": {"policy.executable_extension"},  # a real JPEG, but a double extension
    "anim.gif": {"policy.script"},  # a valid GIF that carries PHP
    ".htaccess": {"policy.handler_override"},  # maps .jpg to PHP
    "non-utf8": {"policy.script", "policy.executable_extension"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_forbidden_upload_is_a_policy_finding(scanned, site, name):
    found, _ = scanned
    assert found.get(site.forbidden[name]) == EXPECTED[name]


@pytest.mark.parametrize("name", ["index.php", "photo.jpg", "logo.png", "spinner.gif", "uploads/index.php"])
def test_legitimate_files_are_not_findings(scanned, site, name):
    found, _ = scanned
    assert site.legit[name] not in found  # outside uploads, real images, "Silence is golden"


def test_policy_findings_name_their_rule_and_check(scanned):
    _, events = scanned
    htaccess = next(e for e in events if e["rule"]["name"] == "policy.handler_override")
    assert htaccess["rule"]["ruleset"] == "policy"
    assert htaccess["rule"]["category"] == "policy"
    assert htaccess["fim"]["severity"] == "high"
    description = htaccess["rule"]["description"]
    assert "'uploads-no-code'" in description and "handler_override" in description
    assert "AddType application/x-httpd-php .jpg" in description


def test_the_non_utf8_name_is_reported_with_its_exact_bytes(scanned, site):
    _, events = scanned
    [event] = [e for e in events if "path_b64" in e["fim"] and e["rule"]["name"] == "policy.script"]
    assert "\\xe9" in event["file"]["path"]


def test_policy_is_off_without_configuration(fim, site, tmp_path, marker_rules):
    r = fim(
        "scan", "--db", tmp_path / "f.db", "--no-bundled-rules", "--rules", marker_rules, tmp_path / "home"
    )
    assert r.code == 0, r.text + r.err.decode()


def test_changing_the_policy_makes_files_be_examined_again(fim, site, tmp_path, marker_rules):
    config = write_config(tmp_path)
    db = tmp_path / "fim.db"
    fim(*scan_args(config, db, marker_rules, tmp_path / "home"))
    again = fim(*scan_args(config, db, marker_rules, tmp_path / "home"), "--quiet")
    assert again.code == 1  # unchanged files keep their findings
    extra = '\n[[policy.rules]]\nname = "no-images"\npaths = ["*/uploads/**"]\nforbid = ["disguised"]\n'
    config.write_text(config.read_text() + extra)  # replaces the shipped rules with this one
    r = fim(*scan_args(config, db, marker_rules, tmp_path / "home"))
    found = findings_by_path(r.jsonl)
    assert {rule for rules in found.values() for rule in rules} == {"policy.disguised"}
