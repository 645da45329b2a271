"""Specification of the policy's parts: glob semantics, each check, rule merging, validation."""

from __future__ import annotations

import pytest

from fim.config import loader as config_mod
from fim.core.errors import ConfigError
from fim.core.model import FileState, Severity
from fim.detect.policy import DEFAULT_RULES, PolicyCheck, PolicyRule, compile_glob
from fim.detect.upload_checks import CHECKS, Subject
from tests.policy.hosting import GIF, JPEG, PNG, SHELL

# -- globs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("*/wp-content/uploads/**", b"/home/a/public_html/wp-content/uploads/2024/05/x.php", True),
        ("*/wp-content/uploads/**", b"/srv/wp-content/uploads-old/x.php", False),
        ("*/wp-content/uploads/**", b"/wp-content/uploads/x.php", False),  # "*" is one component
        ("*/tmp/**", b"/home/a/tmp/x.php", True),
        ("*/tmp/**", b"/tmp/x.php", False),  # a site's tmp folder, not /tmp itself
        ("/home/*/uploads/**", b"/home/a/uploads/x", True),
        ("/home/*/uploads/**", b"/home/a/b/uploads/x", False),  # "*" never crosses a "/"
        ("/home/**/uploads/**", b"/home/a/b/uploads/x", True),  # "**" any number of components
        ("/home/**/uploads/**", b"/srv/home/a/uploads/x", False),  # "/..." is anchored
        ("*/sites/*/files/**", b"/var/www/drupal/sites/default/files/a.png", True),
        ("*/up[lL]oad?/**", b"/x/upLoads/y", True),
        ("*/[!u]pload/**", b"/x/upload/y", False),
        ("*/uploads/*.php", b"/x/uploads/a.php", True),
        ("*/uploads/*.php", b"/x/uploads/a/b.php", False),
        ("*/uploads/**", b"/x/uploads/\xff\xfe.php", True),  # bytes, not text
    ],
)
def test_glob_semantics(glob, path, matches):
    assert bool(compile_glob(glob).match(path)) is matches


@pytest.mark.parametrize("bad", ["", "a**b/**", "*/uploads/", "*/[abc/**", "a//b"])
def test_malformed_globs_are_refused(bad):
    with pytest.raises(ValueError):
        compile_glob(bad)


# -- checks --------------------------------------------------------------------------------------


def detect(check: str, name: bytes, data: bytes, rest: bytes | None = None) -> str | None:
    path = b"/home/a/wp-content/uploads/" + name
    return CHECKS[check][1](Subject(path, rest if rest is not None else name, data, len(data)))


@pytest.mark.parametrize(
    "data",
    [
        SHELL,
        b"GIF89a\x01\x00<?php eval($_POST[1]);",
        b"\xff\xd8\xff\xe0junk<?= `$_GET[c]` ?>",
        b"<? system($_GET['c']); ?>",
        b'<%@ Page Language="C#" %><% Response.Write("x"); %>',
        b'<%eval request("x")%>',
        b"#!/usr/bin/perl\nprint 1;",
        b"#! /bin/sh\nid",
        b"<?PHP\nphpinfo();",
    ],
)
def test_scripts_are_found_by_content_whatever_their_name(data):
    assert detect("script", b"a.txt", data) is not None


@pytest.mark.parametrize(
    "data",
    [
        JPEG,  # random image bytes contain "<%" and "<?=" by chance
        PNG,
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        b"I wrote <? and %> in a text",
        b"<?php\n// Silence is golden.\n",
        b"<?php\n/**\n * licence\n */\nheader('Location: ../');\nexit;\n",  # PrestaShop's index.php
    ],
)
def test_harmless_content_is_not_a_script(data):
    assert detect("script", b"a.jpg", data) is None


@pytest.mark.parametrize(
    "data",
    [
        b"<?php\n// Silence is golden.\nsystem($_GET[1]);",
        b"<?php // Silence is golden. ?><?php system($_GET[1]);",  # "?>" ends a line comment
        b"<?php # nothing ?> <b>hi</b>",
    ],
)
def test_a_silent_php_file_with_anything_else_is_a_script(data):
    assert detect("script", b"index.php", data) is not None


