"""``fim config check``: validate a configuration like ``sshd -t``."""

from __future__ import annotations

import click

from fim.cli.options import load_config
from fim.config import loader as config_mod
from fim.scanner.build import alert_service, build_engine, load_hashes


@click.group("config")
def config_group() -> None:
    """Validate the configuration."""


@config_group.command("check")
@click.argument("config_path", metavar="FILE", type=click.Path())
def config_check(config_path: str) -> None:
    """Validate FILE like `sshd -t`: every problem with its key, rules and hash lists included."""
    config = load_config(config_path)
    hashes = load_hashes(config)
    build_engine(config, hashes=hashes)
    if config.updates.sources:  # the publishers' keys load (cryptography only when needed)
        from fim.updates.update import check_sources

        check_sources(config)
    if config.alerts.sinks:  # secrets readable, URLs valid, exec programs safe: as the daemon builds them
        alert_service(config, config_mod.database_path(config))
    click.echo(f"ok: {config_path}")
