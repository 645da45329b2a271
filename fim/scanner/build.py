"""Assembling a scanner from a configuration: rules, hash lists, upload-area policy and
quarantine. ``fim scan``, the library's :func:`scan` and the daemon all build their scanner here."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from fim.config.loader import Config, database_path
from fim.core import locations, paths
from fim.core.errors import UsageError
from fim.core.model import Responder, ScanReport
from fim.detect import hashlists, rules
from fim.detect.inspector import ContentCheck
from fim.detect.policy import PolicyCheck
from fim.respond import quarantine_responder
from fim.scanner.callbacks import ChangeCallback, FindingCallback, ProgressCallback
from fim.scanner.pipeline import Scanner
from fim.store.database import Store
from fim.updates.install import engine_inputs, updates_dir

if TYPE_CHECKING:
    from fim.alerts.service import AlertService


def build_engine(
    config: Config, extra_rules: Sequence[str] = (), *, use_bundled: bool | None = None,
    cache_dir: Path | None = None, hashes: hashlists.HashLists | None = None,
) -> rules.YaraEngine:  # fmt: skip
    """Compile (or load from cache) the bundled and configured rules, and the installed packs'."""
    bundled = config.rules.bundled if use_bundled is None else use_bundled
    sources = rules.discover([*engine_inputs(config).rule_paths, *extra_rules], bundled=bundled)
    if config.rules.cache_dir:
        cache_dir = Path(config.rules.cache_dir)
    extra = hashes.raw if hashes else ()
    return rules.YaraEngine.build(sources, cache_dir=cache_dir, extra_inputs=extra)


def load_hashes(config: Config) -> hashlists.HashLists:
    """The configured hash lists and those of the installed packs."""
    inputs = engine_inputs(config)
    return hashlists.load(inputs.bad, inputs.good)


def scan(
    roots: Sequence[bytes | str],
    *,
    config: Config | None = None,
    store: Store | None = None,
    extra_rules: Sequence[str] = (),
    use_bundled: bool | None = None,
    jobs: int = 0,
    on_finding: FindingCallback | None = None,
    on_progress: ProgressCallback | None = None,
    on_change: ChangeCallback | None = None,
) -> ScanReport:
    """Scan ``roots`` with the bundled (and configured) rules; the library's front door.

    Without a ``store`` the baseline is kept in memory and forgotten afterwards.
    """
    config = config or Config()
    raw_roots = [os.fsencode(r) for r in roots]
    for root in raw_roots:
        if not os.path.lexists(root):
            raise UsageError(f"{paths.display(root)}: no such file or directory")
    own_store = store is None
    store = store or Store.memory()
    try:
        scanner = build_scanner(
            config, store, extra_rules=extra_rules, use_bundled=use_bundled, jobs=jobs,
            on_finding=on_finding, on_progress=on_progress, on_change=on_change,
        )  # fmt: skip
        try:
            return scanner.scan(raw_roots)
        finally:
            scanner.close()
    finally:
        if own_store:
            store.close()


def build_scanner(
    config: Config,
    store: Store,
    *,
    extra_rules: Sequence[str] = (),
    use_bundled: bool | None = None,
    cache_dir: Path | None = None,
    engine: tuple[rules.RuleEngine, hashlists.HashLists] | None = None,
    jobs: int = 0,
    on_message: Callable[[str], None] | None = None,
    on_finding: FindingCallback | None = None,
    on_progress: ProgressCallback | None = None,
    on_change: ChangeCallback | None = None,
) -> Scanner:
    """Everything a configuration asks for, assembled: rules, hash lists, upload-area policy,
    quarantine. ``fim scan``, the library and the daemon all build their scanner here.
    ``engine`` is a rule engine already built (with its hash lists) by :func:`build_engine`."""
    if engine is None:
        hashes = load_hashes(config)
        rule_engine = build_engine(
            config, extra_rules, use_bundled=use_bundled, cache_dir=cache_dir, hashes=hashes
        )
    else:
        rule_engine, hashes = engine
    checks, responders = response(config, store, on_message=on_message)
    return Scanner(
        config=config, engine=rule_engine, store=store, hashes=hashes, checks=checks, responders=responders,
        jobs=jobs, on_finding=on_finding, on_progress=on_progress, on_change=on_change,
    )  # fmt: skip


def response(
    config: Config, store: Store, *, on_message: quarantine_responder.MessageCallback | None = None
) -> tuple[list[ContentCheck], list[Responder]]:
    """The upload-area policy check and the quarantine responder a configuration asks for."""
    qc = config.quarantine
    policy = PolicyCheck.from_config(config.policy)
    checks: list[ContentCheck] = [policy] if policy.rules else []
    responders: list[Responder] = []
    if qc.enabled:
        if store.where == ":memory:":
            raise UsageError("quarantine.enabled needs a database to record what it moves (not --no-db)")
        responder = quarantine_responder.QuarantineResponder(store, qc, policy, on_message)
        responder.protected, responder.protected_dirs = state_directories(config, store)
        responders.append(responder)
    return checks, responders


def state_directories(config: Config, store: Store) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """fim's own places, never moved from: trees (quarantine, rule cache) and the directories
    holding its files (database with WAL/SHM, status file; often shared, so only themselves)."""
    where = store.where if store.where != ":memory:" else str(database_path(config))
    db = os.fsencode(os.path.abspath(where))
    cache = os.fsencode(locations.cache_dir(Path(os.fsdecode(db))))
    packs = os.fsencode(updates_dir(config))  # installed rule packs
    trees = [locations.quarantine_dir(config.quarantine.directory), cache, packs]
    dirs = [os.path.dirname(db)]
    if config.daemon.status_file:
        dirs.append(os.path.dirname(os.fsencode(os.path.abspath(config.daemon.status_file))))
    if config.rules.cache_dir:
        trees.append(os.fsencode(os.path.abspath(config.rules.cache_dir)))
    return tuple(dict.fromkeys(trees)), tuple(dict.fromkeys(dirs))


def alert_service(config: Config, db_path: str | os.PathLike[str] | None) -> AlertService:
    """Every configured alert sink, built and checked (ConfigError names the bad key)."""
    from fim.alerts.service import AlertService  # apprise and friends load only when alerting

    return AlertService.from_config(
        config.alerts, db_path, source=config.source, busy_timeout=config.database.busy_timeout
    )
