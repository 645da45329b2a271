"""Run a command with the ECS events on its standard input (one JSON document per line).

Peers shipped command injection exactly here, so: the argv comes from the configuration only
(absolute program path, fixed arguments; never a shell, never a filename); the environment is
minimal; the working directory is ``/``; the command runs in its own session and, past the
timeout, its whole process group is killed. A program that others could replace is refused:
group- or world-writable, or (when fim runs as root) not owned by root or in a directory that
someone other than root can write to.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from typing import TYPE_CHECKING

from fim.alerts.events import dumps, encode
from fim.alerts.sinks.base import Audience, Batch, SinkError
from fim.core import paths

if TYPE_CHECKING:
    from fim.alerts.config import SinkConfig
    from fim.alerts.secret_values import Masker
    from fim.alerts.sinks.base import Sink


SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_OUTPUT_SHOWN = 500


def program_problem(program: str) -> str | None:
    """Why ``program`` must not be run by fim, or None."""
    try:
        st = os.stat(program)
    except OSError as exc:
        return f"{program}: {exc.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return f"{program}: not a regular file"
    if not st.st_mode & 0o111:
        return f"{program}: not executable"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"{program}: writable by group or others; refusing to run it"
    if os.geteuid() == 0:
        if st.st_uid != 0:
            return f"{program}: not owned by root; refusing to run it as root"
        for directory in _ancestors(program) | _ancestors(os.path.realpath(program)):
            try:
                dst = os.stat(directory)
            except OSError as exc:
                return f"{directory}: {exc.strerror}"
            open_to_others = dst.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not dst.st_mode & stat.S_ISVTX
            if dst.st_uid != 0 or open_to_others:
                return f"{program}: its directory {directory} can be changed by users other than root"
    return None


def _ancestors(path: str) -> set[str]:
    out = set()
    current = os.path.dirname(os.path.abspath(path))
    while True:
        out.add(current)
        parent = os.path.dirname(current)
        if parent == current:
            return out
        current = parent


class ExecSink:
    """Runs a fixed argv with the events as JSON on stdin: never a shell, never a file name in argv."""

    audience: Audience = "machines"

    def __init__(self, name: str, argv: tuple[str, ...], env: dict[str, str]):
        self.name = name
        self._argv = list(argv)
        self._env = {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **env, "FIM_SINK": name}

    def describe(self) -> str:
        return f"command {self._argv[0]}"

    def send(self, batch: Batch, timeout: float) -> None:
        program = self._argv[0]
        problem = program_problem(program)  # checked again at each run: files change
        if problem:
            raise SinkError(problem)
        data = encode("".join(dumps(e) + "\n" for e in batch.events))
        env = {**self._env, "FIM_EVENTS": str(len(batch.events))}
        try:
            proc = subprocess.Popen(
                self._argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                cwd="/",
                close_fds=True,
                start_new_session=True,  # its own process group, killed as a whole on timeout
                shell=False,
            )
        except OSError as exc:
            raise SinkError(f"cannot run {program}: {exc.strerror}") from None
        try:
            _out, err = proc.communicate(data, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise SinkError(
                f"{program} did not finish within {timeout:g}s; its process group was killed"
            ) from None
        except BaseException:
            _kill_group(proc)
            raise
        if proc.returncode != 0:
            how = (
                f"killed by signal {-proc.returncode}"
                if proc.returncode < 0
                else f"exit status {proc.returncode}"
            )
            said = paths.display(err[-_OUTPUT_SHOWN:].strip()) if err.strip() else "no error output"
            raise SinkError(f"{program}: {how}: {said}")


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # start_new_session: the group id is the child's pid
    except ProcessLookupError:
        pass
    try:
        proc.communicate(timeout=2)
    except (subprocess.TimeoutExpired, ValueError, OSError):
        # A grandchild that left the group still holds the pipes: stop reading, do not hang.
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream:
                stream.close()
    proc.wait()


# -- the sink kind (see fim.alerts.sinks.registry) ------------------------------------------------

TYPE = "exec"
KEYS = frozenset({"argv", "env", "max_batch"})


def validate(cfg: SinkConfig) -> list[str]:
    if not cfg.argv:
        return ["argv: required, the program's absolute path then its fixed arguments"]
    if not cfg.argv[0].startswith("/"):
        return ["argv: the program must be an absolute path (no PATH lookup, no shell)"]
    return []


def build(cfg: SinkConfig, masker: Masker) -> tuple[list[Sink], list[str]]:
    for value in cfg.env.values():
        masker.add(value)
    problem = program_problem(cfg.argv[0])
    if problem:
        return [], [f"argv: {problem}"]
    return [ExecSink(cfg.name, cfg.argv, cfg.env)], []
