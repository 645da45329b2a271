"""The decoders of the unpacking stage: decoding calls on literals (``base64_decode``,
``gzinflate``...), long base64/hex runs and escape runs, each bounded by the output budget."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import urllib.parse
import zlib
from collections.abc import Callable, Iterator

from fim.detect.unpack_text import LITERAL, MIN_BLOB, _Budget, _matches_at, literal_value, unescape
from fim.detect.unpack_triggers import _ALL_GATES

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


def has_long_run(data: bytes) -> bool:
    """Whether ``data`` holds a run :func:`_long_blobs` would look at (a cheaper superset:
    runs it drops after stripping are counted too)."""
    return data.translate(_B64_TABLE).find(b"A" * MIN_BLOB) >= 0


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
