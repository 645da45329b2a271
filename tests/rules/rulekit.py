"""Helpers to compile and match the bundled YARA rules the way fim does.

The rules are compiled exactly as fim compiles them: one namespace per
``rules/*.yar`` file (namespace = file stem), all files in one ruleset, with
the externals ``filename``, ``filepath``, ``extension``, ``filetype`` and
``owner``.  :func:`externals_for` is the single place that computes the
externals for a file; it mirrors ``fim.rules`` and can be swapped for it.
"""

from __future__ import annotations

import os
from pathlib import Path

import yara

REPO = Path(__file__).resolve().parents[2]
RULES_DIR = REPO / "rules"
SAMPLES_DIR = Path(__file__).resolve().parent / "samples"

EXTERNAL_NAMES = ("filename", "filepath", "extension", "filetype", "owner")
SEVERITIES = ("critical", "high", "medium", "low")  # most severe first

Match = tuple[str, str, dict]

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "ZIP"),
    (b"PK\x05\x06", "ZIP"),
    (b"\x1f\x8b", "GZIP"),
    (b"\x7fELF", "ELF"),
    (b"MZ", "PE"),
    (b"BM", "BMP"),
)


def detect_filetype(head: bytes) -> str:
    """File type from magic bytes, "" for unknown/text."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return ""


def externals_for(path: str | os.PathLike, head: bytes = b"", owner: str = "") -> dict[str, str]:
    """The externals fim passes to the rules for the file at ``path``.

    ``extension`` is the lower-cased last suffix including the dot ("" if
    none; ".htaccess" has no extension).  ``head`` is the start of the file
    content (16 bytes are enough) for ``filetype``.
    """
    fspath = os.fsdecode(os.fspath(path))
    name = os.path.basename(fspath)
    return {
        "filename": name,
        "filepath": fspath,
        "extension": os.path.splitext(name)[1].lower(),
        "filetype": detect_filetype(head),
        "owner": owner,
    }


def compile_rules(rules_dir: Path = RULES_DIR, **kwargs) -> yara.Rules:
    """Compile every ``*.yar`` in ``rules_dir``, one namespace per file stem."""
    filepaths = {p.stem: str(p) for p in sorted(rules_dir.glob("*.yar"))}
    externals = dict.fromkeys(EXTERNAL_NAMES, "")
    return yara.compile(filepaths=filepaths, externals=externals, **kwargs)


def match_bytes(rules: yara.Rules, data: bytes, path: str | os.PathLike) -> list[Match]:
    """Match ``data`` as if it were the content of the file at ``path``."""
    found = rules.match(data=data, externals=externals_for(path, data[:16]))
    return [(m.namespace, m.rule, dict(m.meta)) for m in found]


def severity_rank(severity: str) -> int:
    """0 for critical ... 3 for low (unknown severities rank last)."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
