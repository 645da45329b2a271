"""Special files, giant sparse files, empty files, unreadable files, huge directories."""

from __future__ import annotations

import os
import socket
import stat
import time

import pytest
from hostile_support import RULE_NAME, SHELL, assert_safe_text

from fim.core import paths


def _mknod_or_skip(path, mode, device):
    try:
        os.mknod(path, mode, device)
    except PermissionError as exc:
        pytest.skip(f"cannot create device nodes here: {exc}")


# -- FIFOs -----------------------------------------------------------------------------------------


def test_fifo_in_upload_dir_does_not_block_scan(ws, spy):
    uploads = ws.root / "uploads"
    uploads.mkdir()
    fifo = uploads / "avatar.php"
    os.mkfifo(fifo)
    (uploads / "shell.php").write_bytes(SHELL)
    spy.watch(fifo)
    started = time.monotonic()
    res = ws.run(ws.root, fmt="json", timeout=60)
    assert time.monotonic() - started < 30
    assert res.rc == 1
    assert res.finding_paths() == [os.fsencode(uploads / "shell.php")]
    problems = res.problems()
    assert problems[os.fsencode(fifo)]["status"] == "special"
    assert "fifo" in problems[os.fsencode(fifo)]["reason"].lower()
    assert res.stats["special"] == 1
    spy.assert_untouched()  # listed by lstat only, never opened


def test_fifo_with_hostile_name_is_listed_safely_in_text_output(ws, spy):
    name = b"\x1b[2J\r\nfake: 0 findings\x1b]0;x\x07" + "\u202e".encode() + b"\xff.php"
    fifo = ws.broot + b"/" + name
    os.mkfifo(fifo)
    spy.watch(fifo)
    res = ws.run(ws.root, fmt="text", timeout=60)
    assert res.rc == 0
    assert_safe_text(res.text)
    shown = paths.display(fifo)
    assert any(line.startswith("  special") and shown in line for line in res.lines), res.text
    spy.assert_untouched()


def test_fifo_given_as_root_path_is_reported_not_opened(ws, spy):
    fifo = ws.root / "pipe"
    os.mkfifo(fifo)
    spy.watch(fifo)
    res = ws.run(fifo, fmt="json", timeout=60)
    assert res.rc == 0
    assert res.problems()[os.fsencode(fifo)]["status"] == "special"
    assert res.stats["special"] == 1
    assert res.stats["files_seen"] == 0
    spy.assert_untouched()


# -- sockets and devices ---------------------------------------------------------------------------


def test_unix_socket_is_reported_special_and_not_opened(ws, spy, monkeypatch):
    monkeypatch.chdir(ws.root)  # sun_path is short: bind by relative name
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind("php-fpm.sock")
        sock.listen(1)
        path = ws.root / "php-fpm.sock"
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
        spy.watch(path)
        res = ws.run(ws.root, fmt="json", timeout=60)
    finally:
        sock.close()
    assert res.rc == 0
    problem = res.problems()[os.fsencode(path)]
    assert problem["status"] == "special"
    assert "socket" in problem["reason"]
    assert res.stats["special"] == 1
    spy.assert_untouched()


@pytest.mark.parametrize(
    ("kind", "device"),
    [(stat.S_IFCHR, os.makedev(1, 3)), (stat.S_IFBLK, os.makedev(7, 0))],
    ids=["char_dev_null", "block_dev_loop0"],
)
def test_device_node_is_reported_special_and_never_opened(ws, spy, kind, device):
    node = ws.root / "image.php"
    _mknod_or_skip(node, kind | 0o666, device)
    (ws.root / "shell.php").write_bytes(SHELL)
    spy.watch(node)
    res = ws.run(ws.root, fmt="json", timeout=60)
    assert res.rc == 1
    problem = res.problems()[os.fsencode(node)]
    assert problem["status"] == "special"
    assert "device" in problem["reason"]
    assert res.stats["special"] == 1
    assert res.finding_paths() == [os.fsencode(ws.root / "shell.php")]
    spy.assert_untouched()


# -- sizes -----------------------------------------------------------------------------------------


