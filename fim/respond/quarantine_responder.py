"""The quarantine responder the scanner calls with each file's findings, and its settings."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fim.core import locations, paths
from fim.core.errors import FimError, StoreError
from fim.core.model import Finding, RuleMatch, Severity, event_id
from fim.core.values import choice, percent
from fim.detect.policy import PolicyCheck
from fim.respond import quarantine_records as qrecords
from fim.respond.quarantine import quarantine_file
from fim.respond.quarantine_records import QuarantineError

if TYPE_CHECKING:
    from fim.store.database import Store

SEVERITIES = ("off", "low", "medium", "high", "critical")


@dataclass(frozen=True)
class QuarantineConfig:
    """The [quarantine] section: whether and when findings move a file out of customers' reach."""

    enabled: bool = False  # master switch: nothing is ever moved unless true
    # "" = /var/lib/fim/quarantine for root, $XDG_STATE_HOME/fim/quarantine otherwise
    directory: str = ""
    # Rule and hash-list findings at least this severe are quarantined; "off": only policy rules
    # whose action is "quarantine".
    min_severity: str = field(default="critical", metadata={"parse": choice(SEVERITIES)})
    # A file whose copy would leave less than this share of the quarantine directory's file
    # system free is not moved (reported instead): a customer must not fill fim's own disk.
    min_free_percent: float = field(default=5.0, metadata={"parse": percent})


def directory_of(config: QuarantineConfig) -> bytes:
    return locations.quarantine_dir(config.directory)


MessageCallback = Callable[[str], None]


class QuarantineResponder:
    """Called by the scanner with all findings of one file; quarantines when configured to.

    Policy findings follow their rule's action; other findings (rules, hash lists) follow
    ``min_severity``. Content an operator restored at that path is not quarantined again.
    """

    def __init__(
        self,
        store: Store,
        config: QuarantineConfig,
        policy: PolicyCheck | None = None,
        on_message: MessageCallback | None = None,
    ):
        self.store = store
        self.directory = directory_of(config)
        self.min_severity = None if config.min_severity == "off" else Severity.parse(config.min_severity)
        self.min_free_percent = config.min_free_percent
        self.policy = policy
        self.on_message = on_message
        # Where files may be moved from: root -> validated (device, inode) or None. Set by
        # whoever walks (the scan's roots, the daemon's validated roots); None: the file's
        # own path, opened without following a customer's symlink.
        self.roots: Mapping[bytes, tuple[int, int] | None] | None = None
        self.symlink_roots: frozenset[bytes] = frozenset()
        self.protected: tuple[bytes, ...] = (self.directory,)  # fim's own trees: never moved from
        self.protected_dirs: tuple[bytes, ...] = ()  # directories holding fim's own files

    def set_roots(
        self, roots: Mapping[bytes, tuple[int, int] | None], symlink_roots: Collection[bytes] = ()
    ) -> None:
        self.roots = dict(roots)
        self.symlink_roots = frozenset(symlink_roots)

    def wants(self, finding: Finding) -> bool:
        match = finding.match
        if match.ruleset == "policy":
            check = match.rule.removeprefix("policy.")
            return self.policy is not None and self.policy.action_for(finding.path, check) == "quarantine"
        if match.ruleset == "fim":  # fim's own notices (timeouts, quarantine) are not detections
            return False
        return self.min_severity is not None and match.severity >= self.min_severity

    def __call__(self, found: list[Finding]) -> None:
        triggers = [f for f in found if self.wants(f)]
        if not triggers:
            return
        first = triggers[0]
        sha = first.state.sha256 if first.state else None
        if self._restored_before(first.path, sha):
            return
        severity = max(f.severity for f in triggers)
        reason = ", ".join(
            sorted({f"{f.match.ruleset}.{f.match.rule}".removeprefix("policy.") for f in triggers})
        )
        shown = paths.display(first.path)
        try:
            rec = quarantine_file(
                self.store, self.directory, first.path, expected_sha256=sha,
                tenant=first.tenant, reason=reason, severity=severity, roots=self.roots,
                symlink_roots=self.symlink_roots, protected=self.protected,
                protected_dirs=self.protected_dirs, min_free_percent=self.min_free_percent,
            )  # fmt: skip
        except (QuarantineError, StoreError, OSError) as exc:
            # StoreError: the record could not be written (locked, disk full), so nothing moved.
            why = str(exc) if isinstance(exc, FimError) else (exc.strerror or str(exc))
            gone = getattr(exc, "gone", False)
            if gone and self._quarantined(first.path, sha):
                return  # an earlier verdict on the same file moved it already: nothing to say
            if getattr(exc, "kept", False):
                where = "see fim quarantine list"
            elif gone:
                where = "the file was gone before it could be moved"
            else:
                where = "the file is still in place"
            text = f"quarantine failed, {where}: {why} (because of {reason})"
            if not self._notified(first.path, sha, "fim_quarantine_failed"):  # once, not every scan
                self._notice(first, "fim_quarantine_failed", severity, text)
            self._say(f"fim: quarantine of {shown} failed: {why}")
            return
        text = (
            f"moved to quarantine as #{rec.id} because of {reason}; "
            f"restore with: fim quarantine restore {rec.id}"
        )
        self._notice(first, "fim_quarantined", severity, text)
        self._say(f"fim: quarantined {shown} as #{rec.id} ({reason})")

    def _quarantined(self, path: bytes, sha: str | None) -> bool:
        with self.store._guard():
            return qrecords.exists(self.store, path, sha, "quarantined")

    def _restored_before(self, path: bytes, sha: str | None) -> bool:
        with self.store._guard():
            return qrecords.exists(self.store, path, sha, "restored")

    def _notified(self, path: bytes, sha: str | None, rule: str) -> bool:
        with self.store._guard():
            row = self.store.conn.execute(
                "SELECT 1 FROM findings WHERE event_id = ?", (event_id(path, sha, rule, "fim"),)
            ).fetchone()
        return row is not None

    def _notice(self, finding: Finding, rule: str, severity: Severity, text: str) -> None:
        match = RuleMatch(rule=rule, ruleset="fim", severity=severity, description=text, family="response")
        notice = dataclasses.replace(finding, match=match, detected_ns=time.time_ns())
        self.store.add_findings([notice], None)  # the alert outbox carries it

    def _say(self, text: str) -> None:
        if self.on_message is not None:
            self.on_message(text)
