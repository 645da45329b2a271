"""PHP comments stripped: ``eval($_POST[...])`` inside a comment is not a shell."""

from __future__ import annotations

import re

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
    if b"//" not in data and b"#" not in data and b"/*" not in data:
        return None  # every comment opens with one of these: no tokenizing needed
    return _tokenize(data)


def _tokenize(data: bytes) -> bytes | None:
    """:func:`strip_php_comments` without its quick check for comment openers."""
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
