"""``fim report``: what was found for a customer in a time window, and what fim did about it.

Thin: the store reads the findings (fim.store.report_query), the report layer builds and renders
them (fim.report.customer, fim.report.customer_render); this module composes the two.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import click

from fim.cli.options import config_option, db_option, load_config
from fim.config import loader as config_mod
from fim.core import paths, statefiles
from fim.core.errors import UsageError
from fim.report import customer, customer_render, window
from fim.store import report_query
from fim.store.database import Store


@click.command("report")
@config_option
@db_option
@click.option("--tenant", help="The customer to report on.")
@click.option(
    "--all", "all_tenants", is_flag=True, help="Every tenant with findings, one file each (--output-dir)."
)
@click.option(
    "--output-dir", type=click.Path(file_okay=False), help="With --all: write the reports here (created)."
)
@click.option("--since", default="30d", show_default=True, help="Start: an age (12h, 7d, 2w) or a date.")
@click.option("--until", default="now", show_default=True, help="End (not included): an age or a date.")
@click.option(
    "--format", "fmt", type=click.Choice(customer_render.FORMATS), default="text", show_default=True
)
@click.option(
    "--template",
    "template_dir",
    type=click.Path(file_okay=False),
    help="Folder of templates used before the bundled ones (report.txt.j2, report.html.j2, advice.txt.j2).",
)
def report_command(
    config_path: str | None,
    db_path: str | None,
    tenant: str | None,
    all_tenants: bool,
    output_dir: str | None,
    since: str,
    until: str,
    fmt: str,
    template_dir: str | None,
) -> None:
    """Report findings for one tenant (--tenant NAME), or for every tenant (--all --output-dir DIR).

    \b
    For each finding: the file (names shown escaped), when, the rule (severity, description,
    decode chain when the baseline still knows it), the writer when known, what fim did
    (quarantined with its ID, alert pending, left in place) and advice for the customer.
    Formats: text, json, html (one self-contained page). Exit status 0, or 2 on an error.
    """
    if all_tenants == (tenant is not None):
        raise click.UsageError("give either --tenant NAME or --all")
    if all_tenants and not output_dir:
        raise click.UsageError("--all writes one file per tenant: give --output-dir DIR")
    if output_dir and not all_tenants:
        raise click.UsageError("--output-dir applies to --all; --tenant writes to stdout")
    now = time.time_ns()
    try:
        since_ns, until_ns = window.parse_when(since, now), window.parse_when(until, now)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if since_ns >= until_ns:
        raise click.UsageError(f"--since {since} is not before --until {until}")
    if template_dir is not None and not os.path.isdir(template_dir):
        raise UsageError(f"--template {template_dir}: not a directory")

    config = load_config(config_path)
    where = Path(db_path) if db_path else config_mod.database_path(config)
    if not where.exists():
        raise UsageError(f"no database at {where}: run fim scan or fim daemon first")
    host = socket.gethostname()
    with Store.open(where, busy_timeout=config.database.busy_timeout) as store:

        def build(name: str | None) -> str:
            records = report_query.finding_records(store.conn, name, since_ns, until_ns)
            data = customer.build(
                name, records, since_ns=since_ns, until_ns=until_ns, generated_ns=now, hostname=host
            )
            return customer_render.render(data, fmt, template_dir=template_dir)

        if tenant is not None:
            sys.stdout.write(build(tenant))
            return
        assert output_dir is not None
        os.makedirs(output_dir, mode=0o700, exist_ok=True)
        names = report_query.tenants(store.conn, since_ns, until_ns)
        dfd = os.open(output_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for name in names:
                file_name = customer_render.file_name(name, fmt)
                _write(dfd, file_name, build(name))
                click.echo(paths.display(os.path.join(output_dir, file_name)))
        finally:
            os.close(dfd)
    click.echo(f"{len(names)} report(s) written", err=True)


def _write(dfd: int, name: str, text: str) -> None:
    """Write ``name`` in the directory ``dfd`` whole or not at all, never through a symlink
    someone left there. Reports name customers' files: owner-only."""
    statefiles.replace_file(name, text.encode("utf-8"), 0o600, dir_fd=dfd)
