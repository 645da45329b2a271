"""A rule that times out on a crafted file, and tenant attribution as a property."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import fim
from fim.config import loader as config_mod
from fim.core import paths
from fim.detect.tenants import TenantResolver

# Entropy of a 4 KiB window at every offset: hours of work on a large file, bounded only by
# the match timeout.
SLOW_RULE = """
import "math"
rule slow_loop {
    meta: severity = "low"
    condition: for all i in (0..filesize - 1) : ( math.entropy(i, 4096) >= 0 )
}
"""


def test_rule_that_times_out_on_a_crafted_file_is_reported_not_fatal(tmp_path):
    rule = tmp_path / "slow.yar"
    rule.write_text(SLOW_RULE)
    root = tmp_path / "t"
    root.mkdir()
    (root / "crafted.php").write_bytes(b"A" * (24 << 20))
    (root / "ok.txt").write_bytes(b"fine")
    cfg = config_mod.from_dict({"scan": {"match_timeout": 1, "max_file_size": "64M"}})
    report = fim.scan([root], config=cfg, extra_rules=[str(rule)], use_bundled=False)
    by_path: dict[bytes, set[str]] = {}
    for f in report.findings:
        by_path.setdefault(f.path.rsplit(b"/", 1)[1], set()).add(f.match.rule)
    assert by_path[b"ok.txt"] == {"slow_loop"}
    # The timeout is reported; the rule may also fire on the ends, matched apart (how far the
    # ends get within their own timeout depends on the machine).
    assert "fim_match_timeout" in by_path[b"crafted.php"]
    assert by_path[b"crafted.php"] <= {"fim_match_timeout", "slow_loop"}
    assert report.stats.files_read == 2


_name = st.binary(min_size=1, max_size=30).filter(lambda b: b"/" not in b and b not in (b".", b".."))


@given(tenant=_name, rest=st.lists(_name, max_size=4))
def test_path_pattern_attributes_exactly_the_component_after_the_prefix(tenant, rest):
    resolver = TenantResolver(["/home/{tenant}/"], from_owner=False)
    path = b"/".join([b"/home", tenant, *rest, b"f.php"])
    assert resolver.tenant(path, 1000) == paths.display(tenant)


@given(prefix=st.sampled_from([b"/srv", b"/homeX", b"/var/home", b"/"]), name=_name)
def test_paths_outside_every_pattern_fall_back_to_owner_or_none(prefix, name):
    resolver = TenantResolver(["/home/{tenant}/"], from_owner=False)
    assert resolver.tenant(prefix.rstrip(b"/") + b"/" + name + b"/x.php", 1000) is None


@given(uid=st.integers(min_value=0, max_value=2**32 - 2))
def test_owner_fallback_only_for_customer_uids(uid):
    resolver = TenantResolver([], from_owner=True, min_uid=1000)
    tenant = resolver.tenant(b"/srv/x.php", uid)
    if uid < 1000 or uid == 65534:
        assert tenant is None
    else:
        assert tenant is not None and tenant.isprintable()


def test_glob_in_pattern_matches_one_component():
    resolver = TenantResolver(["/var/www/*/{tenant}/"], from_owner=False)
    assert resolver.tenant(b"/var/www/vhosts/acme/httpdocs/x.php", None) == "acme"
    assert resolver.tenant(b"/var/www/acme/x.php", None) is None
