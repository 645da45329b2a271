#!/usr/bin/env python3
"""What the unpacking stage costs: the same library scan with and without it.

``fim.scan`` (in-memory baseline, bundled rules, rules compiled once before the runs) is run
``--repeat`` times over the given folders in each of two modes, interleaved so load drifts hit
both alike:

- ``raw``: every file matched once, as stored, with the rule files only (what fim did before
  the unpacking stage: no trigger rule compiled in);
- ``layered``: the inspector's real path (stored bytes, comment view, every unpacked layer).

It prints the median CPU and wall seconds of each mode, the overhead of ``layered`` over
``raw`` and the findings of each. CPU time is the figure to compare on a loaded machine.
Nothing is written anywhere. Use it on the Debian packages ``fp_corpus.py`` extracts
(``<workdir>/extract``) for the issue's "at most 15% more scan time" check::

    python benchmarks/bench_unpack.py ~/.cache/fim-fp/extract --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yara

import fim
from fim.config.loader import Config
from fim.core.model import RuleMatch
from fim.detect import inspector, rules
from fim.detect.rules import LAYER_DEFAULTS, RuleEngine
from fim.scanner import build

_real_match_layers = inspector.match_layers


def _raw_only(
    engine: RuleEngine, data: bytes, externals: dict[str, str], timeout: int, timeout_match: RuleMatch
) -> list[RuleMatch]:
    return engine.match(data, {**externals, **LAYER_DEFAULTS}, timeout)  # type: ignore[dict-item]


def _one(roots: list[str], layered: Callable, engine: RuleEngine) -> tuple[float, float, int, int]:
    inspector.match_layers = layered  # type: ignore[assignment]
    build.build_engine = lambda *_a, **_k: engine  # type: ignore[assignment]  # compiled once
    try:
        c0, w0 = time.process_time(), time.monotonic()
        report = fim.scan(roots, jobs=1)
        cpu, wall = time.process_time() - c0, time.monotonic() - w0
    finally:
        inspector.match_layers = _real_match_layers  # type: ignore[assignment]
    flagged = len({f.path for f in report.findings})
    return cpu, wall, report.stats.files_read, flagged


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("roots", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    engine = build.build_engine(Config())
    sources = rules.discover()
    files = {s.namespace: str(s.path) for s in sources}
    plain = rules.YaraEngine(
        yara.compile(filepaths=files, externals=rules._externals_defaults()), engine.version, sources
    )
    modes = {"raw": (_raw_only, plain), "layered": (_real_match_layers, engine)}
    runs: dict[str, list[tuple[float, float, int, int]]] = {m: [] for m in modes}
    roots = [os.fspath(r) for r in args.roots]
    print(f"load average before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    for i in range(args.repeat):
        for mode, (fn, eng) in modes.items():
            runs[mode].append(_one(roots, fn, eng))
            cpu, wall, _read, flagged = runs[mode][-1]
            print(
                f"  repeat {i + 1} {mode:8s} cpu {cpu:7.2f} s  wall {wall:7.2f} s  flagged {flagged}",
                file=sys.stderr,
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    med = {
        m: (statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs))
        for m, rs in runs.items()
    }
    print("| mode | CPU s (median) | wall s (median) | files flagged |")
    print("|---|---:|---:|---:|")
    for m in modes:
        print(f"| {m} | {med[m][0]:.2f} | {med[m][1]:.2f} | {runs[m][0][3]} |")
    print(f"\nfiles read per scan: {runs['raw'][0][2]}")
    over_cpu = 100.0 * (med["layered"][0] / med["raw"][0] - 1)
    over_wall = 100.0 * (med["layered"][1] / med["raw"][1] - 1)
    print(f"\nunpacking overhead: CPU {over_cpu:+.1f}%, wall {over_wall:+.1f}% (goal: at most +15%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
