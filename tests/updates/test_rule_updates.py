"""`fim rules update` against a real HTTPS server on loopback: what is installed, what is
refused (with the running pack kept), and what a 304 costs."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.updates.conftest import NEW_RULE, PACK_SHELL, Route, make_publisher, updates_config


def installed_version(fim, config: Path) -> int | None:
    doc = fim("status", "--config", config, "--format", "json").json
    (source,) = doc["update_sources"]
    return source["version"]


@pytest.fixture
def setup(tmp_path, pack_server, publisher, tls, fim):
    """A server with a good pack (version 10) installed once already."""
    pack_server.routes["/pack.fimpack"] = Route(publisher.make(10))
    config = updates_config(tmp_path, pack_server.url(), publisher.pub_file, tls.ca_file)
    first = fim("rules", "update", "--config", config)
    assert first.code == 0, first.err
    assert "installed pack acme version 10" in first.text
    assert installed_version(fim, config) == 10
    return config


def serve(pack_server, body: bytes, **kw) -> None:
    pack_server.routes["/pack.fimpack"] = Route(body, **kw)


def refused(fim, config: Path, needle: str) -> str:
    run = fim("rules", "update", "--config", config)
    assert run.code == 2, run.text
    err = run.err.decode()
    assert needle in err, err
    assert "keeping pack version 10" in err
    return err


def test_good_pack_is_installed_and_its_rule_and_hash_list_are_used_by_scan(setup, tmp_path, fim):
    shell = tmp_path / "site/shell.php"
    shell.parent.mkdir()
    shell.write_bytes(PACK_SHELL)
    run = fim("scan", "--config", setup, "--format", "jsonl", shell.parent)
    assert run.code == 1, run.err
    assert {e["rule"]["name"] for e in run.jsonl if "rule" in e} >= {"pack_rule_new"}


def test_pack_bad_hash_list_finds_its_content(tmp_path, pack_server, publisher, tls, fim):
    content = b"nothing a rule would see\n"
    listed = tmp_path / "site/listed.txt"
    listed.parent.mkdir()
    listed.write_bytes(content)
    serve(pack_server, publisher.make(3, bad=f"{hashlib.sha256(content).hexdigest()} seen-elsewhere\n"))
    config = updates_config(tmp_path, pack_server.url(), publisher.pub_file, tls.ca_file)
    assert fim("rules", "update", "--config", config).code == 0
    run = fim("scan", "--config", config, "--format", "jsonl", listed.parent)
    assert run.code == 1, run.err
    assert [e["rule"]["name"] for e in run.jsonl if "rule" in e] == ["known_bad_hash"]


def test_unchanged_pack_costs_a_304_and_no_body(setup, pack_server, fim):
    pack_server.seen.clear()
    run = fim("rules", "update", "--config", setup)
    assert run.code == 0, run.err
    assert "not modified (304)" in run.text
    (request,) = pack_server.seen
    assert request.headers.get("If-None-Match") == pack_server.routes["/pack.fimpack"].etag
    assert request.headers.get("If-Modified-Since") == "Fri, 27 Nov 2026 10:00:00 GMT"
    assert request.status == 304 and request.body_sent == 0


def _retar(data: bytes, change: dict[str, bytes]) -> bytes:
    """The pack's tar with some members' content replaced (manifest and signature untouched)."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as src,
        tarfile.open(fileobj=out, mode="w:gz") as dst,
    ):
        for info in src:
            content = change.get(info.name, src.extractfile(info).read())
            info.size = len(content)
            dst.addfile(info, io.BytesIO(content))
    return out.getvalue()


def test_tampered_rule_file_is_refused_and_the_installed_pack_stays(setup, pack_server, publisher, fim):
    good = publisher.make(11)
    serve(
        pack_server, _retar(good, {"rules/pack.yar": NEW_RULE.replace("FIM_PACK_ONLY", "FIM_EVIL").encode()})
    )
    refused(fim, setup, "rules/pack.yar: content does not match its SHA-256 in the signed manifest")
    assert installed_version(fim, setup) == 10


def test_tampered_manifest_is_refused_as_a_bad_signature(setup, pack_server, publisher, fim):
    good = publisher.make(11)
    with tarfile.open(fileobj=io.BytesIO(good), mode="r:gz") as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    manifest["version"] = 99
    serve(pack_server, _retar(good, {"manifest.json": json.dumps(manifest).encode()}))
    refused(fim, setup, "bad signature: the pack is not signed by the key SHA256:")
    assert installed_version(fim, setup) == 10


def test_pack_signed_with_another_key_is_refused(setup, tmp_path, pack_server, fim):
    stranger = make_publisher(tmp_path / "stranger")
    serve(pack_server, stranger.make(12))
    refused(fim, setup, "bad signature")
    assert installed_version(fim, setup) == 10


def test_older_version_is_refused_as_a_rollback(setup, pack_server, publisher, fim):
    serve(pack_server, publisher.make(9))
    refused(
        fim,
        setup,
        "pack acme version 9 is older than the installed version 10; refused (rollback protection)",
    )
    assert installed_version(fim, setup) == 10


def test_same_version_with_other_content_is_refused(setup, pack_server, publisher, fim):
    serve(
        pack_server,
        publisher.make(10, rules={"pack.yar": NEW_RULE, "more.yar": "rule m { condition: false }"}),
    )
    refused(fim, setup, "version 10 has different content than the installed pack of the same version")
    assert installed_version(fim, setup) == 10


