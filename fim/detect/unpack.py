"""Static unpacking: the layers a file hides behind encodings, decoded without running anything.

Many webshells are a small loader around an encoded payload (``eval(gzinflate(base64_decode(
'...')))``), or spell the names they call in pieces (``'as'.'sert'``, ``chr(115).chr(121)...``,
``"\\x73\\x79\\x73"``). YARA sees only the bytes as stored; this module derives the layers a
reader of the code would see, so the rules can be matched on each of them.

:func:`unpack` takes the file's bytes and returns the *derived* layers only (the original,
layer 0, is not returned: the caller has it). Each :class:`Layer` carries its bytes, the chain
of steps that produced it (``("base64", "gzinflate")``, shown as ``base64>gzinflate``), and its
depth (how many rounds of unpacking led to it). Three kinds of layer:

- **decoded payloads**: a literal string passed through decoding calls (``base64_decode``,
  ``gzinflate``, ``str_rot13``, ``FromBase64String``, ``Base64.getDecoder().decode`` ...), or a
  long base64/hex literal anywhere that decodes to text or to compressed data;
- **a normalised view** of the code, where names spelled in pieces are written out as one
  literal: ``\\x``/octal/``\\u{}``/``\\uXXXX`` escapes, ``chr()``/``Chr()``/``ChrW()``/
  ``String.fromCharCode`` and ``sprintf('%c')`` assembly, concatenation (``.`` ``&`` ``+``) of
  literals, ``implode``/``str_replace`` of literals, XOR of two literals, and short decoding
  calls inline. Its chain is one step naming what was rewritten (``"concat+chr"``). It is
  returned only when one of those rewrites looks like obfuscation (ordinary code concatenates
  strings all the time, and matching the same file twice costs time);
- **a comment-stripped view** of PHP code, chain ``("strip-comments",)``, returned only when it
  differs from the original: ``eval($_POST['x'])`` inside a comment is not a shell, so rules
  that care can match this view instead of the raw bytes.

Every derived layer is unpacked again (depth + 1), up to ``max_depth``. Work is bounded:
depth, the number of layers (``max_layers``, 64), the total size of all layers returned
(``max_output``; by default four times the input with a floor of 1 MiB, at most 8 MiB:
droppers are small, their payloads are not), and time (``deadline``, a :func:`time.monotonic`
value checked between steps). When a bound is hit,
unpacking stops and the layers found so far are returned. Decompression never produces more
than the remaining output budget (``zlib.decompressobj(...).decompress(data, max_length)``).

Pure functions over bytes; nothing here reads files or imports the rest of fim.
"""

from __future__ import annotations

import hashlib
from collections import deque

from fim.detect.php_comments import strip_php_comments
from fim.detect.unpack_decoders import (
    _binary,
    _decode_calls,
    _escaped_runs,
    _long_blobs,
    decoder_words,
    has_long_run,
)
from fim.detect.unpack_normalise import normalise
from fim.detect.unpack_text import (
    MAX_DEPTH,
    MAX_LAYERS,
    MAX_NORMALISE,
    MAX_OUTPUT,
    OUTPUT_FACTOR,
    OUTPUT_FLOOR,
    Layer,
    _Budget,
)
from fim.detect.unpack_triggers import REWRITE_GATES, triggers


def unpack(
    data: bytes,
    *,
    max_depth: int = MAX_DEPTH,
    max_output: int | None = None,
    deadline: float | None = None,
    code_view: bool = True,
    max_layers: int = MAX_LAYERS,
    gates: frozenset[str] | None = None,
) -> list[Layer]:
    """The layers derived from ``data`` (not ``data`` itself), breadth first.

    ``max_output`` bounds the total bytes of all returned layers; ``deadline`` is a
    :func:`time.monotonic` time after which no more work starts. ``code_view=False`` leaves
    out the comment-stripped view (a caller can ask :func:`strip_php_comments` for it only
    when the raw bytes matched something). ``gates`` are the :func:`triggers` of ``data`` when
    the caller already has them (the rule engine finds them in the same pass as the findings:
    :data:`TRIGGER_SOURCE`); derived layers get theirs here. Never raises on bad input.
    """
    if not code_view and gates is not None and nothing_to_unpack(data, gates):
        return []  # the common case, plain code: none of the machinery below is built
    if max_output is None:
        max_output = min(max(OUTPUT_FACTOR * len(data), OUTPUT_FLOOR), MAX_OUTPUT)
    budget = _Budget(max_output, deadline, max_layers)
    seen: set[bytes] = set()  # digests; the original's is added when a first layer is found
    out: list[Layer] = []

    def keep(layer: Layer, queue: deque[Layer] | None) -> None:
        if not layer.data or len(layer.data) > budget.left or budget.layers_left <= 0:
            return
        if not seen:
            seen.add(_digest(data))
        digest = _digest(layer.data)
        if digest in seen:
            return
        seen.add(digest)
        budget.left -= len(layer.data)
        budget.layers_left -= 1
        out.append(layer)
        if queue is not None and layer.depth < max_depth:
            queue.append(layer)

    queue: deque[Layer] = deque()
    if max_depth >= 1 and not budget.exhausted():
        stripped = strip_php_comments(data) if code_view else None
        if stripped is not None:
            keep(Layer(stripped, ("strip-comments",), 1), None)  # a view, not unpacked again
        for chain, payload in _derive(data, budget, gates):
            keep(Layer(payload, chain, 1), queue)
            if budget.exhausted():
                break
    while queue and not budget.exhausted():
        parent = queue.popleft()
        for chain, payload in _derive(parent.data, budget):
            keep(Layer(payload, parent.chain + chain, parent.depth + 1), queue)
            if budget.exhausted():
                break
    return out


def nothing_to_unpack(data: bytes, gates: frozenset[str]) -> bool:
    """True when :func:`_derive` is sure to find nothing in ``data``, whose :func:`triggers`
    are ``gates``: no decoder or rewrite can apply (the decoding calls, escaped runs and the
    normalised view each need their gate) and no run is long enough to be a base64 or hex
    blob (the one thing looked for without a gate). Costs a translate and a find."""
    return gates.isdisjoint(REWRITE_GATES) and not has_long_run(data)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _derive(
    data: bytes, budget: _Budget, gates: frozenset[str] | None = None
) -> list[tuple[tuple[str, ...], bytes]]:
    """One round: the payloads decoded from ``data`` and its normalised view."""
    found: list[tuple[tuple[str, ...], bytes]] = []
    if gates is None:
        gates = triggers(data, budget.deadline)
    if "decode" in gates:
        found += _decode_calls(data, budget, decoder_words(gates))
    if not budget.exhausted():
        found += _long_blobs(data, budget)
    if "escrun" in gates and not budget.exhausted():
        found += _escaped_runs(data, budget)
    if not budget.exhausted() and len(data) <= min(budget.left, MAX_NORMALISE) and not _binary(data):
        view = normalise(data, budget, gates)
        if view is not None:
            found.append(view)
    return found
