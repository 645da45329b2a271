"""Magic bytes: what a file's first bytes say it is, whatever its name claims.

One table serves the upload policy (a ``.jpg`` that is not a JPEG is disguised) and the coarse
``filetype`` external that rule sets expect (``filetype == "GIF"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable


def is_jpeg(h: bytes) -> bool:
    return h.startswith(b"\xff\xd8\xff")


def is_png(h: bytes) -> bool:
    return h.startswith(b"\x89PNG\r\n\x1a\n")


def is_gif(h: bytes) -> bool:
    return h[:6] in (b"GIF87a", b"GIF89a")


def is_webp(h: bytes) -> bool:
    return h[:4] == b"RIFF" and h[8:12] == b"WEBP"


def is_bmp(h: bytes) -> bool:
    return h[:2] == b"BM" and len(h) >= 26


def is_ico(h: bytes) -> bool:
    return h[:4] in (b"\x00\x00\x01\x00", b"\x00\x00\x02\x00")


def is_tiff(h: bytes) -> bool:
    return h[:4] in (b"II*\x00", b"MM\x00*")


def is_isobmff(h: bytes) -> bool:  # AVIF, HEIC
    return h[4:8] == b"ftyp"


def is_pdf(h: bytes) -> bool:
    return b"%PDF-" in h[:1024]  # readers accept up to 1 KiB of junk before the header


def is_zip(h: bytes) -> bool:
    return h[:4] in (b"PK\x03\x04", b"PK\x05\x06")


_SVG_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<(?:\?xml|svg|!--|!doctype\s+svg)", re.IGNORECASE)


def is_svg(h: bytes) -> bool:
    return bool(_SVG_START.match(h)) and b"<svg" in h.lower()


BY_EXTENSION: dict[bytes, tuple[str, Callable[[bytes], bool]]] = {
    b".jpg": ("a JPEG image", is_jpeg),
    b".jpeg": ("a JPEG image", is_jpeg),
    b".jpe": ("a JPEG image", is_jpeg),
    b".jfif": ("a JPEG image", is_jpeg),
    b".png": ("a PNG image", is_png),
    b".gif": ("a GIF image", is_gif),
    b".webp": ("a WebP image", is_webp),
    b".bmp": ("a BMP image", is_bmp),
    b".ico": ("an icon", is_ico),
    b".tif": ("a TIFF image", is_tiff),
    b".tiff": ("a TIFF image", is_tiff),
    b".avif": ("an AVIF image", is_isobmff),
    b".heic": ("a HEIC image", is_isobmff),
    b".svg": ("an SVG image", is_svg),
    b".pdf": ("a PDF document", is_pdf),
    b".zip": ("a ZIP archive", is_zip),
    b".docx": ("a Word document", is_zip),
    b".xlsx": ("an Excel document", is_zip),
    b".pptx": ("a PowerPoint document", is_zip),
    b".odt": ("an OpenDocument file", is_zip),
}


def is_gzip(h: bytes) -> bool:
    return h[:2] == b"\x1f\x8b"


def is_elf(h: bytes) -> bool:
    return h[:4] == b"\x7fELF"


def is_pe(h: bytes) -> bool:
    return h[:2] == b"MZ"


# Order matters: the first that matches names the file.
_FILETYPES: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("GIF", is_gif),
    ("JPEG", is_jpeg),
    ("PNG", is_png),
    ("WEBP", is_webp),
    ("ICO", is_ico),
    ("BMP", is_bmp),
    ("PDF", is_pdf),
    ("ZIP", is_zip),
    ("GZIP", is_gzip),
    ("ELF", is_elf),
    ("PE", is_pe),
)


# First bytes of every type above but PDF (whose header may follow junk): for any other first
# byte (text, scripts: most files) only PDF needs a look. Runs once per file inspected.
_FIRST_BYTES = frozenset(b"G\xff\x89R\x00BP\x1f\x7fM")


def filetype(head: bytes) -> str:
    """A coarse type from magic bytes, as public rule sets expect in ``filetype`` ("" if none)."""
    if head and head[0] not in _FIRST_BYTES:
        return "PDF" if is_pdf(head) else ""
    for name, test in _FILETYPES:
        if test(head):
            return name
    return ""
