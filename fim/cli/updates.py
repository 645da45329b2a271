"""``fim pack`` (publisher side), ``fim rules update`` and ``fim hashes export``: thin commands
over :mod:`fim.updates`."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import click

from fim.cli.options import EXIT_CLEAN, EXIT_ERROR, config_option, db_option, format_option, load_config
from fim.config import loader as config_mod
from fim.core import locations
from fim.core.errors import RuleError, UsageError
from fim.core.model import Severity
from fim.detect import rules
from fim.report import output
from fim.store.database import Store
from fim.updates import export


@click.group("pack")
def pack_group() -> None:
    """Build, sign and verify rule packs (the publisher's side of `fim rules update`)."""


@pack_group.command("keygen")
@click.argument("prefix", type=click.Path())
def pack_keygen(prefix: str) -> None:
    """Write a new Ed25519 key pair: PREFIX.key (private, PEM, 0600) and PREFIX.pub (public, PEM).

    Keep PREFIX.key where packs are built; copy PREFIX.pub to every server ([[updates.sources]]
    pubkey_file)."""
    from fim.updates import keys  # cryptography loads only for these commands

    fp = keys.write_new_pair(Path(prefix + ".key"), Path(prefix + ".pub"))
    click.echo(f"wrote {prefix}.key (private: keep it off the servers) and {prefix}.pub")
    click.echo(f"fingerprint {fp}")


@pack_group.command("build")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option(
    "--key", "key_path", required=True, type=click.Path(), help="Private key from `fim pack keygen`."
)
@click.option("-o", "--output", "out", required=True, type=click.Path(), help="Pack file to write.")
@click.option("--name", default="rules", show_default=True, help="Pack name (letters, digits, . _ -).")
@click.option("--version", "version", type=click.IntRange(min=0),
              help="Higher than every pack published before (default: UTC YYYYMMDDHHMMSS).")  # fmt: skip
def pack_build(directory: str, key_path: str, out: str, name: str, version: int | None) -> None:
    """Pack DIRECTORY (rules/*.yar, hashes/bad/*.txt, hashes/good/*.txt) into a signed pack.

    Every rule file must compile and every hash list parse, or nothing is written."""
    from fim.updates import keys, pack  # cryptography loads only for these commands

    key = keys.load_private(key_path)
    files = pack.collect(Path(directory))
    _check_rules(pack.members_of(files, "rules/"))
    version = int(time.strftime("%Y%m%d%H%M%S", time.gmtime())) if version is None else version
    data = pack.build(files, key, name=name, version=version)
    tmp = Path(out).with_name(f".{Path(out).name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    click.echo(f"wrote {out}: pack {name} version {version}, {len(data)} bytes, "
               f"signed by {keys.fingerprint(key.public_key())}")  # fmt: skip


@pack_group.command("verify")
@click.argument("pack_file", metavar="PACK", type=click.Path(dir_okay=False))
@click.option("--pubkey", "pubkey", required=True, type=click.Path(), help="Publisher's public key (PEM).")
@format_option
def pack_verify(pack_file: str, pubkey: str, fmt: str) -> None:
    """Check PACK's signature, every file's SHA-256, and that its rules compile. Exit 0 when good."""
    from fim.updates import keys, pack  # cryptography loads only for these commands

    try:
        with open(pack_file, "rb") as fh:
            data = fh.read(pack.MAX_TOTAL_SIZE + 1)
    except OSError as exc:
        raise UsageError(f"{pack_file}: cannot read: {exc.strerror}") from None
    verified = pack.read(data, keys.load_public(pubkey))
    _check_rules(verified.members("rules/"))
    info = {
        "name": verified.name, "version": verified.version, "created": verified.created,
        "signer": verified.signer, "files": sorted(verified.files),
    }  # fmt: skip
    if fmt == "json":
        click.echo(output.dumps(info))
    else:
        click.echo(f"ok: pack {verified.name} version {verified.version} created {verified.created}, "
                   f"{len(verified.files)} file(s), signed by {verified.signer}")  # fmt: skip


def _check_rules(files: dict[str, bytes]) -> None:
    """Each rule file compiles on its own (its own folder: an include must stay in the pack)."""
    if not files:
        return
    with tempfile.TemporaryDirectory(prefix="fim-pack-") as tmp:
        for member, content in files.items():
            target = Path(tmp) / member
            target.parent.mkdir(exist_ok=True)
            target.write_bytes(content)
        problems = rules.check(rules.discover([Path(tmp) / "rules"], bundled=False))
    if problems:
        raise RuleError("rules do not compile:\n" + "\n".join(f"  {p}" for p in problems))


@click.command("update")
@config_option
def rules_update(config_path: str | None) -> None:
    """Fetch every [[updates.sources]] pack now; verify, compile and install what is new.

    A running daemon picks an installed pack up within seconds and rematches the files on disk.
    Exit 0 when every source was checked, 2 when one failed (its installed pack is kept)."""
    from fim.updates import update  # cryptography loads only for this command

    config = load_config(config_path)
    if not config.updates.sources:
        raise UsageError(f"{config.source}: no [[updates.sources]] configured")
    db = config_mod.database_path(config)
    cache = Path(config.rules.cache_dir) if config.rules.cache_dir else locations.cache_dir(db)
    failed = False
    for outcome in update.update_all(config, cache_dir=cache):
        failed |= outcome.failed
        stream_err = outcome.failed
        click.echo(f"{outcome.url}: {'error: ' if outcome.failed else ''}{outcome.message}", err=stream_err)
    sys.exit(EXIT_ERROR if failed else EXIT_CLEAN)


@click.group("hashes")
def hashes_group() -> None:
    """Share what this server found: hashes of bad content, for the next pack."""


@hashes_group.command("export")
@click.option("--since", default="7d", show_default=True, help="How far back: 90m, 12h, 7d, 2w.")
@click.option("--min-severity", type=click.Choice([str(s) for s in Severity]), default="high",
              show_default=True, help="Leave out findings below this severity.")  # fmt: skip
@click.option("-o", "--output", "out", type=click.Path(), help="File to write (default: stdout).")
@config_option
@db_option
def hashes_export(
    since: str, min_severity: str, out: str | None, config_path: str | None, db_path: str | None
) -> None:
    """Write the SHA-256 of content found bad, in fim's hash-list format (rule names and
    first-seen time as comments; no paths, no customer names)."""
    try:
        seconds = export.parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    config = load_config(config_path)
    db = Path(db_path) if db_path else config_mod.database_path(config)
    if not db.exists():
        raise UsageError(f"{db}: no database (nothing found yet, or give --db)")
    level = Severity.parse(min_severity)
    with Store.open(db, busy_timeout=config.database.busy_timeout) as store:
        found = export.found_hashes(store, time.time_ns() - int(seconds * 1e9), level)
    text = export.render(found, since=since, min_severity=level)
    if out is None:
        click.echo(text, nl=False)
    else:
        tmp = Path(out).with_name(f".{Path(out).name}.tmp")
        tmp.write_text(text)
        os.replace(tmp, out)
        click.echo(f"wrote {len(found)} hash(es) to {out}", err=True)
