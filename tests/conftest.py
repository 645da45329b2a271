"""Shared fixtures: real files in temporary directories, fim run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Property tests check behaviour, never speed: on a loaded machine (CI beside other jobs) a
# slow example must not fail a test.
settings.register_profile("fim", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fim")

MARKER_RULE = """
rule test_marker_eval {
    meta:
        description = "test marker: eval of request input"
        family = "test"
        severity = "critical"
    strings:
        $a = "FIM_TEST_MARKER_EVAL"
    condition:
        $a
}

rule test_marker_low {
    meta:
        description = "test marker: low"
        family = "test"
        severity = "low"
    strings:
        $a = "FIM_TEST_MARKER_LOW"
    condition:
        $a
}
"""


@pytest.fixture
def event_source() -> str:
    """The daemon's ``[daemon] events`` for tests not about event delivery: whatever ``auto``
    picks. Tests about delivery override it with each source in turn (tests/daemon)."""
    return "auto"


@pytest.fixture
def store(tmp_path: Path):
    """A real baseline database (SQLite file) in tmp_path."""
    from fim.store.database import Store

    with Store.open(tmp_path / "fim.db") as s:
        yield s


@pytest.fixture
def marker_rules(tmp_path: Path) -> Path:
    path = tmp_path / "marker.yar"
    path.write_text(MARKER_RULE)
    return path


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An environment whose default database and cache live in tmp_path."""
    env = dict(os.environ)
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env.pop("NO_COLOR", None)
    monkeypatch.setenv("XDG_STATE_HOME", env["XDG_STATE_HOME"])
    return env


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[bytes]):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    @property
    def text(self) -> str:
        return self.out.decode("utf-8")

    @property
    def json(self) -> dict:
        return json.loads(self.out)

    @property
    def jsonl(self) -> list[dict]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture
def fim(state_env: dict[str, str]):
    """Run the real ``fim`` command (``python -m fim``) and capture its output."""

    def run(*args: str | bytes | os.PathLike, stdin: bytes | None = None, timeout: float = 120) -> Run:
        argv = [sys.executable, "-m", "fim", *[a if isinstance(a, bytes) else os.fsencode(a) for a in args]]
        proc = subprocess.run(argv, input=stdin, capture_output=True, env=state_env, timeout=timeout)
        return Run(proc)

    return run
