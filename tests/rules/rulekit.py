"""Helpers to compile and match the bundled YARA rules the way fim does.

The rules are compiled exactly as fim compiles them: one namespace per
``rules/*.yar`` file (namespace = file stem), all files in one ruleset, with
the externals ``filename``, ``filepath``, ``extension``, ``filetype`` and
``owner``, computed by ``fim.detect.rules.externals_for`` itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import yara

from fim.detect import rules as fim_rules

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "rules"
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"

EXTERNAL_NAMES = fim_rules.EXTERNAL_NAMES
# The unpacking stage's externals (layer, chain, has_code_view) with their layer-0 defaults.
LAYER_DEFAULTS = fim_rules.LAYER_DEFAULTS
SEVERITIES = ("critical", "high", "medium", "low")  # most severe first

Match = tuple[str, str, dict]


def externals_for(path: str | os.PathLike, head: bytes = b"", owner: str = "") -> dict[str, str]:
    """The externals fim passes to the rules for the file at ``path`` (fim's own function)."""
    return fim_rules.externals_for(os.fsencode(os.fspath(path)), head, owner)


def compile_rules(rules_dir: Path = RULES_DIR, **kwargs) -> yara.Rules:
    """Compile every ``*.yar`` in ``rules_dir``, one namespace per file stem."""
    filepaths = {p.stem: str(p) for p in sorted(rules_dir.glob("*.yar"))}
    externals = {**dict.fromkeys(EXTERNAL_NAMES, ""), **LAYER_DEFAULTS}
    return yara.compile(filepaths=filepaths, externals=externals, **kwargs)


def match_bytes(
    rules: yara.Rules, data: bytes, path: str | os.PathLike, **layer: str | int | bool
) -> list[Match]:
    """Match ``data`` as if it were the content of the file at ``path`` (on the layer given by
    ``layer``/``chain``/``has_code_view``, else as stored)."""
    found = rules.match(data=data, externals={**externals_for(path, data[:16]), **LAYER_DEFAULTS, **layer})
    return [(m.namespace, m.rule, dict(m.meta)) for m in found]


def severity_rank(severity: str) -> int:
    """0 for critical ... 3 for low (unknown severities rank last)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
