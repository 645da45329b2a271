"""The signature-free detectors behind the upload-area policy (see :mod:`fim.policy`).

Each detector looks at one file — its path below the upload area, its first bytes, its size —
and returns a short detail for people (``None`` when it has nothing to say). They never read
the file themselves: the inspector read it once and hands the bytes over.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from fim.core import paths
from fim.detect import magic

# Bump when a detector's behaviour changes: files are then examined again.
DETECTORS_VERSION = "policy-detectors-1"


@dataclass(frozen=True, slots=True)
class Subject:
    """What a detector may look at. ``rest`` is the path below the upload area's root."""

    path: bytes
    rest: bytes
    head: bytes  # the whole content, or its first bytes when ``complete`` is false
    size: int
    nlink: int = 1

    @property
    def name(self) -> bytes:
        return paths.basename(self.path)

    @property
    def complete(self) -> bool:
        return len(self.head) >= self.size


# -- script by content ---------------------------------------------------------------------------

# <?php needs whitespace (or the end) after it; <?= and <? are short tags; <% is ASP/JSP.
_OPEN_TAGS = re.compile(rb"<\?php(?=\s|\Z)|<\?=|<\?(?=[\s$@(])|<%", re.IGNORECASE)
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D}
_CODE_CHARS = frozenset(b"$();\"'=`.")


def _looks_like_code(data: bytes, start: int, closer: bytes) -> bool:
    """After a short tag, is there code, or just bytes that happen to read ``<?=``?

    Random binary data (a large JPEG) contains ``<%`` every 64 KiB on average; code is a run
    of printable characters with some punctuation, up to the closing tag or the end.
    """
    window = data[start : start + 256]
    end = len(window)
    for i, byte in enumerate(window):
        if byte not in _PRINTABLE:
            end = i
            break
    span = window[:end]
    closed = span.find(closer)
    if closed >= 0:
        span = span[:closed]
    if not span.strip() or not _CODE_CHARS.intersection(span):
        return False
    return closed >= 0 or start + end >= len(data) or len(span) >= 16


# Static assets where "<%" is a template delimiter (lodash, EJS), never ASP or JSP. PHP tags
# still count there: a file included through a PHP include runs whatever its name.
_STATIC_TEXT = frozenset({b".js", b".mjs", b".cjs", b".css", b".map", b".json"})


def find_script(head: bytes, name: bytes = b"") -> str | None:
    asp = paths.extension(name) not in _STATIC_TEXT
    if head.startswith(b"#!") and head[2:].lstrip(b" \t")[:1] == b"/":
        line = head.split(b"\n", 1)[0][:60]
        return f"interpreter line {paths.display(line)!r}"
    for m in _OPEN_TAGS.finditer(head):
        tag = m.group().lower()
        if tag == b"<%" and not asp:
            continue
        if tag == b"<?php" or _looks_like_code(head, m.end(), b"%>" if tag == b"<%" else b"?>"):
            kind = "ASP/JSP" if tag == b"<%" else "PHP"
            return f"{kind} open tag {tag.decode()!r} at byte {m.start()}"
    return None


# A line comment ends at the line's end or at "?>", which leaves PHP mode (and may be followed
# by more code): "// x ?><?php system(...)" is not a comment.
_PHP_COMMENTS = re.compile(rb"/\*.*?\*/|(?://|#)(?:(?!\?>)[^\n])*", re.DOTALL)
_INERT_STATEMENTS = re.compile(
    rb"header\(\s*'[^'\\]*'(?:\s*\.\s*gmdate\(\s*'[^'\\]*'\s*\)\s*\.\s*'[^'\\]*')?"
    rb"(?:\s*,\s*(?:true|false))?\s*\)\s*;"
    rb"|(?:exit|die)\s*(?:\(\s*\))?\s*;?",
    re.IGNORECASE,
)


def harmless_php(subject: Subject) -> bool:
    """A PHP file that can do nothing: only comments ("Silence is golden"), or the header()
    redirects PrestaShop puts in every folder. Such files are common in upload areas."""
    if not subject.complete or subject.size > 4096:
        return False
    text = subject.head.strip()
    if not text.lower().startswith(b"<?php"):
        return False
    code = _PHP_COMMENTS.sub(b"", text[5:])
    code = code.strip()
    if code.endswith(b"?>"):
        code = code[:-2]
    if b"<?" in code or b"?>" in code:
        return False
    return not _INERT_STATEMENTS.sub(b"", code).strip()


# -- names ---------------------------------------------------------------------------------------

EXECUTABLE_EXTENSIONS = frozenset(
    b"php php2 php3 php4 php5 php6 php7 php8 phtml pht phar phps pgif inc "
    b"shtml shtm stm cgi fcgi pl py rb jsp jspx jspf jsw jsv "
    b"asp aspx asa ashx asmx ascx axd cer cdx soap rem svc".split()
)


def find_executable_extension(name: bytes) -> str | None:
    parts = name.lower().split(b".")[1:]  # the stem is not an extension; ".php" has stem ""
    for index, part in enumerate(parts):
        if part in EXECUTABLE_EXTENSIONS:
            ext = "." + part.decode()
            if index == len(parts) - 1:
                return f"extension {ext} is executed by web servers"
            return f"extension {ext} is executed by web servers (double extension)"
    return None


OVERRIDE_NAMES = frozenset({b".htaccess", b".user.ini", b"php.ini", b"web.config"})


def find_hidden(rest: bytes) -> str | None:
    parts = [p for p in rest.split(b"/") if p]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part.startswith(b".") and not (last and part in OVERRIDE_NAMES):
            what = "name" if last else "folder"
            return f"hidden {what} {paths.display(part)!r} (leading dot)"
    return None


