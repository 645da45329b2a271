"""Delivering one target's due rows: grouping, rate limit, retries with backoff, sink health.

For people, the due findings become one message per tenant, or a single combined message when
more tenants are due at once than ``max_messages`` or than the rate limit allows (digests are
always one message). For machines, due rows go out in batches of ``max_batch`` events. A failed
send pushes the rows and the target back (exponential backoff, persisted) and ends this target's
turn; a target failing for longer than ``health_after`` raises a health alert through the others.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fim.alerts import render, state
from fim.alerts.config import AlertsConfig
from fim.alerts.events import event_from_row
from fim.alerts.outbox import Delivery, Outbox, Target
from fim.alerts.sinks.base import Batch, SinkError
from fim.core.model import Severity

log = logging.getLogger("fim.alerts")
ROWS_PER_ROUND = 5000
LEASE_MARGIN_S = 30.0
HealthRaiser = Callable[[str, Severity, str, Sequence[str]], object]


@dataclass(frozen=True, slots=True)
class Planned:
    """One send: the outbox rows it settles and what it carries."""

    ids: tuple[int, ...]
    batch: Batch


def plan(target: Target, due: Sequence[Delivery], budget: float, host: str) -> list[Planned]:
    """Cut ``due`` into sends, at most ``budget`` of them (the rate limit's tokens)."""
    if budget < 1 or not due:
        return []
    if not target.people:
        size = target.cfg.max_batch
        chunks = [due[i : i + size] for i in range(0, len(due), size)]
        return [_machine(chunk, host) for chunk in chunks[: int(min(budget, len(chunks)))]]
    notices = [d for d in due if d.kind != "finding"]
    findings = [d for d in due if d.kind == "finding"]
    out = [Planned((d.id,), Batch((d.payload["event"],) if d.payload else (), d.message())) for d in notices]
    out = out[: int(min(budget, len(out)))]
    budget -= len(out)
    if findings and budget >= 1:
        groups: dict[str | None, list[Delivery]] = defaultdict(list)
        for d in findings:
            groups[d.tenant].append(d)
        if target.digest or len(groups) > min(budget, target.cfg.max_messages):
            out.append(_people(findings, target, host))
        else:
            out.extend(_people(group, target, host) for group in groups.values())
    return out


def _machine(chunk: Sequence[Delivery], host: str) -> Planned:
    events = tuple(event_from_row(d.finding, host) if d.finding else d.payload["event"] for d in chunk)  # type: ignore[index]
    rows = [d.finding for d in chunk if d.finding]
    message = render.findings_message(rows, host) if rows else chunk[0].message()
    return Planned(tuple(d.id for d in chunk), Batch(events, message))


def _people(group: Sequence[Delivery], target: Target, host: str) -> Planned:
    rows = [d.finding for d in group if d.finding]
    message = render.findings_message(rows, host, max_listed=target.cfg.max_listed, digest=target.digest)
    events = tuple(event_from_row(r, host) for r in rows)
    return Planned(tuple(d.id for d in group), Batch(events, message))


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} seconds"
    if seconds < 7200:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


