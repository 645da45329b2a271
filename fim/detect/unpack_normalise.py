"""The normalised view: names spelled in pieces (``chr()``, escapes, concatenation, XOR...)
written out as one literal, so the rules see what a reader of the code would."""

from __future__ import annotations

import re

from fim.detect.unpack_decoders import _NAMES, _call_steps, apply_calls, decoder_words, hexdecode
from fim.detect.unpack_text import (
    _DQ_ESCAPE,
    MAX_INLINE,
    MAX_PIECE,
    MAX_ROUNDS,
    MIN_BLOB,
    SHORT,
    _Budget,
    _escape_value,
    _sub_at,
    literal_value,
    quote,
)
from fim.detect.unpack_triggers import triggers

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
