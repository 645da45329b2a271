"""The unpacking gates come from the same YARA pass as the findings on the stored bytes.

The trigger rule is compiled with the rule files in a namespace of its own: its hits are never
findings, its gates are the ones the unpacker would find with its own pass, a rule file cannot
take its namespace, and the stored bytes are matched again with ``has_code_view`` only when a
rule can read it. Synthetic samples and rule files of our own.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

import fim
from fim.detect import layered, rules, unpack_triggers
from fim.detect.inspector import TIMEOUT_MATCH
from fim.store.database import Store

MARKER_RULE = """
rule test_marker_on_a_decoded_layer {
    meta:
        severity = "high"
    strings:
        $m = "FIM_GATE_MARKER"
    condition:
        $m and layer > 0
}
"""

SAMPLES = [
    b"<?php eval(base64_decode('ZWNobyAnaGknOw==')); ?>",
    b"<?php $f = 'as' . 'sert'; $g = chr(115).chr(121); ?>",
    b'<?php $x = "\\x73\\x79\\x73\\x74\\x65\\x6d\\x73\\x79\\x73\\x74"; ?>',
    b"<?php $a = implode('', ['sy', 'stem']); $b = str_replace('q', '', 'sqyq'); ?>",
    b'<% Execute(Chr(101) & "val" & Request("x")) %>',
    b"<?php $k = 'ab' ^ 'cd'; printf(sprintf('%c%c', 65, 66)); ?>",
    b'String s = new String(Base64.getDecoder().decode("YWJj")); // \\u0061\\u0062\\u0063',
    b"GIF89a <?= gzinflate(hex2bin(pack('H*', '00'))) ?>",
    b"plain text without anything interesting in it",
    b"",
]


def _engine(tmp_path: Path, text: str, name: str = "test.yar") -> rules.YaraEngine:
    path = tmp_path / name
    path.write_text(text)
    return rules.YaraEngine.build(rules.discover([path], bundled=False))


@pytest.mark.parametrize("data", SAMPLES)
def test_gates_from_the_rule_pass_are_the_unpackers_own(tmp_path, data):
    engine = _engine(tmp_path, MARKER_RULE)
    _found, gates = engine.match_with_gates(data, {**rules._externals_defaults()}, 10)
    assert gates is not None
    assert gates == unpack_triggers.triggers(data)


def test_trigger_rule_hits_are_never_findings(tmp_path):
    engine = _engine(tmp_path, MARKER_RULE)
    data = b"<?php eval(gzinflate(base64_decode('x'))); echo chr(97).'b'.'c'; ?>"
    found, gates = engine.match_with_gates(data, {**rules._externals_defaults()}, 10)
    assert found == [] and engine.match(data, {**rules._externals_defaults()}, 10) == []
    assert {"decode", "chr", "concat", "marker"} <= gates


def test_a_rule_file_named_like_the_trigger_namespace_gets_another_namespace(tmp_path):
    path = tmp_path / f"{rules.INTERNAL_NAMESPACE}.yar"
    path.write_text("rule test_always { condition: true }")
    (source,) = rules.discover([path], bundled=False)
    assert source.namespace != rules.INTERNAL_NAMESPACE
    engine = rules.YaraEngine.build([source])
    (hit,) = engine.match(b"base64_decode", {**rules._externals_defaults()}, 10)
    assert hit.rule == "test_always"


def test_changing_the_trigger_rule_changes_the_ruleset_version(tmp_path, monkeypatch):
    path = tmp_path / "test.yar"
    path.write_text(MARKER_RULE)
    sources = rules.discover([path], bundled=False)
    before = rules.ruleset_version(sources)
    monkeypatch.setattr(
        unpack_triggers, "TRIGGER_SOURCE", unpack_triggers.TRIGGER_SOURCE.replace("strrev", "strrevx")
    )
    assert rules.ruleset_version(sources) != before


def test_a_cached_compile_still_yields_the_gates(tmp_path):
    path = tmp_path / "test.yar"
    path.write_text(MARKER_RULE)
    sources = rules.discover([path], bundled=False)
    rules.YaraEngine.build(sources, cache_dir=tmp_path / "cache")
    cached = rules.YaraEngine.build(sources, cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").glob("rules-*.yarc"))
    _found, gates = cached.match_with_gates(b"<?php strrev('x');", {**rules._externals_defaults()}, 10)
    assert gates is not None and "decode" in gates and "marker" in gates


def test_only_rule_files_naming_has_code_view_get_the_stored_bytes_matched_again(tmp_path):
    assert not _engine(tmp_path, MARKER_RULE).uses_code_view
    include_strings = (
        'rule test_inc {\n strings:\n  $i = "include"\n  $j = "include \\"x"\n condition: any of them }'
    )
    assert not _engine(tmp_path, include_strings, "inc.yar").uses_code_view
    code_only = 'rule test_code { strings: $e = "eval(" condition: $e and not has_code_view }'
    assert _engine(tmp_path, code_only, "code.yar").uses_code_view


def test_a_rule_file_with_an_include_directive_is_assumed_to_read_has_code_view(tmp_path):
    (tmp_path / "inner.yar").write_text("rule test_inner { condition: not has_code_view }")
    outer = tmp_path / "outer.yar"
    outer.write_text('include "inner.yar"\nrule test_outer { condition: false }\n')
    assert rules.YaraEngine.build([rules.RuleSource("custom.outer", outer, False)]).uses_code_view


class _CountingEngine:
    """A rule engine without the trigger rule: the unpacker finds its own gates."""

    def __init__(self, inner: rules.YaraEngine, uses_code_view: bool):
        self.inner = inner
        self.version = inner.version
        self.uses_code_view = uses_code_view
        self.calls: list[dict] = []

    def match(self, data, externals, timeout):
        self.calls.append(dict(externals))
        return self.inner.match(data, externals, timeout)


def test_stored_bytes_are_not_matched_twice_when_no_rule_reads_has_code_view(tmp_path):
    rule = 'rule test_eval { strings: $e = "eval($_POST" condition: $e }'
    data = b"<?php\n// a comment\neval($_POST['x']);\n"
    externals = {**dict.fromkeys(rules.EXTERNAL_NAMES, ""), "extension": "php"}
    for reads, layer0_matches in ((False, 1), (True, 2)):
        engine = _CountingEngine(_engine(tmp_path, rule), uses_code_view=reads)
        found = layered.match_layers(engine, data, externals, 10, TIMEOUT_MATCH)  # type: ignore[arg-type]
        assert [m.rule for m in found] == ["test_eval"]
        assert sum(1 for c in engine.calls if c["layer"] == 0) == layer0_matches


def test_a_payload_behind_code_markers_in_an_image_is_unpacked(tmp_path):
    rule_file = tmp_path / "test.yar"
    rule_file.write_text(MARKER_RULE)
    root = tmp_path / "site"
    root.mkdir()
    payload = base64.b64encode(b"echo 'FIM_GATE_MARKER';")
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 <?php eval(base64_decode('" + payload + b"')); ?>")
    (root / "plain.jpg").write_bytes(b"\xff\xd8\xff\xe0 eval(base64_decode('" + payload + b"'))")
    report = fim.scan([root], extra_rules=[str(rule_file)], use_bundled=False, store=Store.memory())
    assert [(Path(f.path.decode()).name, f.match.chain) for f in report.findings] == [("photo.jpg", "base64")]
