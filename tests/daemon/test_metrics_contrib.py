"""contrib/: the Grafana dashboard and the Prometheus alerting rules use only metrics fim
really exposes (a typo would show an empty panel, or an alert that never fires), and they
parse (PyYAML; promtool, Debian's prometheus package, when installed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.daemon.conftest import SHELL
from tests.daemon.metrics_support import free_port, parse, scrape_until

CONTRIB = Path(__file__).resolve().parents[2] / "contrib"
DASHBOARD = CONTRIB / "grafana/fim.json"
RULES = CONTRIB / "prometheus/fim-alerts.yml"
RULE_TESTS = CONTRIB / "prometheus/fim-alerts.test.yml"
METRIC = re.compile(r"\b((?:fim|process)_[a-z0-9_]*[a-z0-9])\b")
# Grafana's own variables, given values so an expression can be checked by promtool.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$instance": ".*", "$job": "fim"}


def dashboard_expressions() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dash["templating"]["list"] if "definition" in v]
    return exprs


def rule_texts() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [json.dumps(rule) for group in groups for rule in group["rules"]]


def test_alert_rules_parse_and_cover_what_operators_alert_on():
    doc = yaml.safe_load(RULES.read_text())
    rules = {r["alert"]: r for g in doc["groups"] for r in g["rules"]}
    for name in ("FimDaemonDown", "FimWatchCoverageLost", "FimAlertSinkFailing", "FimQueueGrowing"):
        assert name in rules
    for rule in rules.values():
        assert rule["expr"].strip()
        assert {"summary", "description"} <= set(rule["annotations"])
        assert rule["labels"]["severity"] in ("warning", "critical")


def test_dashboard_is_grafana_json_with_a_query_in_every_panel():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] and dash["title"] == "fim"
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    assert len(panels) >= 20
    assert all(p["targets"] and all(t["expr"] for t in p["targets"]) for p in panels)
    assert len({p["id"] for p in dash["panels"]}) == len(dash["panels"])


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (Debian: prometheus)")
def test_promtool_checks_the_rules_runs_their_unit_tests_and_parses_every_dashboard_query(tmp_path):
    subprocess.run(["promtool", "check", "rules", str(RULES)], check=True, capture_output=True)
    tests = subprocess.run(["promtool", "test", "rules", str(RULE_TESTS)], capture_output=True, text=True)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    # Every dashboard query, as the expression of a recording rule: promtool parses each one.
    records = []
    for index, expr in enumerate(dashboard_expressions()):
        if expr.startswith("label_values("):
            continue  # Grafana's own function, not PromQL
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        records.append({"record": f"dashboard:query{index}", "expr": expr})
    checked = tmp_path / "dashboard-rules.yml"
    checked.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": records}]}))
    result = subprocess.run(["promtool", "check", "rules", str(checked)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_every_metric_the_dashboard_and_rules_use_is_exposed_by_a_real_daemon_or_scan(
    daemon, hosting, fim, tmp_path
):
    port = free_port()
    sink = hosting / "alerts.jsonl"
    d = daemon(
        extra_config=f'[metrics]\nlisten = "127.0.0.1:{port}"\n'
        f'[alerts]\n[[alerts.sinks]]\nname = "siem"\ntype = "jsonl"\npath = "{sink}"\n'
    ).start()
    shell = hosting / "home/alice/public_html/uploads/shell.php"
    shell.write_bytes(SHELL)
    d.wait_finding(shell)
    exposed = scrape_until(
        port,
        lambda m: (
            m.value("fim_walks_total", kind="catch-up") == 1
            and m.value("fim_alert_deliveries_total", sink="siem", outcome="delivered") == 1
        ),
    ).names
    assert d.stop() == 0
    prom = tmp_path / "scan.prom"
    assert fim("scan", "--no-db", "-q", hosting, "--metrics-file", prom).code in (0, 1)
    exposed |= parse(prom.read_text()).names

    used = {m for text in [*dashboard_expressions(), *rule_texts()] for m in METRIC.findall(text)}
    assert used, "no metric names found in contrib/"
    assert sorted(used - exposed) == []
