"""Literals and anchored matching for the unpacking stage: PHP/ASP/JS string literals,
their escapes, and regexes tried only where a keyword occurs."""

from __future__ import annotations

import codecs
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_DEPTH = 8
MAX_LAYERS = 64  # per file: a file of thousands of encoded strings is matched on the first ones
MAX_OUTPUT = 8 << 20
OUTPUT_FACTOR = 4
OUTPUT_FLOOR = 1 << 20
MIN_BLOB = 64  # shortest base64/hex literal decoded without a decoding call around it
MAX_PIECE = 256  # longest literal piece the normaliser joins, splits or rewrites
MAX_INLINE = 256  # longest decoded value written back into the normalised view
MAX_ROUNDS = 4  # normalisation rounds per layer (chr -> concat -> str_rot13 -> concat ...)
# Largest layer given a normalised view. Loaders that spell names in pieces are small; large
# files (libraries, data, bundles) are where the rewriting passes would spend their time.
MAX_NORMALISE = 512 << 10


@dataclass(frozen=True, slots=True)
class Layer:
    """One derived view of a file. ``chain`` names the steps from the original to it."""

    data: bytes
    chain: tuple[str, ...]
    depth: int = 1

    @property
    def chain_text(self) -> str:
        """The chain as the rules see it in the ``chain`` external: ``base64>gzinflate``."""
        return ">".join(self.chain)


class _Budget:
    def __init__(self, max_output: int, deadline: float | None, max_layers: int = MAX_LAYERS):
        self.left = max_output
        self.layers_left = max_layers
        self.deadline = deadline

    def expired(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline

    def exhausted(self) -> bool:
        return self.left <= 0 or self.layers_left <= 0 or self.expired()


# --- literals -------------------------------------------------------------------------------

# A quoted literal, written "unrolled" (runs of plain characters, then one escape) with
# possessive repeats: linear, and many times faster in Python's engine than an alternation per
# character. A literal runs over lines (payloads often do).
_SQ = rb"'[^'\\]*+(?:\\.[^'\\]*+)*+'"
_DQ = rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
LITERAL = rb"(?:" + _SQ + rb"|" + _DQ + rb")"
# A short one-line literal: a piece of a name or of a concatenation.
_SQ_SHORT = rb"'[^'\\\n]{0,%d}+(?:\\.[^'\\\n]{0,%d}+){0,%d}+'" % (MAX_PIECE, MAX_PIECE, MAX_PIECE // 2)
_DQ_SHORT = rb'"[^"\\\n]{0,%d}+(?:\\.[^"\\\n]{0,%d}+){0,%d}+"' % (MAX_PIECE, MAX_PIECE, MAX_PIECE // 2)
SHORT = rb"(?:" + _SQ_SHORT + rb"|" + _DQ_SHORT + rb")"

_DQ_ESCAPE = re.compile(
    rb"\\(?:x([0-9A-Fa-f]{1,2})|([0-7]{1,3})|u\{([0-9A-Fa-f]{1,6})\}|u([0-9A-Fa-f]{4})|(.))", re.S
)
_SIMPLE_ESCAPES = {
    b"n": b"\n", b"t": b"\t", b"r": b"\r", b"v": b"\v", b"e": b"\x1b", b"f": b"\f",
    b"\\": b"\\", b"$": b"$", b'"': b'"', b"'": b"'", b"0": b"\0",
}  # fmt: skip


def _escape_value(m: re.Match[bytes]) -> bytes:
    hx, octal, brace, java, other = m.groups()
    if hx is not None:
        return bytes([int(hx, 16)])
    if octal is not None:
        return bytes([int(octal, 8) & 0xFF])
    if brace is not None or java is not None:
        cp = int(brace or java, 16)
        return chr(cp).encode("utf-8", "surrogatepass") if cp <= 0x10FFFF else m.group(0)
    return _SIMPLE_ESCAPES.get(other, m.group(0))


def unescape(text: bytes) -> bytes:
    """PHP/C escapes decoded. The C codec is fast and agrees with PHP on the common escapes;
    what it rejects (one-digit hex) or leaves alone (PHP's braced unicode) goes the slow way."""

    if b"\\u" not in text and b"\\e" not in text and b"\\$" not in text:
        try:
            return codecs.escape_decode(text)[0]
        except ValueError:
            pass
    return _DQ_ESCAPE.sub(_escape_value, text)


def literal_value(token: bytes) -> bytes:
    """The value of a quoted literal: PHP rules for '...', PHP/Java/C escapes for "..."."""
    body = token[1:-1]
    if token[:1] == b"'":
        return body.replace(b"\\\\", b"\\").replace(b"\\'", b"'") if b"\\" in body else body
    return unescape(body) if b"\\" in body else body


def quote(value: bytes, q: bytes = b"'") -> bytes:
    """A literal whose :func:`literal_value` is ``value``."""
    return q + value.replace(b"\\", b"\\\\").replace(q, b"\\" + q) + q


# --- anchored matching ----------------------------------------------------------------------


def _positions(low: bytes, words: tuple[bytes, ...]) -> list[int]:
    found: set[int] = set()
    for word in words:
        i = low.find(word)
        while i >= 0:
            found.add(i)
            i = low.find(word, i + 1)
    return sorted(found)


def _matches_at(pattern: re.Pattern[bytes], words: tuple[bytes, ...], text: bytes) -> list[re.Match[bytes]]:
    """Non-overlapping matches of ``pattern`` that start where one of ``words`` (lower case)
    starts. A pattern that opens with an alternation of names is slow to search for (every
    position is tried); ``bytes.find`` of each name is fast."""
    out: list[re.Match[bytes]] = []
    end = 0
    for pos in _positions(text.lower(), words):
        if pos < end:
            continue
        m = pattern.match(text, pos)
        if m is not None:
            out.append(m)
            end = m.end()
    return out


def _sub_at(
    pattern: re.Pattern[bytes],
    words: tuple[bytes, ...],
    text: bytes,
    repl: Callable[[re.Match[bytes]], bytes],
) -> bytes:
    """``pattern.sub(repl, text)`` for matches starting at one of ``words``."""
    parts: list[bytes] = []
    last = 0
    for m in _matches_at(pattern, words, text):
        parts += (text[last : m.start()], repl(m))
        last = m.end()
    if not parts:
        return text
    parts.append(text[last:])
    return b"".join(parts)
