"""The benchmarks run end to end on tiny inputs (figures are for benchmarks/, never asserted)."""

from __future__ import annotations

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


def test_daemon_benchmark_runs_on_a_small_tree(tmp_path):
    out = tmp_path / "daemon.md"
    r = subprocess.run(
        [sys.executable, str(BENCH / "bench_daemon.py"), "--dirs", "300", "--rate", "50",
         "--rate-seconds", "1", "--burst", "300", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    row = [line for line in out.read_text().splitlines() if line.startswith("| 300 ")]
    assert row, out.read_text()
    assert "| 50/50 |" in row[0]  # every steady-phase webshell found
    assert row[0].split("|")[10].strip() == "0"  # no burst file left without a verdict
