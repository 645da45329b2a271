"""Value parsers shared by every configuration section (kept apart so sections in other
modules can use them without importing :mod:`fim.config`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import field
from typing import Any

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_size(value: str | int) -> int:
    """``"32M"`` -> 33554432. Binary units; a bare number is bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 32M, not a boolean")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise ValueError(f"expected a size such as 512K, 32M or 2G, not {value!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def size_field(default: str) -> Any:
    return field(default=parse_size(default), metadata={"parse": parse_size})


def choice(options: Sequence[str]) -> Callable[[Any], str]:
    """A parser accepting one of ``options`` (use as ``metadata={"parse": choice(...)}``)."""

    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}, got {describe(value)}")
        return value

    return parse


def percent(value: Any) -> float:
    """A percentage from 0 to 100 (a number)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a percentage from 0 to 100, got {describe(value)}")
    if not 0 <= value <= 100:
        raise ValueError(f"expected a percentage from 0 to 100, got {value}")
    return float(value)


# ``field(metadata=SECRET)``: the value may hold a secret (a token, a password, a URL carrying
# either); error messages about it name its type, never its value.
SECRET: dict[str, Any] = {"secret": True}


def describe(value: Any, *, secret: bool = False) -> str:
    """``value``'s type, and the value itself unless ``secret`` or a table (which may hold
    anything)."""
    name = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }.get(type(value), type(value).__name__)
    if secret or isinstance(value, dict):
        return name
    return f"{name} ({_short(value)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
