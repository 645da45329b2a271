"""Known-bad and known-good hash lists: plain text, one SHA-256 or MD5 a line, ``#`` comments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from fim.core.errors import FimError
from fim.core.model import RuleMatch, Severity

_HEX = re.compile(r"^[0-9a-fA-F]+$")


class HashListError(FimError):
    """A hash list file is unreadable or has a bad line; the message names the file and line."""


@dataclass(frozen=True)
class HashLists:
    """Lookup tables. ``bad`` maps a hash to the label given after it on its line."""

    bad: dict[str, str] = field(default_factory=dict)
    good: frozenset[str] = frozenset()
    raw: tuple[bytes, ...] = ()  # the files' contents, folded into the rule-set version

    @property
    def needs_md5(self) -> bool:
        return any(len(h) == 32 for h in self.bad) or any(len(h) == 32 for h in self.good)

    def is_good(self, sha256: str | None, md5: str | None) -> bool:
        return (sha256 in self.good) or (md5 is not None and md5 in self.good)

    def bad_match(self, sha256: str | None, md5: str | None) -> RuleMatch | None:
        for digest in (sha256, md5):
            if digest is not None and digest in self.bad:
                label = self.bad[digest]
                return RuleMatch(
                    rule="known_bad_hash",
                    ruleset="hashlist",
                    severity=Severity.CRITICAL,
                    description=f"content is on a known-bad hash list{': ' + label if label else ''}",
                    family="hashlist",
                )
        return None


def parse(text: str, source: str) -> dict[str, str]:
    """Return ``{hash: label}``; raise naming the file and line of the first bad line."""
    entries: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        digest, _, label = body.partition(" ")
        if not _HEX.match(digest) or len(digest) not in (32, 64):
            raise HashListError(
                f"{source}:{lineno}: expected a SHA-256 (64 hex digits) or MD5 (32 hex digits), "
                f"got {digest[:80]!r}"
            )
        entries[digest.lower()] = label.strip()
    return entries


def load(bad_files: Iterable[str], good_files: Iterable[str]) -> HashLists:
    bad: dict[str, str] = {}
    good: set[str] = set()
    raw: list[bytes] = []
    for files, into_bad in ((bad_files, True), (good_files, False)):
        for path in files:
            try:
                with open(path, "rb") as fh:
                    content = fh.read()
            except OSError as exc:
                raise HashListError(f"{path}: cannot read hash list: {exc.strerror}") from None
            raw.append(b"bad\0" + content if into_bad else b"good\0" + content)
            entries = parse(content.decode("utf-8", "replace"), path)
            if into_bad:
                bad.update(entries)
            else:
                good.update(entries)
    return HashLists(bad=bad, good=frozenset(good), raw=tuple(raw))
