"""Per-sink state kept in the database: failure streak and backoff, rate-limit tokens, and a lease
so that two processes (the daemon and a `fim scan --alert`) never deliver the same rows at once."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass

_COLUMNS = (
    "failures", "failing_since_ns", "retry_ns", "last_error", "last_success_ns", "health_raised",
    "tokens", "tokens_ns",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SinkState:
    """A sink's delivery history, persisted so retries and health survive a restart."""

    failures: int = 0
    failing_since_ns: int | None = None
    retry_ns: int = 0
    last_error: str | None = None
    last_success_ns: int | None = None
    health_raised: bool = False
    tokens: float | None = None
    tokens_ns: int | None = None


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``limit`` messages per ``period_s``, refilled continuously; 0 = unlimited."""

    limit: int
    period_s: float

    def available(self, state: SinkState, now: int) -> float:
        if self.limit <= 0:
            return float("inf")
        if state.tokens is None or state.tokens_ns is None:
            return float(self.limit)
        refill = (now - state.tokens_ns) / 1e9 * self.limit / self.period_s
        return min(float(self.limit), state.tokens + refill)

    def next_token_ns(self, state: SinkState, now: int) -> int:
        have = self.available(state, now)
        if have >= 1:
            return now
        return now + int((1 - have) * self.period_s / self.limit * 1e9) + 1


def _ensure(conn: sqlite3.Connection, sink: str) -> None:
    conn.execute("INSERT OR IGNORE INTO alert_sinks (sink) VALUES (?)", (sink,))


def get(conn: sqlite3.Connection, sink: str) -> SinkState:
    row = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM alert_sinks WHERE sink=?", (sink,)).fetchone()  # noqa: S608
    if row is None:
        return SinkState()
    values = dict(zip(_COLUMNS, row, strict=True))
    values["health_raised"] = bool(values["health_raised"])
    return SinkState(**values)


def acquire(conn: sqlite3.Connection, sink: str, owner: str, now: int, until_ns: int) -> bool:
    """Take the sink's delivery lease (owners are ``pid:...``). A lease still running is taken
    over only when its holder's process is gone: a daemon killed mid-delivery must not hold
    back the next one's alerts until the lease runs out."""
    with conn:
        _ensure(conn, sink)
        (holder,) = conn.execute("SELECT lease_owner FROM alert_sinks WHERE sink=?", (sink,)).fetchone()
        dead = holder if holder and holder != owner and not _alive(holder) else None
        cur = conn.execute(
            "UPDATE alert_sinks SET lease_owner=?, lease_until_ns=? WHERE sink=?"
            " AND (lease_until_ns<? OR lease_owner=? OR lease_owner IS ?)",
            (owner, until_ns, sink, now, owner, dead),
        )
        return cur.rowcount == 1


def _alive(owner: str) -> bool:
    """Whether the process that took a lease (``pid:...``) still runs on this machine; when
    unsure (not ours to signal, not a pid), it counts as alive and the lease runs its course."""
    pid = owner.split(":", 1)[0]
    if not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def release(conn: sqlite3.Connection, sink: str, owner: str) -> None:
    with conn:
        conn.execute(
            "UPDATE alert_sinks SET lease_owner=NULL, lease_until_ns=0 WHERE sink=? AND lease_owner=?",
            (sink, owner),
        )


def take_token(conn: sqlite3.Connection, sink: str, rate: RateLimit, now: int) -> None:
    if rate.limit <= 0:
        return
    left = rate.available(get(conn, sink), now) - 1
    with conn:
        conn.execute("UPDATE alert_sinks SET tokens=?, tokens_ns=? WHERE sink=?", (left, now, sink))


def succeeded(conn: sqlite3.Connection, sink: str, now: int) -> SinkState:
    """Record a success; returns the state before it (was a health alert raised?)."""
    before = get(conn, sink)
    with conn:
        _ensure(conn, sink)
        conn.execute(
            "UPDATE alert_sinks SET failures=0, failing_since_ns=NULL, retry_ns=0, last_error=NULL,"
            " last_success_ns=?, health_raised=0 WHERE sink=?",
            (now, sink),
        )
    return before


def failed(conn: sqlite3.Connection, sink: str, error: str, now: int, retry_ns: int) -> SinkState:
    """Record a failure; returns the state after it."""
    with conn:
        _ensure(conn, sink)
        conn.execute(
            "UPDATE alert_sinks SET failures=failures+1, failing_since_ns=COALESCE(failing_since_ns, ?),"
            " retry_ns=?, last_error=? WHERE sink=?",
            (now, retry_ns, error, sink),
        )
    return get(conn, sink)


def mark_health_raised(conn: sqlite3.Connection, sink: str) -> None:
    with conn:
        conn.execute("UPDATE alert_sinks SET health_raised=1 WHERE sink=?", (sink,))


def clear_backoff(conn: sqlite3.Connection, sinks: list[str]) -> None:
    with conn:
        conn.executemany("UPDATE alert_sinks SET retry_ns=0 WHERE sink=?", [(s,) for s in sinks])
