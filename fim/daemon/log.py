"""structlog loggers: JSON lines when stderr is not a terminal (journald keeps them), readable
text on a terminal. Built per process and passed in; no global logging configuration."""

from __future__ import annotations

import sys
from typing import Any, TextIO

import structlog


def make_logger(stream: TextIO | None = None, *, json: bool | None = None) -> Any:
    stream = stream or sys.stderr
    as_json = (not stream.isatty()) if json is None else json
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if as_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    return structlog.wrap_logger(
        structlog.PrintLogger(file=stream),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
