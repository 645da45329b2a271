"""Where fim keeps its state: one place decides every default path.

The state directory follows systemd's ``StateDirectory=`` when set, ``/var/lib/fim`` for root,
and the XDG state home for anyone else; the database, the status document, the compiled-rule
cache and the quarantine live under it unless the configuration names them.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_state_dir() -> Path:
    """systemd's StateDirectory= when set, /var/lib/fim for root, else the XDG state home."""
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    if os.geteuid() == 0:
        return Path("/var/lib/fim")
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local/state")
    return Path(base) / "fim"


def database_path(configured: str = "") -> Path:
    return Path(configured) if configured else default_state_dir() / "fim.db"


def status_path(database: Path, configured: str = "") -> Path:
    """The daemon's status document: next to its database unless configured."""
    return Path(configured) if configured else database.parent / "status.json"


def cache_dir(database: Path | None, configured: str = "") -> Path:
    """The compiled-rule cache: next to the database (the state directory without one)."""
    if configured:
        return Path(configured)
    return (database.parent if database is not None else default_state_dir()) / "cache"


def quarantine_dir(configured: str = "") -> bytes:
    return os.fsencode(configured) if configured else os.fsencode(default_state_dir() / "quarantine")
