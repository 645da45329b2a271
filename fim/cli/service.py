"""``fim daemon`` and ``fim status``: the service and what it says about itself."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

import click

from fim.cli.options import config_option, format_option
from fim.config import loader as config_mod
from fim.report import output
from fim.store.database import Store

if TYPE_CHECKING:
    from fim.daemon.status import StatusDocument

EXIT_NOT_RUNNING = 3  # as `systemctl status` says of a stopped unit


@click.command("daemon")
@click.option("--config", "config_path", type=click.Path(), required=True, help="TOML configuration file.")
@click.option("--log-format", type=click.Choice(["auto", "json", "text"]), default="auto", show_default=True,
              help="auto: JSON lines unless stderr is a terminal.")  # fmt: skip
def daemon_command(config_path: str, log_format: str) -> None:
    """Watch the configured upload areas in real time (run it under systemd).

    Watches every [daemon] root (globs allowed) with fanotify or inotify ([daemon] events),
    then walks them to catch up
    on whatever changed while fim was not running, then scans each new or changed file
    moments after it is written. SIGHUP reloads configuration and rules (a bad one is refused
    and the running one kept); SIGTERM stops. Exit 78 on a bad configuration at start.
    """
    # Imported here: only the daemon pays for watchdog and structlog at start-up.
    from fim.daemon.log import make_logger
    from fim.daemon.service import Daemon

    log = make_logger(json=None if log_format == "auto" else log_format == "json")
    sys.exit(Daemon(config_path, log=log).run())


@click.command("status")
@config_option
@format_option
def status_command(config_path: str | None, fmt: str) -> None:
    """Show what the daemon watches, what it can only rescan, and recent findings by tenant.

    Exit 0 when the daemon runs, 3 when it does not.
    """
    from fim.daemon.status import StatusDocument, status_path  # the daemon layer loads when asked for

    config = config_mod.load(config_path)
    doc = StatusDocument.read(status_path(config))
    running = doc.state in ("running", "degraded") and _alive(doc.pid)
    findings: dict[str, int] | None = None
    db = config_mod.database_path(config)
    if db.exists():
        with Store.open(db, busy_timeout=config.database.busy_timeout) as store:
            since = time.time_ns() - 24 * 3600 * 10**9
            findings = {t or "(no tenant)": n for t, n in store.findings_by_tenant(since).items()}
    from fim.updates.update import describe_sources  # cryptography loads only when asked for

    sources = describe_sources(config)
    if fmt == "json":
        shown = {**doc.to_json(), "running": running}
        if findings is not None:
            shown["findings_24h"] = findings
        if sources:
            shown["update_sources"] = sources
        click.echo(output.dumps(shown))
    else:
        _print_status(doc, running, findings)
        _print_sources(sources)
    sys.exit(0 if running else EXIT_NOT_RUNNING)


def _print_sources(sources: list[dict]) -> None:
    def when(t: object) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if isinstance(t, float) else "never"

    for s in sources:
        pack = "none installed"
        if s["pack"]:
            pack = f"{s['pack']} version {s['version']} signed by {s['signer']}"
        click.echo(f"rule updates from {s['url']}: pack {pack}")
        click.echo(f"  last check {when(s['last_check'])}, last success {when(s['last_success'])}")
        if s["last_error"]:
            click.echo(f"  failing since {when(s['failing_since'])}: {s['last_error']}")


def _alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _print_status(doc: StatusDocument, running: bool, findings: dict[str, int] | None) -> None:
    state = doc.state if running else "not running"
    click.echo(f"fim daemon: {state} (pid {doc.pid}, version {doc.version or '?'})")
    if running:
        for cause, reason in doc.degraded.items():
            click.echo(f"  degraded ({cause}): {reason}")
    if doc.events:
        click.echo(f"events: {doc.events} ({doc.coverage}; {doc.events_reason})")
    click.echo(f"watched roots: {len(doc.watched_roots)}")
    for root in doc.watched_roots[:20]:
        click.echo(f"  {root}")
    rescan = doc.rescan_only_roots
    if rescan:
        click.echo(f"covered only by periodic rescans: {len(rescan)}")
        for root, why in list(rescan.items())[:20]:
            click.echo(f"  {root}: {why}")
    click.echo(f"queue depth: {doc.queue_depth}")
    last = doc.last_catchup
    if last is not None:
        stats = last.stats
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(last.finished))
        click.echo(f"last {last.kind}: {when}, {stats.get('files_seen', 0)} files, "
                   f"{stats.get('findings', 0)} findings, {stats.get('elapsed_s', 0)} s")  # fmt: skip
    if doc.last_error:
        click.echo(f"last error: {doc.last_error}")
    if doc.hint:
        click.echo(f"hint: {doc.hint}")
    if doc.inotify:
        click.echo("inotify limits: " + ", ".join(f"{k}={v}" for k, v in doc.inotify.items()))
    if findings is not None:
        click.echo(f"findings in the last 24 hours: {sum(findings.values())}")
        for tenant, count in sorted(findings.items(), key=lambda kv: -kv[1]):
            click.echo(f"  {tenant}: {count}")
