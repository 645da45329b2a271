"""Paths are bytes inside fim. This module turns them into text people and machines can trust.

Filenames on a hosting server are chosen by attackers: they may be invalid UTF-8, carry
newlines that forge log lines, ANSI escapes that rewrite a terminal, or a U+202E override that
makes ``evil\\u202egnp.php`` look like ``evilphp.png``. Every path shown to anyone goes through
:func:`display`.
"""

from __future__ import annotations

import base64
import os
import unicodedata
from collections.abc import Iterable

# Opening a file a customer controls: never through a symlink, never blocking on a FIFO, never
# becoming its controlling terminal, never leaking the descriptor into a child process.
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY

# Unicode categories never shown raw: controls, format characters (bidi overrides, zero-width
# joiners), line/paragraph separators, surrogates (undecodable bytes), private use, unassigned.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escape_char(ch: str) -> str:
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that is not valid UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x80:  # ASCII controls; C1 controls use \\u so they never collide with raw bytes
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def display(raw: bytes | str) -> str:
    """Render a path (or any attacker-chosen name) as one safe, unambiguous line of text.

    Printable characters pass through; everything else becomes a backslash escape, and a
    backslash itself is doubled, so two different byte strings never display the same.
    """
    text = raw.decode("utf-8", "surrogateescape") if isinstance(raw, bytes) else raw
    if text.isprintable() and "\\" not in text and text.isascii():
        return text  # fast path: most paths on a server
    out = []
    for ch in text:
        if ch in _SHORT_ESCAPES or unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            out.append(_escape_char(ch))
        else:
            out.append(ch)
    return "".join(out)


def undisplay(text: str) -> bytes:
    """Invert :func:`display` (used by tests and by commands that take a displayed path)."""
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out += ch.encode("utf-8")
            i += 1
            continue
        kind = text[i + 1]
        if kind in "nrt\\":
            out += {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\"}[kind]
            i += 2
            continue
        width = {"x": 2, "u": 4, "U": 8}[kind]
        code = int(text[i + 2 : i + 2 + width], 16)
        i += 2 + width
        if kind == "x" and code >= 0x80:  # a raw byte that was not valid UTF-8
            out.append(code)
        else:
            out += chr(code).encode("utf-8", "surrogatepass")
    return bytes(out)


def json_path_fields(raw: bytes) -> dict[str, str]:
    """``path`` for display, plus ``path_b64`` (the exact bytes) whenever ``path`` is not them."""
    shown = display(raw)
    try:
        exact = raw.decode("utf-8") == shown
    except UnicodeDecodeError:
        exact = False
    fields = {"path": shown}
    if not exact:
        fields["path_b64"] = base64.b64encode(raw).decode("ascii")
    return fields


def basename(raw: bytes) -> bytes:
    return raw.rstrip(b"/").rsplit(b"/", 1)[-1]


def extension(raw: bytes) -> bytes:
    """Lower-case last suffix with its dot (``b".php"``); a leading dot is not a suffix."""
    name = basename(raw)
    stem = name.lstrip(b".")
    dot = stem.rfind(b".")
    return stem[dot:].lower() if dot > 0 else b""


def absolute(raw: bytes) -> bytes:
    """An absolute, normalised path without resolving symlinks (resolving would follow them)."""
    return os.path.normpath(os.path.abspath(raw))


def is_within(path: bytes, root: bytes) -> bool:
    """``path`` is ``root`` or below it (by name: callers open by descriptor, not by this)."""
    return path == root or path.startswith(root.rstrip(b"/") + b"/")


def root_of(path: bytes, roots: Iterable[bytes]) -> bytes | None:
    """The root that contains ``path``, if any."""
    for root in roots:
        if is_within(path, root):
            return root
    return None


def outermost(roots: Iterable[bytes]) -> list[bytes]:
    """Absolute, normalised, without duplicates or roots nested in other roots."""
    kept: list[bytes] = []
    for root in sorted({absolute(r) for r in roots}):
        if not any(is_within(root, k) for k in kept):
            kept.append(root)
    return kept