def test_template_delimiters_in_static_assets_are_not_asp():
    template = b'var t = _.template("<% _.each(items, function(i) { %><li><%= i %></li><% }); %>");'
    assert detect("script", b"bundle.js", template) is None
    assert detect("script", b"bundle.jpg", template) is not None
    assert detect("script", b"bundle.js", b"x='<?php system($_GET[1]); ?>'") is not None


@pytest.mark.parametrize(
    ("name", "found"),
    [
        (b"x.php", True), (b"x.PHP5", True), (b"x.phtml", True), (b"x.phar", True), (b"x.pht", True),
        (b"x.php.jpg", True), (b"x.jpg.php", True), (b".php", True), (b"x.shtml", True), (b"x.cgi", True),
        (b"x.aspx", True), (b"x.jsp", True), (b"x.cer", True), (b"x.php.", True),
        (b"x.jpg", False), (b"php.jpg", False), (b"my.photo.png", False), (b"x.phpx", False),
    ],
)  # fmt: skip
def test_executable_extensions_anywhere_in_the_name(name, found):
    assert (detect("executable_extension", name, b"data") is not None) is found


@pytest.mark.parametrize(
    ("name", "data", "found"),
    [
        (b"a.jpg", JPEG, False), (b"a.png", PNG, False), (b"a.gif", GIF, False),
        (b"a.jpg", SHELL, True), (b"a.png", JPEG, True), (b"a.gif", b"<html>", True),
        (b"a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ", False), (b"a.webp", PNG, True),
        (b"a.pdf", b"%PDF-1.7\n", False), (b"a.pdf", SHELL, True),
        (b"a.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", False), (b"a.svg", b"\x89PNG", True),
        (b"a.bmp", b"BM" + bytes(40), False), (b"a.ico", b"\x00\x00\x01\x00" + bytes(10), False),
        (b"a.jpg", b"", False),  # an empty upload is odd, not disguised
        (b"a.txt", SHELL, False),  # no claim, nothing to contradict
    ],
)  # fmt: skip
def test_disguised_content_contradicts_its_extension(name, data, found):
    assert (detect("disguised", name, data) is not None) is found


def test_disguise_description_says_what_the_content_is():
    assert "holds a script" in detect("disguised", b"a.jpg", SHELL)


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"<svg><script>alert(1)</script></svg>", True),
        (b'<svg onload="alert(1)"/>', True),
        (b'<svg><a href="javascript:alert(1)">x</a></svg>', True),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>', False),
    ],
)
def test_svg_with_active_content(data, found):
    assert (detect("svg_script", b"a.svg", data) is not None) is found


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"AddType application/x-httpd-php .jpg", True),
        (b"<FilesMatch \\.jpg$>\n  SetHandler application/x-httpd-php\n</FilesMatch>", True),
        (b"AddHandler php7-script .png", True),
        (b"php_value auto_prepend_file /tmp/x", True),
        (b"Options +ExecCGI\nAddHandler cgi-script .jpg", True),
        (b"AddOutputFilter INCLUDES .html", True),
        (b"Order deny,allow\nDeny from all", False),  # WooCommerce
        (b"<IfModule mod_php7.c>\nphp_flag engine 0\n</IfModule>\n"
         b"AddHandler cgi-script .php .phtml\nOptions -ExecCGI", False),  # Wordfence, Magento
        (b"Options -Indexes -ExecCGI\nSetHandler Drupal_Security_Do_Not_Remove_See_SA_2006_006\n"
         b"<IfModule mod_php7.c>\n  php_flag engine off\n</IfModule>", False),  # Drupal
        (b"AddType image/webp .webp\n# AddType application/x-httpd-php .jpg", False),
    ],
)  # fmt: skip
def test_htaccess_is_an_override_only_when_it_makes_files_executable(data, found):
    assert (detect("handler_override", b".htaccess", data) is not None) is found


@pytest.mark.parametrize("name", [b".user.ini", b"php.ini", b"web.config"])
def test_other_override_files_are_always_reported(name):
    assert detect("handler_override", name, b"") is not None


@pytest.mark.parametrize(
    ("rest", "found"),
    [
        (b"2024/.x.php", True), (b".cache/a.jpg", True), (b"2024/a.jpg", False),
        (b".htaccess", False),  # judged by handler_override, not as a hidden file
    ],
)  # fmt: skip
def test_hidden_names_below_the_upload_area(rest, found):
    assert (detect("hidden", rest.rsplit(b"/", 1)[-1], b"x", rest) is not None) is found


