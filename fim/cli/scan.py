"""``fim scan``: screen trees now, no configuration needed; exit 0 clean, 1 findings, 2 error."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from fim.cli.options import (
    SizeType,
    config_option,
    db_option,
    load_config,
)
from fim.config import loader as config_mod
from fim.core import locations, paths
from fim.core.errors import FimError, UsageError
from fim.report import output
from fim.scanner.build import alert_service, build_engine, build_scanner, load_hashes
from fim.scanner.callbacks import ChangeEvent
from fim.store.database import Store


@click.command("scan")
@click.argument("paths_", metavar="[PATH]...", nargs=-1, type=click.Path())
@config_option
@db_option
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
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [one per core].")
@click.option("--list-changes", is_flag=True, help="Also list new, changed and deleted files.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only: no progress, no summary.")
@click.option("--alert", is_flag=True, help="Send alerts for new findings to the [[alerts.sinks]].")
@click.option(
    "--metrics-file",
    type=click.Path(dir_okay=False),
    help="Write the scan's Prometheus metrics to this .prom file (node_exporter's textfile "
    "collector), replaced atomically; also when the scan fails.",
)
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
    metrics_file: str | None,
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
    if metrics_file:
        from fim.metrics import scan as scan_metrics  # prometheus_client: only when asked for

        scan_metrics.check_path(metrics_file)
    config = load_config(config_path)
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
    hashes = load_hashes(config)
    engine = build_engine(config, rule_paths, use_bundled=False if no_bundled_rules else None,
                          cache_dir=cache_dir, hashes=hashes)  # fmt: skip
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
            engine=(engine, hashes),  # compiled above, loaded once
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
        except BaseException:
            if metrics_file:  # a scan that fails must show in the metrics, not leave the last good ones
                with contextlib.suppress(FimError):  # the scan's own error is the one to report
                    scan_metrics.write(metrics_file, None, rules_version=scanner.version)
            raise
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
    if metrics_file:
        scan_metrics.write(metrics_file, report)
    if alerts is not None:
        from fim.cli.alerts import deliver_after_scan

        deliver_after_scan(alerts, quiet=quiet)
    sys.exit(report.exit_code)


def _read_list(stream, null: bool) -> Iterator[bytes]:
    data = stream.read()
    for item in data.split(b"\0" if null else b"\n"):
        if not null:
            item = item.rstrip(b"\r")
        if item:
            yield item
