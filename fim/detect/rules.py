"""YARA rules: finding the sources, compiling them once, caching, and matching bytes.

The engine sits behind :class:`RuleEngine` so the scanner does not care which library matches.
The rule-set *version* is a digest of the rule sources' contents (not their names), of the
hash lists, and of the engine; it keys both the compiled-rule cache and the baseline, so
changing a rule's text makes every file be matched again.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

import yara

from fim.core import paths, statefiles
from fim.core.errors import FimError, RuleError
from fim.core.model import RuleMatch, Severity, StringHit
from fim.detect import magic, unpack_triggers

RULE_SUFFIXES = (".yar", ".yara")
EXTERNALS_SCHEME = "fim-externals-2"  # bump when the meaning of an external changes
# Externals public rule sets use (Loki/THOR style); defined so such rule files compile.
EXTERNAL_NAMES = ("filename", "filepath", "extension", "filetype", "owner")
# fim's own externals for the unpacking stage: the rules see the file as stored (layer 0) and
# every layer decoded from it. ``chain`` names the decoders that led to a layer
# ("base64>gzinflate"); ``has_code_view`` is true on layer 0 when a comment-stripped view of it
# is matched as well, so a rule that must not fire on comments skips the raw bytes.
LAYER_DEFAULTS: dict[str, int | str | bool] = {"layer": 0, "chain": "", "has_code_view": False}
# The unpacking stage's trigger rule is compiled with the rule files under this namespace, so
# one pass over the stored bytes yields the findings and the unpacking gates; its hits are
# never findings (``YaraEngine.match`` leaves them out). No rule file gets this namespace.
INTERNAL_NAMESPACE = unpack_triggers.TRIGGER_NAMESPACE
# Rule text that can ask for ``has_code_view``: the name, or an include directive (the
# included file may use it). Rule *strings* often hold the word include: only the directive,
# at the start of a line, counts.
_CODE_VIEW_TEXT = re.compile(rb'\bhas_code_view\b|^[ \t]*include[ \t]*"', re.M)


def externals_for(path: bytes, head: bytes, owner: str) -> dict[str, str]:
    """The per-file externals. Text is decoded with replacement: YARA needs valid strings."""
    return {
        "filename": paths.basename(path).decode("utf-8", "replace"),
        "filepath": path.decode("utf-8", "replace"),
        "extension": paths.extension(path).decode("utf-8", "replace"),
        "filetype": magic.filetype(head),
        "owner": owner,
    }


@dataclass(frozen=True)
class RuleSource:
    """One rule file and the namespace its rules are reported under (bundled or configured)."""

    namespace: str
    path: Path
    bundled: bool


class RuleEngine(Protocol):
    """What the scanner needs from a rule engine."""

    version: str

    def match(self, data: bytes, externals: dict[str, str], timeout: int) -> list[RuleMatch]:
        """Raise :class:`MatchTimeout` when matching takes longer than ``timeout`` seconds."""
        ...


class MatchTimeout(FimError):
    """Matching one file took longer than its timeout; the inspector reports it as a finding."""


# Matched bytes libyara copies for each string match. The default (512) makes content padded
# with one repeated string cost hundreds of bytes per byte matched: every match of a string a
# condition counts is kept until the match ends, with a copy of its data (up to a million per
# string), and yara-python turns each into a Python object when its rule fires. People are
# shown 80 bytes of a match (``fim scan`` text output); conditions use offsets and lengths only.
MAX_MATCH_DATA = 80
yara.set_config(max_match_data=MAX_MATCH_DATA)


def bundled_rules_dir() -> Path:
    """The rules shipped in the wheel, or ``rules/`` beside the package in a checkout."""
    packaged = Path(str(resources.files("fim"))) / "bundled_rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


def discover(extra: Iterable[str | os.PathLike[str]] = (), bundled: bool = True) -> list[RuleSource]:
    """List rule files: bundled ones first, then each extra file or folder (sorted, recursive)."""
    found: list[tuple[Path, bool]] = []
    if bundled:
        found += [(p, True) for p in _rule_files(bundled_rules_dir())]
    for entry in extra:
        p = Path(entry)
        if p.is_dir():
            found += [(f, False) for f in _rule_files(p)]
        elif p.is_file():
            found.append((p, False))
        elif p.exists():
            raise RuleError(f"{p}: not a regular file or folder")
        else:
            raise RuleError(f"{p}: no such rule file or folder")
    sources: list[RuleSource] = []
    taken: set[str] = {INTERNAL_NAMESPACE}
    for p, is_bundled in found:
        base = p.stem if is_bundled else f"custom.{p.stem}"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}.{n}"
        taken.add(name)
        sources.append(RuleSource(name, p, is_bundled))
    if not sources:
        raise RuleError("no rules to use (bundled rules disabled and no --rules given)")
    return sources


def _rule_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in RULE_SUFFIXES and p.is_file())


def _read(source: RuleSource) -> bytes:
    try:
        return source.path.read_bytes()
    except OSError as exc:
        raise RuleError(f"{source.path}: cannot read rule file: {exc.strerror}") from None


def ruleset_version(sources: Sequence[RuleSource], extra_inputs: Iterable[bytes] = ()) -> str:
    """Digest of every rule file's content and namespace, the engine, and extra inputs."""
    h = hashlib.sha256()
    h.update(f"{EXTERNALS_SCHEME}\0yara {yara.YARA_VERSION}\0".encode())
    h.update(INTERNAL_NAMESPACE.encode() + b"\0" + unpack_triggers.TRIGGER_SOURCE.encode() + b"\0")
    for source in sources:
        content = _read(source)
        h.update(source.namespace.encode() + b"\0" + str(len(content)).encode() + b"\0")
        h.update(content)
    for blob in extra_inputs:
        h.update(b"\0extra\0" + hashlib.sha256(blob).digest())
    return h.hexdigest()[:24]


