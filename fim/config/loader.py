"""The TOML configuration: frozen dataclasses, and one validator that reports every problem.

Each problem names its dotted key (``scan.max_file_size: ...``); unknown keys are rejected
with a suggestion, because a misspelt key silently ignored is a protection silently off.
"""

from __future__ import annotations

import dataclasses
import difflib
import glob
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fim.alerts.config import AlertsConfig
from fim.config.updates import UpdatesConfig
from fim.core import locations
from fim.core.errors import ConfigError
from fim.core.values import describe, size_field
from fim.detect.policy import PolicyConfig
from fim.metrics.config import MetricsConfig
from fim.respond.quarantine_responder import QuarantineConfig
from fim.respond.retention import RetentionConfig


@dataclass(frozen=True)
class ScanConfig:
    """``[scan]``: how much of each file is read and matched, and what is skipped."""

    max_file_size: int = size_field("32M")  # larger files are hashed, not matched
    max_hash_size: int = size_field("4G")  # larger (or sparse giant) files are not even hashed
    exclude: tuple[str, ...] = ()
    jobs: int = 0  # 0: one per core
    match_timeout: int = 10  # seconds of YARA matching per file
    one_file_system: bool = True


@dataclass(frozen=True)
class RulesConfig:
    """``[rules]``: the bundled rules, extra rule files, and where compiled rules are cached."""

    bundled: bool = True
    paths: tuple[str, ...] = ()  # extra .yar/.yara files or folders of them
    cache_dir: str = ""  # compiled-rule cache; "" = next to the database


@dataclass(frozen=True)
class HashesConfig:
    """``[hashes]``: files of known-bad hashes (findings) and known-good ones (never flagged)."""

    bad: tuple[str, ...] = ()  # files of known-bad SHA-256/MD5 hashes: findings
    good: tuple[str, ...] = ()  # files of known-good hashes: suppress findings for that content


