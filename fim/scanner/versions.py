"""The version recorded with each verdict: the rule engine's, and the content checks' with it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def combined_version(engine_version: str, check_versions: Sequence[str]) -> str:
    """One version for rules, hash lists and checks together: a change of any re-matches."""
    if not check_versions:
        return engine_version
    digest = hashlib.sha256("\0".join([engine_version, *check_versions]).encode()).hexdigest()
    return digest[:24]
