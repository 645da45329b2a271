"""The pack format and ``fim pack keygen/build/verify``: strict members, signatures, CLI."""

from __future__ import annotations

import io
import os
import stat
import tarfile

import pytest

from fim.updates import keys, pack
from tests.updates.conftest import NEW_RULE


def _tar(members: list[tarfile.TarInfo], content: bytes = b"x") -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for info in members:
            tar.addfile(info, io.BytesIO(content) if info.isreg() else None)
    return out.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, size: int = 1, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size if kind == tarfile.REGTYPE else 0, link
    return info


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_member("../rules/x.yar"), "not an allowed member name"),
        (_member("/etc/cron.d/x"), "not an allowed member name"),
        (_member("rules/../../x.yar"), "not an allowed member name"),
        (_member("rules/x.yar", tarfile.SYMTYPE, link="/etc/shadow"), "not a regular file"),
        (_member("rules/x.yar", tarfile.LNKTYPE, link="manifest.json"), "not a regular file"),
        (_member("rules/x.yar", tarfile.FIFOTYPE), "not a regular file"),
        (_member("rules/x.php"), "not an allowed member name"),
    ],
)
def test_hostile_tar_members_are_refused_before_any_signature_check(member, message, publisher):
    with pytest.raises(pack.PackError, match=message):
        pack.read(_tar([member]), keys.load_public(publisher.pub_file))


def test_duplicate_member_is_refused(publisher):
    data = _tar([_member("rules/x.yar"), _member("rules/x.yar")])
    with pytest.raises(pack.PackError, match="appears twice"):
        pack.read(data, keys.load_public(publisher.pub_file))


def test_member_larger_than_the_limit_is_refused_from_its_header(publisher, monkeypatch):
    monkeypatch.setattr(pack, "MAX_MEMBER_SIZE", 10)
    data = _tar([_member("rules/x.yar", size=11)], b"y" * 11)
    with pytest.raises(pack.PackError, match="too large"):
        pack.read(data, keys.load_public(publisher.pub_file))


def test_truncated_pack_file_is_refused(publisher):
    data = publisher.make(1)
    with pytest.raises(pack.PackError, match="damaged or truncated"):
        pack.read(data[: len(data) // 2], keys.load_public(publisher.pub_file))


def test_pack_round_trips_its_files_name_version_and_signer(publisher):
    verified = pack.read(publisher.make(5, bad="a" * 64 + " label\n"), keys.load_public(publisher.pub_file))
    assert (verified.name, verified.version) == ("acme", 5)
    assert verified.files["rules/pack.yar"] == NEW_RULE.encode()
    assert verified.signer == keys.fingerprint(keys.load_public(publisher.pub_file))


def test_cli_keygen_build_and_verify(tmp_path, fim):
    run = fim("pack", "keygen", tmp_path / "pub")
    assert run.code == 0, run.err
    assert stat.S_IMODE(os.stat(tmp_path / "pub.key").st_mode) == 0o600
    assert (tmp_path / "pub.pub").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    assert fim("pack", "keygen", tmp_path / "pub").code == 2  # never overwrites a key
    src = tmp_path / "src"
    (src / "rules").mkdir(parents=True)
    (src / "rules/pack.yar").write_text(NEW_RULE)
    (src / "hashes/bad").mkdir(parents=True)
    (src / "hashes/bad/x.txt").write_text("b" * 64 + " found-on-web7\n")
    run = fim("pack", "build", src, "--key", tmp_path / "pub.key", "-o", tmp_path / "p.fimpack",
              "--name", "acme", "--version", "42")  # fmt: skip
    assert run.code == 0, run.err
    run = fim("pack", "verify", tmp_path / "p.fimpack", "--pubkey", tmp_path / "pub.pub", "--format", "json")
    assert run.code == 0, run.err
    assert run.json["name"] == "acme" and run.json["version"] == 42
    assert run.json["files"] == ["hashes/bad/x.txt", "rules/pack.yar"]
    fim("pack", "keygen", tmp_path / "other")
    run = fim("pack", "verify", tmp_path / "p.fimpack", "--pubkey", tmp_path / "other.pub")
    assert run.code == 2
    assert "bad signature" in run.err.decode()


def test_cli_build_refuses_rules_that_do_not_compile_and_bad_hash_lists(tmp_path, fim, publisher):
    src = tmp_path / "src"
    (src / "rules").mkdir(parents=True)
    (src / "rules/broken.yar").write_text("rule broken { condition: nonsense }")
    run = fim("pack", "build", src, "--key", publisher.key_file, "-o", tmp_path / "p.fimpack")
    assert run.code == 2 and "broken.yar" in run.err.decode()
    assert not (tmp_path / "p.fimpack").exists()
    (src / "rules/broken.yar").unlink()
    (src / "hashes/bad").mkdir(parents=True)
    (src / "hashes/bad/x.txt").write_text("not-a-hash\n")
    run = fim("pack", "build", src, "--key", publisher.key_file, "-o", tmp_path / "p.fimpack")
    assert run.code == 2 and "hashes/bad/x.txt:1: expected a SHA-256" in run.err.decode()
    assert not (tmp_path / "p.fimpack").exists()


def test_cli_build_refuses_symlinks_and_stray_files(tmp_path, fim, publisher):
    src = tmp_path / "src"
    (src / "rules").mkdir(parents=True)
    (src / "rules/link.yar").symlink_to("/etc/passwd")
    run = fim("pack", "build", src, "--key", publisher.key_file, "-o", tmp_path / "p.fimpack")
    assert run.code == 2 and "rules/link.yar: not a regular file" in run.err.decode()
    (src / "rules/link.yar").unlink()
    (src / "notes.md").write_text("hi")
    run = fim("pack", "build", src, "--key", publisher.key_file, "-o", tmp_path / "p.fimpack")
    assert run.code == 2 and "notes.md: not a pack member" in run.err.decode()


def test_pax_header_is_refused_before_tarfile_reads_it_whole(publisher):
    """tarfile reads a pax header into memory whatever its size, before the signature is
    checked: a small download could take gigabytes. Extended headers are refused from the
    raw headers."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = _member("rules/x.yar")
        info.pax_headers = {"comment": "A" * 100_000}
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(pack.PackError, match="extended tar headers"):
        pack.read(data.getvalue(), keys.load_public(publisher.pub_file))


def test_pack_that_inflates_past_the_total_limit_is_refused(publisher, monkeypatch):
    import gzip

    monkeypatch.setattr(pack, "MAX_TOTAL_SIZE", 1 << 20)
    bomb = gzip.compress(bytes(8 << 20))  # 8 MiB of zeros, a few KiB compressed
    with pytest.raises(pack.PackError, match="unpacks to more than"):
        pack.read(bomb, keys.load_public(publisher.pub_file))