def _tenant_patterns(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {describe(value)}")
    for pattern in value:
        if "{tenant}" not in pattern or not pattern.startswith("/"):
            raise ValueError(f"{pattern!r} must be an absolute path pattern with one {{tenant}}")
    return tuple(value)


@dataclass(frozen=True)
class TenantsConfig:
    """``[tenants]``: how a path is attributed to a customer (path patterns, then the owner)."""

    # Matched against the start of each absolute path; * is one path component, ** any.
    patterns: tuple[str, ...] = field(
        default=(
            "/home/{tenant}/",
            "/var/www/vhosts/{tenant}/",
            "/var/www/clients/{tenant}/",
            "/srv/www/{tenant}/",
        ),
        metadata={"parse": _tenant_patterns},
    )
    from_owner: bool = True  # fall back to the file owner's name (uid >= min_uid)
    min_uid: int = 1000


@dataclass(frozen=True)
class DatabaseConfig:
    """``[database]``: where the baseline lives and how long a locked database is waited for."""

    path: str = ""  # "" = fim.db in $STATE_DIRECTORY, /var/lib/fim for root, $XDG_STATE_HOME/fim
    busy_timeout: float = 5.0  # seconds to wait for another process holding the lock


def _symlink_roots(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of strings, got {describe(value)}")
    for path in value:
        if not path.startswith("/") or glob.has_magic(path):
            raise ValueError(f"{path!r} must be an exact absolute path (no glob characters)")
    return tuple(os.path.normpath(v) for v in value)


def _event_source(value: Any) -> str:
    choices = ("auto", "fanotify", "inotify")  # fim.daemon.events.EVENT_SOURCES (a higher layer)
    if value not in choices:
        raise ValueError(
            f"expected one of {', '.join(repr(c) for c in choices)}, got {describe(value)}: "
            "'auto' takes fanotify when the process may use it (CAP_SYS_ADMIN), else inotify"
        )
    return str(value)


@dataclass(frozen=True)
class DaemonConfig:
    """``[daemon]``: the upload areas watched in real time, and the pace of events and rescans."""

    # Directories to watch; globs allowed ("/home/*/public_html"). New matches are picked up.
    roots: tuple[str, ...] = ()
    # Exact root paths allowed to be a symlink (which root must own). Any other root that is a
    # symlink, or lies behind a symlink not owned by root, is reported and skipped.
    symlink_roots: tuple[str, ...] = field(default=(), metadata={"parse": _symlink_roots})
    settle_seconds: float = 0.2  # scan this long after a file's last close
    max_delay_seconds: float = 2.0  # ...but never later than this after its first event
    max_pending: int = 100_000  # more waiting paths than this: drop them and rescan instead
    glob_refresh_seconds: float = 5.0  # how often root globs are expanded again
    rescan_seconds: float = 300.0  # how often roots that cannot be watched are rescanned
    retention_seconds: float = 3600.0  # how often retention is applied
    status_file: str = ""  # "" = status.json next to the database
    # Where events come from: fanotify (file system marks; CAP_SYS_ADMIN), inotify (a watch per
    # directory), or auto: fanotify when this process may use it, else inotify.
    events: str = field(default="auto", metadata={"parse": _event_source})


@dataclass(frozen=True)
class Config:
    """The whole configuration, every section validated; the defaults are ``fim scan`` with no file."""

    scan: ScanConfig = field(default_factory=ScanConfig)
    rules: RulesConfig = field(default_factory=RulesConfig)
    hashes: HashesConfig = field(default_factory=HashesConfig)
    tenants: TenantsConfig = field(default_factory=TenantsConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    quarantine: QuarantineConfig = field(default_factory=QuarantineConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    updates: UpdatesConfig = field(default_factory=UpdatesConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    source: str = field(default="<defaults>", metadata={"internal": True})


def load(path: str | os.PathLike[str] | None) -> Config:
    """Read and validate a config file; ``None`` gives the defaults."""
    if path is None:
        return Config()
    source = os.fspath(path)
    try:
        with open(source, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(source, ["file not found"]) from None
    except OSError as exc:
        raise ConfigError(source, [f"cannot read: {exc.strerror}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, [f"not valid TOML: {exc}"]) from None
    return from_dict(data, source=source)


def from_dict(data: dict[str, Any], *, source: str = "<dict>") -> Config:
    problems: list[str] = []
    values = _build(Config, data, "", problems)
    if problems:
        raise ConfigError(source, problems)
    return dataclasses.replace(values, source=source)


def _build(cls: type, data: Any, prefix: str, problems: list[str]) -> Any:
    if not isinstance(data, dict):
        problems.append(f"{prefix.rstrip('.') or '(top level)'}: expected a table")
        return cls()
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in data:
        if key not in fields:
            hint = difflib.get_close_matches(key, list(fields), n=1)
            suggestion = f" (did you mean '{prefix}{hint[0]}'?)" if hint else ""
            known = ", ".join(sorted(fields))
            problems.append(f"{prefix}{key}: unknown key{suggestion}; known keys: {known}")
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            continue
        key = f"{prefix}{name}"
        typ = hints[name]
        if dataclasses.is_dataclass(typ):
            kwargs[name] = _build(typ, data[name], key + ".", problems)
            continue
        item = _table_list_item(typ)
        if item is not None:
            kwargs[name] = _build_list(item, data[name], key, problems)
            continue
        hidden = bool(f.metadata.get("secret"))
        try:
            kwargs[name] = _convert(typ, data[name], f.metadata.get("parse"), secret=hidden)
        except ValueError as exc:
            problems.append(f"{key}: {_masked(str(exc), data[name]) if hidden else exc}")
    return cls(**kwargs)


def _masked(text: str, value: Any) -> str:
    """``text`` without any piece of the strings in ``value`` that could be a secret (a second
    line of defence: messages about secret keys are written not to quote them at all)."""
    from fim.alerts.secret_values import Masker  # here: fim.alerts imports this module

    masker = Masker()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            masker.add(item, url=True)
        elif isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return masker.mask(text)


def _table_list_item(typ: Any) -> type | None:
    """``tuple[SomeSection, ...]``: a TOML array of tables (``[[alerts.sinks]]``)."""
    if typing.get_origin(typ) is tuple:
        args = [a for a in typing.get_args(typ) if a is not Ellipsis]
        if len(args) == 1 and dataclasses.is_dataclass(args[0]):
            return args[0]
    return None


def _build_list(item: type, value: Any, key: str, problems: list[str]) -> tuple:
    if not isinstance(value, list):
        problems.append(f"{key}: expected an array of tables ([[{key}]]), got {describe(value)}")
        return ()
    built = []
    for index, entry in enumerate(value):
        before = len(problems)
        obj = _build(item, entry, f"{key}[{index}].", problems)
        check = getattr(obj, "validate", None)
        if len(problems) == before and check is not None:
            problems.extend(f"{key}[{index}].{p}" for p in check())
        built.append(obj)
    return tuple(built)


def _convert(typ: Any, value: Any, parse: Any, *, secret: bool = False) -> Any:
    if parse is not None:
        return parse(value)
    if secret:
        try:
            return _convert(typ, value, None)
        except ValueError:  # the same message, naming the value's type only
            raise ValueError(f"expected {_expected(typ)}, got {describe(value, secret=True)}") from None
    if typing.get_origin(typ) is dict:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ValueError(f"expected a table of strings, got {describe(value)}")
        return dict(value)
    origin = typing.get_origin(typ)
    if origin is tuple:
        (item,) = {a for a in typing.get_args(typ) if a is not Ellipsis}
        if not isinstance(value, list):
            raise ValueError(f"expected a list of {item.__name__}, got {describe(value)}")
        return tuple(_convert(item, v, None) for v in value)
    if origin in (types.UnionType, typing.Union):
        return value
    if typ is bool:
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {describe(value)}")
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {describe(value)}")
        if value < 0:
            raise ValueError("must not be negative")
        return value
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {describe(value)}")
        if value < 0:
            raise ValueError("must not be negative")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {describe(value)}")
        return value
    raise TypeError(f"config type {typ!r} not supported")  # a bug in fim, not in the file


def _expected(typ: Any) -> str:
    origin = typing.get_origin(typ)
    if origin is dict:
        return "a table of strings"
    if origin is tuple:
        (item,) = {a for a in typing.get_args(typ) if a is not Ellipsis}
        return f"a list of {item.__name__}"
    return {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}.get(
        typ, getattr(typ, "__name__", str(typ))
    )


def database_path(config: Config) -> Path:
    return locations.database_path(config.database.path)
