"""The core value types that flow through the pipeline. All frozen; paths are bytes."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """Ordered so that ``max()`` and ``>=`` comparisons mean "worse"."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of {names})") from None

    def __str__(self) -> str:
        return self.name.lower()


NO_TENANT = "(no tenant)"  # how a finding outside every tenant is listed


class Change(enum.StrEnum):
    """How a file differs from the baseline."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    DELETED = "deleted"


class Status(enum.StrEnum):
    """What the inspector could do with a path."""

    READ = "read"  # content read, hashed and matched
    UNCHANGED = "unchanged"  # stat identity and rule-set version matched the baseline: not read
    TOO_LARGE = "too_large"  # hashed, not matched
    SPECIAL = "special"  # FIFO, socket, device: never opened for reading
    SYMLINK = "symlink"  # never followed; counted, not listed (they are common and harmless)
    VANISHED = "vanished"  # gone or replaced between listing and reading
    ERROR = "error"  # unreadable (permission, I/O error...)


@dataclass(frozen=True, slots=True)
class FileState:
    """What fim knows about one file: its stat identity and, when read, its hashes."""

    path: bytes
    dev: int
    ino: int
    size: int
    mode: int
    uid: int
    gid: int
    mtime_ns: int
    ctime_ns: int
    sha256: str | None = None
    md5: str | None = None
    nlink: int = 1  # names of the inode: > 1 means it can be written through a name we do not watch


@dataclass(frozen=True, slots=True)
class StringHit:
    """One matched string of a rule: where it is, what it matched (shown escaped, never raw)."""

    identifier: str
    offset: int
    data: bytes


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One detection on one file, from a YARA rule, a hash list or a policy."""

    rule: str
    ruleset: str  # YARA namespace, "hashlist" or "policy"
    severity: Severity
    description: str = ""
    family: str = ""
    strings: tuple[StringHit, ...] = ()
    # The decoders that led to the layer the rule matched ("base64>gzinflate"); "" when the
    # rule matched the file as stored.
    chain: str = ""

    def to_record(self) -> dict:
        """The JSON-safe form kept in the baseline (matched strings are not kept)."""
        record = {
            "rule": self.rule,
            "ruleset": self.ruleset,
            "severity": str(self.severity),
            "description": self.description,
            "family": self.family,
        }
        if self.chain:
            record["chain"] = self.chain
        return record

    @classmethod
    def from_record(cls, record: dict) -> RuleMatch:
        return cls(
            rule=record["rule"],
            ruleset=record["ruleset"],
            severity=Severity.parse(record["severity"]),
            description=record.get("description", ""),
            family=record.get("family", ""),
            chain=record.get("chain", ""),
        )


@dataclass(frozen=True, slots=True)
class Inspection:
    """The result of inspecting one path: the inspector's whole output."""

    path: bytes
    status: Status
    state: FileState | None = None
    matches: tuple[RuleMatch, ...] = ()
    reason: str = ""  # why SPECIAL/VANISHED/ERROR/TOO_LARGE, for people


@dataclass(frozen=True, slots=True)
class Writer:
    """The process that wrote a file, as the event source saw it (fanotify reports the pid;
    the rest is read from ``/proc`` at event time). None where unknown: a process gone before
    it was looked at keeps only its pid. ``comm`` is the kernel's command name (15 bytes at
    most, ``php-fpm8.2``), ``exe`` the executable's path (bytes, as paths are)."""

    pid: int
    uid: int | None = None
    user: str | None = None
    comm: str | None = None
    exe: bytes | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A match reported to the operator, attributed to a tenant."""

    path: bytes
    tenant: str | None
    match: RuleMatch
    change: Change
    state: FileState | None
    owner: str = ""
    detected_ns: int = 0
    writer: Writer | None = None  # who wrote the file, when the event source knew it

    @property
    def severity(self) -> Severity:
        return self.match.severity


@dataclass(frozen=True, slots=True)
class Problem:
    """A path fim could not fully inspect. Listed, counted, never fatal."""

    path: bytes
    status: Status
    reason: str
    always_list: bool = False  # e.g. a symlink the operator named: say it was not scanned


@dataclass(slots=True)
class ScanStats:
    """Counters of one scan. Mutable on purpose: the scanner owns it while running."""

    files_seen: int = 0
    files_read: int = 0
    bytes_read: int = 0
    skipped_unchanged: int = 0
    skipped_too_large: int = 0
    special: int = 0
    symlinks: int = 0
    vanished: int = 0
    errors: int = 0
    deleted: int = 0
    new: int = 0
    changed: int = 0
    findings: int = 0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, int | float]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class ScanReport:
    """Everything a scan produced. Findings are few; problems are capped (see ``problems_omitted``)."""

    findings: list[Finding] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problems_omitted: int = 0
    stats: ScanStats = field(default_factory=ScanStats)
    ruleset_version: str = ""
    roots: list[bytes] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.findings else 0


def event_id(path: bytes, sha256: str | None, rule: str, ruleset: str) -> str:
    """Stable id of "this rule on this content at this path", for receivers to de-duplicate."""
    h = hashlib.sha256(path + b"\0" + (sha256 or "").encode() + b"\0" + f"{ruleset}:{rule}".encode())
    return h.hexdigest()[:32]


Responder = Callable[[list[Finding]], None]
"""Called by the scanner with all findings of one file, after they are recorded (quarantine...)."""
