"""The ``fim`` command: a thin layer that parses, calls the library, prints, and exits.

Exit codes (clamscan's): 0 clean, 1 findings, 2 error.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import traceback

import click
import yara

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


# The commands, each in its module: imported when called (or listed by --help), so that
# ``fim scan`` does not pay at every start for the daemon, the alerts, reports and packs.
_COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("fim.cli.scan", "scan"),
    "rules": ("fim.cli.rules", "rules_group"),
    "config": ("fim.cli.config", "config_group"),
    "alerts": ("fim.cli.alerts", "alerts_group"),
    "daemon": ("fim.cli.service", "daemon_command"),
    "status": ("fim.cli.service", "status_command"),
    "quarantine": ("fim.cli.respond", "quarantine_group"),
    "db": ("fim.cli.respond", "db_group"),
    "tenant": ("fim.cli.respond", "tenant_group"),
    "pack": ("fim.cli.updates", "pack_group"),
    "hashes": ("fim.cli.updates", "hashes_group"),
    "report": ("fim.cli.report", "report_command"),
}


class _LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = _COMMANDS.get(cmd_name)
        if where is None:
            return None
        command = getattr(importlib.import_module(where[0]), where[1])
        if cmd_name == "rules" and "update" not in command.commands:  # fim rules update: a pack's
            command.add_command(importlib.import_module("fim.cli.updates").rules_update)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
