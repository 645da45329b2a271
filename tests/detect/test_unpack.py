"""The unpacking stage: every technique decoded statically, and every bound holds.

All payloads are built here from our own small snippets with Python's base64/zlib/codecs;
nothing is executed.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import dataclasses
import time
import zlib

import pytest

from fim.detect.unpack import Layer, normalise, strip_php_comments, unpack

SHELL = b"<?php system($_GET['c']); echo 'synthetic test payload for the unpacker';"


def _layers(data: bytes, **kw) -> list[Layer]:
    return unpack(data, **kw)


def _find(layers: list[Layer], needle: bytes) -> Layer:
    hits = [layer for layer in layers if needle in layer.data]
    assert hits, [(layer.chain, layer.data[:80]) for layer in layers]
    return hits[0]


def _rot13(data: bytes) -> bytes:
    return codecs.encode(data.decode(), "rot13").encode()


def _deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


# --- decoding calls on literals ----------------------------------------------------------


def test_eval_gzinflate_base64_is_decoded_inside_out_with_its_chain():
    blob = base64.b64encode(_deflate(SHELL))
    layers = _layers(b"<?php eval(gzinflate(base64_decode('" + blob + b"'))); ?>")
    layer = _find(layers, b"system($_GET['c'])")
    assert layer.chain == ("base64", "gzinflate")
    assert layer.chain_text == "base64>gzinflate"
    assert layer.depth == 1


@pytest.mark.parametrize(
    ("wrap", "encode", "chain"),
    [
        ("gzuncompress(base64_decode('{}'))", lambda p: base64.b64encode(zlib.compress(p)),
         "base64>gzuncompress"),
        ("gzdecode(base64_decode('{}'))", lambda p: base64.b64encode(_gzip(p)), "base64>gzdecode"),
        ("str_rot13('{}')", _rot13, "str_rot13"),
        ("strrev('{}')", lambda p: p[::-1], "strrev"),
        ("hex2bin('{}')", lambda p: binascii.hexlify(p), "hex2bin"),
        ("urldecode('{}')", lambda p: b"".join(b"%%%02x" % b for b in p), "urldecode"),
        ("rawurldecode('{}')", lambda p: b"".join(b"%%%02X" % b for b in p), "rawurldecode"),
        ("base64_decode(str_rot13('{}'))", lambda p: _rot13(base64.b64encode(p)), "str_rot13>base64"),
    ],
)  # fmt: skip
def test_each_php_decoding_function_is_applied_to_its_literal(wrap, encode, chain):
    payload = b"system($_GET[chr(99)]); /* a synthetic payload, long enough to be one */"
    escaped = encode(payload).replace(b"\\", b"\\\\").replace(b"'", b"\\'")
    code = b"<?php eval(" + wrap.replace("{}", "\0").encode().replace(b"\0", escaped) + b"); ?>"
    layer = _find(_layers(code), b"system($_GET")
    assert layer.chain_text == chain


def _gzip(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()


def test_convert_uudecode_payload_is_decoded():
    payload = b"passthru($_REQUEST['x']); // synthetic"
    encoded = binascii.b2a_uu(payload).rstrip(b"\n").replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    layer = _find(_layers(b'<?php eval(convert_uudecode("' + encoded + b'")); ?>'), b"passthru($_REQUEST")
    assert layer.chain == ("convert_uudecode",)


def test_long_base64_literal_without_a_call_is_decoded_when_it_is_compressed_code():
    blob = base64.b64encode(zlib.compress(SHELL * 3))
    layers = _layers(b"<?php $payload = '" + blob + b"'; $f = 'gz' . 'uncompress'; ?>")
    assert _find(layers, b"system($_GET").chain == ("base64", "gzuncompress")


def test_base64_wrapped_over_lines_in_a_heredoc_is_decoded():
    text = SHELL * 4
    wrapped = base64.encodebytes(text)  # 76-character lines
    layers = _layers(b"<?php $x = <<<EOT\n" + wrapped + b"EOT;\n")
    assert _find(layers, b"system($_GET").chain == ("base64",)


def test_long_hex_literal_is_decoded():
    layers = _layers(b"<?php $x = '" + binascii.hexlify(SHELL) + b"'; ?>")
    assert _find(layers, b"system($_GET").chain == ("hex2bin",)


def test_base64_of_binary_data_gives_no_layer():
    noise = bytes((i * 7919 + 13) % 256 for i in range(3000))  # not text, not compressed
    assert _layers(b"<?php $img = '" + base64.b64encode(noise) + b"'; ?>") == []


def test_escape_heavy_string_is_decoded_as_a_payload():
    escaped = b"".join(b"\\x%02x" % b for b in SHELL)
    layer = _find(_layers(b'<?php $code = "' + escaped + b'"; ?>'), b"system($_GET")
    assert layer.chain[0] == "escapes"


# --- the normalised view -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "step"),
    [
        (b"'sys'.'tem'", "concat"),
        (b"'s'.'y'.'s'  .  't'.'e'.'m'", "concat"),
        (b"chr(115).chr(121).chr(115).chr(116).chr(101).chr(109)", "chr"),
        (b"chr(0x73).chr(0x79).chr(0163).chr(116).chr(101).chr(109)", "chr"),
        (b'"\\x73\\x79\\x73\\x74\\x65\\x6d"', "escapes"),
        (b'"\\163\\171\\163\\164\\145\\155"', "escapes"),
        (b'"\\u{73}\\u{79}\\u{73}\\u{74}\\u{65}\\u{6d}"', "escapes"),
        (b"sprintf('%c%c%c%c%c%c', 115, 121, 115, 116, 101, 109)", "sprintf"),
        (b"implode('', array('sy', 'st', 'em'))", "implode"),
        (b"join('', ['sy', 'st', 'em'])", "implode"),
        (b"str_replace('#', '', 'sy#st#em')", "str_replace"),
        (b"str_rot13('flfgrz')", "str_rot13"),
        (b"strrev('metsys')", "strrev"),
        (b"base64_decode('c3lzdGVt')", "base64"),
        (b"pack('H*', '73797374656d')", "hex2bin"),
        (b"str_rot13('fl' . 'fgrz')", "concat"),
    ],
)
def test_a_name_spelled_in_pieces_is_written_out_in_the_normalised_view(expr, step):
    code = b"<?php $f = " + expr + b"; $f($_GET['c']); ?>"
    view = normalise(code)
    assert view is not None, code
    chain, text = view
    assert step in chain[0].split("+")
    assert b"'system'" in text or b'"system"' in text
    assert _find(_layers(code), b"system").chain == chain


def test_xor_of_two_literals_is_computed():
    key = b"KEYKEY"
    mixed = bytes(a ^ b for a, b in zip(b"assert", key, strict=True))
    assert b"'" not in mixed and b"\\" not in mixed
    code = b"<?php $f = '" + mixed + b"' ^ '" + key + b"'; $f($_POST['c']); ?>"
    chain, text = normalise(code)
    assert chain == ("xor",) and b"'assert'" in text


def test_asp_chr_assembly_and_ampersand_concatenation_are_joined():
    code = b'<% Execute(Chr(101) & Chr(118) & Chr(97) & Chr(108) & "(Request(""c""))") %>'
    chain, text = normalise(code)
    assert "chr" in chain[0] and b'"eval(Request(' in text


def test_aspx_from_base64_string_is_decoded():
    inner = b'System.Diagnostics.Process.Start("cmd.exe", Request["c"]); // synthetic payload'
    code = b'<%@ Page Language="C#" %><% var s = Encoding.UTF8.GetString(Convert.FromBase64String("'
    code += base64.b64encode(inner) + b'")); %>'
    assert _find(_layers(code), b"Process.Start").chain == ("base64",)


def test_jsp_unicode_escapes_are_decoded_in_the_view():
    code = b'<% String c = "\\u0063\\u006d\\u0064"; Runtime.getRuntime().exec(request.getParameter(c)); %>'
    chain, text = normalise(code)
    assert chain == ("unicode-escapes",) and b'"cmd"' in text


def test_jsp_base64_get_decoder_is_decoded():
    inner = b'Runtime.getRuntime().exec(request.getParameter("cmd")); // synthetic payload'
    code = b'<% byte[] b = java.util.Base64.getDecoder().decode("' + base64.b64encode(inner) + b'"); %>'
    assert _find(_layers(code), b"Runtime.getRuntime()").chain == ("base64",)


def test_jsp_string_concatenation_with_plus_is_joined():
    chain, text = normalise(b'<% Class c = Class.forName("java.lang." + "Run" + "time"); %>')
    assert "concat" in chain[0] and b'"java.lang.Runtime"' in text


def test_ordinary_concatenation_and_newline_escapes_give_no_view():
    code = b"<?php echo '<div class=\"a\">' . 'Hello, world' . '</div>' . \"\\n\"; $x = \"\\x1f\\x8b\";"
    assert normalise(code) is None
    assert _layers(code, code_view=False) == []


# --- comments ------------------------------------------------------------------------------


def test_comment_stripped_view_drops_a_shell_in_a_comment_and_keeps_strings():
    code = (
        b"<?php\n// eval($_POST['x']);\n/* system($_GET[1]); */\n# passthru($_GET[2]);\n"
        b"#[Attribute]\necho 'http://example.org/ // not a comment', \"/* nor this */\";\n"
        b"$h = <<<EOT\n// inside a heredoc\nEOT;\n?>\n<p>// text outside PHP</p>\n"
    )
    stripped = strip_php_comments(code)
    assert stripped is not None
    for gone in (b"eval(", b"system(", b"passthru("):
        assert gone not in stripped
    for kept in (b"#[Attribute]", b"// not a comment", b"/* nor this */", b"// inside a heredoc",
                 b"// text outside PHP"):  # fmt: skip
        assert kept in stripped
    (view,) = [layer for layer in _layers(code) if layer.chain == ("strip-comments",)]
    assert view.data == stripped


def test_a_line_comment_ends_at_the_closing_tag():
    stripped = strip_php_comments(b"<?php // note ?> <?php system($_GET['c']); ?>")
    assert stripped is not None and b"system($_GET['c'])" in stripped


def test_no_comment_view_when_nothing_changes_or_no_php():
    assert strip_php_comments(b"<?php echo 1; ?>") is None
    assert strip_php_comments(b"plain text // with slashes") is None
    assert not [layer for layer in _layers(b"<?php echo 1; ?>") if layer.chain == ("strip-comments",)]


# --- recursion and the layer type ----------------------------------------------------------


def test_layers_are_frozen_and_recursion_records_depth_and_chain():
    inner = b"<?php eval(str_rot13('" + codecs.encode(SHELL.decode(), "rot13").encode().replace(b"'", b"\\'")
    inner += b"')); ?>"
    outer = b"<?php eval(base64_decode('" + base64.b64encode(inner) + b"')); ?>"
    layer = _find(_layers(outer), b"system($_GET['c'])")
    assert layer.chain == ("base64", "str_rot13") and layer.depth == 2
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.data = b""  # type: ignore[misc]


def test_the_same_content_is_returned_once():
    blob = base64.b64encode(SHELL)
    layers = _layers(b"<?php eval(base64_decode('" + blob + b"')); eval(base64_decode('" + blob + b"'));")
    assert len([layer for layer in layers if layer.data == SHELL]) == 1


# --- bounds --------------------------------------------------------------------------------


def test_fifty_nested_layers_stop_at_depth_eight():
    payload = b"<?php system($_GET['innermost']); ?>"
    for _ in range(50):
        payload = b"<?php eval(gzinflate(base64_decode('" + base64.b64encode(_deflate(payload)) + b"'))); ?>"
    layers = _layers(payload)
    assert max(layer.depth for layer in layers) == 8
    assert all(len(layer.chain) <= 16 for layer in layers)
    assert not any(b"innermost" in layer.data for layer in layers)
    assert len(_layers(payload, max_depth=3)) <= 3 * 2


def test_decompression_bomb_is_cut_at_the_output_cap():
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"A" * (1 << 20)
    bomb = b"".join(c.compress(chunk) for _ in range(1024)) + c.flush()  # 1 GiB of text
    code = b"<?php eval(gzinflate(base64_decode('" + base64.b64encode(bomb) + b"'))); ?>"
    layers = _layers(code)
    total = sum(len(layer.data) for layer in layers)
    assert 0 < total <= min(4 * len(code), 8 << 20)
    assert sum(len(layer.data) for layer in _layers(code, max_output=100_000)) <= 100_000


def test_huge_escaped_string_is_bounded_by_the_output_cap():
    code = b'<?php $a = "' + b"\\x41" * 5_000_000 + b'"; // twenty megabytes of escapes\n'
    layers = _layers(code)
    assert sum(len(layer.data) for layer in layers) <= 8 << 20


def test_a_passed_deadline_stops_all_work():
    code = b"<?php eval(base64_decode('" + base64.b64encode(SHELL) + b"')); // c\n"
    assert _layers(code)  # there is work to do...
    assert _layers(code, deadline=time.monotonic() - 1) == []  # ...but no time for it


def test_malformed_input_never_raises():
    for junk in (b"", b"<?php eval(gzinflate(base64_decode('!!!')));", b"<?php eval(hex2bin('abc'));",
                 b"<?php $a = '" + b"\\" * 1000, b"\xff\xfe" * 5000, b"<?php /* unterminated",
                 b"<?php $s = <<<EOT\nnever closed", b"chr(99999999999)"):  # fmt: skip
        unpack(junk)


def test_a_file_of_thousands_of_encoded_strings_gives_at_most_max_layers():
    line = b"echo 'string number %d, synthetic';"
    parts = [b"$a%d = base64_decode('%s');" % (i, base64.b64encode(line % i)) for i in range(500)]
    code = b"<?php " + b"\n".join(parts)
    assert len(_layers(code)) == 64
    assert len(_layers(code, max_layers=5)) == 5


# -- hostile input: a customer controls every byte the unpacker reads --------------------------

_HANG_GUARD = 120  # seconds: a liveness guard for a subprocess, far above any linear run


def _run_isolated(code: str) -> str:
    """Run ``code`` in a fresh interpreter (a regex holding the GIL cannot stall the test run)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=_HANG_GUARD, check=True
    )
    return done.stdout


