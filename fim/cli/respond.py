"""``fim quarantine``, ``fim db`` and ``fim tenant``: thin commands over quarantine and retention."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import click

from fim.cli.options import config_option, db_option, format_option
from fim.config import loader as config_mod
from fim.core import paths
from fim.report import output
from fim.respond import quarantine, quarantine_records, retention
from fim.scanner.build import state_directories
from fim.store.database import Store


def _open(config_path: str | None, db_path: str | None) -> tuple[config_mod.Config, Store]:
    config = config_mod.load(config_path)
    where = Path(db_path) if db_path else config_mod.database_path(config)
    return config, Store.open(where, busy_timeout=config.database.busy_timeout)


def _emit_json(document: dict) -> None:
    click.echo(output.dumps(document))


# -- quarantine ----------------------------------------------------------------------------------


@click.group("quarantine")
def quarantine_group() -> None:
    """List, restore and purge quarantined files."""


@quarantine_group.command("list")
@config_option
@db_option
@format_option
@click.option("--tenant", help="Only this tenant's files.")
@click.option("--all", "show_all", is_flag=True, help="Include files already restored.")
def quarantine_list(
    config_path: str | None, db_path: str | None, fmt: str, tenant: str | None, show_all: bool
) -> None:
    """List quarantined files: id, when, tenant, original path and why."""
    _config, store = _open(config_path, db_path)
    with store:
        recs = quarantine_records.records(store, tenant=tenant)
    if not show_all:
        recs = [r for r in recs if r.status != "restored"]
    if fmt == "json":
        _emit_json({"quarantine": [r.as_json() for r in recs]})
        return
    for r in recs:
        click.echo(
            f"#{r.id:<5} {r.status:<11} {output.utc_time(r.quarantined_ns)}  {r.tenant or '-'}  "
            f"{paths.display(r.path)}\n       {r.severity}: {paths.display(r.reason)}"
        )
    click.echo(f"{len(recs)} file(s) in quarantine", err=True)


@quarantine_group.command("restore")
@click.argument("record_id", metavar="ID", type=int)
@config_option
@db_option
def quarantine_restore(record_id: int, config_path: str | None, db_path: str | None) -> None:
    """Put file ID back where it was, byte for byte, with its owner, mode and timestamps.

    Never overwrites: if something exists at the original path now, move it away first.
    The same content at the same path is not quarantined again; add its hash to a hashes.good
    list or a policy rule's exclude to stop the findings too.
    """
    config, store = _open(config_path, db_path)
    with store:
        trees, dirs = state_directories(config, store)
        rec = quarantine.restore(store, record_id, protected=trees, protected_dirs=dirs)
    click.echo(f"restored #{rec.id}: {paths.display(rec.path)}")


@quarantine_group.command("purge")
@click.option(
    "--older-than", "days", type=click.FloatRange(min=0), required=True, metavar="DAYS",
    help="Delete quarantined files older than DAYS days (0: all).",
)  # fmt: skip
@config_option
@db_option
def quarantine_purge(days: float, config_path: str | None, db_path: str | None) -> None:
    """Delete quarantined files (and their records) for good."""
    _config, store = _open(config_path, db_path)
    with store:
        removed, files, errors = quarantine.purge(store, older_than_days=days)
    for error in errors:
        click.echo(f"fim: cannot delete {error}", err=True)
    click.echo(f"purged {removed} record(s), {files} file(s)")
    if errors:
        sys.exit(2)


# -- db ------------------------------------------------------------------------------------------


@click.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("prune")
@config_option
@db_option
@format_option
def db_prune(config_path: str | None, db_path: str | None, fmt: str) -> None:
    """Delete what is older than the [retention] ages: findings (and their alert deliveries),
    scan records, baseline rows of files that are gone, quarantined files."""
    config, store = _open(config_path, db_path)
    with store:
        result = retention.prune(store, config.retention)
    if fmt == "json":
        _emit_json(dataclasses.asdict(result))
    else:
        counts = ", ".join(f"{k} {v}" for k, v in result.counts().items())
        click.echo(f"pruned: {counts}")
    for error in result.errors:
        click.echo(f"fim: cannot delete {error}", err=True)
    sys.exit(2 if result.errors else 0)


# -- tenant --------------------------------------------------------------------------------------


@click.group("tenant")
def tenant_group() -> None:
    """What fim holds about one customer."""


@tenant_group.command("forget")
@click.argument("name")
@config_option
@db_option
@format_option
@click.option("--dry-run", is_flag=True, help="Report what would be removed; remove nothing.")
def tenant_forget(name: str, config_path: str | None, db_path: str | None, fmt: str, dry_run: bool) -> None:
    """Remove everything fim holds about tenant NAME: baseline rows, findings, alert deliveries,
    quarantine records and quarantined files; its paths in scan records are redacted."""
    config, store = _open(config_path, db_path)
    with store:
        try:
            result = retention.forget_tenant(store, name, patterns=config.tenants.patterns, dry_run=dry_run)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="NAME") from None
    if fmt == "json":
        _emit_json(dataclasses.asdict(result))
    else:
        verb = "would remove" if dry_run else "removed"
        rows = ", ".join(f"{t} {n}" for t, n in sorted(result.removed.items())) or "nothing"
        click.echo(
            f"tenant {paths.display(name)}: {verb} {rows}; quarantined files {result.quarantine_files}"
        )
        if result.scans_redacted:
            click.echo(f"  redacted its paths in {result.scans_redacted} scan record(s)")
        for where, n in sorted(result.remaining.items()):
            click.echo(f"  warning: {n} row(s) of {where} still mention it", err=True)
    for error in result.errors:
        click.echo(f"fim: cannot delete {error}", err=True)
    sys.exit(2 if result.errors else 0)
