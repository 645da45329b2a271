"""Installed packs in fim's state directory, and the atomic swap that installs a new one.

Layout (every directory 0700, fim's own; nothing a customer can write)::

    <state>/updates/<source id>/packs/v<version>-<digest>/   manifest.json, manifest.sig, rules/, hashes/
    <state>/updates/<source id>/current -> packs/v...        symlink, replaced with rename(2)
    <state>/updates/<source id>/state.json                   fetch state (see fim.updates.state)

``<source id>`` is derived from the source's URL. A new pack is written into a temporary
directory beside the others, compiled together with every other rule the engine uses, renamed
into place, and only then made current by renaming a new symlink over ``current``: a reader sees
the old pack or the new one, never a mix. The previous pack is kept (one step back by hand).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fim.config import loader as config_mod
from fim.config.loader import Config
from fim.config.updates import UpdateSource
from fim.core import statefiles
from fim.core.errors import FimError
from fim.detect import hashlists, rules

if TYPE_CHECKING:  # the pack module loads cryptography; reading installed packs does not need it
    from fim.updates.pack import Pack

MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"  # as in fim.updates.pack
CURRENT = "current"
_PACK_DIR = re.compile(r"^v\d+-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Installed:
    """What a source's current pack is: read back from its manifest on disk."""

    name: str
    version: int
    created: str
    digest: str
    directory: Path


@dataclass(frozen=True)
class EngineInputs:
    """The rule files and hash lists the engine is built from (configured and installed)."""

    rule_paths: tuple[str, ...]
    bad: tuple[str, ...]
    good: tuple[str, ...]


def updates_dir(config: Config) -> Path:
    return config_mod.database_path(config).parent / "updates"


def source_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def source_dir(config: Config, source: UpdateSource) -> Path:
    return updates_dir(config) / source_id(source.url)


def installed(config: Config, source: UpdateSource) -> Installed | None:
    """The source's current pack, or None (never installed, or the pointer is not ours)."""
    base = source_dir(config, source)
    try:
        target = os.readlink(base / CURRENT)
    except OSError:
        return None
    name = target.removeprefix("packs/")
    if not target.startswith("packs/") or not _PACK_DIR.match(name):
        return None
    directory = base / "packs" / name
    try:
        raw = (directory / MANIFEST).read_bytes()
        doc = json.loads(raw)
        return Installed(
            name=str(doc["name"]), version=int(doc["version"]), created=str(doc.get("created", "")),
            digest=hashlib.sha256(raw).hexdigest(), directory=directory,
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def engine_inputs(config: Config, staged: dict[str, Path] | None = None) -> EngineInputs:
    """The configured rule paths and hash lists, then each configured source's installed pack
    (or, for a source in ``staged``, the pack being checked): what the engine is built from."""
    rule_paths, bad, good = list(config.rules.paths), list(config.hashes.bad), list(config.hashes.good)
    for source in config.updates.sources:
        directory = (staged or {}).get(source.url)
        if directory is None:
            current = installed(config, source)
            directory = current.directory if current else None
        if directory is None:
            continue
        if (directory / "rules").is_dir():
            rule_paths.append(str(directory / "rules"))
        bad += sorted(str(p) for p in (directory / "hashes/bad").glob("*.txt"))
        good += sorted(str(p) for p in (directory / "hashes/good").glob("*.txt"))
    return EngineInputs(tuple(rule_paths), tuple(bad), tuple(good))


class RefusedError(FimError):
    """A verified pack is refused (older, or does not compile); the running rules stay."""


def check_newer(pack: Pack, current: Installed | None) -> bool:
    """True when ``pack`` should be installed, False when it is the installed pack already;
    RefusedError when it would roll back."""
    if current is None:
        return True
    if pack.version < current.version:
        raise RefusedError(
            f"pack {pack.name} version {pack.version} is older than the installed version "
            f"{current.version}; refused (rollback protection)"
        )
    if pack.version == current.version:
        if pack.digest == current.digest:
            return False
        raise RefusedError(
            f"pack {pack.name} version {pack.version} has different content than the installed pack "
            "of the same version; refused (publish a higher version)"
        )
    return True


def install(config: Config, source: UpdateSource, pack: Pack, cache_dir: Path | None = None) -> Installed:
    """Write ``pack`` beside the installed ones, compile it with every other rule, and make it
    current. On any failure the current pack is left as it was."""
    base = source_dir(config, source)
    packs = base / "packs"
    statefiles.private_dir(packs)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=packs))
    try:
        for member, data in [(MANIFEST, pack.manifest), (SIGNATURE, pack.signature), *pack.files.items()]:
            target = staging / member
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        compile_check(config, {source.url: staging}, cache_dir)
        final = packs / f"v{pack.version}-{pack.digest[:12]}"
        if final.exists():
            shutil.rmtree(final)
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer = base / f".{CURRENT}.{os.getpid()}.tmp"
    pointer.unlink(missing_ok=True)
    os.symlink(f"packs/{final.name}", pointer)
    previous = installed(config, source)
    os.replace(pointer, base / CURRENT)
    _fsync_dir(base)
    keep = {final.name} | ({previous.directory.name} if previous else set())
    for old in packs.iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    result = installed(config, source)
    if result is None:  # cannot happen unless someone else changes fim's state directory
        raise RefusedError(f"{base / CURRENT}: installed pack cannot be read back")
    return result


def compile_check(config: Config, staged: dict[str, Path], cache_dir: Path | None = None) -> None:
    """Build the engine the daemon would build with ``staged`` packs in: RefusedError if not."""
    inputs = engine_inputs(config, staged)
    try:
        lists = hashlists.load(inputs.bad, inputs.good)
        sources = rules.discover(inputs.rule_paths, bundled=config.rules.bundled)
        rules.YaraEngine.build(sources, cache_dir=cache_dir, extra_inputs=lists.raw)
    except FimError as exc:
        raise RefusedError(f"pack does not compile with the running rules; refused: {exc}") from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def installed_signature(config: Config) -> tuple[tuple[str, str], ...]:
    """Which pack each configured source has current: changes when any pack is installed
    (by the daemon's update thread or by ``fim rules update``). Cheap: one readlink a source."""
    found = []
    for source in config.updates.sources:
        try:
            found.append((source.url, os.readlink(source_dir(config, source) / CURRENT)))
        except OSError:
            found.append((source.url, ""))
    return tuple(found)
