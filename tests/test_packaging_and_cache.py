"""The bundled rules ship in the wheel, and compiled rules are cached by content."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import yara

from fim.detect import rules

REPO = Path(__file__).resolve().parent.parent


def test_wheel_carries_every_bundled_rule_file_and_report_template(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(REPO)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    [wheel] = tmp_path.glob("fim-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {n.rsplit("/", 1)[1] for n in names if n.startswith("fim/bundled_rules/")}
    assert shipped == {p.name for p in (REPO / "rules").glob("*.yar")}
    assert "fim/cli/main.py" in names
    templates = {n for n in names if n.startswith("fim/report/templates/")}
    assert templates == {f"fim/report/templates/{p.name}" for p in (REPO / "fim/report/templates").iterdir()}
    assert "fim/report/templates/report.html.j2" in templates


def test_unchanged_rules_load_from_cache_without_compiling(tmp_path, monkeypatch):
    sources = rules.discover([], bundled=True)
    first = rules.YaraEngine.build(sources, cache_dir=tmp_path)
    assert (tmp_path / f"rules-{first.version}.yarc").is_file()

    def no_compile(*_a, **_k):
        raise AssertionError("compiled again although the rules did not change")

    monkeypatch.setattr(yara, "compile", no_compile)
    second = rules.YaraEngine.build(sources, cache_dir=tmp_path)
    assert second.version == first.version
    hits = second.match(b"<?php @eval($_POST['x']); ?>", rules.externals_for(b"/u/x.php", b"<?php", ""), 5)
    assert any(m.severity.name == "CRITICAL" for m in hits)


def test_rule_set_version_follows_content_not_file_times(tmp_path):
    custom = tmp_path / "c.yar"
    custom.write_text("rule a { condition: false }\n")
    v1 = rules.ruleset_version(rules.discover([custom], bundled=False))
    custom.touch()
    assert rules.ruleset_version(rules.discover([custom], bundled=False)) == v1
    custom.write_text("rule a { condition: true }\n")
    assert rules.ruleset_version(rules.discover([custom], bundled=False)) != v1
