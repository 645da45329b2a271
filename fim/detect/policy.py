"""Upload-area policy: what may never be placed where customers upload, no signature needed.

Rules come from the configuration (``[[policy.rules]]``): each binds path globs to a list of
forbidden things (checks from :data:`fim.policy_checks.CHECKS`), a severity and an action
(``alert``, or ``quarantine`` to move the file out of reach, see :mod:`fim.quarantine`).

Globs match the full path bytes, case-sensitively:

- ``*`` is any run of characters within one path component, ``?`` one character, ``[abc]``
  and ``[!abc]`` a character class;
- ``**`` as a whole component is any number of components (``a/**`` is everything below ``a``);
- a glob that starts with ``/`` is anchored at the root; any other glob may match at any depth,
  as if it started with ``**/``. So ``*/wp-content/uploads/**`` is every file below any
  ``wp-content/uploads`` folder, whatever the site's path.

The part of the path matched by a trailing ``/**`` is "the path below the upload area": the
``hidden`` and ``unsafe_name`` checks look at its components (not at the site's own path).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fim.core.model import FileState, RuleMatch, Severity
from fim.core.values import choice, describe
from fim.detect.upload_checks import CHECKS, DETECTORS_VERSION, Subject

ACTIONS = ("alert", "quarantine")


# -- globs ---------------------------------------------------------------------------------------


def compile_glob(pattern: str) -> re.Pattern[bytes]:
    """Translate a policy glob into a regular expression over path bytes (see module doc)."""
    if not pattern or pattern.strip() != pattern:
        raise ValueError(f"{pattern!r} is not a glob (empty or surrounded by spaces)")
    raw = pattern.encode()
    anchored = raw.startswith(b"/")
    parts = raw.lstrip(b"/").split(b"/")
    if raw.endswith(b"/"):
        raise ValueError(f"{pattern!r} ends with '/' and matches no file; write {pattern + '**'!r}")
    # Paths are absolute: a floating glob starts right after some "/".
    out = [rb"\A/" if anchored else rb"\A.*/"]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == b"**":
            out.append(rb"(?P<rest>.+)" if last else rb"(?:[^/]+/)*")
            continue
        if b"**" in part:
            raise ValueError(f"{pattern!r}: '**' must be a whole path component")
        if not part and not last:
            raise ValueError(f"{pattern!r}: empty path component")
        out.append(_component(part, pattern) + (b"" if last else b"/"))
    return re.compile(b"".join(out) + rb"\Z", re.DOTALL)


def _component(part: bytes, pattern: str) -> bytes:
    out = b""
    i = 0
    while i < len(part):
        ch = part[i : i + 1]
        if ch == b"*":
            out += rb"[^/]*"
        elif ch == b"?":
            out += rb"[^/]"
        elif ch == b"[":
            end = part.find(b"]", i + 2)
            if end < 0:
                raise ValueError(f"{pattern!r}: '[' without a closing ']'")
            body = part[i + 1 : end]
            negate = body.startswith(b"!")
            body = body[1:] if negate else body
            escaped = re.escape(body).replace(rb"\-", b"-")
            out += b"[" + (b"^/" if negate else b"") + escaped + b"]"
            i = end
        else:
            out += re.escape(ch)
        i += 1
    return out


# -- configuration -------------------------------------------------------------------------------


def _globs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of glob strings, got {describe(value)}")
    for pattern in value:
        compile_glob(pattern)
    return tuple(value)


def _checks(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of check names, got {describe(value)}")
    for name in value:
        if name not in CHECKS:
            hint = difflib.get_close_matches(name, list(CHECKS), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ValueError(f"unknown check {name!r}{suggestion}; known checks: {', '.join(CHECKS)}")
    return tuple(value)


def parse_severity(value: Any) -> Severity:
    if not isinstance(value, str):
        raise ValueError(f"expected a severity name, got {describe(value)}")
    return Severity.parse(value)


@dataclass(frozen=True)
class PolicyRule:
    """One ``[[policy.rules]]`` entry."""

    name: str = ""
    paths: tuple[str, ...] = field(default=(), metadata={"parse": _globs})
    exclude: tuple[str, ...] = field(default=(), metadata={"parse": _globs})
    forbid: tuple[str, ...] = field(default=(), metadata={"parse": _checks})
    severity: Severity = field(default=Severity.HIGH, metadata={"parse": parse_severity})
    action: str = field(default="alert", metadata={"parse": choice(ACTIONS)})

    def validate(self) -> list[str]:
        problems = []
        if not self.name:
            problems.append("name: required (it names the rule in findings)")
        if not self.paths:
            problems.append("paths: required (the globs this rule applies to)")
        if not self.forbid:
            problems.append(f"forbid: required (one or more of {', '.join(CHECKS)})")
        return problems


def _rule(name: str, paths: Sequence[str], forbid: Sequence[str], severity: Severity, action: str,
          exclude: Sequence[str] = ()) -> PolicyRule:  # fmt: skip
    return PolicyRule(name, tuple(paths), tuple(exclude), tuple(forbid), severity, action)


UPLOAD_AREAS = (
    "*/wp-content/uploads/**",  # WordPress
    "*/images/**",  # Joomla
    "*/sites/*/files/**",  # Drupal
    "*/pub/media/**",  # Magento 2
    "*/img/**",  # PrestaShop
    "*/upload/**",  # PrestaShop, generic
    "*/uploads/**",  # generic
)
NO_CODE = ("script", "executable_extension", "handler_override", "elf")
DRUPAL_TWIG = "*/sites/*/files/php/**"  # Drupal's compiled Twig templates are PHP by design

DEFAULT_RULES: tuple[PolicyRule, ...] = (
    _rule("uploads-no-code", UPLOAD_AREAS, NO_CODE, Severity.HIGH, "quarantine", [DRUPAL_TWIG]),
    _rule(
        "uploads-no-disguise",
        [*UPLOAD_AREAS, "*/media/**"],
        ["disguised", "svg_script", "hidden", "unsafe_name"],
        Severity.MEDIUM,
        "alert",
        [DRUPAL_TWIG],
    ),
    _rule("uploads-no-hardlink", [*UPLOAD_AREAS, "*/media/**"], ["hardlink"], Severity.LOW, "alert"),
    _rule("media-no-code", ["*/media/**"], NO_CODE, Severity.HIGH, "alert"),  # Joomla media
    _rule("tmp-no-code", ["*/tmp/**"], NO_CODE, Severity.MEDIUM, "alert"),  # a site's tmp, not /tmp itself
    _rule("nextcloud-data", ["*/data/*/files/**"], ["handler_override"], Severity.HIGH, "alert"),
)


@dataclass(frozen=True)
class PolicyConfig:
    """``[policy]``: upload-area rules, each a set of signature-free checks bound to path globs."""

    enabled: bool = False  # see config.example.toml: the example turns it on
    rules: tuple[PolicyRule, ...] = DEFAULT_RULES


# -- the check -----------------------------------------------------------------------------------


class _Compiled:
    __slots__ = ("exclude", "paths", "rule")

    def __init__(self, rule: PolicyRule):
        self.rule = rule
        self.paths = [compile_glob(p) for p in rule.paths]
        self.exclude = [compile_glob(p) for p in rule.exclude]

    def area(self, path: bytes) -> bytes | None:
        """The path below the upload area when the rule applies to ``path``, else None."""
        if any(x.match(path) for x in self.exclude):
            return None
        for pattern in self.paths:
            m = pattern.match(path)
            if m:
                rest = m.groupdict().get("rest")
                return rest if rest else path.rsplit(b"/", 1)[-1]
        return None


class PolicyCheck:
    """The policy as a :class:`fim.inspect.ContentCheck`. Thread-safe (no mutable state)."""

    def __init__(self, rules: Sequence[PolicyRule]):
        self.rules = tuple(rules)
        self._compiled = [_Compiled(r) for r in self.rules]
        canonical = [
            [r.name, list(r.paths), list(r.exclude), list(r.forbid), str(r.severity), r.action]
            for r in self.rules
        ]
        text = json.dumps([DETECTORS_VERSION, canonical])
        self._version = "policy-" + hashlib.sha256(text.encode()).hexdigest()[:16]

    @classmethod
    def from_config(cls, policy: PolicyConfig) -> PolicyCheck:
        return cls(policy.rules if policy.enabled else ())

    @property
    def version(self) -> str:
        return self._version

    def check(self, path: bytes, head: bytes, state: FileState) -> list[RuleMatch]:
        # check name -> (severity, rule name, detail): the most severe rule forbidding it wins.
        worst: dict[str, tuple[Severity, str, str]] = {}
        details: dict[str, str | None] = {}
        for compiled in self._compiled:
            rest = compiled.area(path)
            if rest is None:
                continue
            rule = compiled.rule
            subject = Subject(path, rest, head, state.size, state.nlink)
            for name in rule.forbid:
                if name in worst and worst[name][0] >= rule.severity:
                    continue
                key = f"{name}\0{rest!r}"
                if key not in details:
                    details[key] = CHECKS[name][1](subject)
                detail = details[key]
                if detail is not None:
                    worst[name] = (rule.severity, rule.name, detail)
        return [
            RuleMatch(
                rule=f"policy.{name}",
                ruleset="policy",
                severity=severity,
                description=f"policy rule {rule_name!r} forbids {name} here: {detail}",
                family="policy",
            )
            for name, (severity, rule_name, detail) in worst.items()
        ]

    def action_for(self, path: bytes, check: str) -> str:
        """``quarantine`` when a rule that applies to ``path`` forbids ``check`` with that action."""
        for compiled in self._compiled:
            rule = compiled.rule
            if rule.action == "quarantine" and check in rule.forbid and compiled.area(path) is not None:
                return "quarantine"
        return "alert"
