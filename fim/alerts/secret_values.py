"""Secrets (webhook URLs, tokens in apprise URLs, SMTP passwords, HMAC keys): where they come
from, and a :class:`Masker` that keeps them out of every log line and error message."""

from __future__ import annotations

import hashlib
import os
import re
from urllib.parse import parse_qsl, unquote, urlsplit

from fim.core.errors import FimError

MASK = "***"
_MIN_SECRET = 4  # a password or key shorter than this would mangle every message it occurs in
_MIN_TOKEN = 8  # a URL path part or query value this long, with a digit, may be a token


class SecretError(FimError, ValueError):
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


_SECRET_KEYS = re.compile(r"pass|pwd|token|key|secret|auth|sig", re.IGNORECASE)


def _looks_like_token(text: str) -> bool:
    """Long, or with a digit: tokens and ids. Ordinary path words ("services", "hooks") are not."""
    return len(text) >= 20 or (len(text) >= _MIN_TOKEN and any(c.isdigit() for c in text))


def url_fragments(url: str) -> list[str]:
    """The pieces of a URL that may be secret: the whole URL, credentials, tokens in the path or
    the query (and in the host position, where apprise takes them: ``slack://TokenA/...``)."""
    pieces = [url]
    try:
        parts = urlsplit(url)
    except ValueError:
        return pieces
    pieces += [s for s in (parts.username, parts.password) if s and len(s) >= _MIN_SECRET]
    tokens = list(parts.path.split("/"))
    for key, value in parse_qsl(parts.query):
        if _SECRET_KEYS.search(key) and len(value) >= _MIN_SECRET:
            pieces.append(value)
        else:
            tokens.append(value)
    host = parts.netloc.rsplit("@", 1)[-1].split(":", 1)[0]
    if "." not in host and host.lower() != "localhost":
        tokens.append(host)
    else:  # a token can be a host label too: https://<token>.hooks.example.net/
        tokens.extend(host.split("."))
    for token in tokens:
        pieces += [t for t in {token, unquote(token)} if _looks_like_token(t)]
    return pieces


def shown_url(url: str) -> str:
    """A URL for people to read when any part of it may be a secret (userinfo, a host label,
    the path, the query): its scheme and a short fingerprint that tells URLs apart. The
    fingerprint has 24 bits only, too few to confirm a guessed password offline."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else "?"
    if not scheme.replace("+", "").replace("-", "").replace(".", "").isalnum():
        scheme = "?"
    digest = hashlib.sha256(url.encode("utf-8", "surrogateescape")).hexdigest()[:6]
    return f"{scheme}://... (url {digest})"


class Masker:
    """Replaces every known secret fragment in a text with ``***``."""

    def __init__(self, secrets: list[str] | None = None):
        self._fragments: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for s in secrets or ():
            self.add(s)

    def add(self, secret: str, *, url: bool = False) -> None:
        for piece in url_fragments(secret) if url else [secret]:
            if len(piece) >= _MIN_SECRET:
                self._fragments.add(piece)
        ordered = sorted(self._fragments, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(f) for f in ordered)) if ordered else None

    def mask(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern else text


def one_source(inline_key: str, inline: bool, from_file: str, from_env: str) -> list[str]:
    """Problems with where a value comes from: exactly one of inline, ``*_file``, ``*_env``."""
    given = sum(map(bool, (inline, from_file, from_env)))
    if given == 0:
        return [f"{inline_key}: required (or {inline_key.rstrip('s')}_file / url_env)"]
    if given > 1:
        return [f"{inline_key}: give only one of {inline_key}, url_file, url_env"]
    return []
