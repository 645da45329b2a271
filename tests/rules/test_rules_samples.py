"""Every positive sample is caught by its family; no negative sample is flagged.

Positive samples live in ``samples/positive/<family>/`` and carry the minimum
expected severity as a name prefix (``critical-...``, ``high-...``,
``medium-...``, ``low-...``) on the file or on one of its parent folders
(for files such as ``.htaccess`` whose name is fixed).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rulekit import SAMPLES_DIR, SEVERITIES, severity_rank

POSITIVE = SAMPLES_DIR / "positive"
NEGATIVE = SAMPLES_DIR / "negative"


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def _expected(path: Path) -> tuple[str, str]:
    rel = path.relative_to(POSITIVE)
    family = rel.parts[0]
    for part in reversed(rel.parts[1:]):
        prefix = part.split("-", 1)[0]
        if prefix in SEVERITIES:
            return family, prefix
    raise AssertionError(f"{rel}: no severity prefix on the sample or its folders")


def _id(root: Path):
    return lambda p: str(p.relative_to(root))


@pytest.mark.parametrize("sample", _files(POSITIVE), ids=_id(POSITIVE))
def test_positive_sample_is_detected_by_its_family_at_expected_severity(sample, match_file):
    family, min_severity = _expected(sample)
    matches = match_file(sample)
    own = [(rule, meta["severity"]) for ns, rule, meta in matches if ns == family]
    assert own, f"no {family} rule matched; got {[(ns, r) for ns, r, _ in matches]}"
    best = min(severity_rank(sev) for _, sev in own)
    assert best <= severity_rank(min_severity), (
        f"expected at least {min_severity}, got {SEVERITIES[best]}: {own}"
    )


@pytest.mark.parametrize("sample", _files(NEGATIVE), ids=_id(NEGATIVE))
def test_negative_sample_is_not_flagged_at_all(sample, match_file):
    assert match_file(sample) == []


def test_there_are_enough_samples_per_php_family():
    for family in (
        "php_code_exec",
        "php_command_exec",
        "php_obfuscation",
        "php_uploader",
        "php_backdoor_login",
    ):
        assert len(_files(POSITIVE / family)) >= 6, family
    assert len(_files(NEGATIVE)) >= 15


def test_every_family_has_positive_samples():
    families = {p.stem for p in (SAMPLES_DIR.parents[2] / "rules").glob("*.yar")}
    have = {p.name for p in POSITIVE.iterdir() if p.is_dir() and _files(p)}
    assert families <= have, families - have
