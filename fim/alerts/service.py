"""The alert service: what ``fim scan --alert``, ``fim alerts`` and the daemon use.

    service = scanner.build.alert_service(config, db_path)  # ConfigError on invalid sinks
    service.install(store)         # findings now commit together with their deliveries
    service.start()                # background delivery (daemon), or:
    service.deliver_due(10.0)      # deliver what is due now, for at most 10 s
    service.stop(5.0)              # undelivered alerts stay in the database

Every send happens on a connection of the service's own (never the store's), in one thread
per target so a hanging target does not hold up the others.
"""

from __future__ import annotations

import logging
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence

from fim.alerts import state
from fim.alerts.config import AlertsConfig
from fim.alerts.dispatcher import Dispatcher, Planned
from fim.alerts.events import health_event
from fim.alerts.outbox import Delivery, Outbox, Target
from fim.alerts.render import notice_message
from fim.alerts.secret_values import Masker
from fim.alerts.sinks.base import Batch
from fim.alerts.sinks.factory import build
from fim.core.errors import ConfigError, StoreError
from fim.core.model import Severity
from fim.store.database import Store
from fim.store.sqlite_errors import translate

log = logging.getLogger("fim.alerts")
ROUND_S = 30.0  # the background thread's longest delivery round
POLL_S = 30.0  # it looks at the outbox at least this often (rows written by other processes)
SETTLE_S = 0.2  # after a wake-up, let the transaction that woke it commit
MAX_ROUNDS = 5