def test_sparse_terabyte_file_is_reported_too_large_and_only_its_ends_are_matched(ws):
    big = ws.root / "backup.php"
    big.write_bytes(SHELL)  # the marker is right at the start: a shell hidden before the holes
    os.truncate(big, 1 << 40)
    assert os.stat(big).st_blocks * 512 < 1 << 20  # really sparse
    started = time.monotonic()
    res = ws.run(ws.root, fmt="json", timeout=60)
    assert time.monotonic() - started < 30  # not hashed: only a window at each end is read
    assert res.rc == 1
    assert [f["rule"]["name"] for f in res.doc["findings"]] == [RULE_NAME]
    problem = res.problems()[os.fsencode(big)]
    assert problem["status"] == "too_large"
    assert res.stats["skipped_too_large"] == 1
    assert res.stats["bytes_read"] == 0


def test_zero_byte_files_are_read_clean_and_counted(ws):
    for name in ("empty.php", ".htaccess", "index.html"):
        (ws.root / name).write_bytes(b"")
    (ws.root / "sub").mkdir()
    (ws.root / "sub" / "empty.phtml").write_bytes(b"")
    res = ws.run(ws.root, fmt="json")
    assert res.rc == 0
    assert res.doc["findings"] == []
    assert res.doc["errors"] == []
    assert res.stats["files_seen"] == 4
    assert res.stats["files_read"] == 4
    assert res.stats["bytes_read"] == 0
    assert res.stats["new"] == 4


# -- permissions -----------------------------------------------------------------------------------


def test_unreadable_file_and_directory_are_errors_when_run_as_nobody(world_ws):
    w = world_ws
    readable = w.root / "shell.php"
    readable.write_bytes(SHELL)
    os.chmod(readable, 0o644)
    secret = w.root / "secret.php"
    secret.write_bytes(SHELL)
    os.chmod(secret, 0o000)
    private = w.root / "private"
    private.mkdir()
    (private / "hidden.php").write_bytes(SHELL)
    os.chmod(private, 0o700)
    res = w.run(w.root, fmt="json", as_nobody=True, timeout=60)
    assert res.rc == 1, res.stderr
    assert res.finding_paths() == [os.fsencode(readable)]
    problems = res.problems()
    assert problems[os.fsencode(secret)]["status"] == "error"
    assert "denied" in problems[os.fsencode(secret)]["reason"].lower()
    assert problems[os.fsencode(private)]["status"] == "error"
    assert os.fsencode(private / "hidden.php") not in problems
    assert res.stats["errors"] == 2
    assert res.stats["files_read"] == 1
    text = w.run(w.root, fmt="text", as_nobody=True, timeout=60, db=str(w.state / "text.db"))
    assert text.rc == 1
    assert any(line.startswith("  error") and line.endswith(": Permission denied") for line in text.lines)


def test_scan_as_nobody_really_runs_without_root_rights(world_ws):
    """Guards the test above: if privileges were not dropped, root would read everything."""
    w = world_ws
    secret = w.root / "secret.php"
    secret.write_bytes(SHELL)
    os.chmod(secret, 0o000)
    as_root = w.run(w.root, fmt="json", timeout=60, db=str(w.state / "root.db"))
    as_nobody = w.run(w.root, fmt="json", as_nobody=True, timeout=60)
    assert as_root.finding_paths() == [os.fsencode(secret)]
    assert as_nobody.finding_paths() == []


# -- many files ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_hundred_thousand_files_in_one_directory_are_all_seen(ws):
    flat = ws.root / "cache"
    flat.mkdir()
    count = 100_000
    fd = os.open(flat, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(count):
            os.close(os.open(f"sess_{i:06d}.php", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    finally:
        os.close(fd)
    needle = flat / "sess_073313.php"
    needle.write_bytes(SHELL)
    started = time.monotonic()
    res = ws.run(ws.root, fmt="json", timeout=120, extra=("--jobs", "2"))
    elapsed = time.monotonic() - started
    assert res.rc == 1
    assert res.finding_paths() == [os.fsencode(needle)]
    assert res.stats["files_seen"] == count
    assert res.stats["files_read"] == count
    assert res.stats["new"] == count
    assert res.doc["errors"] == []
    assert elapsed < 90
