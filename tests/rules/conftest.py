"""Fixtures for testing the bundled YARA rules in ``rules/`` (see rulekit.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yara
from rulekit import Match, compile_rules, match_bytes, severity_rank


@pytest.fixture(scope="session")
def rules() -> yara.Rules:
    return compile_rules()


@pytest.fixture(scope="session")
def match_file(rules: yara.Rules) -> Callable[[str | os.PathLike], list[Match]]:
    """``match_file(path) -> [(namespace, rule_name, meta), ...]``."""

    def _match(path: str | os.PathLike) -> list[Match]:
        return match_bytes(rules, Path(path).read_bytes(), path)

    return _match


@pytest.fixture
def match_text(rules: yara.Rules, tmp_path: Path) -> Callable[..., list[Match]]:
    """``match_text(content, name="x.php", subdir="") -> matches`` for inline samples."""

    def _match(content: str | bytes, name: str = "x.php", subdir: str = "") -> list[Match]:
        folder = tmp_path / subdir if subdir else tmp_path
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return match_bytes(rules, path.read_bytes(), path)

    return _match


@pytest.fixture(scope="session")
def match_data(rules: yara.Rules) -> Callable[..., list[Match]]:
    """``match_data(content, path="x.php") -> matches`` without touching the disk."""

    def _match(content: str | bytes, path: str = "/var/www/html/x.php") -> list[Match]:
        data = content.encode() if isinstance(content, str) else content
        return match_bytes(rules, data, path)

    return _match


@pytest.fixture(scope="session")
def rank() -> Callable[[str], int]:
    return severity_rank
