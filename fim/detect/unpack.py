"""Static unpacking: the layers a file hides behind encodings, decoded without running anything.

Many webshells are a small loader around an encoded payload (``eval(gzinflate(base64_decode(
'...')))``), or spell the names they call in pieces (``'as'.'sert'``, ``chr(115).chr(121)...``,
``"\\x73\\x79\\x73"``). YARA sees only the bytes as stored; this module derives the layers a
reader of the code would see, so the rules can be matched on each of them.

:func:`unpack` takes the file's bytes and returns the *derived* layers only (the original,
layer 0, is not returned: the caller has it). Each :class:`Layer` carries its bytes, the chain
of steps that produced it (``("base64", "gzinflate")``, shown as ``base64>gzinflate``), and its
depth (how many rounds of unpacking led to it). Three kinds of layer:

- **decoded payloads**: a literal string passed through decoding calls (``base64_decode``,
  ``gzinflate``, ``str_rot13``, ``FromBase64String``, ``Base64.getDecoder().decode`` ...), or a
  long base64/hex literal anywhere that decodes to text or to compressed data;
- **a normalised view** of the code, where names spelled in pieces are written out as one
  literal: ``\\x``/octal/``\\u{}``/``\\uXXXX`` escapes, ``chr()``/``Chr()``/``ChrW()``/
  ``String.fromCharCode`` and ``sprintf('%c')`` assembly, concatenation (``.`` ``&`` ``+``) of
  literals, ``implode``/``str_replace`` of literals, XOR of two literals, and short decoding
  calls inline. Its chain is one step naming what was rewritten (``"concat+chr"``). It is
  returned only when one of those rewrites looks like obfuscation (ordinary code concatenates
  strings all the time, and matching the same file twice costs time);
- **a comment-stripped view** of PHP code, chain ``("strip-comments",)``, returned only when it
  differs from the original: ``eval($_POST['x'])`` inside a comment is not a shell, so rules
  that care can match this view instead of the raw bytes.

Every derived layer is unpacked again (depth + 1), up to ``max_depth``. Work is bounded:
depth, the number of layers (``max_layers``, 64), the total size of all layers returned
(``max_output``; by default four times the input with a floor of 1 MiB, at most 8 MiB:
droppers are small, their payloads are not), and time (``deadline``, a :func:`time.monotonic`
value checked between steps). When a bound is hit,
unpacking stops and the layers found so far are returned. Decompression never produces more
than the remaining output budget (``zlib.decompressobj(...).decompress(data, max_length)``).

Pure functions over bytes; nothing here reads files or imports the rest of fim.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import math
import re
import time
import urllib.parse
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache

import yara

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


def unpack(
    data: bytes,
    *,
    max_depth: int = MAX_DEPTH,
    max_output: int | None = None,
    deadline: float | None = None,
    code_view: bool = True,
    max_layers: int = MAX_LAYERS,
    gates: frozenset[str] | None = None,
) -> list[Layer]:
    """The layers derived from ``data`` (not ``data`` itself), breadth first.

    ``max_output`` bounds the total bytes of all returned layers; ``deadline`` is a
    :func:`time.monotonic` time after which no more work starts. ``code_view=False`` leaves
    out the comment-stripped view (a caller can ask :func:`strip_php_comments` for it only
    when the raw bytes matched something). ``gates`` are the :func:`triggers` of ``data`` when
    the caller already has them (the rule engine finds them in the same pass as the findings:
    :data:`TRIGGER_SOURCE`); derived layers get theirs here. Never raises on bad input.
    """
    if max_output is None:
        max_output = min(max(OUTPUT_FACTOR * len(data), OUTPUT_FLOOR), MAX_OUTPUT)
    budget = _Budget(max_output, deadline, max_layers)
    seen: set[bytes] = set()  # digests; the original's is added when a first layer is found
    out: list[Layer] = []

    def keep(layer: Layer, queue: deque[Layer] | None) -> None:
        if not layer.data or len(layer.data) > budget.left or budget.layers_left <= 0:
            return
        if not seen:
            seen.add(_digest(data))
        digest = _digest(layer.data)
        if digest in seen:
            return
        seen.add(digest)
        budget.left -= len(layer.data)
        budget.layers_left -= 1
        out.append(layer)
        if queue is not None and layer.depth < max_depth:
            queue.append(layer)

    queue: deque[Layer] = deque()
    if max_depth >= 1 and not budget.exhausted():
        stripped = strip_php_comments(data) if code_view else None
        if stripped is not None:
            keep(Layer(stripped, ("strip-comments",), 1), None)  # a view, not unpacked again
        for chain, payload in _derive(data, budget, gates):
            keep(Layer(payload, chain, 1), queue)
            if budget.exhausted():
                break
    while queue and not budget.exhausted():
        parent = queue.popleft()
        for chain, payload in _derive(parent.data, budget):
            keep(Layer(payload, parent.chain + chain, parent.depth + 1), queue)
            if budget.exhausted():
                break
    return out


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _derive(
    data: bytes, budget: _Budget, gates: frozenset[str] | None = None
) -> list[tuple[tuple[str, ...], bytes]]:
    """One round: the payloads decoded from ``data`` and its normalised view."""
    found: list[tuple[tuple[str, ...], bytes]] = []
    if gates is None:
        gates = triggers(data, budget.deadline)
    if "decode" in gates:
        found += _decode_calls(data, budget, decoder_words(gates))
    if not budget.exhausted():
        found += _long_blobs(data, budget)
    if "escrun" in gates and not budget.exhausted():
        found += _escaped_runs(data, budget)
    if not budget.exhausted() and len(data) <= min(budget.left, MAX_NORMALISE) and not _binary(data):
        view = normalise(data, budget, gates)
        if view is not None:
            found.append(view)
    return found


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


# --- decoders -------------------------------------------------------------------------------

_B64_CHARS = re.compile(rb"[^A-Za-z0-9+/_-]")


def b64decode(data: bytes) -> bytes | None:
    """Lenient, as PHP's base64_decode: other characters are skipped, padding is optional;
    URL-safe letters are accepted too."""
    clean = _B64_CHARS.sub(b"", data.split(b"=", 1)[0] if b"=" in data.rstrip(b"=") else data)
    clean = clean.replace(b"-", b"+").replace(b"_", b"/")
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    try:
        return base64.b64decode(clean + b"=" * (-len(clean) % 4))
    except (binascii.Error, ValueError):
        return None


def hexdecode(data: bytes) -> bytes | None:
    clean = b"".join(data.split())
    try:
        return bytes.fromhex(clean.decode("ascii")) if len(clean) % 2 == 0 else None
    except ValueError:
        return None


def rot13(data: bytes) -> bytes:
    return codecs.encode(data.decode("latin-1"), "rot13").encode("latin-1")


def inflate(data: bytes, wbits: int, limit: int) -> bytes | None:
    """Decompress at most ``limit`` bytes; a bomb stops at the limit (the rest stays unread)."""
    if limit <= 0:
        return None
    try:
        d = zlib.decompressobj(wbits)
        out = d.decompress(data, limit)
    except zlib.error:
        return None
    return out or None


def uudecode(data: bytes) -> bytes | None:
    out = bytearray()
    for line in data.splitlines():
        if not line or line.startswith((b"begin ", b"end")):
            continue
        try:
            out += binascii.a2b_uu(line)
        except binascii.Error:
            try:  # PHP tolerates lines padded short; a2b_uu wants exact lengths
                out += binascii.a2b_uu(line + b" " * 4)[: max(0, (line[0] - 32) & 63)]
            except binascii.Error:
                return bytes(out) or None
    return bytes(out) or None


def _url(data: bytes) -> bytes:
    return urllib.parse.unquote_to_bytes(data.replace(b"+", b" "))


def _rawurl(data: bytes) -> bytes:
    return urllib.parse.unquote_to_bytes(data)


# Function name (lower case) -> (chain step, decoder). Decoders taking a limit decompress.
_DECODERS: dict[bytes, tuple[str, Callable[[bytes, int], bytes | None]]] = {
    b"base64_decode": ("base64", lambda d, _n: b64decode(d)),
    b"frombase64string": ("base64", lambda d, _n: b64decode(d)),
    b"decodebuffer": ("base64", lambda d, _n: b64decode(d)),
    b"decodebase64": ("base64", lambda d, _n: b64decode(d)),
    b"decode": ("base64", lambda d, _n: b64decode(d)),  # Base64.getDecoder().decode(...)
    b"atob": ("base64", lambda d, _n: b64decode(d)),
    b"gzinflate": ("gzinflate", lambda d, n: inflate(d, -15, n)),
    b"gzuncompress": ("gzuncompress", lambda d, n: inflate(d, 15, n)),
    b"gzdecode": ("gzdecode", lambda d, n: inflate(d, 31, n)),
    b"str_rot13": ("str_rot13", lambda d, _n: rot13(d)),
    b"strrev": ("strrev", lambda d, _n: d[::-1]),
    b"hex2bin": ("hex2bin", lambda d, _n: hexdecode(d)),
    b"urldecode": ("urldecode", lambda d, _n: _url(d)),
    b"rawurldecode": ("rawurldecode", lambda d, _n: _rawurl(d)),
    b"convert_uudecode": ("convert_uudecode", lambda d, _n: uudecode(d)),
}
_NAMES = rb"base64_decode|gzinflate|gzuncompress|gzdecode|str_rot13|strrev|hex2bin|rawurldecode|urldecode" \
    rb"|convert_uudecode|(?:Convert\s*\.\s*)?FromBase64String|decodeBuffer|decodeBase64|atob" \
    rb"|get(?:Mime|Url)?Decoder\s*\(\s*\)\s*\.\s*decode"  # fmt: skip
# Where a decoding call can start (lower case): the patterns are only tried at these places.
_DECODER_WORDS = (
    b"base64_decode", b"gzinflate", b"gzuncompress", b"gzdecode", b"str_rot13", b"strrev", b"hex2bin",
    b"rawurldecode", b"urldecode", b"convert_uudecode", b"convert", b"frombase64string", b"decodebuffer",
    b"decodebase64", b"atob", b"getdecoder", b"getmimedecoder", b"geturldecoder",
)  # fmt: skip
_CALL = rb"(?:" + _NAMES + rb")\s*\(\s*"
# One or more nested decoding calls around a literal: eval(gzinflate(base64_decode('...'))).
_CALL_CHAIN = re.compile(rb"((?:\b" + _CALL + rb")+)(" + LITERAL + rb")", re.I)
_CALL_NAME = re.compile(rb"(" + _NAMES + rb")\s*\(", re.I)


def _call_steps(prefix: bytes) -> list[bytes]:
    """The function names of a nested call prefix, outermost first (``Convert.FromBase64String``
    is ``frombase64string``, ``getDecoder().decode`` is ``decode``)."""
    return [b"".join(m.group(1).lower().split()).rsplit(b".", 1)[-1] for m in _CALL_NAME.finditer(prefix)]


def apply_calls(names: list[bytes], value: bytes, limit: int) -> tuple[tuple[str, ...], bytes] | None:
    """Apply decoding calls inside out (``names`` outermost first). ``None`` when a step fails."""
    chain: list[str] = []
    for name in reversed(names):
        if name not in _DECODERS:
            return None
        step, fn = _DECODERS[name]
        decoded = fn(value, limit)
        if not decoded:
            return None
        chain.append(step)
        value = decoded
    return tuple(chain), value


def _decode_calls(
    data: bytes, budget: _Budget, words: tuple[bytes, ...] = _DECODER_WORDS
) -> list[tuple[tuple[str, ...], bytes]]:
    """Payloads of decoding calls on literals, long enough to be a payload (short ones are
    written inline by the normaliser)."""
    found = []
    for m in _matches_at(_CALL_CHAIN, words, data):
        if budget.exhausted():
            break
        names = _call_steps(m.group(1))
        result = apply_calls(names, literal_value(m.group(2)), budget.left)
        if result is None:
            continue
        chain, value = result
        if len(value) >= MIN_BLOB // 2 and _looks_useful(value):
            found.append((chain, value))
    return found


_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_HEX_ALPHABET = b"0123456789ABCDEFabcdef"


def _table(members: bytes) -> bytes:
    return bytes(65 if b in members else 32 for b in range(256))


# Base64 letters (and line breaks: wrapped blobs) -> "A", anything else -> " "; hex digits -> "A".
_B64_TABLE = _table(_B64_ALPHABET + b"\r\n")


def _runs(mapped: bytes, min_len: int) -> list[tuple[int, int]]:
    """Spans of at least ``min_len`` "A"s in a translated copy. ``bytes.find`` is a fast C
    search; a regular expression over a character class tries every position."""
    spans = []
    needle = b"A" * min_len
    pos = mapped.find(needle)
    while pos >= 0:
        end = mapped.find(b" ", pos + min_len)
        end = len(mapped) if end < 0 else end
        spans.append((pos, end))
        pos = mapped.find(needle, end)
    return spans


def _long_blobs(data: bytes, budget: _Budget) -> list[tuple[tuple[str, ...], bytes]]:
    """Long base64 or hex runs anywhere (a literal, a heredoc, a comment read back by the
    code...), kept when they decode to text or to compressed data that inflates to text."""
    found = []
    runs = []
    for a, b in _runs(data.translate(_B64_TABLE), MIN_BLOB):
        run = _drop_short_head(data[a:b].strip())
        if len(run) >= MIN_BLOB:
            # Hex digits are base64 letters too: a run of only hex digits is read as hex.
            runs.append((run, "hex2bin" if not run.translate(None, _HEX_ALPHABET) else "base64"))
    for run, step in runs:
        if budget.exhausted():
            break
        if step == "base64":
            raw = b64decode(run[: budget.left * 2])  # 4 letters make 3 bytes; then inflated
        else:
            raw = hexdecode(run[: budget.left * 4] if len(run) > budget.left * 4 else run)
        if not raw:
            continue
        inflated = _try_inflate(raw, budget.left)
        if inflated is not None:
            found.append(((step, inflated[0]), inflated[1]))
        elif _looks_useful(raw):
            found.append(((step,), raw))
    return found


# A payload written as escapes ("\x65\x76\x61\x6c..."), a few plain characters allowed between.
# Atomic pieces: "\x41" must not be retried as "\x4" + "1" (exponential backtracking).
_ESCAPE_RUN = re.compile(
    rb"(?<!\\)(?>(?:\\x[0-9A-Fa-f]{1,2}+|\\[0-7]{1,3}+)[^\"'\\\n]{0,3}+){%d,}" % (MIN_BLOB // 2)
)


# Where a run can start. A pattern opening with a literal backslash is searched for by a fast
# scan for that byte; ``_ESCAPE_RUN`` opens with a lookbehind and a group, so searching with
# it tries the whole pattern at every position of the file.
_ESCAPE_START = re.compile(rb"\\(?:x[0-9A-Fa-f]|[0-7])")


def _escape_run_matches(data: bytes) -> Iterator[re.Match[bytes]]:
    """``_ESCAPE_RUN.finditer(data)``, trying the pattern only where an escape starts."""
    end = 0
    for start in _ESCAPE_START.finditer(data):
        pos = start.start()
        if pos < end:
            continue
        m = _ESCAPE_RUN.match(data, pos)
        if m is not None:
            yield m
            end = m.end()


def _escaped_runs(data: bytes, budget: _Budget) -> list[tuple[tuple[str, ...], bytes]]:
    found = []
    for m in _escape_run_matches(data):
        if budget.exhausted():
            break
        run = m.group(0)[: budget.left * 4]  # an escape is at least two bytes per byte out
        value = unescape(run)
        if _looks_useful(value):
            found.append((("escapes",), value[: budget.left]))
    return found


def _drop_short_head(run: bytes) -> bytes:
    """A wrapped blob's lines are equally long; a shorter first line (a heredoc's marker, a
    variable name) would shift every following 4-letter group."""
    if b"\n" not in run:
        return run
    lines = run.split(b"\n")
    width = max(len(line.strip()) for line in lines)
    while len(lines) > 1 and len(lines[0].strip()) < width:
        lines.pop(0)
    return b"\n".join(lines)


def _try_inflate(raw: bytes, limit: int) -> tuple[str, bytes] | None:
    if raw[:2] == b"\x1f\x8b":
        candidates = (("gzdecode", 31),)
    elif raw[:1] == b"\x78":
        candidates = (("gzuncompress", 15), ("gzinflate", -15))
    else:
        candidates = (("gzinflate", -15),)
    for step, wbits in candidates:
        out = inflate(raw, wbits, limit)
        if out is not None and len(out) >= 16 and _looks_useful(out):
            return step, out
    return None


_TEXT_BYTES = bytes([9, 10, 13, *range(32, 127)])


def _binary(data: bytes) -> bool:
    """NUL bytes near the start: an image, an archive, a program. Its code-like parts (a
    polyglot's payload) are still searched for decoding calls, but not rewritten."""
    return data[:8192].count(b"\0") > 8  # a few NULs happen in XOR literals of shells


def _looks_useful(value: bytes) -> bool:
    """Text (code, a script, markup) rather than binary: what is worth matching again."""
    sample = value[:4096]
    if not sample:
        return False
    other = len(sample.translate(None, _TEXT_BYTES))
    return other <= len(sample) * 0.15


# --- the normalised view ------------------------------------------------------------------

# Bounded: a character code has a few digits, and int() refuses numbers of over 4,300 digits
# (a shell padded with chr(<5,000 digits>) must not turn its own detection into an error).
_NUM = rb"(?:0[xX][0-9A-Fa-f]{1,8}+|&[hH][0-9A-Fa-f]{1,8}+|\d{1,10}+)(?![0-9A-Fa-f])"
_CHR = re.compile(rb"\b(chr[wb]?|mb_chr)\s*\(\s*(" + _NUM + rb")\s*\)", re.I)
_FROM_CHAR_CODE = re.compile(
    rb"String\s*\.\s*fromCharCode\s*\(\s*(" + _NUM + rb"(?:\s*,\s*" + _NUM + rb"){0,255})\s*\)"
)
_SPRINTF = re.compile(rb"\bsprintf\s*\(\s*(" + SHORT + rb")((?:\s*,\s*" + _NUM + rb"){1,256})\s*\)", re.I)
# Never starting at an escaped quote: a run of \" would otherwise start an attempt at every
# quote, each scanning up to the cap (quadratic in the run).
_ESCAPED_DQ = re.compile(
    rb'(?<!\\)"[^"\\\n]{0,%d}+(?:\\.[^"\\\n]{0,%d}+){1,%d}+"' % (MAX_PIECE, MAX_PIECE, MAX_PIECE * 4)
)
# An escape that writes a printable ASCII character (a letter of a hidden name).
_PRINTABLE_ESCAPE = re.compile(
    rb"\\x[2-7][0-9A-Fa-f]|\\[01][0-7]{2}|\\u00[2-7][0-9A-Fa-f]|\\u\{0*[2-7][0-9A-Fa-f]\}"
)
_JAVA_U = re.compile(rb"\\u+([0-9A-Fa-f]{4})")
_DECODE_INLINE = re.compile(
    rb"(?:\b(" + _NAMES + rb")\s*\(|\b(pack)\s*\(\s*['\"]H\*['\"]\s*,)\s*(" + SHORT + rb")\s*\)", re.I
)
_XOR = re.compile(rb"(" + SHORT + rb")\s*\^\s*(" + SHORT + rb")")
_CONCAT = re.compile(rb"(" + SHORT + rb")((?:\s*[.&+]\s*" + SHORT + rb")+)")
_CONCAT_PIECE = re.compile(rb"[.&+]\s*(" + SHORT + rb")")
_IMPLODE = re.compile(
    rb"\b(?:implode|join)\s*+\(\s*+(" + SHORT + rb")\s*+,\s*+(?:array\s*+\(|\[)\s*+(" + SHORT
    + rb"(?:\s*+,\s*+" + SHORT + rb")*+)\s*+(?:,\s*+)?[\])]\s*+\)",
    re.I,
)  # fmt: skip
_STR_REPLACE = re.compile(
    rb"\bstr_i?replace\s*\(\s*(" + SHORT + rb")\s*,\s*(" + SHORT + rb")\s*,\s*(" + SHORT + rb")\s*\)", re.I
)
_LIST_ITEM = re.compile(SHORT)
_IDENT = re.compile(rb"[A-Za-z_][A-Za-z0-9_]{2,63}")
_DOTTED = re.compile(rb"[A-Za-z_][A-Za-z0-9_.]{2,63}")  # also Java/.NET class names
_B64ISH = re.compile(rb"[A-Za-z0-9+/]{%d,}" % MIN_BLOB)


def _number(text: bytes) -> int:
    t = text.lower()
    if t.startswith(b"0x"):
        return int(t[2:], 16)
    if t.startswith(b"&h"):
        return int(t[2:], 16)
    if len(t) > 1 and t.startswith(b"0"):  # PHP/C octal: chr(0163)
        return int(t, 8) if t.isdigit() and b"8" not in t and b"9" not in t else int(t)
    return int(t)


def _printable(value: bytes) -> bool:
    return bool(value) and all(32 <= b < 127 or b in (9, 10, 13) for b in value)


class _Rewriter:
    """One normalisation round at a time; remembers which rewrites looked like obfuscation."""

    def __init__(self) -> None:
        self.steps: list[str] = []
        self.suspicious = False
        self.chr_letters = 0

    def _mark(self, step: str, suspicious: bool) -> None:
        if step not in self.steps:
            self.steps.append(step)
        self.suspicious = self.suspicious or suspicious

    def chr(self, m: re.Match[bytes]) -> bytes:
        n = _number(m.group(2))
        if n > 0x10FFFF:
            return m.group(0)
        # PHP chr() and VBScript Chr() give one byte; ChrW() and mb_chr() a character.
        wide = m.group(1).lower() in (b"chrw", b"mb_chr")
        value = chr(n).encode("utf-8", "surrogatepass") if wide else bytes([n & 0xFF])
        # chr(13).chr(10) is ordinary; letters spelled one chr() at a time are not.
        self.chr_letters += value.isalnum()
        self._mark("chr", self.chr_letters >= 3)
        # VBScript's Chr()/ChrW() (capitalised by habit) get VB's double quotes; PHP's chr() single.
        return quote(value, b'"' if m.group(1)[:1] == b"C" or wide else b"'")

    def from_char_code(self, m: re.Match[bytes]) -> bytes:
        codes = [_number(x) for x in re.split(rb"\s*,\s*", m.group(1).strip())]
        if any(c > 0x10FFFF for c in codes):
            return m.group(0)
        value = "".join(chr(c) for c in codes).encode("utf-8", "surrogatepass")
        self._mark("chr", len(codes) >= 3 and _printable(value))
        return quote(value)

    def sprintf(self, m: re.Match[bytes]) -> bytes:
        fmt = literal_value(m.group(1))
        args = [_number(x) for x in re.findall(_NUM, m.group(2))]
        out = bytearray()
        i = j = 0
        while i < len(fmt):
            if fmt[i : i + 1] == b"%":
                spec = fmt[i + 1 : i + 2]
                if spec == b"%":
                    out += b"%"
                elif spec == b"c" and j < len(args):
                    out.append(args[j] & 0xFF)
                    j += 1
                else:
                    return m.group(0)  # only %c assembly is rewritten
                i += 2
            else:
                out += fmt[i : i + 1]
                i += 1
        self._mark("sprintf", j >= 2)
        return quote(bytes(out))

    def escapes(self, m: re.Match[bytes]) -> bytes:
        token = m.group(0)
        if b"\\" not in token:
            return token
        if len(_PRINTABLE_ESCAPE.findall(token)) < 2:
            return token  # "\n", or binary constants, or UTF-8 bytes: not a hidden name
        coded = letters = 0
        for e in _DQ_ESCAPE.finditer(token):
            if e.group(5) is None:  # \x, octal, \u{}, \uXXXX: a character written as a number
                coded += 1
                letters += _printable(_escape_value(e))
        if coded < 2 or letters * 2 < coded:
            return token  # "\n", or binary constants ("\x1f\x8b"): not a name in disguise
        value = literal_value(token)
        self._mark("escapes", True)
        return quote(value, b'"')

    def java_unicode(self, data: bytes) -> bytes:
        count = 0

        def one(m: re.Match[bytes]) -> bytes:
            nonlocal count
            cp = int(m.group(1), 16)
            if 32 <= cp < 127 and chr(cp) not in "\\\"'":
                count += 1
                return bytes([cp])
            return m.group(0)

        out = _JAVA_U.sub(one, data)
        if count >= 3:
            self._mark("unicode-escapes", True)
            return out
        return data

    def decode_inline(self, m: re.Match[bytes]) -> bytes:
        value = literal_value(m.group(3))
        if m.group(2) is not None:  # pack('H*', '...')
            result, step = hexdecode(value), "hex2bin"
        else:
            decoded = apply_calls(_call_steps(m.group(1) + b"("), value, MAX_INLINE)
            result, step = (decoded[1], decoded[0][0]) if decoded else (None, "")
        if not result or len(result) > MAX_INLINE or not _printable(result):
            return m.group(0)
        self._mark(step, True)
        return quote(result)

    def xor(self, m: re.Match[bytes]) -> bytes:
        a, b = literal_value(m.group(1)), literal_value(m.group(2))
        value = bytes(x ^ y for x, y in zip(a, b, strict=False))
        if len(value) < 2 or not _printable(value):
            return m.group(0)
        self._mark("xor", True)
        return quote(value)

    def concat(self, m: re.Match[bytes]) -> bytes:
        pieces = [literal_value(m.group(1))]
        pieces += [literal_value(p) for p in _CONCAT_PIECE.findall(m.group(2))]
        value = b"".join(pieces)
        # A name cut into short pieces ('as'.'sert'), or an encoded blob cut into lines.
        name = _DOTTED.fullmatch(value) is not None and max(len(p) for p in pieces) <= 12
        blob = _B64ISH.search(value) is not None and not any(_B64ISH.search(p) for p in pieces)
        self._mark("concat", name or blob)
        return quote(value, b'"' if b'"' in m.group(1)[:1] + m.group(2) else b"'")

    def implode(self, m: re.Match[bytes]) -> bytes:
        sep = literal_value(m.group(1))
        items = [literal_value(t) for t in _LIST_ITEM.findall(m.group(2))]
        value = sep.join(items)
        self._mark("implode", len(items) >= 2 and _IDENT.fullmatch(value) is not None)
        return quote(value)

    def str_replace(self, m: re.Match[bytes]) -> bytes:
        search, repl, subject = (literal_value(m.group(i)) for i in (1, 2, 3))
        if not search:
            return m.group(0)
        value = subject.replace(search, repl)
        self._mark("str_replace", _IDENT.fullmatch(value) is not None and search in subject)
        return quote(value)


_CHR_WORDS = (b"chr", b"mb_chr")

# One YARA pass (Aho-Corasick over short literals, much faster than a Python pass per
# technique) tells which techniques can occur in a file at all. Identifiers name the gate.
# The rule engine compiles this rule with the rule files, in a namespace of its own
# (TRIGGER_NAMESPACE) left out of the findings, so the stored bytes' one pass yields both the
# findings and the gates; only derived layers need a pass of their own (``triggers``).
# ``marker`` is not a rewrite: it tells the caller the file holds server-side code markers
# (``fim.detect.layered.worth_unpacking``), the same bytes searched for in the same pass.
TRIGGER_NAMESPACE = "fim-unpack-triggers"
TRIGGER_RULE = "unpack_triggers"
TRIGGER_SOURCE = r"""
rule unpack_triggers {
  strings:
    $marker_1 = "<?php"
    $marker_2 = "<?="
    $marker_3 = "<%"
    $marker_4 = "runat="
    $decode_1 = "base64_decode" nocase
    $decode_2 = "gzinflate" nocase
    $decode_3 = "gzuncompress" nocase
    $decode_4 = "gzdecode" nocase
    $decode_5 = "str_rot13" nocase
    $decode_6 = "strrev" nocase
    $decode_7 = "hex2bin" nocase
    $decode_8 = "urldecode" nocase
    $decode_9 = "convert_uudecode" nocase
    $decode_10 = "frombase64string" nocase
    $decode_11 = "decodebuffer" nocase
    $decode_12 = "decodebase64" nocase
    $decode_13 = "atob" nocase
    $decode_14 = "decoder()" nocase
    $decode_15 = "H*"
    $chr_1 = /chr[wb]?\s{0,3}\(/ nocase
    $chr_2 = "fromcharcode" nocase
    $sprintf = "%c"
    $escapes_1 = /\\x[2-7][0-9a-fA-F]\\x[2-7]/
    $escapes_2 = /\\[01][0-7]{2}\\[01][0-7]/
    $escapes_3 = /\\u00[2-7][0-9a-fA-F]\\u00[2-7]/
    $escrun_1 = /(\\x[0-9a-fA-F]{2}){8}/
    $escrun_2 = /(\\[0-3][0-7]{2}){8}/
    $escapes_4 = "\\u{"
    $xor_1 = "'^"
    $xor_2 = "' ^"
    $xor_3 = "\"^"
    $xor_4 = "\" ^"
    $implode_1 = "implode" nocase
    $implode_2 = "join" nocase
    $str_replace = "replace(" nocase
    $concat_1 = "'.'"
    $concat_2 = "' . '"
    $concat_3 = "\".\""
    $concat_4 = "\" . \""
    $concat_5 = "\"&\""
    $concat_6 = "\" & \""
    $concat_7 = "\"+\""
    $concat_8 = "\" + \""
    $concat_9 = "'+'"
    $concat_10 = "' + '"
    $concat_11 = "\"&Chr" nocase
    $concat_12 = ") & \"" nocase
  condition:
    any of them
}
"""
_ALL_GATES = frozenset(
    {"decode", "chr", "sprintf", "escapes", "escrun", "xor", "implode", "str_replace", "concat"}
)


@cache
def _trigger_rules() -> yara.Rules:
    return yara.compile(source=TRIGGER_SOURCE)


def _quiet(*_args: object) -> int:
    return yara.CALLBACK_CONTINUE  # "too many matches": one match is all a gate needs


def triggers(data: bytes, deadline: float | None = None) -> frozenset[str]:
    """Which rewrites and decoders can apply to ``data`` (names of gates)."""
    try:
        left = 60 if deadline is None else math.ceil(deadline - time.monotonic())
        if left <= 0:
            return frozenset()
        hits = _trigger_rules().match(data=data, fast=True, timeout=left, warnings_callback=_quiet)
    except yara.TimeoutError:
        return frozenset()  # out of time: the caller's deadline stops the rest
    except yara.Error:
        return _ALL_GATES  # cannot tell: try everything, the bounds still hold
    if not hits:
        return frozenset()
    return gates_of(s.identifier for s in hits[0].strings)


def gates_of(identifiers: Iterable[str]) -> frozenset[str]:
    """The gates named by the string identifiers (``$decode_1``) of a trigger rule's match:
    each identifier without its ``$``, and its family without the number (``decode``)."""
    ids = {i[1:] for i in identifiers}
    return frozenset(ids | {i.rsplit("_", 1)[0] if i[-1].isdigit() else i for i in ids})


# The names each decoding trigger stands for: the patterns are tried only where they occur.
_WORDS_BY_TRIGGER: dict[str, tuple[bytes, ...]] = {
    "decode_1": (b"base64_decode",),
    "decode_2": (b"gzinflate",),
    "decode_3": (b"gzuncompress",),
    "decode_4": (b"gzdecode",),
    "decode_5": (b"str_rot13",),
    "decode_6": (b"strrev",),
    "decode_7": (b"hex2bin",),
    "decode_8": (b"rawurldecode", b"urldecode"),
    "decode_9": (b"convert_uudecode",),
    "decode_10": (b"frombase64string", b"convert"),
    "decode_11": (b"decodebuffer",),
    "decode_12": (b"decodebase64",),
    "decode_13": (b"atob",),
    "decode_14": (b"getdecoder", b"getmimedecoder", b"geturldecoder"),
    "decode_15": (b"pack",),
}


def decoder_words(gates: frozenset[str]) -> tuple[bytes, ...]:
    if gates is _ALL_GATES:
        return (*_DECODER_WORDS, b"pack")
    return tuple(w for trigger, words in _WORDS_BY_TRIGGER.items() if trigger in gates for w in words)


def normalise(
    data: bytes, budget: _Budget | None = None, gates: frozenset[str] | None = None
) -> tuple[tuple[str, ...], bytes] | None:
    """The normalised view of ``data`` and the step naming what was rewritten, or ``None``
    when nothing that looks like obfuscation was rewritten.

    Only the rewrites whose :func:`triggers` fired are tried, most only where their function
    name occurs: an ordinary file costs one fast scan."""
    r = _Rewriter()
    text = data
    gates = triggers(data) if gates is None else gates
    for _ in range(MAX_ROUNDS):
        if budget is not None and budget.expired():
            break
        before = text
        if "chr" in gates:
            text = _sub_at(_CHR, _CHR_WORDS, text, r.chr)
            text = _sub_at(_FROM_CHAR_CODE, (b"string",), text, r.from_char_code)
        if "sprintf" in gates:
            text = _sub_at(_SPRINTF, (b"sprintf",), text, r.sprintf)
        if "escapes" in gates:
            text = r.java_unicode(text)
            text = _ESCAPED_DQ.sub(r.escapes, text)
        if "xor" in gates:
            text = _XOR.sub(r.xor, text)
        if "implode" in gates:
            text = _sub_at(_IMPLODE, (b"implode", b"join"), text, r.implode)
        if "str_replace" in gates:
            text = _sub_at(_STR_REPLACE, (b"str_replace", b"str_ireplace"), text, r.str_replace)
        if "decode" in gates:
            text = _sub_at(_DECODE_INLINE, decoder_words(gates), text, r.decode_inline)
        if "concat" in gates or text != before:
            text = _CONCAT.sub(r.concat, text)
        if text == before or not r.suspicious:
            break
        # Rewrites enable each other (chr pieces joined, then str_rot13 of the join). They do
        # not create function names, so the gates stay; joins can create new concatenations.
        gates = gates | {"concat"}
    if text == data or not r.suspicious:
        return None
    return ("+".join(r.steps),), text


# --- PHP comments ---------------------------------------------------------------------------

_PHP_OPEN = re.compile(rb"<\?(?:php\b|=|(?=\s))", re.I)
# A string runs to its closing quote, or to the end of the file when it has none: a string left
# open must not make every later quote start a scan to the end (quadratic in the file).
_OPEN_STR = (
    rb"(?:'(?:[^'\\]++|\\.|\\\Z)*+(?:'|\Z)"
    rb"|\"(?:[^\"\\]++|\\.|\\\Z)*+(?:\"|\Z)"
    rb"|`(?:[^`\\]++|\\.|\\\Z)*+(?:`|\Z))"
)
_PHP_TOKEN = re.compile(
    rb"(?P<str>" + _OPEN_STR + rb")"
    rb"|(?P<heredoc><<<[ \t]*(?P<q>['\"]?)(?P<id>[A-Za-z_][A-Za-z0-9_]*)(?P=q)\r?\n)"
    rb"|(?P<line>(?://|\#(?!\[))(?:[^\n?]++|\?(?!>))*+)"
    rb"|(?P<block>/\*.*?(?:\*/|\Z))"
    rb"|(?P<close>\?>)",
    re.S,
)


def strip_php_comments(data: bytes) -> bytes | None:
    """``data`` without the comments of its PHP code (``//``, ``#``, ``/* */``), strings and
    heredocs kept, text outside ``<?php ... ?>`` kept. ``None`` when there is no PHP code or
    no comment. A tokenizer in miniature: enough to tell a comment from a string."""
    m = _PHP_OPEN.search(data)
    if m is None:
        return None
    out = bytearray()
    pos = 0
    removed = False
    n = len(data)
    while pos < n:
        opened = _PHP_OPEN.search(data, pos)
        if opened is None:
            out += data[pos:]
            break
        out += data[pos : opened.end()]
        pos = opened.end()
        while pos < n:  # inside PHP code
            t = _PHP_TOKEN.search(data, pos)
            if t is None:
                out += data[pos:]
                pos = n
                break
            out += data[pos : t.start()]
            kind = "heredoc" if t.group("heredoc") is not None else t.lastgroup
            if kind == "str":
                out += t.group(0)
                pos = t.end()
            elif kind == "heredoc":
                end = re.compile(rb"^[ \t]*" + re.escape(t.group("id")) + rb"\b", re.M).search(data, t.end())
                stop = end.end() if end else n
                out += data[t.start() : stop]
                pos = stop
            elif kind in ("line", "block"):
                out += b" "
                removed = True
                pos = t.end()
            else:  # ?>: back to text outside PHP
                out += t.group(0)
                pos = t.end()
                break
    return bytes(out) if removed else None
