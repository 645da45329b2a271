"""Attacker-chosen file names: every one is found, reported with its exact bytes, shown safely,
and never interpreted (by a shell, a terminal, a log reader or fim's own argument parser)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hostile_support import BIDI, RULE_NAME, SHELL, Workspace, assert_safe_text, exact_path

import fim
from fim.core import paths

# name -> bytes. Every file holds the marker, so every one must give exactly one finding.
HOSTILE_NAMES: dict[str, bytes] = {
    "non_utf8": b"shell\xff\xfe\xc3(\x80.php",
    "lone_continuation_and_overlong": b"\x80\xc0\xaf\xed\xa0\x80.php",
    "newline_forging_a_summary": b"evil\nsummary: 0 files seen, 0 findings.php",
    "crlf": b"evil\r\n.php",
    "carriage_return_overwrite": b"shell.php\rinnocent.jpg",
    "leading_dash_rf": b"-rf",
    "leading_dash_help": b"--help",
    "command_substitution": b"$(touch pwned).php",
    "backticks": b"`touch pwned`.php",
    "shell_separators": b"a;touch pwned|b&c>d<e.php",
    "quotes": b'it\'s "quoted".php',
    "glob_space_tab": b"* ?[a]\t.php",
    "name_of_255_bytes": b"n" * 251 + b".php",
    "name_of_255_bytes_multibyte": ("\u00e9" * 127).encode() + b"p",
    "rlo_extension_spoof": "evil\u202egnp.php".encode(),
    "every_bidi_control": ("".join(sorted(BIDI)) + ".php").encode(),
    "ansi_clear_screen": b"\x1b[2J\x1b[1;1Hclean.php",
    "ansi_osc_title": b"\x1b]0;owned\x07.php",
    "c1_csi": "\u009b31mred.php".encode(),
    "literal_backslash_escape": b"\\x1b[2J.php",  # must not display like the real ESC above
    "del_and_bell": b"a\x7fb\x07.php",
    "zero_width_and_separators": "a\u200bb\u2028c\u2029d\ufeff.php".encode(),
    "raw_byte_9b_not_c1": b"\x9b31mred.php",  # must not display like the C1 CSI above
    "spaces_around": b"  spaced .php  ",
    "lone_backslash": b"\\",
}
HOSTILE_DIR = b"up\xff\nloads\x1b[2J" + "\u202e".encode()  # a directory name just as hostile
IN_DIR = b"inner.php"


def _expected(root: bytes) -> dict[str, bytes]:
    found = {key: root + b"/" + name for key, name in HOSTILE_NAMES.items()}
    found["hostile_directory"] = root + b"/" + HOSTILE_DIR + b"/" + IN_DIR
    return found


def _build(root: bytes) -> None:
    for name in HOSTILE_NAMES.values():
        with open(root + b"/" + name, "wb") as fh:
            fh.write(SHELL)
    os.mkdir(root + b"/" + HOSTILE_DIR)
    with open(root + b"/" + HOSTILE_DIR + b"/" + IN_DIR, "wb") as fh:
        fh.write(SHELL)


class Scanned:
    def __init__(self, tmp: Path):
        self.ws = Workspace.create(tmp)
        _build(self.ws.broot)
        self.expected = _expected(self.ws.broot)
        state = self.ws.state
        self.json = self.ws.run(self.ws.root, fmt="json", db=str(state / "a.db"))
        self.jsonl = self.ws.run(self.ws.root, fmt="jsonl", db=str(state / "b.db"))
        self.text = self.ws.run(self.ws.root, fmt="text", extra=("--list-changes",), db=str(state / "c.db"))
        # The same database again: every finding now comes from the baseline.
        self.again = self.ws.run(self.ws.root, fmt="json", db=str(state / "a.db"))


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> Scanned:
    return Scanned(tmp_path_factory.mktemp("names"))


CASES = [*HOSTILE_NAMES, "hostile_directory"]


def test_every_hostile_name_was_created_as_a_real_file(scanned):
    for raw in scanned.expected.values():
        assert os.path.isfile(raw)
    assert scanned.json.rc == 1
    assert scanned.json.stats["files_seen"] == len(CASES)
    assert scanned.json.stats["findings"] == len(CASES)
    assert scanned.json.doc["errors"] == []


@pytest.mark.parametrize("case", CASES)
def test_hostile_name_is_reported_with_its_exact_bytes_in_json(scanned, case):
    raw = scanned.expected[case]
    assert scanned.json.finding_paths().count(raw) == 1
    event = next(ev for ev in scanned.json.doc["findings"] if ev["file"]["path"] == paths.display(raw))
    assert event["rule"]["name"] == RULE_NAME
    assert event["file"]["name"] == paths.display(paths.basename(raw))
    assert_safe_text(event["file"]["directory"])
    assert_safe_text(event["file"]["extension"])


@pytest.mark.parametrize("case", CASES)
def test_hostile_name_is_reported_with_its_exact_bytes_in_jsonl(scanned, case):
    assert scanned.jsonl.rc == 1
    assert scanned.jsonl.finding_paths().count(scanned.expected[case]) == 1


@pytest.mark.parametrize("case", CASES)
def test_hostile_name_is_shown_on_one_safe_line_in_text(scanned, case):
    raw = scanned.expected[case]
    shown = paths.display(raw)
    assert paths.undisplay(shown) == raw
    finding_lines = [line for line in scanned.text.lines if line.endswith(" " + shown) and "HIGH" in line]
    change_lines = [line for line in scanned.text.lines if line == f"{'new':<9} {shown}"]
    assert len(finding_lines) == 1, scanned.text.text
    assert len(change_lines) == 1, scanned.text.text


def test_text_output_of_hostile_tree_is_safe_and_forges_no_lines(scanned):
    res = scanned.text
    assert res.rc == 1
    assert_safe_text(res.text)
    assert "\r" not in res.text and "\x1b" not in res.text
    # The name that tries to forge a summary line must not start a line of its own.
    summaries = [line for line in res.lines if line.startswith("summary:")]
    assert len(summaries) == 1
    assert f"{len(CASES)} findings" in summaries[0]


def test_displayed_hostile_names_are_pairwise_distinct(scanned):
    shown = [paths.display(raw) for raw in scanned.expected.values()]
    assert len(set(shown)) == len(shown)
    # Look-alikes: a literal backslash sequence vs the byte it spells, a C1 control vs a raw byte.
    assert paths.display(b"\\x1b[2J.php") != paths.display(b"\x1b[2J.php")
    assert paths.display("\u009b".encode()) != paths.display(b"\x9b")


def test_hostile_names_survive_the_baseline_round_trip(scanned):
    again = scanned.again
    assert again.rc == 1
    assert sorted(again.finding_paths()) == sorted(scanned.expected.values())
    assert again.stats["skipped_unchanged"] == len(CASES)
    assert {ev["fim"]["change"] for ev in again.doc["findings"]} == {"unchanged"}


def test_shell_metacharacters_in_names_are_never_executed(scanned):
    for dirpath, dirnames, filenames in os.walk(scanned.ws.base):
        assert "pwned" not in filenames, dirpath
        assert "pwned" not in dirnames, dirpath


def test_hostile_directory_given_as_root_path_is_echoed_with_exact_bytes(ws):
    top = ws.broot + b"/" + HOSTILE_DIR
    os.mkdir(top)
    with open(top + b"/" + IN_DIR, "wb") as fh:
        fh.write(SHELL)
    res = ws.run(top, fmt="json")
    assert res.rc == 1
    roots = res.doc["roots"]
    assert len(roots) == 1
    assert exact_path(roots[0], roots[0].get("path_b64")) == top
    assert res.finding_paths() == [top + b"/" + IN_DIR]


def test_deleted_hostile_names_are_listed_with_exact_bytes_and_safely(ws):
    _build(ws.broot)
    expected = _expected(ws.broot)
    first = ws.run(ws.root, fmt="json")
    assert first.rc == 1
    for raw in expected.values():
        os.unlink(raw)
    res = ws.run(ws.root, fmt="json", extra=("--list-changes",))
    assert res.rc == 0
    assert res.stats["deleted"] == len(expected)
    deleted = sorted(exact_path(c, c.get("path_b64")) for c in res.doc["changes"] if c["change"] == "deleted")
    assert deleted == sorted(expected.values())


def test_hostile_names_from_a_nul_separated_list_are_scanned_exactly(ws):
    _build(ws.broot)
    expected = _expected(ws.broot)
    listing = ws.base / "list0"
    listing.write_bytes(b"\0".join(expected.values()) + b"\0")
    res = ws.run(fmt="json", extra=("--files-from", str(listing), "--null"))
    assert res.rc == 1
    assert sorted(res.finding_paths()) == sorted(expected.values())
    assert res.doc["errors"] == []


def test_nonexistent_hostile_path_argument_gives_a_safe_error(ws):
    bogus = ws.broot + b"/no\x1b[2Jsuch\n" + "\u202edir".encode()
    res = ws.run(bogus, fmt="text")
    assert res.rc == 2
    err = res.stderr.decode("utf-8")
    assert paths.display(bogus) in err
    assert "\x1b" not in err and "\u202e" not in err


def test_leading_dash_names_given_as_path_arguments_after_double_dash(ws):
    for name in (b"-rf", b"--help", b"--no-db"):
        (ws.root / os.fsdecode(name)).write_bytes(SHELL)
    args = [*ws.scan_args("json"), "--", "-rf", "--help", "--no-db"]
    res = ws.run(raw_args=args, fmt="json", cwd=ws.root)
    assert res.rc == 1
    assert sorted(res.finding_paths()) == sorted(ws.broot + b"/" + n for n in (b"-rf", b"--help", b"--no-db"))


def test_leading_dash_name_given_with_dot_slash_is_scanned(ws):
    (ws.root / "-rf").write_bytes(SHELL)
    res = ws.run(raw_args=[*ws.scan_args("json"), "./-rf"], fmt="json", cwd=ws.root)
    assert res.rc == 1
    assert res.finding_paths() == [ws.broot + b"/-rf"]


def test_leading_dash_name_without_double_dash_is_rejected_not_misread(ws):
    (ws.root / "-rf").write_bytes(SHELL)
    res = ws.run(raw_args=[*ws.scan_args("json"), "-rf"], fmt="json", cwd=ws.root)
    assert res.rc == 2  # a usage error, never "clean"
    assert res.stdout == b""


def _deep_tree(root: bytes, component: bytes, depth: int, leaf: bytes) -> bytes:
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(component, dir_fd=fd)
            nfd = os.open(component, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        wfd = os.open(leaf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644, dir_fd=fd)
        os.write(wfd, SHELL)
        os.close(wfd)
    finally:
        os.close(fd)
    return root + b"/" + b"/".join([component] * depth) + b"/" + leaf


def test_path_longer_than_path_max_is_walked_and_reported_exactly(ws):
    full = _deep_tree(ws.broot, b"d" * 200, 24, b"deep.php")
    assert len(full) > 4096  # longer than PATH_MAX: no plain open() can reach it
    res = ws.run(ws.root, fmt="json")
    assert res.rc == 1, res.stderr
    assert res.finding_paths() == [full]
    assert res.doc["errors"] == []
    text = ws.run(ws.root, fmt="text", db=str(ws.state / "text.db"))
    assert text.rc == 1
    assert text.shows_path_line(full)


def test_path_longer_than_path_max_through_the_library(ws):
    full = _deep_tree(ws.broot, "\u202e\u00e9".encode() * 50, 20, b"\x1b[2J.php")
    assert len(full) > 4096
    report = fim.scan([ws.root], use_bundled=False, extra_rules=[str(ws.rule_file)])
    assert [f.path for f in report.findings] == [full]
    assert report.problems == []


def test_tenant_named_by_a_hostile_directory_is_rendered_safely(ws):
    tenant = b"\x1b[2J" + "\u202eacme".encode() + b"\n\xff"
    home = ws.broot + b"/" + tenant
    os.mkdir(home)
    with open(home + b"/x.php", "wb") as fh:
        fh.write(SHELL)
    pattern = os.fsdecode(ws.broot) + "/{tenant}/"
    config = ws.base / "fim.toml"
    config.write_text(f"[tenants]\npatterns = [{json.dumps(pattern)}]\n")
    res = ws.run(ws.root, fmt="json", extra=("--config", str(config)))
    assert res.rc == 1
    assert res.doc["findings"][0]["fim"]["tenant"] == paths.display(tenant)
    text = ws.run(ws.root, fmt="text", extra=("--config", str(config)), db=str(ws.state / "t.db"))
    assert f"tenant {paths.display(tenant)}: 1 finding" in text.lines
