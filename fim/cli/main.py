"""The ``fim`` command: a thin layer that parses, calls the library, prints, and exits.

Exit codes (clamscan's): 0 clean, 1 findings, 2 error.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import click
import yara

from fim.cli import respond as response_cli
from fim.cli import service as service_cli
from fim.cli.alerts import alerts_group, deliver_after_scan
from fim.config import loader as config_mod
from fim.config.loader import Config
from fim.core import locations, paths
from fim.core.errors import FimError, UsageError
from fim.core.model import Problem
from fim.core.values import parse_size
from fim.core.version import __version__
from fim.detect import hashlists, rules
from fim.detect.inspector import Inspector
from fim.detect.walk import Excludes, Walker
from fim.report import output
from fim.scanner.build import alert_service, build_engine, build_scanner
from fim.scanner.callbacks import ChangeEvent
from fim.store.database import Store

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


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


class SizeType(click.ParamType):
    name = "SIZE"

    def convert(self, value, param, ctx):  # type: ignore[override]
        try:
            return parse_size(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


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


def _load_config(path: str | None) -> Config:
    return config_mod.load(path)


@cli.command()
@click.argument("paths_", metavar="[PATH]...", nargs=-1, type=click.Path())
@click.option("--config", "config_path", type=click.Path(), help="TOML configuration file.")
@click.option("--db", "db_path", type=click.Path(), help="Baseline database (default: the state dir).")
@click.option("--no-db", is_flag=True, help="Keep no baseline: read every file, remember nothing.")
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(),
    help="Extra .yar/.yara file or folder (repeatable), added to the bundled rules.",
)
@click.option("--no-bundled-rules", is_flag=True, help="Use only the rules given with --rules/config.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "jsonl"]),
    default="text",
    show_default=True,
    help="text for people; json one document; jsonl one ECS event per finding.",
)
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip matching names or paths (repeatable).")
@click.option("--max-file-size", type=SizeType(), help="Hash larger files, match only their ends [32M].")
@click.option(
    "--files-from",
    type=click.File("rb"),
    metavar="FILE|-",
    help="Read paths to scan from FILE (- for stdin), one a line; list real paths (symlinked "
    "directories in them are not followed).",
)
@click.option("--null", "-0", "null", is_flag=True, help="--files-from paths are NUL-separated.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker threads [one per core].")
@click.option("--list-changes", is_flag=True, help="Also list new, changed and deleted files.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only: no progress, no summary.")
@click.option("--alert", is_flag=True, help="Send alerts for new findings to the [[alerts.sinks]].")
def scan(
    paths_: tuple[str, ...],
    config_path: str | None,
    db_path: str | None,
    no_db: bool,
    rule_paths: tuple[str, ...],
    no_bundled_rules: bool,
    fmt: str,
    exclude: tuple[str, ...],
    max_file_size: int | None,
    files_from,
    null: bool,
    jobs: int | None,
    list_changes: bool,
    quiet: bool,
    alert: bool,
) -> None:
    """Scan PATH... (files or directories) for webshells and report findings by tenant.

    Without PATH, scans the roots of the configuration's [daemon] section (globs expanded).

    Each regular file is read once, hashed and matched against the bundled YARA rules (plus
    --rules and configured ones). With a baseline database, files whose inode, size and
    timestamps are unchanged since the last scan (with the same rules) are not read again,
    and the report says which files are new, changed or deleted.
    """
    if db_path and no_db:
        raise click.UsageError("--db and --no-db cannot be used together")
    if null and files_from is None:
        raise click.UsageError("--null only applies to --files-from")
    if alert and no_db:
        raise click.UsageError("--alert needs a database (undelivered alerts are kept there); drop --no-db")
    config = _load_config(config_path)
    if not paths_ and files_from is None:
        if not config.daemon.roots:
            raise click.UsageError("give at least one PATH, --files-from, or a --config with [daemon] roots")
        from fim.detect import roots

        expansion = roots.expand(config.daemon.roots, symlink_roots=config.daemon.symlink_roots)
        for skipped in expansion.skipped:  # a customer's symlink is never followed out of their tree
            click.echo(f"fim: root skipped: {paths.display(skipped.reason)}", err=True)
        paths_ = tuple(os.fsdecode(r) for r in expansion.paths)
        if not paths_:
            raise UsageError("no directory matches the configured [daemon] roots")
    scan_cfg = config.scan
    scan_cfg = dataclasses.replace(
        scan_cfg,
        exclude=(*scan_cfg.exclude, *exclude),
        max_file_size=max_file_size if max_file_size is not None else scan_cfg.max_file_size,
    )
    config = dataclasses.replace(config, scan=scan_cfg)
    raw_roots = [os.fsencode(p) for p in paths_]
    for root in raw_roots:
        if not os.path.lexists(root):
            raise UsageError(f"{paths.display(root)}: no such file or directory")

    db_file = None if no_db else Path(db_path) if db_path else config_mod.database_path(config)
    alerts = alert_service(config, db_file) if alert else None
    cache_dir = locations.cache_dir(db_file)
    # Rules are compiled before the database is opened: a bad rule writes nothing anywhere.
    build_engine(config, rule_paths, use_bundled=False if no_bundled_rules else None, cache_dir=cache_dir,
                 hashes=hashlists.load(config.hashes.bad, config.hashes.good))  # fmt: skip
    store = (
        Store.memory() if db_file is None else Store.open(db_file, busy_timeout=config.database.busy_timeout)
    )

    if alerts is not None:
        alerts.install(store)  # findings and their alert deliveries commit together

    out = sys.stdout
    changes: list[dict] = []
    progress = output.Progress() if sys.stderr.isatty() and not quiet else None

    def on_finding(finding):
        if fmt == "jsonl":
            if progress:
                progress.clear()
            out.write(output.dumps(output.ecs.finding_event(finding)) + "\n")
            out.flush()

    def on_change(event: ChangeEvent):
        record = {**paths.json_path_fields(event.path), "change": str(event.change), "tenant": event.tenant}
        if fmt == "json":
            changes.append(record)
        elif fmt == "text":
            if progress:
                progress.clear()
            out.write(f"{event.change:<9} {paths.display(event.path)}\n")
        # jsonl stays findings-only: one ECS event per line is what SIEM pipelines expect

    with store:
        scanner = build_scanner(
            config,
            store,
            extra_rules=rule_paths,
            use_bundled=False if no_bundled_rules else None,
            cache_dir=cache_dir,
            jobs=jobs or 0,
            on_message=lambda m: click.echo(m, err=True),
            on_finding=on_finding,
            on_progress=progress,
            on_change=on_change if list_changes else None,
        )
        try:
            if files_from is not None:
                items = list(_read_list(files_from, null)) + raw_roots
                report = scanner.scan_paths(items)
            else:
                report = scanner.scan(raw_roots)
        finally:
            scanner.close()
            if progress:
                progress.clear()

    if fmt == "text":
        output.render_text(report, out, colour=output.use_colour(out), quiet=quiet)
    elif fmt == "json":
        out.write(output.dumps(output.json_document(report, changes if list_changes else None)) + "\n")
    elif not quiet:
        click.echo(output.summary_line(report), err=True)
    if alerts is not None:
        deliver_after_scan(alerts, quiet=quiet)
    sys.exit(report.exit_code)


def _read_list(stream, null: bool) -> Iterator[bytes]:
    data = stream.read()
    for item in data.split(b"\0" if null else b"\n"):
        if not null:
            item = item.rstrip(b"\r")
        if item:
            yield item


# -- rules ---------------------------------------------------------------------------------------


@cli.group("rules")
def rules_group() -> None:
    """Check, test and list YARA rules."""


def _sources(config_path: str | None, extra: tuple[str, ...], no_bundled: bool) -> list[rules.RuleSource]:
    config = _load_config(config_path)
    bundled = config.rules.bundled and not no_bundled
    return rules.discover([*config.rules.paths, *extra], bundled=bundled)


_config_option = click.option("--config", "config_path", type=click.Path(), help="TOML configuration file.")
_no_bundled_option = click.option("--no-bundled-rules", is_flag=True, help="Leave out the bundled rules.")


@rules_group.command("check")
@click.argument("rule_paths", metavar="[PATH]...", nargs=-1, type=click.Path())
@_config_option
@_no_bundled_option
def rules_check(rule_paths: tuple[str, ...], config_path: str | None, no_bundled_rules: bool) -> None:
    """Compile rule files and report every error with its file and line.

    Without PATH, checks the bundled rules and those in the configuration.
    """
    sources = _sources(config_path, rule_paths, no_bundled_rules or bool(rule_paths))
    problems = rules.check(sources)
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    if problems:
        sys.exit(EXIT_ERROR)
    engine = rules.YaraEngine.build(sources)
    for warning in engine.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"ok: {len(sources)} rule file(s), ruleset version {engine.version}")


@rules_group.command("test")
@click.argument("files", metavar="FILE...", nargs=-1, required=True, type=click.Path())
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(), help="Extra rule file or folder.")
@_config_option
@_no_bundled_option
def rules_test(
    files: tuple[str, ...], rule_paths: tuple[str, ...], config_path: str | None, no_bundled_rules: bool
) -> None:
    """Show which rules match each FILE, with the matched strings and their offsets."""
    config = _load_config(config_path)
    engine = build_engine(config, rule_paths, use_bundled=False if no_bundled_rules else None)
    inspector = Inspector(engine)
    problems: list[Problem] = []
    walker = Walker(excludes=Excludes(()), one_file_system=False, on_problem=problems.append)
    any_match = False
    for name in files:
        raw = paths.absolute(os.fsencode(name))
        candidates = list(walker.walk(raw))
        if not candidates:
            click.echo(f"{paths.display(raw)}: not a regular file", err=True)
            continue
        for cand in candidates:
            insp = inspector.inspect(cand)
            cand.release()
            click.echo(f"{paths.display(cand.path)}: {len(insp.matches)} match(es)")
            for m in insp.matches:
                any_match = True
                click.echo(f"  {m.severity!s:<8} {m.ruleset}.{m.rule} - {paths.display(m.description)}")
                for s in m.strings:
                    click.echo(f"           {s.identifier} at {s.offset:#x}: {paths.display(s.data[:80])}")
    sys.exit(EXIT_FINDINGS if any_match else EXIT_CLEAN)


@rules_group.command("list")
@click.option("--rules", "rule_paths", multiple=True, type=click.Path(), help="Extra rule file or folder.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_config_option
@_no_bundled_option
def rules_list(
    rule_paths: tuple[str, ...], fmt: str, config_path: str | None, no_bundled_rules: bool
) -> None:
    """List bundled and configured rules with their family and severity."""
    sources = _sources(config_path, rule_paths, no_bundled_rules)
    engine = rules.YaraEngine.build(sources)
    infos = engine.rule_infos()
    if fmt == "json":
        click.echo(output.dumps({"rules": infos}))
        return
    for info in infos:
        click.echo(
            f"{info['severity']:<8} {info['family']:<20} {info['namespace']}.{info['rule']}"
            f"  {paths.display(info['description'])}"
        )
    click.echo(f"{len(infos)} rules in {len(sources)} file(s)", err=True)


# -- config --------------------------------------------------------------------------------------


@cli.group("config")
def config_group() -> None:
    """Validate the configuration."""


@config_group.command("check")
@click.argument("config_path", metavar="FILE", type=click.Path())
def config_check(config_path: str) -> None:
    """Validate FILE like `sshd -t`: every problem with its key, rules and hash lists included."""
    config = _load_config(config_path)
    hashes = hashlists.load(config.hashes.bad, config.hashes.good)
    build_engine(config, hashes=hashes)
    if config.alerts.sinks:  # secrets readable, URLs valid, exec programs safe: as the daemon builds them
        alert_service(config, config_mod.database_path(config))
    click.echo(f"ok: {config_path}")


# -- command groups that live beside their library modules ---------------------------------------
# (each module exposes a click group; register it here, one line each)
cli.add_command(alerts_group)
cli.add_command(service_cli.daemon_command)
cli.add_command(service_cli.status_command)
cli.add_command(response_cli.quarantine_group)
cli.add_command(response_cli.db_group)
cli.add_command(response_cli.tenant_group)


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
