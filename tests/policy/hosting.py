"""A small hosting server on disk: customers' sites with upload folders, legitimate files and
the files attackers drop there. Real files, real names (one of them not UTF-8)."""

from __future__ import annotations

import os
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

# A JPEG whose body is random bytes laced with sequences that read like short open tags:
# large images contain such bytes by chance, and they must not count as scripts.
_rng = random.Random(7)
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + _rng.randbytes(40_000)
    + b"<%\x00\x91\x13<?=\xff\xfe<? \x00\x01"
    + _rng.randbytes(40_000)
    + b"\xff\xd9"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _rng.randbytes(2_000)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + _rng.randbytes(500) + b";"
SHELL = b'<?php if (isset($_REQUEST["c"])) { system($_REQUEST["c"]); } ?>'
POLYGLOT_GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00<?php eval($_POST['x']); ?>"
HANDLER_HTACCESS = b"AddType application/x-httpd-php .jpg .png\n"
SILENCE = b"<?php\n// Silence is golden.\n"
NON_UTF8 = b"r\xe9sum\xe9.php"  # Latin-1 "resume.php" with accents: not valid UTF-8


@dataclass
class Site:
    """One customer's site. ``forbidden`` and ``legit`` map relative names to full paths (bytes)."""

    root: Path
    uploads: Path
    forbidden: dict[str, bytes] = field(default_factory=dict)
    legit: dict[str, bytes] = field(default_factory=dict)


def _write(path: bytes, data: bytes) -> bytes:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def build_site(home: Path, tenant: str) -> Site:
    """``home/TENANT/public_html`` with a WordPress upload folder full of what must not be there."""
    root = home / tenant / "public_html"
    uploads = root / "wp-content" / "uploads"
    month = bytes(uploads / "2024" / "05")
    site = Site(root, uploads)
    site.legit = {
        "index.php": _write(bytes(root / "index.php"), b"<?php require __DIR__ . '/wp-blog-header.php';"),
        "photo.jpg": _write(month + b"/photo.jpg", JPEG),
        "logo.png": _write(month + b"/logo.png", PNG),
        "spinner.gif": _write(month + b"/spinner.gif", GIF),
        "uploads/index.php": _write(bytes(uploads / "index.php"), SILENCE),
    }
    site.forbidden = {
        "shell.php": _write(month + b"/shell.php", SHELL),
        "avatar.jpg": _write(month + b"/avatar.jpg", SHELL),
        "invoice.php.jpg": _write(month + b"/invoice.php.jpg", JPEG),
        "anim.gif": _write(month + b"/anim.gif", POLYGLOT_GIF),
        ".htaccess": _write(bytes(uploads / ".htaccess"), HANDLER_HTACCESS),
        "non-utf8": _write(month + b"/" + NON_UTF8, SHELL + b"\n// cv"),
    }
    return site


def write_config(tmp_path: Path, *, quarantine: Path | None = None, extra: str = "") -> Path:
    """The shipped policy on, tenants under ``tmp_path/home``, quarantine on when given a folder."""
    text = f'[tenants]\npatterns = ["{tmp_path}/home/{{tenant}}/"]\n\n[policy]\nenabled = true\n'
    if quarantine is not None:
        text += f'\n[quarantine]\nenabled = true\ndirectory = "{quarantine}"\n'
    path = tmp_path / "fim.toml"
    path.write_text(text + extra)
    return path


def scan_args(config: Path, db: Path, marker_rules: Path, *roots: Path) -> list:
    """Only the marker rule besides the policy, so every other finding is a policy finding."""
    return ["scan", "--config", config, "--db", db, "--no-bundled-rules", "--rules", marker_rules,
            "--format", "jsonl", *roots]  # fmt: skip


def findings_by_path(events: list[dict]) -> dict[bytes, set[str]]:
    import base64

    out: dict[bytes, set[str]] = {}
    for e in events:
        raw = e["fim"].get("path_b64")
        path = base64.b64decode(raw) if raw else e["file"]["path"].encode()
        out.setdefault(path, set()).add(e["rule"]["name"])
    return out


def every_value(db: Path) -> list[tuple[str, str, object]]:
    """(table, column, value) for every cell of every table: nothing escapes the check."""
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        cells = []
        for table in tables:
            cur = conn.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cur.description]
            for row in cur:
                cells += [(table, c, v) for c, v in zip(columns, row, strict=True)]
        return cells
    finally:
        conn.close()