class AlertService:
    """The outbox and its delivery: findings commit with their deliveries, and a thread (daemon)
    or a bounded drain (``fim scan --alert``) sends them, so none is lost when a sink is down."""

    def __init__(
        self,
        targets: Sequence[Target],
        settings: AlertsConfig,
        db_path: str | os.PathLike[str],
        *,
        hostname: str = "",
        busy_timeout: float = 5.0,
        masker: Masker | None = None,
    ):
        self.targets = list(targets)
        self.settings = settings
        self.db_path = os.fspath(db_path)
        self.hostname = hostname or settings.hostname or socket.gethostname()
        self.busy_timeout = busy_timeout
        self.outbox = Outbox(self.targets)
        self.dispatcher = Dispatcher(
            self.targets, settings, self.hostname, self._connect, self._raise_health,
            mask=(masker or Masker()).mask,
        )  # fmt: skip
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_db_error: tuple[str, float] = ("", 0.0)

    @classmethod
    def from_config(
        cls,
        settings: AlertsConfig,
        db_path: str | os.PathLike[str] | None,
        *,
        source: str = "<config>",
        busy_timeout: float = 5.0,
    ) -> AlertService:
        """Build every configured sink: read secrets, check URLs and programs (ConfigError if not).

        ``source`` names the configuration file in error messages."""
        if db_path is None or os.fspath(db_path) == ":memory:":
            raise ConfigError(source, ["alerts: need a database file to keep undelivered alerts in"])
        masker = Masker()
        targets: list[Target] = []
        problems: list[str] = []
        seen: set[str] = set()
        for index, cfg in enumerate(settings.sinks):
            prefix = f"alerts.sinks[{index}]."
            if cfg.name in seen:
                problems.append(f"{prefix}name: {cfg.name!r} is used by another sink")
            seen.add(cfg.name)
            static = cfg.validate()
            if static:
                problems.extend(prefix + p for p in static)
                continue
            built, trouble = build(cfg, masker)
            problems.extend(prefix + masker.mask(p) for p in trouble)
            targets.extend(Target(sink, cfg) for sink in built)
        if problems:
            raise ConfigError(source, problems)
        return cls(targets, settings, db_path, busy_timeout=busy_timeout, masker=masker)

    # -- wiring --------------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.targets]

    def install(self, store: Store) -> None:
        """Write deliveries in the same transaction as the findings they are for."""
        store.finding_hooks.append(self._hook)

    def _hook(self, conn: sqlite3.Connection, rows: list[dict]) -> None:
        self.outbox.hook(conn, rows)
        self.wake()

    def _connect(self) -> sqlite3.Connection:
        return Store.open(self.db_path, busy_timeout=self.busy_timeout).conn

    # -- delivering ----------------------------------------------------------------------------

    def deliver_due(self, deadline_s: float, *, flush: bool = False) -> int:
        """Deliver what is due, for at most ``deadline_s`` seconds; returns the deliveries made.

        ``flush``: findings waiting only for their grouping window go now (``fim scan --alert``:
        the scan is over, nothing more will join the group). Digests still wait for their time.
        """
        return self._deliver(deadline_s, flush, None)

    def _deliver(self, deadline_s: float, flush: bool, stop: threading.Event | None) -> int:
        end = time.monotonic() + deadline_s
        total = 0
        previous: set[str] = set()
        for _ in range(MAX_ROUNDS):
            ready = self._ready(flush)
            names = {t.name for t in ready}
            if not ready or names == previous or (stop is not None and stop.is_set()):
                break  # nothing due, or the same targets again without progress (failing, leased)
            done = self._parallel(ready, end, flush, stop)
            total += done
            previous = set() if done else names  # new work (a health alert for the others) goes on
            if time.monotonic() >= end:
                break
        return total

    def _ready(self, flush: bool) -> list[Target]:
        now = time.time_ns()
        conn = self._connect()
        try:
            return [
                t
                for t in self.targets
                if (at := self._ready_at(conn, t, now, flush)) is not None and at <= now
            ]
        finally:
            conn.close()

    def _ready_at(self, conn: sqlite3.Connection, target: Target, now: int, flush: bool) -> int | None:
        if flush and not target.digest:
            due = conn.execute(
                "SELECT MIN(CASE WHEN attempts=0 AND kind='finding' THEN 0 ELSE due_ns END)"
                " FROM alert_outbox WHERE sink=?",
                (target.name,),
            ).fetchone()[0]
        else:
            due = Outbox.next_due(conn, target.name)
        if due is None:
            return None
        current = state.get(conn, target.name)
        rate = state.RateLimit(target.cfg.rate_limit, target.cfg.rate_period)
        return max(due, current.retry_ns, rate.next_token_ns(current, now))

    def _parallel(
        self, targets: Sequence[Target], end: float, flush: bool, stop: threading.Event | None
    ) -> int:
        results = [0] * len(targets)

        def run(index: int, target: Target) -> None:
            try:
                results[index] = self.dispatcher.drain(target, end, flush=flush, stop=stop)
            except (StoreError, sqlite3.Error) as exc:
                # Locked or full: the rows stay in the outbox and the next round retries them.
                self._database_trouble(exc)
            except Exception:
                log.exception("alert sink %s: delivery round failed", target.name)

        threads = [
            threading.Thread(target=run, args=(i, t), name=f"fim-alert-{t.name}", daemon=True)
            for i, t in enumerate(targets)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            # Sends are bounded by the time left; a send overrunning it is left behind (its rows
            # stay in the outbox until it reports success).
            thread.join(max(0.0, end - time.monotonic()) + 1.0)
        return sum(results)

    # -- the background thread -------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="fim-alerts", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            delay = POLL_S
            try:
                delivered = self._deliver(ROUND_S, False, self._stop)
                delay = self._sleep_s()
                if delivered == 0:
                    delay = max(delay, 1.0)  # something is ready but could not go (another process)
            except (StoreError, sqlite3.Error) as exc:
                self._database_trouble(exc)
                delay = 1.0
            except Exception:
                log.exception("alert delivery failed; retrying in %ss", POLL_S)
            if self._wake.wait(delay):
                self._wake.clear()
                self._stop.wait(SETTLE_S)

    def _database_trouble(self, exc: Exception) -> None:
        """Log a database error in the operator's words, once a minute (not at every retry)."""
        error = translate(exc, self.db_path) if isinstance(exc, sqlite3.Error) else exc
        now = time.monotonic()
        if (str(error), now // 60) != self._last_db_error:
            self._last_db_error = (str(error), now // 60)
            log.warning("alert delivery waits for the database (will retry): %s", error)

    def _sleep_s(self) -> float:
        now = time.time_ns()
        conn = self._connect()
        try:
            times = [at for t in self.targets if (at := self._ready_at(conn, t, now, False)) is not None]
        finally:
            conn.close()
        if not times:
            return POLL_S
        return min(POLL_S, max(0.05, (min(times) - now) / 1e9))

    # -- health, tests, maintenance ------------------------------------------------------------

    def health(
        self, message: str, severity: str | Severity, key: str, *, exclude: Iterable[str] = ()
    ) -> bool:
        """Raise an alert about fim itself through every sink (that takes health alerts).

        The same ``key`` is raised at most once per ``alerts.health_repeat`` seconds; returns
        whether this call raised it.
        """
        sev = severity if isinstance(severity, Severity) else Severity.parse(severity)
        excluded = set(exclude)
        now = time.time_ns()
        conn = self._connect()
        try:
            with conn:
                conn.execute("BEGIN IMMEDIATE")
                row = conn.execute("SELECT raised_ns FROM alert_health WHERE key=?", (key,)).fetchone()
                if row is not None and now - row[0] < self.settings.health_repeat * 1e9:
                    return False
                conn.execute(
                    "INSERT INTO alert_health (key, raised_ns) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET raised_ns=excluded.raised_ns",
                    (key, now),
                )
                targets = [
                    t
                    for t in self.targets
                    if t.cfg.health and sev >= Severity.parse(t.cfg.min_severity) and t.name not in excluded
                ]
                event = health_event(message, sev, key, self.hostname, now_ns=now)
                first = message.strip().splitlines()[0] if message.strip() else key
                title = first if len(first) <= 100 else first[:97] + "..."
                self.outbox.enqueue_notice(
                    conn, event, notice_message(title, message, sev, self.hostname), targets=targets
                )
        finally:
            conn.close()
        log.warning("health alert %s: %s", key, message)
        self.wake()
        return True

    def _raise_health(self, message: str, severity: Severity, key: str, exclude: Sequence[str]) -> object:
        return self.health(message, severity, key, exclude=exclude)

    def select(self, names: Iterable[str] | None) -> list[Target]:
        """Targets by sink name (``chat`` selects ``chat``, ``chat#2``...) or target name."""
        if names is None:
            return list(self.targets)
        wanted = set(names)
        return [t for t in self.targets if t.name in wanted or t.cfg.name in wanted]

    def send_test(self, names: Iterable[str] | None = None) -> dict[str, str | None]:
        """Send a test alert to each selected target now (not queued); target -> error or None."""
        results: dict[str, str | None] = {}
        for target in self.select(names):
            text = (
                f"This is a test alert from fim on {self.hostname}, sent by `fim alerts test` "
                f"through sink {target.name} ({target.sink.describe()}).\n"
                "Findings will arrive like this one."
            )
            event = health_event(text, Severity.LOW, "test", self.hostname)
            event["event"].update({"action": "alert-test", "dataset": "fim.test"})
            message = notice_message("test alert", text, Severity.LOW, self.hostname)
            planned = Planned((), Batch((event,), message))
            results[target.name] = self.dispatcher._send(target, planned, target.cfg.timeout)
        return results

    def retry_now(self, names: Iterable[str] | None = None) -> int:
        """Make failed deliveries due now and forget the targets' backoff (``fim alerts retry``)."""
        chosen = [t.name for t in self.select(names)]
        conn = self._connect()
        try:
            count = Outbox.retry_now(conn, chosen, time.time_ns())
            state.clear_backoff(conn, chosen)
            return count
        finally:
            conn.close()

    def pending_count(self) -> int:
        conn = self._connect()
        try:
            return Outbox.count(conn, self.names)
        finally:
            conn.close()

    def pending(self) -> list[Delivery]:
        """Every undelivered alert, including those for sinks no longer configured."""
        conn = self._connect()
        try:
            return Outbox.pending(conn)
        finally:
            conn.close()

    def sink_states(self) -> dict[str, state.SinkState]:
        conn = self._connect()
        try:
            return {t.name: state.get(conn, t.name) for t in self.targets}
        finally:
            conn.close()