_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def find_unsafe_name(rest: bytes) -> str | None:
    text = rest.decode("utf-8", "surrogateescape")
    for ch in text:
        code = ord(ch)
        if ch in _BIDI:
            return f"name contains the bidirectional control U+{code:04X} ({unicodedata.name(ch, '?')})"
        if code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
            return f"name contains the control character U+{code:04X}"
    return None


# -- content that is not what its name claims ----------------------------------------------------


def sniff(head: bytes) -> str:
    """What the content looks like, in words, for a description."""
    if find_script(head):
        return "it holds a script"
    lowered = head[:1024].lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<script")):
        return "it looks like HTML"
    if head.startswith(b"\x7fELF"):
        return "it is a Linux program"
    if head.startswith(b"MZ"):
        return "it looks like a Windows program"
    for label, test in magic.BY_EXTENSION.values():
        if test(head):
            return f"it looks like {label}"
    sample = head[:512]
    if sample and all(b in _PRINTABLE or b >= 0x80 for b in sample):
        return "it is text"
    return "unknown binary data"


def find_disguised(subject: Subject) -> str | None:
    ext = paths.extension(subject.name)
    known = magic.BY_EXTENSION.get(ext)
    if known is None or subject.size == 0:
        return None
    label, test = known
    if test(subject.head):
        return None
    return f"named {ext.decode()} but not {label} ({sniff(subject.head)})"


_SVG_ACTIVE = re.compile(rb"<script|javascript:|<foreignobject|<iframe|<embed|\son[a-z]+\s*=", re.IGNORECASE)


def find_svg_script(subject: Subject) -> str | None:
    head = subject.head
    if paths.extension(subject.name) != b".svg" and not magic.is_svg(head):
        return None
    m = _SVG_ACTIVE.search(head)
    if m is None:
        return None
    return f"SVG with active content {paths.display(m.group().strip())!r} (runs in the visitor's browser)"


# -- handler overrides ---------------------------------------------------------------------------

# Handlers and types that make a web server execute a file.
_EXEC_HANDLER = re.compile(rb"php|x-httpd|cgi|proxy:|server-parsed|perl|python|lsapi|jsp|asp", re.IGNORECASE)


def _dangerous_htaccess_line(line: bytes, no_exec_cgi: bool) -> bool:
    words = line.split()
    if not words:
        return False
    directive = words[0].lower()
    args = b" ".join(words[1:])
    if directive in (b"addtype", b"forcetype", b"sethandler", b"addhandler"):
        if directive == b"addhandler" and args.lower().startswith(b"cgi-script") and no_exec_cgi:
            return False  # the usual "treat scripts as CGI, and CGI is off" protection
        return bool(_EXEC_HANDLER.search(args))
    if directive in (b"action", b"php_value", b"php_admin_value", b"addoutputfilter", b"scriptalias"):
        return True
    if directive in (b"php_flag", b"php_admin_flag"):
        return not (len(words) >= 3 and words[1].lower() == b"engine" and words[2].lower() in (b"off", b"0"))
    if directive == b"options":
        return any(w.lstrip(b"+").lower() in (b"execcgi", b"includes") for w in words[1:] if w[:1] != b"-")
    return False


def find_handler_override(subject: Subject) -> str | None:
    name = subject.name
    if name not in OVERRIDE_NAMES:
        return None
    if name != b".htaccess":
        return f"{name.decode()} overrides server or PHP settings for this folder"
    lines = [raw.strip() for raw in subject.head.splitlines()]
    lines = [line for line in lines if line and not line.startswith(b"#")]
    no_exec_cgi = any(
        line.lower().split()[:1] == [b"options"] and b"-execcgi" in line.lower() for line in lines
    )
    for line in lines:
        if _dangerous_htaccess_line(line, no_exec_cgi):
            shown = paths.display(line[:100])
            return f".htaccess changes what the server executes: {shown!r}"
    return None  # only protective or neutral directives (deny, php_flag engine off, MIME types...)


def find_elf(head: bytes) -> str | None:
    return "a Linux program (ELF executable)" if head.startswith(b"\x7fELF") else None


# name -> (what the check forbids, for documentation; detector)
def find_hardlink(subject: Subject) -> str | None:
    """A customer may link a file from outside the watched tree into an upload area, then write
    it through the outside name: no event names the inside path. Such files are reported, and the
    daemon looks at them again on every periodic rescan."""
    if subject.nlink > 1:
        return f"{subject.nlink} names; its other names may be outside the watched tree"
    return None


CHECKS: dict[str, tuple[str, Callable[[Subject], str | None]]] = {
    "script": (
        "a script by content (<?php, <?=, <? , <%, #!) whatever its name",
        lambda s: None if harmless_php(s) else find_script(s.head, s.name),
    ),
    "executable_extension": (
        "a name with an extension web servers execute, anywhere in it (x.php.jpg)",
        lambda s: None if harmless_php(s) else find_executable_extension(s.name),
    ),
    "disguised": ("content that is not what its extension claims (an image that is not one)", find_disguised),
    "svg_script": ("an SVG image carrying script or event handlers", find_svg_script),
    "handler_override": (
        ".htaccess that makes files executable, .user.ini, php.ini, web.config",
        find_handler_override,
    ),
    "hidden": ("a hidden file or folder (leading dot)", lambda s: find_hidden(s.rest)),
    "unsafe_name": ("a name with bidi overrides or control characters", lambda s: find_unsafe_name(s.rest)),
    "elf": ("a Linux program (ELF)", lambda s: find_elf(s.head)),
    "hardlink": (
        "a file with several names (hard links): it can change through a name not watched",
        find_hardlink,
    ),
}
