"""``fim rules``: check, test and list YARA rules."""

from __future__ import annotations

import os
import sys

import click

from fim.cli.options import (
    EXIT_CLEAN,
    EXIT_ERROR,
    EXIT_FINDINGS,
    config_option,
    format_option,
    load_config,
    no_bundled_option,
)
from fim.core import paths
from fim.core.model import Problem
from fim.detect import rules
from fim.detect.inspector import Inspector
from fim.detect.walk import Excludes, Walker
from fim.report import output
from fim.scanner.build import build_engine
from fim.updates.install import engine_inputs


@click.group("rules")
def rules_group() -> None:
    """Check, test and list YARA rules."""


def _sources(config_path: str | None, extra: tuple[str, ...], no_bundled: bool) -> list[rules.RuleSource]:
    config = load_config(config_path)
    bundled = config.rules.bundled and not no_bundled
    return rules.discover([*engine_inputs(config).rule_paths, *extra], bundled=bundled)


@rules_group.command("check")
@click.argument("rule_paths", metavar="[PATH]...", nargs=-1, type=click.Path())
@config_option
@no_bundled_option
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
@config_option
@no_bundled_option
def rules_test(
    files: tuple[str, ...], rule_paths: tuple[str, ...], config_path: str | None, no_bundled_rules: bool
) -> None:
    """Show which rules match each FILE, with the matched strings and their offsets."""
    config = load_config(config_path)
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
@format_option
@config_option
@no_bundled_option
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
