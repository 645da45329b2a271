"""The pack format: a gzip'd tar of rule files and hash lists, a manifest, and its signature.

Members, and nothing else::

    manifest.json          {"format", "name", "version", "created", "files": {member: {sha256, size}}}
    manifest.sig           Ed25519 signature (64 raw bytes) of b"fim-pack-v1\\0" + manifest.json
    rules/NAME.yar|.yara   YARA rule files
    hashes/bad/NAME.txt    known-bad hash lists (fim's hash-list format)
    hashes/good/NAME.txt   known-good hash lists

Reading is strict: regular files only (no links, devices, directories entries are skipped),
names from a small alphabet (no absolute paths, no ``..``), no duplicates, bounded sizes and
counts. The signature is checked before the manifest is parsed, and every member against the
manifest, all in memory: nothing of a pack is written before it is fully verified.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fim.core.errors import FimError
from fim.detect import hashlists
from fim.updates import keys

FORMAT = "fim-pack-1"
SIGNED_PREFIX = b"fim-pack-v1\0"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
MAX_MEMBERS = 2000
MAX_MEMBER_SIZE = 64 << 20
MAX_TOTAL_SIZE = 256 << 20
MAX_MANIFEST = 4 << 20
_MEMBER = re.compile(
    r"^(rules/[A-Za-z0-9][A-Za-z0-9._-]{0,80}\.yara?|hashes/(bad|good)/[A-Za-z0-9][A-Za-z0-9._-]{0,80}\.txt)$"
)
_EXTENDED = (b"x", b"g", b"X", b"L", b"K")  # pax, pax global, Solaris, GNU long name and link
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class PackError(FimError):
    """A pack is malformed, not signed by the expected key, or does not match its manifest."""


@dataclass(frozen=True)
class Pack:
    """A verified pack: its manifest fields, member contents, and who signed it."""

    name: str
    version: int
    created: str
    files: Mapping[str, bytes]
    manifest: bytes  # the signed bytes, kept so an installed pack can be compared exactly
    signature: bytes
    signer: str  # the public key's fingerprint

    @property
    def digest(self) -> str:
        """SHA-256 of the manifest: two packs with the same digest hold the same files."""
        return hashlib.sha256(self.manifest).hexdigest()

    def members(self, prefix: str) -> dict[str, bytes]:
        return members_of(self.files, prefix)


def members_of(files: Mapping[str, bytes], prefix: str) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k.startswith(prefix)}


def collect(source_dir: Path) -> dict[str, bytes]:
    """The rule files and hash lists under ``source_dir`` (``rules/``, ``hashes/bad/``,
    ``hashes/good/``) by member name. Hash lists are parsed: a bad line fails here, at the
    publisher, not on every server. Links and stray files are refused, not skipped."""
    files: dict[str, bytes] = {}
    for path in sorted(source_dir.rglob("*")):
        rel = path.relative_to(source_dir).as_posix()
        if path.is_dir() and not path.is_symlink():
            continue
        if path.is_symlink() or not path.is_file():
            raise PackError(f"{rel}: not a regular file (links are not packed)")
        if not _MEMBER.match(rel):
            raise PackError(
                f"{rel}: not a pack member; expected rules/NAME.yar, hashes/bad/NAME.txt "
                "or hashes/good/NAME.txt"
            )
        files[rel] = path.read_bytes()
        if rel.startswith("hashes/"):
            hashlists.parse(files[rel].decode("utf-8", "replace"), rel)
    if not files:
        raise PackError(f"{source_dir}: no rules/*.yar or hashes/{{bad,good}}/*.txt to pack")
    return files


def build(files: Mapping[str, bytes], key: Ed25519PrivateKey, *, name: str, version: int) -> bytes:
    """A signed pack of ``files`` (from :func:`collect`)."""
    if not _NAME.match(name):
        raise PackError(f"pack name {name!r}: use letters, digits, '.', '_' and '-' (at most 64)")
    if version < 0:
        raise PackError("pack version must not be negative")
    manifest = json.dumps(
        {
            "format": FORMAT,
            "name": name,
            "version": version,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": {k: {"sha256": hashlib.sha256(v).hexdigest(), "size": len(v)} for k, v in files.items()},
        },
        indent=1,
        sort_keys=True,
    ).encode()
    signature = key.sign(SIGNED_PREFIX + manifest)
    out = io.BytesIO()
    # Plain ustar: the reader refuses extended headers (see _plain_tar), and member names
    # are short ASCII anyway.
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
        for member, data in [(MANIFEST, manifest), (SIGNATURE, signature), *files.items()]:
            info = tarfile.TarInfo(member)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def read(data: bytes, key: Ed25519PublicKey) -> Pack:
    """Verify ``data`` against ``key``; the pack, or PackError saying what is wrong."""
    members = _members(data)
    manifest, signature = members.pop(MANIFEST, None), members.pop(SIGNATURE, None)
    if manifest is None or signature is None:
        raise PackError("not a fim pack: manifest.json or manifest.sig missing")
    if not keys.verify(key, signature, SIGNED_PREFIX + manifest):
        raise PackError(f"bad signature: the pack is not signed by the key {keys.fingerprint(key)}")
    doc = _manifest(manifest)
    listed: dict[str, dict] = doc["files"]
    if set(listed) != set(members):
        extra, missing = sorted(set(members) - set(listed)), sorted(set(listed) - set(members))
        raise PackError(f"pack members differ from the manifest: not listed {extra}, missing {missing}")
    for member, entry in listed.items():
        content = members[member]
        if len(content) != entry.get("size") or hashlib.sha256(content).hexdigest() != entry.get("sha256"):
            raise PackError(f"{member}: content does not match its SHA-256 in the signed manifest")
        if member.startswith("hashes/"):
            try:
                hashlists.parse(content.decode("utf-8", "replace"), member)
            except hashlists.HashListError as exc:
                raise PackError(f"bad hash list in pack: {exc}") from None
    return Pack(
        name=doc["name"], version=doc["version"], created=doc["created"], files=members,
        manifest=manifest, signature=signature, signer=keys.fingerprint(key),
    )  # fmt: skip


def _members(data: bytes) -> dict[str, bytes]:
    members: dict[str, bytes] = {}
    total = 0
    raw = _plain_tar(_gunzip(data))
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for count, info in enumerate(tar, 1):
                if count > MAX_MEMBERS:
                    raise PackError(f"more than {MAX_MEMBERS} members")
                if info.isdir():
                    continue
                name = info.name
                if not info.isreg():
                    raise PackError(f"{name!r}: not a regular file (links and devices are refused)")
                if name not in (MANIFEST, SIGNATURE) and not _MEMBER.match(name):
                    raise PackError(f"{name!r}: not an allowed member name")
                if name in members:
                    raise PackError(f"{name!r}: appears twice")
                limit = MAX_MANIFEST if name == MANIFEST else MAX_MEMBER_SIZE
                total += info.size
                if info.size > limit or total > MAX_TOTAL_SIZE:
                    raise PackError(f"{name!r}: too large ({info.size} bytes)")
                fh = tar.extractfile(info)
                content = fh.read() if fh is not None else b""
                if len(content) != info.size:
                    raise PackError(f"{name!r}: truncated")
                members[name] = content
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:  # gzip and tar damage
        raise PackError(f"not a valid pack (damaged or truncated): {exc}") from None
    return members


def _gunzip(data: bytes) -> bytes:
    """The tar inside, refused once it passes what a pack may hold: the signature is checked
    after the tar is read, so a small download must not be able to inflate without bound."""
    limit = MAX_TOTAL_SIZE + (MAX_MEMBERS + 2) * 1024  # contents, plus a header and padding each
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise PackError(f"not a valid pack (damaged or truncated): {exc}") from None
    if inflater.unconsumed_tail:
        raise PackError(f"not a valid pack: it unpacks to more than {limit} bytes")
    if not inflater.eof:
        raise PackError("not a valid pack (damaged or truncated): the compressed stream ends early")
    return raw


def _plain_tar(raw: bytes) -> bytes:
    """``raw`` if no header in it is an extended one. ``tarfile`` reads a
    pax or GNU long-name header whole into memory, whatever its size, before any limit of ours
    applies: such headers are refused here, from the headers alone."""
    offset = 0
    while offset + 512 <= len(raw):
        header = raw[offset : offset + 512]
        if header == bytes(512):
            return raw  # the end-of-archive marker
        if header[156:157] in _EXTENDED:
            raise PackError("not a valid pack: extended tar headers (pax, GNU long names) are refused")
        try:
            size = int(header[124:136].rstrip(b"\0 ").decode("ascii") or "0", 8)
        except ValueError:
            raise PackError("not a valid pack: a tar header has a bad size") from None
        offset += 512 + -(-size // 512) * 512
    raise PackError("not a valid pack (damaged or truncated): no end-of-archive marker")


def _manifest(raw: bytes) -> dict:
    try:
        doc = json.loads(raw)
    except ValueError:
        raise PackError("manifest.json is not valid JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise PackError(f"manifest.json: not a {FORMAT} manifest")
    name, version, files = doc.get("name"), doc.get("version"), doc.get("files")
    if not isinstance(name, str) or not _NAME.match(name):
        raise PackError("manifest.json: name missing or invalid")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise PackError("manifest.json: version must be a whole number")
    if not isinstance(doc.get("created"), str):
        raise PackError("manifest.json: created missing")
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        raise PackError("manifest.json: files must map each member to its sha256 and size")
    for member in files:
        if not _MEMBER.match(member):
            raise PackError(f"manifest.json: {member!r} is not an allowed member name")
    return doc
