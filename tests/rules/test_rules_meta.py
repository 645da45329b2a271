"""The bundled rule files themselves: layout, metadata, naming, compilation."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yara
from rulekit import EXTERNAL_NAMES, LAYER_DEFAULTS, RULES_DIR, SEVERITIES, compile_rules

EXPECTED_FAMILIES = {
    "php_code_exec",
    "php_command_exec",
    "php_obfuscation",
    "php_uploader",
    "php_filemanager",
    "php_mailer",
    "php_backdoor_login",
    "polyglot",
    "server_config",
    "jsp",
    "aspx",
    "cgi",
}
REQUIRED_META = ("description", "family", "severity", "looks_for", "author")
RULE_DECL = re.compile(r"^\s*(private\s+|global\s+)*rule\s+(\w+)", re.M)


def _rule_files():
    return sorted(RULES_DIR.glob("*.yar"))


def test_there_is_one_rule_file_per_family():
    assert {p.stem for p in _rule_files()} >= EXPECTED_FAMILIES


def test_every_rule_has_the_required_meta_fields_and_a_valid_severity(rules):
    count = 0
    for rule in rules:
        count += 1
        for field in REQUIRED_META:
            assert rule.meta.get(field), f"{rule.identifier}: missing meta {field}"
        assert rule.meta["severity"] in SEVERITIES, rule.identifier
        assert rule.meta["author"] == "fim project", rule.identifier
        if not rule.is_private:
            assert len(rule.meta["description"]) >= 40, rule.identifier
    assert count >= 50


def test_every_rule_belongs_to_the_family_of_its_file():
    for path in _rule_files():
        families = re.findall(r'^\s*family\s*=\s*"([^"]*)"', path.read_text(), re.M)
        assert families, path.name
        assert set(families) == {path.stem}, (path.name, set(families))


def test_rule_names_are_prefixed_and_unique_across_all_files():
    names = []
    for path in _rule_files():
        for m in RULE_DECL.finditer(path.read_text()):
            names.append(m.group(2))
    assert names, "no rules found"
    assert all(n.startswith("fim_") for n in names), [n for n in names if not n.startswith("fim_")]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, dupes


def test_rule_names_carry_their_family():
    for path in _rule_files():
        for m in RULE_DECL.finditer(path.read_text()):
            assert m.group(2).startswith(f"fim_{path.stem}_"), (path.name, m.group(2))


def test_rules_compile_with_python_without_any_warning():
    compiled = compile_rules(error_on_warning=True)
    assert not getattr(compiled, "warnings", [])


@pytest.mark.parametrize("path", _rule_files(), ids=lambda p: p.name)
def test_each_file_compiles_alone_as_its_own_namespace(path):
    yara.compile(
        filepaths={path.stem: str(path)},
        externals={**dict.fromkeys(EXTERNAL_NAMES, ""), **LAYER_DEFAULTS},
        error_on_warning=True,
    )


@pytest.mark.skipif(shutil.which("yara") is None, reason="yara CLI not installed")
@pytest.mark.parametrize("path", _rule_files(), ids=lambda p: p.name)
def test_yara_cli_compiles_each_file_without_slow_string_warnings(path, tmp_path):
    target = tmp_path / "empty"
    target.write_bytes(b"")
    defines = [arg for name in EXTERNAL_NAMES for arg in ("-d", f"{name}=")]
    defines += ["-d", "layer=0", "-d", "chain=", "-d", "has_code_view=false"]
    loud = subprocess.run(
        ["yara", *defines, str(path), str(target)], capture_output=True, text=True, check=False
    )
    assert loud.returncode == 0, loud.stderr
    assert "warning" not in loud.stderr.lower(), loud.stderr
    quiet = subprocess.run(
        ["yara", "-w", *defines, str(path), str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert quiet.returncode == 0, quiet.stderr


def test_rules_do_not_use_unbounded_wildcards():
    for path in _rule_files():
        text = path.read_text()
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped.startswith("$") or "=" not in stripped:
                continue
            body = stripped.split("=", 1)[1]
            if not body.strip().startswith("/"):
                continue
            assert ".*" not in body and ".+" not in body, (path.name, stripped)
            assert not re.search(r"(?<!\\)[\]\)]\*|(?<!\\)[\]\)]\+|\\[sSwWdD][*+]", body), (
                path.name,
                stripped,
            )
