"""One update of one source: fetch, verify, refuse or install, and record the outcome.

Used alike by ``fim rules update`` and the daemon's update thread. Nothing is written to the
installed packs before the pack is verified (signature, every file's SHA-256) and compiled.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from fim.config.loader import Config
from fim.config.updates import UpdateSource
from fim.core.errors import FimError
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
    directory = install.source_dir(config, source)
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
    except FimError as exc:
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
