"""Which customer a file belongs to: by path pattern first, then by owner."""

from __future__ import annotations

import pwd
import re
from collections.abc import Sequence

from fim.core import paths
from fim.core.errors import FimError


class TenantPatternError(FimError, ValueError):
    """A tenant path pattern cannot name a tenant (the config validator reports it by key)."""


def _compile(pattern: str) -> re.Pattern[bytes]:
    if "{tenant}" not in pattern:
        raise TenantPatternError(f"tenant pattern {pattern!r} has no {{tenant}} placeholder")
    out = b"^"
    for part in re.split(r"(\{tenant\}|\*\*|\*)", pattern):
        if part == "{tenant}":
            out += rb"(?P<tenant>[^/]+)"
        elif part == "**":
            out += rb".*"
        elif part == "*":
            out += rb"[^/]*"
        else:
            out += re.escape(part.encode())
    return re.compile(out, re.DOTALL)


class Owners:
    """uid -> user name, cached per instance (user databases can be slow: NSS, LDAP)."""

    def __init__(self) -> None:
        self._names: dict[int, str] = {}

    def name(self, uid: int) -> str:
        name = self._names.get(uid)
        if name is None:
            try:
                name = pwd.getpwuid(uid).pw_name
            except (KeyError, OverflowError):
                name = str(uid)
            self._names[uid] = name
        return name


class TenantResolver:
    """Attribute a path to a tenant. Patterns look like ``/home/{tenant}/`` (``*`` allowed)."""

    def __init__(
        self,
        patterns: Sequence[str],
        *,
        from_owner: bool = True,
        min_uid: int = 1000,
        owners: Owners | None = None,
    ):
        self._patterns = [_compile(p) for p in patterns]
        self._from_owner = from_owner
        self._min_uid = min_uid
        self._owners = owners or Owners()

    def tenant(self, path: bytes, uid: int | None) -> str | None:
        for pattern in self._patterns:
            m = pattern.match(path)
            if m:
                return paths.display(m.group("tenant"))
        if self._from_owner and uid is not None and uid >= self._min_uid and uid != 65534:
            return paths.display(self._owners.name(uid))
        return None
