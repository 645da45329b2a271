"""Plain code skips the unpacking machinery, and loses nothing by it.

A file whose trigger pass found no decoder or rewrite gate, and which holds no run long enough
to be a base64/hex blob, has nothing to unpack: :func:`fim.detect.unpack.unpack` returns at
once. PHP comments are tokenized only when a comment opener occurs. These tests hold the quick
paths to the full ones: the same layers, the same verdicts, for content generated with and
without every trigger. Synthetic content and rule files of our own.
"""

from __future__ import annotations

import base64
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fim.detect import layered, php_comments, rules, unpack, unpack_triggers
from fim.detect.inspector import TIMEOUT_MATCH
from fim.detect.unpack_text import _Budget

PAYLOAD = b"<?php echo 'FIM_FAST_PATH_MARKER'; system($_GET['c']); ?>"

# Pieces a file is assembled from: plain code, and one piece per thing the unpacker reads.
PLAIN = [
    b"<?php\n",
    b"$v1 = 4611686018427387904;\n",
    b"$name = 'value';\n",
    b"function f($a) { return $a + 1; }\n",
    b"<html><body>text</body></html>\n",
    b"?>\n",
    b"\n",
]
TRIGGERING = [
    b"eval(base64_decode('" + base64.b64encode(PAYLOAD) + b"'));\n",
    b"$z = '" + base64.b64encode(zlib.compress(PAYLOAD * 3)) + b"';\n",  # a blob, no call
    b"$w = <<<EOT\n"
    + b"\n".join(base64.b64encode(PAYLOAD * 2)[i : i + 16] for i in range(0, 160, 16))
    + b"\nEOT;\n",
    b"$f = 'sy'.'st'.'em';\n",
    b"$g = chr(115).chr(121).chr(115);\n",
    b'$h = "\\x73\\x79\\x73\\x74\\x65\\x6d";\n',
    b'$e = "' + b"".join(b"\\x%02x" % c for c in PAYLOAD[:40]) + b'";\n',
    b"$i = implode('', ['as', 'sert']);\n",
    b"$j = str_replace('q', '', 'sqyqsqtqeqm');\n",
    b"$k = 'SYSTEM' ^ '      ';\n",  # 'system'
    b"$l = sprintf('%c%c%c', 101, 118, 97);\n",
    b"$m = str_rot13('riny');\n",
    # Escapes of letters and line breaks taking turns: an escaped run, no "escapes" gate.
    b'$n = "' + b"".join(b"\\x%02x\\x0a" % c for c in PAYLOAD[:20]) + b'";\n',
    b"// eval($_POST['x']); a comment\n",
    b"# another comment\n",
    b"/* block */\n",
    b"#[Attribute]\n",
    b"$u = 'http://example.org/';\n",
    b'<%= Request("x") %>\n',
]

contents = st.lists(
    st.one_of(st.sampled_from(PLAIN), st.sampled_from(TRIGGERING), st.binary(max_size=80)), max_size=12
).map(b"".join)


def _full_unpack(data: bytes, gates: frozenset[str]) -> list[unpack.Layer]:
    """:func:`unpack.unpack` with its quick check switched off."""
    real = unpack.nothing_to_unpack
    unpack.nothing_to_unpack = lambda _data, _gates: False
    try:
        return unpack.unpack(data, code_view=False, gates=gates)
    finally:
        unpack.nothing_to_unpack = real


@settings(max_examples=300, deadline=None)
@given(contents)
def test_quick_check_returns_the_layers_the_full_unpacking_finds(data):
    gates = unpack_triggers.triggers(data)
    assert unpack.unpack(data, code_view=False, gates=gates) == _full_unpack(data, gates)


@settings(max_examples=300, deadline=None)
@given(contents)
def test_nothing_to_unpack_only_when_one_round_derives_nothing(data):
    gates = unpack_triggers.triggers(data)
    if unpack.nothing_to_unpack(data, gates):
        assert unpack._derive(data, _Budget(1 << 20, None), gates) == []