_ERR_LOCATION = re.compile(r"^(?P<file>.*)\((?P<line>\d+)\): (?P<msg>.*)$", re.DOTALL)


def _externals_defaults() -> dict[str, str | int | bool]:
    return {**dict.fromkeys(EXTERNAL_NAMES, ""), **LAYER_DEFAULTS}


def check(sources: Sequence[RuleSource]) -> list[str]:
    """Compile each file on its own and return one message per broken file (file(line): why)."""
    problems = []
    for source in sources:
        try:
            _read(source)
            yara.compile(filepath=str(source.path), externals=_externals_defaults())
        except RuleError as exc:
            problems.append(str(exc))
        except yara.SyntaxError as exc:
            problems.append(_located(source, exc))
        except yara.Error as exc:
            problems.append(f"{source.path}: {exc}")
    return problems


def _located(source: RuleSource, exc: Exception) -> str:
    m = _ERR_LOCATION.match(str(exc))
    if m:
        return f"{m.group('file')}:{m.group('line')}: {m.group('msg')}"
    return f"{source.path}: {exc}"


class YaraEngine:
    """Compiled yara-python rules. Thread-safe for matching; built once per rule-set version."""

    def __init__(
        self, rules: yara.Rules, version: str, sources: Sequence[RuleSource], *, with_gates: bool = False
    ):
        self._rules = rules
        # Whether ``rules`` hold the unpacking trigger rule (see :meth:`match_with_gates`).
        self.with_gates = with_gates
        self.version = version
        self.sources = tuple(sources)
        self.warnings: list[str] = list(getattr(rules, "warnings", []) or [])
        # Matching the stored bytes again with ``has_code_view`` true only matters when a rule
        # can read it; a rule file that names it (or includes another file) is assumed to.
        self.uses_code_view = any(_mentions(s, _CODE_VIEW_TEXT) for s in self.sources)

    @classmethod
    def build(
        cls,
        sources: Sequence[RuleSource],
        *,
        cache_dir: Path | None = None,
        extra_inputs: Iterable[bytes] = (),
    ) -> YaraEngine:
        version = ruleset_version(sources, extra_inputs)
        cached = cache_dir / f"rules-{version}.yarc" if cache_dir else None
        if cached is not None and _readable_file(cached):
            try:
                # Only compiles that included the trigger rule are cached (see below).
                return cls(yara.load(str(cached)), version, sources, with_gates=True)
            except yara.Error:
                pass  # stale or damaged cache: compile again below
        rules, with_gates = _compile(sources)
        if cached is not None and with_gates:
            _save_atomically(rules, cached)
        return cls(rules, version, sources, with_gates=with_gates)

    def match(self, data: bytes, externals: dict[str, str], timeout: int) -> list[RuleMatch]:
        """``fast``: a string whose condition only asks whether it occurs is not looked for
        again once found (libyara keeps counting strings used with ``#``, ``@``, ``!``,
        ``in``, ``at`` or ``of``, so every condition keeps its meaning); it halves the memory
        a padded file costs. Only the first match of such a string is then listed."""
        return self.match_with_gates(data, externals, timeout)[0]

    def match_with_gates(
        self, data: bytes, externals: dict[str, str], timeout: int
    ) -> tuple[list[RuleMatch], frozenset[str] | None]:
        """:meth:`match`, and the unpacking gates of ``data`` (:func:`fim.detect.unpack_triggers.triggers`)
        found in the same pass; ``None`` when the rules were compiled without the trigger rule
        (the unpacker then finds the gates itself)."""
        try:
            hits = self._rules.match(
                data=data, externals=externals, timeout=timeout, fast=True, warnings_callback=_no_warning
            )
        except yara.TimeoutError:
            raise MatchTimeout from None
        gates: frozenset[str] | None = frozenset() if self.with_gates else None
        found = []
        for hit in hits:
            if hit.namespace == INTERNAL_NAMESPACE:
                gates = unpack_triggers.gates_of(s.identifier for s in hit.strings)
            else:
                found.append(_to_match(hit))
        return found, gates

    def rule_infos(self) -> list[dict[str, str]]:
        """Name, namespace, family, severity and description of every rule (for ``rules list``)."""
        infos = []
        for source in self.sources:
            single = yara.compile(filepath=str(source.path), externals=_externals_defaults())
            for rule in single:
                meta = dict(rule.meta)
                infos.append(
                    {
                        "namespace": source.namespace,
                        "rule": rule.identifier,
                        "family": str(meta.get("family", source.namespace)),
                        "severity": str(severity_from_meta(meta)),
                        "description": str(meta.get("description", "")),
                        "bundled": "yes" if source.bundled else "no",
                        "file": str(source.path),
                    }
                )
        return infos


