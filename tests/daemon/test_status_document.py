"""The status document: written by the daemon, read by ``fim status``, across versions."""

from __future__ import annotations

import json
import os
import stat

from fim.daemon.status import StatusDocument, WalkSummary

# The keys ``fim status --format json`` has always shown, in their order.
KEYS = [
    "pid", "version", "state", "degraded", "started", "updated", "ruleset", "watched_roots",
    "rescan_only_roots", "skipped_roots", "rescan_only_directories", "directories_walked",
    "queue_depth", "walks_in_progress", "events_seen", "last_catchup", "last_error", "inotify", "hint",
    "events", "events_reason", "coverage",
]  # fmt: skip


def test_status_document_keeps_its_json_keys_and_round_trips():
    doc = StatusDocument(
        pid=42,
        version="1.0",
        state="degraded",
        degraded={"events": "event reader died"},
        watched_roots=("/srv/a",),
        rescan_only_roots={"/srv/b": "inotify watch limit reached"},
        walks_in_progress=("catch-up",),
        last_catchup=WalkSummary("catch-up", 1.0, 2.0, {"files_seen": 3}),
        inotify={"max_user_watches": 8192, "max_queued_events": None},
    )
    shown = doc.to_json()
    assert list(shown) == KEYS
    assert shown["watched_roots"] == ["/srv/a"] and shown["last_catchup"]["kind"] == "catch-up"
    assert StatusDocument.from_json(json.loads(json.dumps(shown))) == doc


def test_status_document_of_an_older_or_newer_version_reads_with_defaults():
    doc = StatusDocument.from_json({"pid": 7, "state": "running", "a_future_key": [1], "queue_depth": "many"})
    assert doc.pid == 7 and doc.state == "running"
    assert doc.queue_depth == 0  # a value of the wrong type takes the default
    assert doc.watched_roots == () and doc.last_catchup is None and doc.degraded == {}
    assert StatusDocument.from_json(["not", "a", "document"]) == StatusDocument()


def test_status_file_is_private_and_a_missing_or_corrupt_one_reads_as_unknown(tmp_path):
    path = tmp_path / "state" / "status.json"
    assert StatusDocument.read(path).state == "unknown"
    StatusDocument(pid=1, state="running").write(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert StatusDocument.read(path) == StatusDocument(pid=1, state="running")
    path.write_text("{half a docu")
    assert StatusDocument.read(path) == StatusDocument()
