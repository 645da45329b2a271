"""The report's parts on their own: file names for --all, the tenant guard, the time window,
and the templates shipped in the wheel."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fim.core.findings_record import FindingRecord
from fim.core.model import Severity
from fim.report import customer, customer_render, window

REPO = Path(__file__).resolve().parents[2]
_tenants = st.lists(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80), unique=True
)


@given(_tenants)
def test_report_file_names_are_single_safe_components_and_never_shared(tenants):
    names = [customer_render.file_name(t, "html") for t in [*tenants, None]]
    assert len(set(names)) == len(names)  # no tenant's report overwrites another's
    for name in names:
        assert name.isascii() and name.isprintable() and "/" not in name and "\0" not in name
        assert name[0] not in ".-~" and len(name.encode()) <= 255 and name.endswith(".html")


def test_build_refuses_a_finding_of_another_tenant():
    def record(tenant: str | None) -> FindingRecord:
        return FindingRecord(
            1, "e", 1, b"/x.php", tenant, "r", "s", Severity.HIGH, "", "", "new", None, None, None
        )

    customer.build("alice", [record("alice")], since_ns=0, until_ns=2, generated_ns=2)
    for other in ("bob", None, "Alice"):
        with pytest.raises(ValueError, match="another tenant"):
            customer.build("alice", [record("alice"), record(other)], since_ns=0, until_ns=2, generated_ns=2)


def test_window_takes_ages_dates_and_now():
    now = 1_800_000_000 * 10**9
    assert window.parse_when("now", now) == now
    assert window.parse_when("7d", now) == now - 7 * 86400 * 10**9
    assert window.parse_when("90m", now) == now - 90 * 60 * 10**9
    day = dt.datetime(2026, 11, 1, tzinfo=dt.UTC).timestamp()
    assert window.parse_when("2026-11-01", now) == int(day) * 10**9
    assert window.parse_when("2026-11-01T02:00+02:00", now) == int(day) * 10**9
    assert window.parse_when("3000-01-01", now) == 2**63 - 1  # SQLite's integers end in 2262
    with pytest.raises(ValueError, match="is not a time"):
        window.parse_when("yesterday", now)
