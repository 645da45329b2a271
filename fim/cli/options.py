"""Options and types the command groups share, declared once."""

from __future__ import annotations

import click

from fim.config import loader as config_mod
from fim.config.loader import Config
from fim.core.values import parse_size

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

config_option = click.option("--config", "config_path", type=click.Path(), help="TOML configuration file.")
db_option = click.option(
    "--db",
    "db_path",
    type=click.Path(),
    help="Database (default: [database] path, else the state directory).",
)
format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
no_bundled_option = click.option("--no-bundled-rules", is_flag=True, help="Leave out the bundled rules.")


class SizeType(click.ParamType):
    """A size option (``32M``, ``512K``), parsed like the configuration's sizes."""

    name = "SIZE"

    def convert(self, value, param, ctx):  # type: ignore[override]
        try:
            return parse_size(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def load_config(path: str | None) -> Config:
    return config_mod.load(path)