def test_pack_that_does_not_compile_is_refused_and_nothing_is_left_behind(
    setup, tmp_path, pack_server, publisher, fim
):
    serve(
        pack_server, publisher.make(13, rules={"broken.yar": "rule broken { strings: $a = condition: $a }"})
    )
    err = refused(fim, setup, "pack does not compile with the running rules; refused")
    assert "broken.yar" in err
    assert installed_version(fim, setup) == 10
    (packs,) = (tmp_path / "state/updates").glob("*/packs")
    assert [p.name for p in packs.iterdir()] == [f"v10-{p.name[4:]}" for p in packs.iterdir()]  # no staging


def test_truncated_download_is_refused(setup, pack_server, publisher, fim):
    body = publisher.make(14)
    serve(pack_server, body, truncate_to=len(body) // 2)
    refused(fim, setup, "truncated download")
    assert installed_version(fim, setup) == 10


def test_redirect_to_another_host_is_refused(setup, pack_server, publisher, fim):
    pack_server.routes["/other"] = Route(publisher.make(15))
    serve(pack_server, b"", status=302, location=pack_server.url("/other", host="127.0.0.1"))
    refused(fim, setup, f"redirect to another host refused (https://127.0.0.1:{pack_server.port})")
    assert installed_version(fim, setup) == 10
    assert [s.path for s in pack_server.seen].count("/other") == 0


def test_what_the_server_says_is_shown_escaped(setup, pack_server, fim):
    """The reason phrase is the server's text: it reaches the terminal, status and alerts."""
    serve(pack_server, b"", status=503, reason="\x1b[2J\x1b]8;;https://evil/\x07click\x9b")
    run = fim("rules", "update", "--config", setup)
    assert run.code == 2
    err = run.err.decode()
    assert "\x1b" not in err and "\x9b" not in err and "\x07" not in err
    assert "HTTP 503 \\x1b[2J" in err, err
    assert installed_version(fim, setup) == 10


def test_redirect_on_the_same_host_is_followed(setup, pack_server, publisher, fim):
    pack_server.routes["/v15.fimpack"] = Route(publisher.make(15))
    serve(pack_server, b"", status=302, location="/v15.fimpack")
    run = fim("rules", "update", "--config", setup)
    assert run.code == 0, run.err
    assert installed_version(fim, setup) == 15


def test_oversized_response_is_refused_while_it_streams(tmp_path, pack_server, publisher, tls, fim):
    config = updates_config(
        tmp_path, pack_server.url(), publisher.pub_file, tls.ca_file, extra_source='max_size = "64K"\n'
    )
    serve(pack_server, b"\0" * (8 << 20), no_length=True)
    run = fim("rules", "update", "--config", config)
    assert run.code == 2
    assert "response is larger than max_size (65536 bytes); abandoned" in run.err.decode()
    assert "no pack installed" in run.err.decode()
    assert pack_server.seen[-1].body_sent < (8 << 20)  # fim hung up long before the end


def test_oversized_content_length_is_refused_before_the_body(tmp_path, pack_server, publisher, tls, fim):
    config = updates_config(
        tmp_path, pack_server.url(), publisher.pub_file, tls.ca_file, extra_source='max_size = "64K"\n'
    )
    serve(pack_server, b"\0" * (1 << 20))
    run = fim("rules", "update", "--config", config)
    assert run.code == 2
    assert f"response of {1 << 20} bytes is larger than max_size (65536)" in run.err.decode()


def test_server_certificate_from_an_unknown_ca_is_refused(tmp_path, pack_server, publisher, fim):
    serve(pack_server, publisher.make(1))
    config = updates_config(tmp_path, pack_server.url(), publisher.pub_file, None)  # system CAs only
    run = fim("rules", "update", "--config", config)
    assert run.code == 2
    assert "TLS certificate not trusted" in run.err.decode()
    assert installed_version(fim, config) is None


def test_status_shows_source_checks_version_and_signer(setup, publisher, fim):
    from fim.updates import keys

    run = fim("status", "--config", setup)
    fingerprint = keys.fingerprint(keys.load_public(publisher.pub_file))
    assert f"pack acme version 10 signed by {fingerprint}" in run.text
    assert "last check 2" in run.text and "last success 2" in run.text


def test_update_source_config_errors_name_their_keys(tmp_path, fim):
    config = tmp_path / "bad.toml"
    config.write_text(
        '[[updates.sources]]\nurl = "http://example.org/p"\npubkey_file = "k.pub"\ninterval = 0\n'
        "[updates]\nhealth_afte = 3\n"
    )
    run = fim("config", "check", config)
    assert run.code == 2
    err = run.err.decode()
    assert "updates.sources[0].url: expected an https:// address" in err
    assert "updates.sources[0].pubkey_file: expected the absolute path" in err
    assert "updates.sources[0].interval: must be at least 1 second" in err
    assert "updates.health_afte: unknown key (did you mean 'updates.health_after'?)" in err


def test_config_check_names_an_unreadable_publisher_key(tmp_path, fim, tls):
    config = updates_config(tmp_path, "https://localhost/p", tmp_path / "missing.pub", tmp_path / "no-ca.pem")
    run = fim("config", "check", config)
    assert run.code == 2
    err = run.err.decode()
    assert f"updates.sources[0].pubkey_file: {tmp_path}/missing.pub: cannot read public key" in err
    assert f"updates.sources[0].ca_file: {tmp_path}/no-ca.pem: no such file" in err
