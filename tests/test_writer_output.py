"""The writer of a finding in every output: the store's columns, text, ECS and alert text.

A process names itself (``prctl``, ``/proc/self/comm``) and may run from any path: every
writer field is attacker-influenced and is rendered escaped, like a path.
"""

from __future__ import annotations

import io

from fim.alerts.events import event_from_row, finding_from_row
from fim.alerts.render import finding_lines
from fim.core.model import Change, Finding, RuleMatch, ScanReport, Severity, Writer
from fim.report.ecs import finding_event
from fim.report.output import render_text
from fim.store.database import Store
from fim.store.finding_rows import as_row

MATCH = RuleMatch("php_eval_request", "fim", Severity.CRITICAL)
WRITER = Writer(4242, 2001, "alice", "php-fpm8.2", b"/usr/sbin/php-fpm8.2")


def finding(writer: Writer | None) -> Finding:
    return Finding(
        b"/home/alice/public_html/x.php", "alice", MATCH, Change.NEW, None, "alice", 10**18, writer
    )


def test_ecs_event_carries_the_writer_as_process_and_user():
    event = finding_event(finding(WRITER), hostname="h")
    assert event["process"] == {"pid": 4242, "name": "php-fpm8.2", "executable": "/usr/sbin/php-fpm8.2"}
    assert event["user"] == {"id": "2001", "name": "alice"}


def test_ecs_event_without_a_known_writer_has_no_process_or_user():
    event = finding_event(finding(None), hostname="h")
    assert "process" not in event and "user" not in event
    gone = finding_event(finding(Writer(77)), hostname="h")
    assert gone["process"] == {"pid": 77} and "user" not in gone


def test_text_output_says_who_wrote_the_file_and_a_gone_process_is_unknown():
    out = io.StringIO()
    render_text(ScanReport(findings=[finding(WRITER)]), out, quiet=True)
    assert "written by pid 4242 php-fpm8.2 (/usr/sbin/php-fpm8.2), user alice (uid 2001)" in out.getvalue()
    out = io.StringIO()
    render_text(ScanReport(findings=[finding(Writer(77))]), out, quiet=True)
    assert "written by pid 77 (process gone: unknown)" in out.getvalue()


def test_a_writer_that_names_itself_with_control_and_bidi_characters_is_shown_escaped():
    hostile = Writer(5, 2001, None, "x\u202e\nphp", b"/tmp/\xff\x1b[31mevil")
    out = io.StringIO()
    render_text(ScanReport(findings=[finding(hostile)]), out, quiet=True)
    line = next(x for x in out.getvalue().splitlines() if "written by" in x)
    assert "\u202e" not in line and "\x1b" not in line
    event = finding_event(finding(hostile), hostname="h")
    assert "\u202e" not in event["process"]["name"] and "\x1b" not in event["process"]["executable"]


def test_writer_columns_round_trip_through_the_store_to_alerts(tmp_path):
    row = as_row(finding(WRITER), None)
    columns = ("writer_pid", "writer_uid", "writer_user", "writer_comm", "writer_exe")
    assert tuple(row[c] for c in columns) == (4242, 2001, "alice", "php-fpm8.2", b"/usr/sbin/php-fpm8.2")
    with Store.open(tmp_path / "fim.db") as store:
        store.add_findings([finding(WRITER), finding(None)], None)
        store.flush()
        stored = store.conn.execute(
            "SELECT writer_pid, writer_uid, writer_user, writer_comm, writer_exe FROM findings ORDER BY id"
        ).fetchall()
    assert stored == [(4242, 2001, "alice", "php-fpm8.2", b"/usr/sbin/php-fpm8.2"), (None,) * 5]
    assert finding_from_row(row).writer == WRITER
    assert event_from_row({**row, "id": 1}, "h")["process"]["pid"] == 4242
    assert "written by pid 4242 php-fpm8.2" in "\n".join(finding_lines(row))
    assert not any("written by" in line for line in finding_lines(as_row(finding(None), None)))
