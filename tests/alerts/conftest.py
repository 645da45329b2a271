"""Fixtures: real receivers on loopback (HTTP, SMTP), a real exec program, real SQLite files.
The helpers are in ``alert_support``."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

# Make ``import alert_support`` work whatever pytest's import mode (this folder is no package).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from alert_support import HttpReceiver, SmtpServer


@pytest.fixture
def http_receiver():
    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp_server():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "fim.db"


@pytest.fixture
def exec_program(tmp_path: Path) -> Path:
    """A program that appends its standard input to the file named by its first argument and
    its environment to ``<that file>.env``."""
    program = tmp_path / "bin" / "fim-receive"
    program.parent.mkdir(mode=0o755)
    program.write_text('#!/bin/sh\ncat >> "$1"\nenv >> "$1.env"\n')
    program.chmod(0o755)
    os.chmod(program.parent, stat.S_IMODE(program.parent.stat().st_mode) & ~0o022)
    return program
