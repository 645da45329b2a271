"""Matching the rules on every layer of a file: as stored, and as :mod:`fim.unpack` decodes it.

The rules see externals ``layer`` (0 for the file as stored, else how many rounds of decoding
led to the layer), ``chain`` (``base64>gzinflate``) and ``has_code_view``. A rule that must
not fire on PHP comments tests ``not has_code_view``: it then skips the stored bytes whenever
a comment-stripped view is matched too, and fires on that view (``chain`` is
``strip-comments``) if the code outside comments still matches.

Work stays inside the file's ``match_timeout``: unpacking gets the same deadline, and each
layer is matched with the time left. The comment-stripped view is only made when the stored
bytes matched some rule (stripping only removes bytes, so it cannot make a quiet file match).

Cost: a :class:`~fim.detect.rules.YaraEngine` finds the unpacking gates (which decoders and
rewrites can apply, whether the file holds server-side code markers) in the same pass as the
findings on the stored bytes, so an ordinary file costs one YARA pass and the unpacker's cheap
checks. The stored bytes are matched a second time, with ``has_code_view`` true, only when a
rule can read that external (``uses_code_view``): otherwise both matches are the same.
"""

from __future__ import annotations

import dataclasses
import math
import time

from fim.core.model import RuleMatch, Severity
from fim.detect import unpack
from fim.detect.php_comments import strip_php_comments
from fim.detect.rules import LAYER_DEFAULTS, MatchTimeout, RuleEngine

CODE_VIEW = "strip-comments"
# fim's own notices (ruleset "fim": reported, never a reason to quarantine).
UNPACK_FAILED = RuleMatch(
    rule="fim_unpack_failed",
    ruleset="fim",
    severity=Severity.LOW,
    description="decoding this file's layers failed (a fim bug); the file as stored was matched",
    family="health",
)
# Files unpacked whatever their content: server-side scripts (and text, which shells are
# often uploaded as before being renamed or included). Others only when they hold server-side
# code markers (a polyglot image, an HTML page with PHP in it): unpacking every stylesheet,
# script and image would cost more than it finds.
SCRIPT_EXTENSIONS = frozenset((
    "php", "php3", "php4", "php5", "php7", "php8", "phtml", "pht", "phps", "phar", "inc",
    "asp", "aspx", "ashx", "asmx", "ascx", "asa", "cer", "cshtml", "jsp", "jspx", "jspf",
    "pl", "pm", "cgi", "py", "sh", "bash", "txt",
))  # fmt: skip
CODE_MARKERS = (b"<?php", b"<?=", b"<%", b"runat=")


def worth_unpacking(extension: str, data: bytes, gates: frozenset[str] | None = None) -> bool:
    """``gates`` from the rule engine's pass say whether ``data`` holds a code marker (the
    trigger rule's ``marker`` strings are :data:`CODE_MARKERS`); without them, search."""
    if extension.lstrip(".").lower() in SCRIPT_EXTENSIONS:
        return True
    if gates is not None:
        return "marker" in gates
    return any(m in data for m in CODE_MARKERS)


def match_layers(
    engine: RuleEngine, data: bytes, externals: dict[str, str], timeout: int, timeout_match: RuleMatch
) -> list[RuleMatch]:
    """Matches on the stored bytes and on every decoded layer, each rule once (the stored
    bytes first, then the shallowest layer); a match on a decoded layer records its chain.

    Raises :class:`MatchTimeout` when the stored bytes alone time out; when time runs out on a
    later layer, what was found so far is returned with ``timeout_match``."""
    deadline = time.monotonic() + timeout
    base = {**externals, **LAYER_DEFAULTS}
    # MatchTimeout: the caller matches the file's ends.
    gates: frozenset[str] | None = None
    with_gates = getattr(engine, "match_with_gates", None)
    if with_gates is not None:
        raw, gates = with_gates(data, base, timeout)
    else:
        raw = engine.match(data, base, timeout)
    found: dict[tuple[str, str], RuleMatch] = {(m.ruleset, m.rule): m for m in raw}
    try:
        out_of_time = _layers(engine, data, base, found, deadline, gates)
    except Exception as exc:  # a bug in unpacking must never cost what the stored bytes showed
        failed = f"{UNPACK_FAILED.description}: {exc!r}"[:300]
        return [*found.values(), dataclasses.replace(UNPACK_FAILED, description=failed)]
    if out_of_time is not None:
        return [*found.values(), dataclasses.replace(timeout_match, chain=out_of_time)]
    return list(found.values())


def _layers(
    engine: RuleEngine,
    data: bytes,
    base: dict[str, str | int | bool],
    found: dict[tuple[str, str], RuleMatch],
    deadline: float,
    gates: frozenset[str] | None,
) -> str | None:
    """Adds to ``found`` what the comment-stripped view and the decoded layers match. Returns
    None when done, else the chain of the layer the file's time ran out on ("": the stored
    bytes or their comment-stripped view)."""
    if found:
        view = strip_php_comments(data)
        if view is not None and getattr(engine, "uses_code_view", True):
            # The stored bytes again, now telling the rules that a code view exists.
            got = _match(engine, data, {**base, "has_code_view": True}, deadline)
            if got is None:
                return ""
            found.clear()
            found.update({(m.ruleset, m.rule): m for m in got})
        if view is not None:
            got = _match(engine, view, {**base, "layer": 1, "chain": CODE_VIEW}, deadline)
            if got is None:
                return ""
            for m in got:  # the file itself, minus comments: no decoding chain to report
                found.setdefault((m.ruleset, m.rule), m)
    if not worth_unpacking(str(base.get("extension", "")), data, gates):
        return None
    for layer in unpack.unpack(data, deadline=deadline, code_view=False, gates=gates):
        chain = layer.chain_text
        got = _match(engine, layer.data, {**base, "layer": layer.depth, "chain": chain}, deadline)
        if got is None:
            return chain
        for m in got:
            found.setdefault((m.ruleset, m.rule), dataclasses.replace(m, chain=chain))
    return None


def _match(
    engine: RuleEngine, data: bytes, externals: dict[str, str | int | bool], deadline: float
) -> list[RuleMatch] | None:
    """``None`` when the file's time is used up (or this match ran out of it)."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    try:
        return engine.match(data, externals, max(1, math.ceil(left)))  # type: ignore[arg-type]
    except MatchTimeout:
        return None