def test_implode_call_left_open_before_a_whitespace_run_is_read_in_linear_time():
    # Quadratic before: 100 KB of spaces held the interpreter lock for 49 s (the daemon froze).
    out = _run_isolated(
        "from fim.detect.unpack import unpack\n"
        "data = b\"<?php $f = implode('', array('a'\" + b' ' * 400_000 + b'x'\n"
        "print(len(unpack(data)))\n"
    )
    assert out.strip().isdigit()


def test_a_run_of_escaped_quotes_is_read_in_linear_time():
    out = _run_isolated(
        "from fim.detect.unpack import unpack\n"
        "data = b'<?php $a = \"' + b'\\\\\"' * 1_000_000 + b'; eval($a);'\n"
        "print(len(unpack(data)))\n"
    )
    assert out.strip().isdigit()


def test_stripping_a_huge_comment_costs_memory_of_the_order_of_the_file():
    # About 250 bytes per comment byte before: an 8 MB comment took 2 GB.
    out = _run_isolated(
        "import resource\n"
        "from fim.detect.php_comments import strip_php_comments\n"
        "data = b'<?php eval($_POST[1]); // ' + b'x' * 8_000_000 + b'\\n?>'\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "view = strip_php_comments(data)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print((after - before) * 1024, len(view))\n"
    )
    grown, kept = map(int, out.split())
    assert kept < 100
    assert grown < 4 * 8_000_000  # the view is a copy at most; not a backtracking stack per byte


def test_character_codes_too_long_for_an_int_are_left_alone_not_an_error():
    data = b"<?php $x = chr(" + b"7" * 5000 + b"); $y = String.fromCharCode(" + b"9" * 5000 + b");"
    data += b" $z = sprintf('%c', " + b"1" * 5000 + b");"
    unpack(data)  # never raises: it used to end in int()'s ValueError


def test_a_shell_padded_with_a_huge_character_code_is_still_found(tmp_path):
    import fim

    shell = b"<?php @eval($_POST['cmd']); ?>\n"
    (tmp_path / "plain.php").write_bytes(shell)
    (tmp_path / "padded.php").write_bytes(shell + b"<?php $x = chr(" + b"7" * 5000 + b"); ?>\n")
    report = fim.scan([bytes(tmp_path)])
    found = {f.path.rsplit(b"/", 1)[-1]: f.match.rule for f in report.findings}
    assert b"plain.php" in found and b"padded.php" in found
    assert not report.problems
