"""One update of one source: fetch, verify, refuse or install, and record the outcome.

Used alike by ``fim rules update`` and the daemon's update thread. Nothing is written to the
installed packs before the pack is verified (signature, every file's SHA-256) and compiled.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

from fim.config.loader import Config
from fim.config.updates import UpdateSource
from fim.core import statefiles
from fim.core.errors import ConfigError, FimError
from fim.updates import fetch, install, keys, pack
from fim.updates.state import SourceState


@dataclass(frozen=True)
class Outcome:
    """What one check of a source did: ``action`` is installed | current | not-modified | failed."""

    url: str
    action: str
    message: str
    version: int | None = None

    @property
    def failed(self) -> bool:
        return self.action == "failed"


def update_source(config: Config, source: UpdateSource, *, cache_dir: Path | None = None) -> Outcome:
    """Check ``source`` once. One process at a time per source (a lock file beside its packs):
    ``fim rules update`` and the daemon may run together."""
    directory = install.source_dir(config, source)
    try:
        statefiles.private_dir(directory)
        lock = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        return Outcome(source.url, "failed", f"cannot use the state directory {directory}: {exc.strerror}")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _update_locked(config, source, directory, cache_dir)
    finally:
        os.close(lock)


def _update_locked(config: Config, source: UpdateSource, directory: Path, cache_dir: Path | None) -> Outcome:
    state = SourceState.read(directory)
    if state.url != source.url:
        state = SourceState(url=source.url)
    now = time.time()
    current = install.installed(config, source)
    try:
        key = keys.load_public(source.pubkey_file)
        # Validators only when a pack is installed: a 304 must never leave a server without one.
        etag, modified = (state.etag, state.last_modified) if current else ("", "")
        got = fetch.fetch(source.url, etag=etag, last_modified=modified, ca_file=source.ca_file,
                          max_size=source.max_size, timeout=source.timeout)  # fmt: skip
        if got.body is None:
            outcome = Outcome(
                source.url, "not-modified", "not modified (304)", current.version if current else None
            )
        else:
            verified = pack.read(got.body, key)
            if install.check_newer(verified, current):
                done = install.install(config, source, verified, cache_dir)
                message = f"installed pack {done.name} version {done.version} signed by {verified.signer}"
                outcome = Outcome(source.url, "installed", message, done.version)
            else:
                outcome = Outcome(source.url, "current", f"pack {verified.name} version "
                                  f"{verified.version} is installed already", verified.version)  # fmt: skip
            state = dataclasses.replace(
                state, etag=got.etag, last_modified=got.last_modified, signer=verified.signer
            )
    except (FimError, OSError) as exc:  # OSError: the state directory full or unwritable
        state = dataclasses.replace(
            state, last_check=now, last_error=str(exc), failing_since=state.failing_since or now
        )
        _save(state, directory)
        kept = f"; keeping pack version {current.version}" if current else "; no pack installed"
        return Outcome(source.url, "failed", f"{exc}{kept}", current.version if current else None)
    state = dataclasses.replace(state, last_check=now, last_success=now, last_error="", failing_since=0.0)
    _save(state, directory)
    return outcome


def _save(state: SourceState, directory: Path) -> None:
    try:
        state.write(directory)
    except OSError:
        pass  # the outcome is still reported; the next check retries without validators


def update_all(config: Config, *, cache_dir: Path | None = None) -> list[Outcome]:
    return [update_source(config, s, cache_dir=cache_dir) for s in config.updates.sources]


def describe_sources(config: Config) -> list[dict[str, object]]:
    """Each source's last check and success, its installed pack and signer (for ``fim status``)."""
    shown: list[dict[str, object]] = []
    for source in config.updates.sources:
        state = SourceState.read(install.source_dir(config, source))
        current = install.installed(config, source)
        shown.append(
            {
                "url": source.url,
                "last_check": state.last_check or None,
                "last_success": state.last_success or None,
                "failing_since": state.failing_since or None,
                "last_error": state.last_error,
                "pack": current.name if current else None,
                "version": current.version if current else None,
                "created": current.created if current else None,
                "signer": state.signer if current else None,
            }
        )
    return shown


def check_sources(config: Config) -> None:
    """Every source's public key loads (``fim config check``); ConfigError naming the key."""
    problems = []
    for index, source in enumerate(config.updates.sources):
        try:
            keys.load_public(source.pubkey_file)
        except keys.KeyFileError as exc:
            problems.append(f"updates.sources[{index}].pubkey_file: {exc}")
        if source.ca_file and not os.path.isfile(source.ca_file):
            problems.append(f"updates.sources[{index}].ca_file: {source.ca_file}: no such file")
    if problems:
        raise ConfigError(config.source, problems)
