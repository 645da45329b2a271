"""Fixtures for the hostile-tree tests; the helpers themselves are in ``hostile_support``."""

from __future__ import annotations

import os
import pwd
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# Make ``import hostile_support`` work whatever pytest's import mode (this folder is no package).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from hostile_support import RULE_TEXT, AccessSpy, Workspace


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.create(tmp_path)


@pytest.fixture
def world_ws():
    """A workspace user nobody can traverse (pytest's own tmp dirs are private to root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to build a tree owned by root and scan it as nobody")
    base = Path(tempfile.mkdtemp(prefix="fim-hostile-"))
    try:
        os.chmod(base, 0o755)
        w = Workspace.create(base)
        for d in (w.root, w.outside, w.base / "rules"):
            os.chmod(d, 0o755)
        os.chmod(w.rule_file, 0o644)
        nobody = pwd.getpwnam("nobody")
        os.chown(w.state, nobody.pw_uid, nobody.pw_gid)
        yield w
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    """The marker rule compiled once, for tests that drive the walker and inspector directly."""
    from fim.config.loader import Config
    from fim.scanner.build import build_engine

    rule = tmp_path_factory.mktemp("rules") / "marker.yar"
    rule.write_text(RULE_TEXT)
    return build_engine(Config(), [str(rule)], use_bundled=False)


@pytest.fixture
def spy():
    s = AccessSpy()
    yield s
    s.close()
