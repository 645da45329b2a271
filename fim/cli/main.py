"""The ``fim`` command: a thin layer that parses, calls the library, prints, and exits.

Exit codes (clamscan's): 0 clean, 1 findings, 2 error.
"""

from __future__ import annotations

import os
import platform
import sys
import traceback

import click
import yara

from fim.cli import config as config_cli
from fim.cli import report as report_cli
from fim.cli import respond as response_cli
from fim.cli import rules as rules_cli
from fim.cli import scan as scan_cli
from fim.cli import service as service_cli
from fim.cli import updates as updates_cli
from fim.cli.alerts import alerts_group
from fim.cli.options import EXIT_ERROR
from fim.core.errors import FimError
from fim.core.version import __version__


def version_text() -> str:
    return (
        f"fim {__version__}\n"
        f"yara-python {yara.__version__}, libyara {yara.YARA_VERSION}\n"
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(version_text())
        ctx.exit(0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show fim, yara-python, libyara and Python versions.",
)
def cli() -> None:
    """fim finds webshells and unwanted files in web-hosting upload areas.

    \b
    Screen a tree now, no configuration needed:
        fim scan /home
    Exit status: 0 clean, 1 findings, 2 error.
    """


# -- the command groups, one module each ---------------------------------------------------------
cli.add_command(scan_cli.scan)
cli.add_command(rules_cli.rules_group)
cli.add_command(config_cli.config_group)
cli.add_command(alerts_group)
cli.add_command(service_cli.daemon_command)
cli.add_command(service_cli.status_command)
cli.add_command(response_cli.quarantine_group)
cli.add_command(response_cli.db_group)
cli.add_command(response_cli.tenant_group)
cli.add_command(updates_cli.pack_group)
cli.add_command(updates_cli.hashes_group)
rules_cli.rules_group.add_command(updates_cli.rules_update)
cli.add_command(report_cli.report_command)


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="fim", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        click.echo("fim: interrupted", err=True)
        sys.exit(130)
    except FimError as exc:
        click.echo(f"fim: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("fim: interrupted", err=True)
        sys.exit(130)
    except BrokenPipeError:
        # Reader went away (e.g. `fim scan ... | head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_ERROR)
    except Exception:
        # A bug in fim. Never let it look like exit 1 ("findings") to a script.
        traceback.print_exc()
        click.echo("fim: internal error (a bug in fim, please report it with the traceback)", err=True)
        sys.exit(EXIT_ERROR)
