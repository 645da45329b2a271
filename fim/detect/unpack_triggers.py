"""The trigger pass of the unpacking stage: which techniques can occur in a file at all."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from functools import cache, lru_cache

import yara

# One YARA pass (Aho-Corasick over short literals, much faster than a Python pass per
# technique) tells which techniques can occur in a file at all. Identifiers name the gate.
# The rule engine compiles this rule with the rule files, in a namespace of its own
# (TRIGGER_NAMESPACE) left out of the findings, so the stored bytes' one pass yields both the
# findings and the gates; only derived layers need a pass of their own (``triggers``).
# ``marker`` is not a rewrite: it tells the caller the file holds server-side code markers
# (``fim.detect.layered.worth_unpacking``), the same bytes searched for in the same pass.
TRIGGER_NAMESPACE = "fim-unpack-triggers"
TRIGGER_RULE = "unpack_triggers"
TRIGGER_SOURCE = r"""
rule unpack_triggers {
  strings:
    $marker_1 = "<?php"
    $marker_2 = "<?="
    $marker_3 = "<%"
    $marker_4 = "runat="
    $decode_1 = "base64_decode" nocase
    $decode_2 = "gzinflate" nocase
    $decode_3 = "gzuncompress" nocase
    $decode_4 = "gzdecode" nocase
    $decode_5 = "str_rot13" nocase
    $decode_6 = "strrev" nocase
    $decode_7 = "hex2bin" nocase
    $decode_8 = "urldecode" nocase
    $decode_9 = "convert_uudecode" nocase
    $decode_10 = "frombase64string" nocase
    $decode_11 = "decodebuffer" nocase
    $decode_12 = "decodebase64" nocase
    $decode_13 = "atob" nocase
    $decode_14 = "decoder()" nocase
    $decode_15 = "H*"
    $chr_1 = /chr[wb]?\s{0,3}\(/ nocase
    $chr_2 = "fromcharcode" nocase
    $sprintf = "%c"
    $escapes_1 = /\\x[2-7][0-9a-fA-F]\\x[2-7]/
    $escapes_2 = /\\[01][0-7]{2}\\[01][0-7]/
    $escapes_3 = /\\u00[2-7][0-9a-fA-F]\\u00[2-7]/
    $escrun_1 = /(\\x[0-9a-fA-F]{2}){8}/
    $escrun_2 = /(\\[0-3][0-7]{2}){8}/
    $escapes_4 = "\\u{"
    $xor_1 = "'^"
    $xor_2 = "' ^"
    $xor_3 = "\"^"
    $xor_4 = "\" ^"
    $implode_1 = "implode" nocase
    $implode_2 = "join" nocase
    $str_replace = "replace(" nocase
    $concat_1 = "'.'"
    $concat_2 = "' . '"
    $concat_3 = "\".\""
    $concat_4 = "\" . \""
    $concat_5 = "\"&\""
    $concat_6 = "\" & \""
    $concat_7 = "\"+\""
    $concat_8 = "\" + \""
    $concat_9 = "'+'"
    $concat_10 = "' + '"
    $concat_11 = "\"&Chr" nocase
    $concat_12 = ") & \"" nocase
  condition:
    any of them
}
"""
_ALL_GATES = frozenset(
    {"decode", "chr", "sprintf", "escapes", "escrun", "xor", "implode", "str_replace", "concat"}
)
# Every gate that lets a decoder or a rewrite run: a file with none of them (only ``marker``)
# has nothing to unpack but long base64/hex runs (``fim.detect.unpack.nothing_to_unpack``).
REWRITE_GATES = _ALL_GATES


@cache
def _trigger_rules() -> yara.Rules:
    return yara.compile(source=TRIGGER_SOURCE)


def _quiet(*_args: object) -> int:
    return yara.CALLBACK_CONTINUE  # "too many matches": one match is all a gate needs


def triggers(data: bytes, deadline: float | None = None) -> frozenset[str]:
    """Which rewrites and decoders can apply to ``data`` (names of gates)."""
    try:
        left = 60 if deadline is None else math.ceil(deadline - time.monotonic())
        if left <= 0:
            return frozenset()
        hits = _trigger_rules().match(data=data, fast=True, timeout=left, warnings_callback=_quiet)
    except yara.TimeoutError:
        return frozenset()  # out of time: the caller's deadline stops the rest
    except yara.Error:
        return _ALL_GATES  # cannot tell: try everything, the bounds still hold
    if not hits:
        return frozenset()
    return gates_of(s.identifier for s in hits[0].strings)


def gates_of(identifiers: Iterable[str]) -> frozenset[str]:
    """The gates named by the string identifiers (``$decode_1``) of a trigger rule's match:
    each identifier without its ``$``, and its family without the number (``decode``).
    Files share a few combinations (most only ``$marker_1``): each is worked out once."""
    return _gates_of(frozenset(identifiers))


@lru_cache(maxsize=4096)
def _gates_of(identifiers: frozenset[str]) -> frozenset[str]:
    ids = {i[1:] for i in identifiers}
    return frozenset(ids | {i.rsplit("_", 1)[0] if i[-1].isdigit() else i for i in ids})
