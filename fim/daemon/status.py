"""The status document: what the daemon says about itself, read by ``fim status``.

The daemon rewrites it every few seconds (and at once on a change of health) as a private
(0600: it names customers) JSON file next to the database. Readers are tolerant: a document
from an older or newer version, with keys missing or unknown, still reads.
"""

from __future__ import annotations

import errno
import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from fim.config import loader as config_mod
from fim.config.loader import Config
from fim.core import locations, statefiles


def status_path(config: Config) -> Path:
    """Where the daemon of ``config`` keeps its status document."""
    return locations.status_path(config_mod.database_path(config), config.daemon.status_file)


@dataclass(frozen=True)
class WalkSummary:
    """The last walk the daemon finished: its kind, when, and its statistics (ScanStats)."""

    kind: str
    started: float
    finished: float
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "started": self.started,
            "finished": self.finished,
            "stats": dict(self.stats),
        }

    @classmethod
    def from_json(cls, doc: object) -> WalkSummary | None:
        if not isinstance(doc, dict) or not doc:
            return None
        stats = doc.get("stats")
        return cls(
            kind=str(doc.get("kind", "")),
            started=_number(doc.get("started")),
            finished=_number(doc.get("finished")),
            stats=stats if isinstance(stats, dict) else {},
        )


@dataclass(frozen=True)
class StatusDocument:
    """One snapshot of the daemon's state; the defaults describe a daemon never seen running.

    The JSON keys are the field names, in this order (``fim status --format json`` shows them).
    """

    pid: int | None = None
    version: str = ""
    state: str = "unknown"  # starting | running | degraded | stopped (unknown: no document)
    degraded: dict[str, str] = field(default_factory=dict)  # cause -> reason, empty when healthy
    started: float = 0.0
    updated: float = 0.0
    ruleset: str = ""
    watched_roots: tuple[str, ...] = ()
    rescan_only_roots: dict[str, str] = field(default_factory=dict)  # roots and directories -> why
    skipped_roots: dict[str, str] = field(default_factory=dict)  # refused root matches -> why
    rescan_only_directories: int = 0
    directories_walked: int = 0
    queue_depth: int = 0
    walks_in_progress: tuple[str, ...] = ()
    events_seen: int = 0
    last_catchup: WalkSummary | None = None
    last_error: str = ""
    inotify: dict[str, int | None] = field(default_factory=dict)
    hint: str = ""
    events: str = ""  # the event source running: fanotify | inotify
    events_reason: str = ""  # why that one (daemon.events, and what auto found)
    coverage: str = ""  # what the source covers ("1,204 directories watched")

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, dict):
                value = dict(value)
            elif isinstance(value, WalkSummary):
                value = value.to_json()
            elif value is None and f.name == "last_catchup":
                value = {}
            doc[f.name] = value
        return doc

    @classmethod
    def from_json(cls, doc: object) -> StatusDocument:
        """The document ``doc`` describes; keys missing or of the wrong type take their default,
        unknown keys are ignored."""
        if not isinstance(doc, dict):
            return cls()
        values: dict[str, Any] = {}
        for name, kind in _KINDS.items():
            value = doc.get(name)
            if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
                values[name] = tuple(value) if isinstance(value, list) else value
        pid = doc.get("pid")
        if isinstance(pid, int) and not isinstance(pid, bool):
            values["pid"] = pid
        values["last_catchup"] = WalkSummary.from_json(doc.get("last_catchup"))
        return cls(**values)

    def write(self, path: Path) -> None:
        """Replace the file at ``path`` atomically, private to fim (0600). On a full disk, where
        a new file finds no room, overwrite it in place. Raises OSError when neither works."""
        text = json.dumps(self.to_json(), indent=1)
        try:
            statefiles.write_private(path, text.encode())
        except OSError as exc:
            if exc.errno == errno.ENOSPC and _rewrite_in_place(path, text):
                return  # a full disk: the status must still say so
            raise

    @classmethod
    def read(cls, path: Path) -> StatusDocument:
        """The document at ``path``; the default (state "unknown") when missing or unreadable."""
        try:
            return cls.from_json(json.loads(path.read_text()))
        except (OSError, ValueError):
            return cls()


# The JSON type each key must have to be taken (pid and last_catchup are read apart).
_KINDS: dict[str, type | tuple[type, ...]] = {
    "version": str,
    "state": str,
    "degraded": dict,
    "started": (int, float),
    "updated": (int, float),
    "ruleset": str,
    "watched_roots": list,
    "rescan_only_roots": dict,
    "skipped_roots": dict,
    "rescan_only_directories": int,
    "directories_walked": int,
    "queue_depth": int,
    "walks_in_progress": list,
    "events_seen": int,
    "last_error": str,
    "inotify": dict,
    "hint": str,
    "events": str,
    "events_reason": str,
    "coverage": str,
}


def _number(value: object) -> float:
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _rewrite_in_place(path: Path, text: str) -> bool:
    """Overwrite ``path`` in place (not atomic): on a full disk the pages it frees when
    truncated hold the new text, where a new file finds no room."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        os.ftruncate(fd, 0)
        data = text.encode()
        while data:
            data = data[os.write(fd, data) :]
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
