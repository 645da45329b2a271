"""A hosting tree with two customers, scanned for real by ``fim scan`` into a database.

alice's upload area holds webshell stand-ins under hostile names (markup, event handlers, a
bidi override, a newline, bytes that are not UTF-8); bob's holds one under a plain name that
must never show up in anything made for alice.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

SHELL = b"<?php FIM_TEST_MARKER_EVAL($_POST['x']); ?>\n"
RULES = """\
rule report_marker_eval {
    meta:
        description = "request input to eval (test marker)"
        family = "php_code_exec"
        severity = "critical"
    strings:
        $a = "FIM_TEST_MARKER_EVAL"
    condition:
        $a
}

rule report_marker_low {
    meta:
        description = "obfuscated <marker> & friends"
        family = "php_obfuscation"
        severity = "low"
    strings:
        $a = "FIM_TEST_MARKER_LOW"
    condition:
        $a
}
"""

# Each would change the page title (or add an element) if it reached the page as markup.
SCRIPT_DIR = b"<script>document.title='pwned-script'<"  # + "/script>.php": a name can hold no "/"
HOSTILE_NAMES: tuple[bytes, ...] = (
    b'"><img src=x onerror="document.title=\'pwned-img\'">.php',
    b"<svg onload=\"document.title='pwned-svg'\">.php",
    b"'><iframe srcdoc='<b>x'>.php",
    "invoice\u202egnp.php".encode(),
    b"new\nline.php",
    b"\xff\xfe<i>latin1-\xe9.php",
    b"&lt;b&gt;already-escaped&amp;.php",
)
BOB_NAME = b"bob-only-secret-shell.php"
BOB_SHELL = b"<?php FIM_TEST_MARKER_EVAL($_GET['bob-only-payload']); ?>\n"


@dataclass(frozen=True)
class Hosting:
    base: Path
    root: Path  # <root>/<tenant>/...
    config: Path
    rules: Path
    db: Path

    def tenant_dir(self, tenant: str | bytes) -> bytes:
        return os.path.join(os.fsencode(self.root), os.fsencode(tenant))

    def scan(self, fim, *extra: str) -> None:
        r = fim("scan", "--config", self.config, "--db", self.db, "--no-bundled-rules", "--rules", self.rules,
                *extra, self.root)  # fmt: skip
        assert r.code == 1, r.err.decode(errors="replace")

    def report(self, fim, *args: str | bytes):
        return fim("report", "--config", self.config, "--db", self.db, "--since", "1d", *args)


def hosting(base: Path, *, extra_config: str = "") -> Hosting:
    root = base / "home"
    root.mkdir()
    rules = base / "rules.yar"
    rules.write_text(RULES)
    config = base / "fim.toml"
    config.write_text(f'[tenants]\npatterns = ["{root}/{{tenant}}/"]\nfrom_owner = false\n{extra_config}')
    return Hosting(base, root, config, rules, base / "state" / "fim.db")


def alice_paths(h: Hosting) -> list[bytes]:
    """alice's hostile tree; the exact path bytes of every shell in it."""
    alice = os.path.join(h.tenant_dir("alice"), b"uploads")
    os.makedirs(os.path.join(alice, SCRIPT_DIR))
    made = [os.path.join(alice, SCRIPT_DIR, b"script>.php")]  # shows as <script>...</script>.php
    made += [os.path.join(alice, name) for name in HOSTILE_NAMES]
    for path in made:
        with open(path, "wb") as f:
            f.write(SHELL + path)  # distinct content: distinct hashes
    encoded = os.path.join(alice, b"encoded.php")
    with open(encoded, "wb") as f:
        f.write(
            b'<?php eval(base64_decode("'
            + base64.b64encode(b"FIM_TEST_MARKER_LOW system($_GET[1]);")
            + b'"));'
        )
    return [*made, encoded]


def bob_path(h: Hosting) -> bytes:
    bob = h.tenant_dir("bob")
    os.makedirs(bob)
    path = os.path.join(bob, BOB_NAME)
    with open(path, "wb") as f:
        f.write(BOB_SHELL)
    return path
