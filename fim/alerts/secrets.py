"""Secrets (webhook URLs, tokens in apprise URLs, SMTP passwords, HMAC keys): where they come
from, and a :class:`Masker` that keeps them out of every log line and error message."""

from __future__ import annotations

import os
import re
from urllib.parse import parse_qsl, unquote, urlsplit

MASK = "***"
_MIN_FRAGMENT = 4  # shorter pieces (ports, "www") are not worth masking and would mangle messages


class SecretError(ValueError):
    """A secret could not be read. The message names the source, never the value."""


def read_secret(inline: str, file: str, env: str, key: str) -> str:
    """The value of ``key``: from a file (whole content, stripped), a variable, or inline."""
    if file:
        try:
            with open(file, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise SecretError(f"{key}_file: cannot read {file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise SecretError(f"{key}_file: {file} is not UTF-8 text") from None
    if env:
        value = os.environ.get(env)
        if not value:
            raise SecretError(f"{key}_env: the environment variable {env} is not set")
        return value.strip()
    return inline


def url_lines(text: str) -> list[str]:
    """Apprise URLs from a file or variable: one per line (or separated by spaces), # comments."""
    urls = []
    for line in text.splitlines():
        line = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
        urls.extend(line.split())
    return urls


def url_fragments(url: str) -> list[str]:
    """The pieces of a URL that may be secret: the whole URL, credentials, path tokens, query values."""
    pieces = [url]
    try:
        parts = urlsplit(url)
        pieces += [parts.username or "", parts.password or ""]
        pieces += [unquote(p) for p in parts.path.split("/")]
        pieces += [p for p in parts.path.split("/")]
        pieces += [v for _k, v in parse_qsl(parts.query)]
        # apprise takes tokens in the host position too (slack://TokenA/TokenB/...)
        host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
        if "." not in host and host.lower() != "localhost":
            pieces.append(host)
    except ValueError:
        pass
    return pieces


class Masker:
    """Replaces every known secret fragment in a text with ``***``."""

    def __init__(self, secrets: list[str] | None = None):
        self._fragments: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for s in secrets or ():
            self.add(s)

    def add(self, secret: str, *, url: bool = False) -> None:
        for piece in url_fragments(secret) if url else [secret]:
            if piece and len(piece) >= _MIN_FRAGMENT:
                self._fragments.add(piece)
        ordered = sorted(self._fragments, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in ordered)) if ordered else None

    def mask(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern else text
