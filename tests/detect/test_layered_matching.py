"""The rules see every unpacked layer; findings say which chain of decoders led to them.

Synthetic samples of our own, scanned through the library with a small rule file of our own.
"""

from __future__ import annotations

import base64
import io
import zlib
from pathlib import Path

import fim
from fim.core.model import Change, Finding, RuleMatch, ScanReport, Severity
from fim.report import ecs, output
from fim.store.database import Store

RULES = """
rule test_layer_marker {
    meta:
        severity = "critical"
        description = "test: marker seen on a decoded layer only"
    strings:
        $m = "FIM_LAYER_MARKER"
    condition:
        $m and layer > 0 and chain != "strip-comments"
}

rule test_chain_is_visible_to_rules {
    meta:
        severity = "high"
    strings:
        $m = "FIM_CHAIN_MARKER"
    condition:
        $m and chain == "base64>gzinflate"
}

rule test_code_only_eval {
    meta:
        severity = "high"
        description = "test: eval of request input outside comments"
    strings:
        $e = "eval($_POST"
    condition:
        $e and not has_code_view
}
"""


def _scan(tmp_path: Path, files: dict[str, bytes]) -> list:
    rules = tmp_path / "test.yar"
    rules.write_text(RULES)
    root = tmp_path / "site"
    root.mkdir()
    for name, data in files.items():
        (root / name).write_bytes(data)
    report = fim.scan([root], extra_rules=[str(rules)], use_bundled=False, store=Store.memory())
    return report.findings


def test_a_rule_matches_a_base64_layer_and_the_finding_records_the_chain(tmp_path):
    code = b"<?php eval(base64_decode('" + base64.b64encode(b"echo 'FIM_LAYER_MARKER';") + b"')); ?>"
    (finding,) = _scan(tmp_path, {"x.php": code})
    assert finding.match.rule == "test_layer_marker"
    assert finding.match.chain == "base64"


def test_the_chain_external_names_the_decoders_in_order(tmp_path):
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    blob = base64.b64encode(c.compress(b"/* FIM_CHAIN_MARKER and more text */") + c.flush())
    (finding,) = _scan(tmp_path, {"x.php": b"<?php eval(gzinflate(base64_decode('" + blob + b"'))); ?>"})
    assert finding.match.rule == "test_chain_is_visible_to_rules"
    assert finding.match.chain == "base64>gzinflate"


def test_marker_in_plain_sight_is_not_a_decoded_layer(tmp_path):
    assert _scan(tmp_path, {"x.php": b"<?php echo 'FIM_LAYER_MARKER'; ?>"}) == []


def test_eval_inside_a_comment_is_not_a_finding_for_a_code_only_rule(tmp_path):
    files = {
        "commented.php": b"<?php\n// eval($_POST['x']);\n/* eval($_POST['y']); */\necho 'hello';\n",
        "live.php": b"<?php\n// a comment\neval($_POST['x']);\n",
        "no_comments.php": b"<?php eval($_POST['x']); ?>",
    }
    found = sorted((Path(f.path.decode()).name, f.match.rule, f.match.chain) for f in _scan(tmp_path, files))
    assert found == [
        ("live.php", "test_code_only_eval", ""),
        ("no_comments.php", "test_code_only_eval", ""),
    ]


def test_a_name_in_pieces_matches_on_the_normalised_view(tmp_path):
    code = b"<?php $f = 'FIM_LAYER' . '_MAR' . 'KER'; ?>"
    (finding,) = _scan(tmp_path, {"x.php": code})
    assert finding.match.rule == "test_layer_marker" and finding.match.chain == "concat"


def _finding(chain: str) -> Finding:
    match = RuleMatch("r", "ns", Severity.HIGH, "a description", "fam", chain=chain)
    return Finding(path=b"/srv/x.php", tenant=None, match=match, change=Change.NEW, state=None)


def test_the_chain_is_in_the_ecs_json_and_text_outputs():
    event = ecs.finding_event(_finding("base64>gzinflate"), hostname="h")
    assert event["fim"]["decode_chain"] == "base64>gzinflate"
    assert "decode_chain" not in ecs.finding_event(_finding(""), hostname="h")["fim"]
    report = ScanReport(findings=[_finding("base64>gzinflate")])
    out = io.StringIO()
    output.render_text(report, out)
    assert "(decoded: base64 > gzinflate)" in out.getvalue()


def test_the_chain_survives_the_baseline_record():
    match = RuleMatch("r", "ns", Severity.HIGH, chain="strrev>base64")
    assert RuleMatch.from_record(match.to_record()).chain == "strrev>base64"
    assert "chain" not in RuleMatch("r", "ns", Severity.HIGH).to_record()
