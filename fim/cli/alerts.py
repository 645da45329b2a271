"""``fim alerts``: test the sinks, list what is waiting, retry now, check the configuration."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from fim.alerts.outbox import Delivery
from fim.alerts.service import AlertService
from fim.cli.options import config_option, db_option, format_option
from fim.config import loader as config_mod
from fim.core import paths
from fim.scanner.build import alert_service

_sink_option = click.option(
    "--sink", "sinks", multiple=True, metavar="NAME", help="Only this sink (repeatable; default: all)."
)


def _service(config_path: str | None, db_path: str | None) -> AlertService:
    config = config_mod.load(config_path)
    db = Path(db_path) if db_path else config_mod.database_path(config)
    return alert_service(config, db)


def _chosen(service: AlertService, sinks: tuple[str, ...]) -> list[str]:
    chosen = service.select(sinks or None)
    unknown = [s for s in sinks if not any(s in (t.name, t.cfg.name) for t in chosen)]
    if unknown:
        raise click.UsageError(f"no sink named {', '.join(map(repr, unknown))} in [[alerts.sinks]]")
    if not chosen:
        raise click.UsageError("no alert sinks configured ([[alerts.sinks]] in the configuration)")
    return [t.name for t in chosen]


@click.group("alerts")
def alerts_group() -> None:
    """Alerts to chat, e-mail, webhooks, commands and JSON lines.

    \b
    Alerts are kept in the database until their sink accepts them:
        fim alerts test      send a test alert through each sink now
        fim alerts pending   what is waiting, and why
        fim alerts retry     try the waiting alerts now
    """


@alerts_group.command("test")
@config_option
@_sink_option
def alerts_test(config_path: str | None, sinks: tuple[str, ...]) -> None:
    """Send a test alert through each sink (rendering, escaping, the real send); exit 2 if any fails."""
    service = _service(config_path, None)
    names = _chosen(service, sinks)
    results = service.send_test(names)
    failed = 0
    for target in service.select(names):
        error = results[target.name]
        if error is None:
            click.echo(f"ok      {target.name}  {target.sink.describe()}")
        else:
            failed += 1
            click.echo(f"FAILED  {target.name}  {error}")
    sys.exit(2 if failed else 0)


@alerts_group.command("pending")
@config_option
@db_option
@format_option
def alerts_pending(config_path: str | None, db_path: str | None, fmt: str) -> None:
    """List undelivered alerts with their attempts and last error."""
    service = _service(config_path, db_path)
    configured = set(service.names)
    rows = service.pending()
    now = time.time_ns()
    if fmt == "json":
        click.echo(
            json.dumps({"pending": [_record(d, d.sink in configured, now) for d in rows]}, ensure_ascii=False)
        )
        return
    for d in rows:
        r = _record(d, d.sink in configured, now)
        what = r.get("path") or r.get("message", "")
        click.echo(
            f"{r['sink']:<16} {r['severity']:<8} {r['tenant'] or '-':<16} {what}\n"
            f"    {r['kind']} {r['rule'] or ''} event {r['event_id']}, {r['attempts']} attempt(s), "
            f"next {r['next']}" + (f"\n    last error: {r['last_error']}" if r["last_error"] else "")
        )
    states = service.sink_states()
    for name, st in states.items():
        if st.failing_since_ns:
            click.echo(
                f"sink {name}: failing since {_ago(now - st.failing_since_ns)} ago: {st.last_error}", err=True
            )
    click.echo(f"{len(rows)} alert(s) pending", err=True)


def _record(d: Delivery, configured: bool, now: int) -> dict:
    record = {
        "sink": d.sink if configured else f"{d.sink} (not configured)",
        "kind": d.kind,
        "event_id": d.event_id,
        "tenant": paths.display(d.tenant) if d.tenant else None,
        "severity": str(d.severity),
        "rule": paths.display(d.finding["rule"]) if d.finding else None,
        "attempts": d.attempts,
        "next": "now" if d.due_ns <= now else f"in {_ago(d.due_ns - now)}",
        "last_error": d.last_error,
    }
    if d.finding:
        record.update(paths.json_path_fields(bytes(d.finding["path"])))
    elif d.payload:
        record["message"] = d.payload["title"]
    return record


def _ago(ns: int) -> str:
    s = ns / 1e9
    if s < 120:
        return f"{s:.0f}s"
    if s < 7200:
        return f"{s / 60:.0f}m"
    return f"{s / 3600:.1f}h"


@alerts_group.command("retry")
@config_option
@db_option
@_sink_option
@click.option("--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Seconds.")
def alerts_retry(
    config_path: str | None, db_path: str | None, sinks: tuple[str, ...], timeout: float
) -> None:
    """Try every waiting alert now, ignoring backoff and grouping windows (not digests).

    Exit 2 if a sink still fails.
    """
    service = _service(config_path, db_path)
    names = _chosen(service, sinks)
    service.retry_now(names)
    delivered = service.deliver_due(timeout, flush=True)
    left = service.pending_count()
    click.echo(f"{delivered} alert(s) delivered, {left} pending", err=True)
    failing = {n: st for n, st in service.sink_states().items() if n in names and st.failures}
    for name, st in failing.items():
        click.echo(f"sink {name}: {st.last_error}", err=True)
    sys.exit(2 if failing else 0)


@alerts_group.command("check")
@config_option
def alerts_check(config_path: str | None) -> None:
    """Build every sink as the daemon would: secrets readable, URLs valid, programs safe."""
    service = _service(config_path, None)
    for target in service.targets:
        click.echo(f"ok  {target.name:<16} {target.cfg.type:<8} {target.sink.describe()}")
    click.echo(f"{len(service.targets)} alert target(s)", err=True)


def deliver_after_scan(service: AlertService, *, quiet: bool = False) -> None:
    """``fim scan --alert``: deliver this scan's alerts now, for at most ``alerts.deliver_timeout``."""
    delivered = service.deliver_due(service.settings.deliver_timeout, flush=True)
    configured = set(service.names)
    waiting = [d for d in service.pending() if d.sink in configured]
    failed = [d for d in waiting if d.attempts > 0 or d.due_ns <= time.time_ns()]
    if failed:
        click.echo(
            f"fim: alerts: {delivered} delivered, {len(failed)} not delivered yet; they stay queued for "
            "`fim daemon`, `fim alerts retry` or the next `fim scan --alert`",
            err=True,
        )
        errors = {d.sink: d.last_error for d in failed if d.last_error}
        for sink, error in errors.items():
            click.echo(f"fim: alerts: sink {sink}: {error}", err=True)
    elif not quiet and (delivered or waiting):
        later = f", {len(waiting)} scheduled for a digest" if waiting else ""
        click.echo(f"alerts: {delivered} delivered{later}", err=True)
