"""The daemon's side of rule updates: a thread that checks each ``[[updates.sources]]`` on its
interval (with jitter, so a fleet does not knock at once), and the work loop noticing a newly
installed pack and reloading its rules as SIGHUP does (the files on disk are matched again).

The thread only fetches, verifies, compiles and installs (:func:`fim.updates.update.update_source`);
the rules in use change in the work loop, through the same reload as SIGHUP, so a failure
anywhere keeps the running rules. A source failing for longer than ``updates.health_after``
raises a health finding (alert sinks hear of it) and marks the daemon degraded until it recovers.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fim.config import loader as config_mod
from fim.config.loader import Config
from fim.core import locations
from fim.updates import install, update
from fim.updates.state import SourceState

JITTER = 0.1  # up to this fraction of the interval is added to each wait
FIRST_CHECK_MAX = 30.0  # seconds: the first check after start comes within this (jittered)
LOOK_EVERY = 1.0  # seconds between looks at the installed packs and the sources' health


class UpdateThread:
    """Checks every configured source when due; tells the work loop (``wake``) after an install."""

    def __init__(self, config: Callable[[], Config], wake: threading.Event, log: Any):
        self._config = config
        self._wake = wake
        self._log = log
        self._stop = threading.Event()
        self._due: dict[str, float] = {}
        self._thread = threading.Thread(target=self._run, name="fim-updates", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            config = self._config()
            now = time.monotonic()
            for source in config.updates.sources:
                if self._stop.is_set():
                    return
                due = self._due.setdefault(
                    source.url,
                    now + random.uniform(0, min(source.interval, FIRST_CHECK_MAX) * JITTER),  # noqa: S311
                )
                if now < due:
                    continue
                self._check(config, source)
                self._due[source.url] = time.monotonic() + source.interval * (1 + random.uniform(0, JITTER))  # noqa: S311
            waits = [d - time.monotonic() for u, d in self._due.items() if _configured(config, u)]
            self._stop.wait(max(0.05, min([*waits, 5.0])))

    def _check(self, config: Config, source: Any) -> None:
        cache = _cache_dir(config)
        try:
            outcome = update.update_source(config, source, cache_dir=cache)
        except Exception as exc:  # a bug must not end the thread: the next interval tries again
            self._log.error("rule update check crashed", url=source.url, error=repr(exc))
            return
        if outcome.failed:
            self._log.error(
                "rule update failed; keeping the running rules", url=source.url, error=outcome.message
            )
        elif outcome.action == "installed":
            self._log.info("rule pack installed", url=source.url, message=outcome.message)
            self._wake.set()
        else:
            self._log.debug("rule pack current", url=source.url, message=outcome.message)


def _configured(config: Config, url: str) -> bool:
    return any(s.url == url for s in config.updates.sources)


def _cache_dir(config: Config) -> Path:
    if config.rules.cache_dir:
        return Path(config.rules.cache_dir)
    return locations.cache_dir(config_mod.database_path(config))


class DaemonUpdates:
    """The updates part of :class:`fim.daemon.service.Daemon` (a mixin sharing its state)."""

    log: Any
    config: Config
    wake: threading.Event
    watches: Any
    _reload: bool
    _updater: UpdateThread | None = None
    _packs_loaded: tuple[tuple[str, str], ...] = ()
    _update_alerted: dict[str, float]

    if TYPE_CHECKING:  # provided by the other halves of Daemon

        def degrade(self, cause: str, reason: str) -> None: ...
        def recover(self, cause: str) -> None: ...
        def _health_finding(self, root: bytes, rule: str, description: str) -> None: ...
        def _due(self, name: str, now: float, interval: float) -> bool: ...

    def _start_updates(self) -> None:
        """Start checking sources (the thread runs even with none: a reload may add some)."""
        self._packs_loaded = install.installed_signature(self.config)
        self._update_alerted = {}
        self._updater = UpdateThread(lambda: self.config, self.wake, self.log)
        self._updater.start()

    def _stop_updates(self) -> None:
        if self._updater is not None:
            self._updater.stop()

    def _check_updates(self, now: float) -> None:
        """Called by the work loop: reload when a pack was installed; report failing sources."""
        if not self._due("updates", now, LOOK_EVERY):
            return
        installed = install.installed_signature(self.config)
        if installed != self._packs_loaded:
            self._packs_loaded = installed
            self.log.info("new rule pack installed; reloading rules")
            self._reload = True  # the SIGHUP path: refused rules keep the running ones
        self._source_health()

    def _source_health(self) -> None:
        wall = time.time()
        limit = self.config.updates.health_after
        failing: list[str] = []
        for source in self.config.updates.sources:
            state = SourceState.read(install.source_dir(self.config, source))
            if not state.failing_since or wall - state.failing_since < limit:
                continue
            failing.append(f"{source.url}: {state.last_error}")
            if self._update_alerted.get(source.url) != state.failing_since:
                self._update_alerted[source.url] = state.failing_since
                hours = (wall - state.failing_since) / 3600
                root = next(iter([*self.watches.watched, *self.watches.unwatched]), b"/")
                why = f"rule updates from {source.url} have failed for {hours:.1f} h; running rules kept"
                self._health_finding(root, "fim_update_failing", f"{why}: {state.last_error}")
        if failing:
            self.degrade("updates", "rule updates failing: " + "; ".join(failing))
        else:
            self.recover("updates")