@pytest.mark.parametrize("piece", TRIGGERING[:13])
def test_every_decoder_and_rewrite_still_yields_its_layer_in_plain_code(piece):
    data = b"<?php\n" + b"$v1 = 4611686018427387904;\n" * 50 + piece + b"$v2 = 7;\n" * 50
    gates = unpack_triggers.triggers(data)
    assert not unpack.nothing_to_unpack(data, gates)
    assert unpack.unpack(data, code_view=False, gates=gates)


def test_plain_php_assignments_have_nothing_to_unpack():
    data = b"<?php\n" + b"".join(b"$v%d = %d;\n" % (i, 4611686018427387904 + i) for i in range(400))
    gates = unpack_triggers.triggers(data)
    assert unpack.nothing_to_unpack(data, gates)
    assert unpack.unpack(data, code_view=False, gates=gates) == []


def test_blob_without_any_decoding_call_is_still_decoded():
    blob = base64.b64encode(zlib.compress(PAYLOAD * 3))
    data = b"<?php\n$v1 = 1;\n$data = '" + blob + b"';\n"
    gates = unpack_triggers.triggers(data)
    assert gates.isdisjoint(unpack_triggers.REWRITE_GATES)  # only the blob can be unpacked
    layers = unpack.unpack(data, code_view=False, gates=gates)
    assert any(b"FIM_FAST_PATH_MARKER" in layer.data for layer in layers)


@settings(max_examples=300, deadline=None)
@given(contents)
def test_comment_openers_check_strips_what_the_tokenizer_strips(data):
    assert php_comments.strip_php_comments(data) == php_comments._tokenize(data)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=8), max_size=6))
def test_gates_of_a_repeated_combination_are_worked_out_alike(names):
    ids = [f"${n}_{i}" for i, n in enumerate(names) if n.isidentifier()]
    first = unpack_triggers.gates_of(iter(ids))
    assert unpack_triggers.gates_of(list(reversed(ids))) == first
    assert first == unpack_triggers._gates_of.__wrapped__(frozenset(ids))


RULES = """
rule test_fast_marker_on_a_layer {
    meta:
        severity = "critical"
    strings:
        $m = "FIM_FAST_PATH_MARKER"
    condition:
        $m and layer > 0 and chain != "strip-comments"
}

rule test_fast_code_only_eval {
    meta:
        severity = "high"
    strings:
        $e = "eval($_POST"
    condition:
        $e and not has_code_view
}

rule test_fast_names_spelled_out {
    meta:
        severity = "high"
    strings:
        $s = "'system'"
        $a = "'assert'"
    condition:
        any of them and layer > 0
}
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> rules.YaraEngine:
    path = Path(tmp_path_factory.mktemp("rules")) / "fast.yar"
    path.write_text(RULES)
    return rules.YaraEngine.build(rules.discover([path], bundled=False))


def _verdict(engine: rules.YaraEngine, data: bytes, extension: str) -> list[tuple[str, str, str]]:
    externals = {**rules._externals_defaults(), "extension": extension}
    got = layered.match_layers(engine, data, externals, 10, TIMEOUT_MATCH)
    return sorted((m.ruleset, m.rule, m.chain or "") for m in got)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contents, st.sampled_from(["php", "txt", "js", ""]))
def test_verdicts_with_quick_paths_equal_verdicts_without(engine, data, extension):
    quick = _verdict(engine, data, extension)
    real_check, real_strip = unpack.nothing_to_unpack, php_comments.strip_php_comments
    unpack.nothing_to_unpack = lambda _data, _gates: False
    layered.strip_php_comments = php_comments._tokenize
    try:
        full = _verdict(engine, data, extension)
    finally:
        unpack.nothing_to_unpack = real_check
        layered.strip_php_comments = real_strip
    assert quick == full
