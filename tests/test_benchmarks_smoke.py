"""The benchmarks run end to end on tiny inputs (figures are for benchmarks/, never asserted)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def test_scan_benchmark_runs_and_fim_finds_every_planted_sample(tmp_path):
    out = tmp_path / "bench.md"
    r = subprocess.run(
        [sys.executable, str(BENCH / "bench_scan.py"), "--files", "300", "--out", str(out), "--strict"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    report = out.read_text()
    assert "| yara -r |" in report and "sha256sum" in report
    assert "ok: fim found every planted sample" in report
    # the small-file tree, measured in the same run (as many files as --files, here)
    assert "## Small files (300 PHP files" in report and "No-change rescan beyond start-up" in report


def test_daemon_benchmark_runs_on_a_small_tree(tmp_path):
    out = tmp_path / "daemon.md"
    r = subprocess.run(
        [sys.executable, str(BENCH / "bench_daemon.py"), "--dirs", "300", "--rate", "50",
         "--rate-seconds", "1", "--burst", "300", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    rows = [line for line in out.read_text().splitlines() if line.startswith("| 300 ")]
    assert rows, out.read_text()
    for row in rows:  # one per event source usable here (inotify, and fanotify where allowed)
        assert "| 50/50 |" in row  # every steady-phase webshell found
        assert row.split("|")[10].strip() == "0"  # no burst file left without a verdict
        assert row.split("|")[16].strip() != "None ms"  # the new customer's shell was found


def _tiny_corpus(root: Path) -> None:
    """A corpus laid out as the corpus kit builds it, with our own few synthetic files."""
    files = [
        ("malicious", "shells_a", "eval.php", b"<?php eval($_POST['c']); ?>\n"),
        ("malicious", "shells_a", "sub dir/system.php", b"<?php system($_GET['cmd']); ?>\n"),
        ("malicious", "shells_b", "hidden.php", b"<?php echo 'FIM_SMOKE_MARKER'; ?>\n"),
        ("malicious", "shells_b", "cmd.aspx", b'<%@ Page Language="C#" %><% /* nothing */ %>\n'),
        ("benign", "app", "index.php", b"<?php echo htmlspecialchars('hello'); ?>\n"),
        ("benign", "app", "lib/tab\tname.php", b"<?php function f() { return 1; } ?>\n"),
        ("benign", "app", "readme.txt", b"FIM_SMOKE_MARKER in a readme\n"),
    ]
    rows = ["sha256\tlabel\tsource\trelpath\text\tsize"]
    for label, source, rel, data in files:
        path = root / label / source / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        escaped = rel.replace("\t", "\\t")
        ext = rel.rsplit(".", 1)[-1]
        rows.append(f"{hashlib.sha256(data).hexdigest()}\t{label}\t{source}\t{escaped}\t{ext}\t{len(data)}")
    (root / "labels.tsv").write_text("\n".join(rows) + "\n")


def test_detection_benchmark_scores_fim_and_a_compared_rule_folder(tmp_path):
    corpus = tmp_path / "corpus"
    _tiny_corpus(corpus)
    public = tmp_path / "public"
    public.mkdir()
    (public / "marker.yar").write_text(
        'rule smoke_marker { meta: score = 70 strings: $a = "FIM_SMOKE_MARKER" condition: $a }\n'
    )
    (public / "broken.yar").write_text("rule broken { condition: undefined_thing }\n")
    out, js, misses = tmp_path / "DETECTION.md", tmp_path / "d.json", tmp_path / "misses.tsv"
    r = subprocess.run(
        [sys.executable, str(BENCH / "detection.py"), "--corpus", str(corpus), "--out", str(out),
         "--json", str(js), "--misses", str(misses), "--compare", f"public={public}", "--jobs", "2"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    doc = json.loads(js.read_text())
    fim_fig, pub = doc["engines"]
    assert fim_fig["engine"] == "fim" and pub["engine"] == "public"
    assert fim_fig["recall"]["php"]["files"] == 3 and fim_fig["recall"]["asp"]["files"] == 1
    assert fim_fig["recall"]["php"]["found"] >= 2  # eval and system on request input
    assert fim_fig["false_positives"]["all"]["files"] == 3
    assert fim_fig["false_positives"]["php"]["files"] == 2
    # The compared set: its one rule finds the marker in one shell and in the benign readme.
    assert pub["recall"]["php"]["found"] == 1
    assert pub["false_positives"]["all"]["flagged"] == 1
    assert pub["false_positives"]["rules"] == {"marker:smoke_marker": 1}
    assert pub["false_positives"]["by_severity"]["high"] == 1  # score 70
    assert [s.split(":")[0] for s in pub["skipped_rule_files"]] == ["broken.yar"]
    # Misses are listed beside the corpus, with the engines that did find them.
    listed = misses.read_text().splitlines()[1:]
    assert any(line.startswith("shells_b\tasp\tcmd.aspx\t") for line in listed)
    assert "shells_b\tphp\thidden.php\tpublic" in listed
    assert (corpus / "detection" / "false-positives-public.tsv").is_file()
    report = out.read_text()
    assert "| PHP (3) |" in report and "`marker:smoke_marker` | 1 |" in report
    assert str(tmp_path) not in report  # no path of this machine in the report
    assert "FIM_SMOKE_MARKER" not in report  # never sample contents


def test_detection_benchmark_severity_cut_drops_findings_below_it(tmp_path):
    corpus = tmp_path / "corpus"
    _tiny_corpus(corpus)
    public = tmp_path / "public"
    public.mkdir()
    (public / "marker.yar").write_text(
        'rule smoke_marker { meta: score = 50 strings: $a = "FIM_SMOKE_MARKER" condition: $a }\n'
    )
    r = subprocess.run(
        [sys.executable, str(BENCH / "detection.py"), "--corpus", str(corpus), "--no-out", "--json", "-",
         "--no-fim", "--compare", f"public={public}", "--min-severity", "high"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    (pub,) = json.loads(r.stdout)["engines"]
    assert pub["recall_total"]["found"] == 0  # score 50 is medium, below the cut
    assert pub["false_positives"]["all"]["flagged"] == 0