@pytest.mark.parametrize(
    ("name", "found"),
    [
        ("evil\u202egnp.php".encode(), True), ("a\u2066b.jpg".encode(), True), (b"a\nb.jpg", True),
        (b"a\x1b[31mb.jpg", True), ("caf\u00e9.jpg".encode(), False), (b"r\xe9sum\xe9.jpg", False),
    ],
)  # fmt: skip
def test_names_with_bidi_overrides_or_control_characters(name, found):
    assert (detect("unsafe_name", name, b"x") is not None) is found


def test_linux_programs_are_found():
    assert detect("elf", b"a.jpg", b"\x7fELF\x02\x01\x01") is not None


# -- rules ---------------------------------------------------------------------------------------


def state(size: int) -> FileState:
    return FileState(b"", 0, 0, size, 0o100644, 1000, 1000, 0, 0, "0" * 64)


def test_the_most_severe_rule_wins_and_any_quarantine_rule_quarantines():
    rules = [
        PolicyRule("loose", ("*/uploads/**",), (), ("script",), Severity.LOW, "quarantine"),
        PolicyRule("strict", ("*/site/uploads/**",), (), ("script", "elf"), Severity.CRITICAL, "alert"),
    ]
    check = PolicyCheck(rules)
    path = b"/home/a/site/uploads/x.txt"
    [match] = check.check(path, SHELL, state(len(SHELL)))
    assert (match.rule, match.ruleset, match.family) == ("policy.script", "policy", "policy")
    assert match.severity is Severity.CRITICAL and "'strict'" in match.description
    assert check.action_for(path, "script") == "quarantine"
    assert check.action_for(b"/home/a/other/x.txt", "script") == "alert"


def test_excluded_paths_are_outside_the_rule():
    rule = PolicyRule("r", ("*/files/**",), ("*/files/php/**",), ("script",), Severity.HIGH, "alert")
    check = PolicyCheck([rule])
    assert check.check(b"/d/sites/default/files/php/twig/a.php", SHELL, state(len(SHELL))) == []
    assert check.check(b"/d/sites/default/files/a.php", SHELL, state(len(SHELL))) != []


def test_large_files_are_judged_by_their_first_bytes():
    check = PolicyCheck(DEFAULT_RULES)
    matches = check.check(b"/h/wp-content/uploads/big.jpg", b"\x7fELF" + bytes(100), state(10**9))
    assert {m.rule for m in matches} == {"policy.elf", "policy.disguised"}


def test_the_version_follows_the_rules():
    a = PolicyCheck(DEFAULT_RULES).version
    assert a == PolicyCheck(DEFAULT_RULES).version
    assert a != PolicyCheck(DEFAULT_RULES[:1]).version


# -- configuration -------------------------------------------------------------------------------


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        config_mod.from_dict(data)
    return err.value.problems


def test_every_policy_mistake_is_reported_with_its_key():
    found = problems(
        {
            "policy": {
                "rules": [
                    {
                        "name": "a",
                        "paths": ["*/up/"],
                        "forbid": ["scirpt"],
                        "severity": "huge",
                        "action": "delete",
                    },
                    {"paths": ["*/x/**"], "forbid": ["script"], "actoin": "alert"},
                    {"name": "c"},
                ]
            },
            "quarantine": {"min_severity": "severe", "directroy": "/q"},
            "retention": {"findings_days": -1},
        }
    )
    text = "\n".join(found)
    assert "policy.rules[0].paths: '*/up/' ends with '/'" in text
    assert "policy.rules[0].forbid: unknown check 'scirpt' (did you mean 'script'?)" in text
    assert "policy.rules[0].severity:" in text and "policy.rules[0].action:" in text
    assert "policy.rules[1].actoin: unknown key (did you mean 'policy.rules[1].action'?)" in text
    assert "policy.rules[2].paths: required" in text and "policy.rules[2].forbid: required" in text
    assert "quarantine.min_severity:" in text and "quarantine.directroy: unknown key" in text
    assert "retention.findings_days: must not be negative" in text


def test_a_configured_rule_list_replaces_the_shipped_one():
    cfg = config_mod.from_dict(
        {"policy": {"enabled": True, "rules": [{"name": "r", "paths": ["*/u/**"], "forbid": ["elf"]}]}}
    )
    [rule] = cfg.policy.rules
    assert (rule.severity, rule.action) == (Severity.HIGH, "alert")