def _no_warning(_kind: int, _detail: object) -> int:
    """libyara warns when a string matches a million times (padding does that); the string
    stops being searched, the scan goes on. Not worth a Python warning per file."""
    return yara.CALLBACK_CONTINUE


def _mentions(source: RuleSource, pattern: re.Pattern[bytes]) -> bool:
    try:
        text = source.path.read_bytes()
    except OSError:
        return True  # cannot tell: assume it does
    return pattern.search(text) is not None


def _compile(sources: Sequence[RuleSource]) -> tuple[yara.Rules, bool]:
    """The rule files, each in its namespace, and the unpacking trigger rule in its own (a
    file beside them for the compile only: yara takes either files or sources, not both).
    The flag says whether the trigger rule is in; without a temporary folder it is left out."""
    files = {s.namespace: str(s.path) for s in sources}
    try:
        try:
            with tempfile.TemporaryDirectory(prefix="fim-rules-") as tmp:
                internal = Path(tmp) / "unpack_triggers.yar"
                internal.write_text(unpack_triggers.TRIGGER_SOURCE)
                rules = yara.compile(
                    filepaths={**files, INTERNAL_NAMESPACE: str(internal)}, externals=_externals_defaults()
                )
                return rules, True
        except OSError:
            return yara.compile(filepaths=files, externals=_externals_defaults()), False
    except yara.Error as exc:
        # One combined compile stops at the first error; compile file by file to name them all.
        problems = check(sources) or [str(exc)]
        raise RuleError("rules do not compile:\n" + "\n".join(f"  {p}" for p in problems)) from None


def _readable_file(path: Path) -> bool:
    """A cache we may not look into (another user's private state directory) is no cache."""
    try:
        return path.is_file()
    except OSError:
        return False


def _save_atomically(rules: yara.Rules, target: Path) -> None:
    """Best effort: a cache we cannot write only costs a compile next time."""
    try:
        statefiles.private_dir(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".rules-", suffix=".tmp")
        os.close(fd)
        rules.save(tmp)
        os.replace(tmp, target)
        for old in target.parent.glob("rules-*.yarc"):
            if old != target:
                old.unlink(missing_ok=True)
    except (OSError, yara.Error):
        pass


_SCORE_LEVELS = ((80, Severity.CRITICAL), (60, Severity.HIGH), (40, Severity.MEDIUM))


def severity_from_meta(meta: dict) -> Severity:
    """``severity`` meta when present; else a Loki/THOR-style ``score``; else high.

    A rule written to detect webshells that fires is serious unless its author said otherwise.
    """
    text = meta.get("severity")
    if isinstance(text, str):
        try:
            return Severity.parse(text)
        except ValueError:
            pass
    score = meta.get("score")
    if isinstance(score, int):
        for threshold, level in _SCORE_LEVELS:
            if score >= threshold:
                return level
        return Severity.LOW
    return Severity.HIGH


def _to_match(hit: yara.Match) -> RuleMatch:
    meta = dict(hit.meta)
    strings = tuple(
        StringHit(s.identifier, inst.offset, bytes(inst.matched_data))
        for s in hit.strings
        for inst in s.instances[:3]
    )
    return RuleMatch(
        rule=hit.rule,
        ruleset=hit.namespace,
        severity=severity_from_meta(meta),
        description=str(meta.get("description", "")),
        family=str(meta.get("family", hit.namespace)),
        strings=strings[:20],
    )