class Dispatcher:
    """Sends what is due from the outbox, sink by sink, honouring retries, rate limits and health.

    Each send settles its rows only when the sink accepted it, so a crash or an outage resends
    (at least once, with stable event ids) instead of losing."""

    def __init__(
        self,
        targets: Sequence[Target],
        settings: AlertsConfig,
        host: str,
        connect: Callable[[], sqlite3.Connection],
        raise_health: HealthRaiser,
        *,
        mask: Callable[[str], str] = str,
    ):
        self.targets = list(targets)
        # Every sink's error text passes through here before it is stored, logged or alerted:
        # a program's stderr or a server's reply may repeat a token from the sink's settings.
        self.mask = mask
        self.settings = settings
        self.host = host
        self.connect = connect
        self.raise_health = raise_health
        self.owner = f"{os.getpid()}:{uuid.uuid4().hex[:12]}"
        # Told (sink, "delivered" | "failed", rows) after each send, from the delivering thread
        # (the daemon's metrics count them); it must not raise.
        self.on_result: Callable[[str, str, int], None] | None = None

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts + 1``-th consecutive failure."""
        s = self.settings
        return min(s.retry_max, s.retry_initial * 2 ** min(attempts, 30))

    def drain(self, target: Target, end: float, *, flush: bool, stop: threading.Event | None = None) -> int:
        """Deliver ``target``'s due rows until none is due, it fails, ``end`` (monotonic) or ``stop``."""
        conn = self.connect()
        owner = f"{self.owner}:{threading.get_ident()}"
        try:
            now = time.time_ns()
            lease_until = now + int((end - time.monotonic() + target.cfg.timeout + LEASE_MARGIN_S) * 1e9)
            if not state.acquire(conn, target.name, owner, now, lease_until):
                return 0  # another process is delivering for this target
            try:
                return self._drain(conn, target, end, flush and not target.digest, stop or threading.Event())
            finally:
                state.release(conn, target.name, owner)
        finally:
            conn.close()

    def _drain(
        self, conn: sqlite3.Connection, target: Target, end: float, flush: bool, stop: threading.Event
    ) -> int:
        rate = state.RateLimit(target.cfg.rate_limit, target.cfg.rate_period)
        delivered = 0
        while time.monotonic() < end and not stop.is_set():
            now = time.time_ns()
            current = state.get(conn, target.name)
            if current.retry_ns > now:
                break  # backing off after a failure
            due = Outbox.due(conn, target.name, now, flush=flush, limit=ROWS_PER_ROUND)
            batches = plan(target, due, rate.available(current, now), self.host)
            if not batches:
                break
            for planned in batches:
                remaining = end - time.monotonic()
                if remaining <= 0 or stop.is_set():
                    return delivered
                error = self._send(target, planned, min(target.cfg.timeout, remaining))
                now = time.time_ns()
                if self.on_result is not None:
                    self.on_result(target.name, "delivered" if error is None else "failed", len(planned.ids))
                if error is not None:
                    self._failed(conn, target, planned, error, now)
                    return delivered
                Outbox.delivered(conn, planned.ids)
                state.take_token(conn, target.name, rate, now)
                before = state.succeeded(conn, target.name, now)
                delivered += len(planned.ids)
                if before.health_raised:
                    self.raise_health(
                        f"Alert sink {target.name} ({target.sink.describe()}) delivers again.",
                        Severity.LOW,
                        f"sink-recovered:{target.name}",
                        (),
                    )
        return delivered

    def _send(self, target: Target, planned: Planned, timeout: float) -> str | None:
        try:
            target.sink.send(planned.batch, timeout)
        except SinkError as exc:
            return self.mask(str(exc))
        except Exception as exc:  # a bug in a sink must not stop the others, nor lose the rows
            log.exception("alert sink %s: unexpected error", target.name)
            return f"internal error: {exc.__class__.__name__}"
        return None

    def _failed(
        self, conn: sqlite3.Connection, target: Target, planned: Planned, error: str, now: int
    ) -> None:
        before = state.get(conn, target.name)
        retry_ns = now + int(self.backoff(before.failures) * 1e9)
        Outbox.failed(conn, planned.ids, error, now, self.backoff)
        after = state.failed(conn, target.name, error, now, retry_ns)
        log.info("alert sink %s failed (attempt %d): %s", target.name, after.failures, error)
        since = after.failing_since_ns or now
        failing_for = (now - since) / 1e9
        if not after.health_raised and failing_for >= self.settings.health_after:
            waiting = Outbox.count(conn, [target.name])
            self.raise_health(
                f"Alert sink {target.name} ({target.sink.describe()}) has been failing for "
                f"{_duration(failing_for)}: {error}\n"
                f"{waiting} alert(s) wait for it in the outbox; fim keeps retrying and delivers them "
                "when it is back (`fim alerts pending` lists them).",
                Severity.HIGH,
                f"sink-failing:{target.name}",
                (target.name,),
            )
            state.mark_health_raised(conn, target.name)
            log.warning("alert sink %s failing for %s: %s", target.name, _duration(failing_for), error)
