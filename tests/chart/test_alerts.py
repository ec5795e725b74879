"""The alerts the chart ships: valid Prometheus rules whose unit tests pass under the real
promtool, rendered as a PrometheusRule only when asked for."""

import shutil
import subprocess

import yaml

from conftest import CHART, find, one, render

ALERTS = CHART / "files" / "alerts.yaml"
EXPECTED = {
    "WsgateNoHealthyEndpoints",
    "WsgateHandshakeFailures",
    "WsgateCertificateExpiring",
    "WsgateCertificateUnusable",
    "WsgateRouteTableReloadFailures",
    "WsgateRoutesRefused",
    "WsgateNearFileLimit",
    "WsgateTablesStreamDown",
    "WsgateTablesRefused",
}


def promtool(*args):
    tool = shutil.which("promtool")
    assert tool, "promtool is missing: run `bash scripts/install-test-deps.sh`"
    return subprocess.run(
        [tool, *args], capture_output=True, text=True, check=False, timeout=60, cwd=ALERTS.parent
    )


def test_rules_are_valid_and_their_unit_tests_pass():
    checked = promtool("check", "rules", ALERTS.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "alerts_test.yaml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_unit_test():
    rules = yaml.safe_load(ALERTS.read_text())["groups"][0]["rules"]
    assert {r["alert"] for r in rules} == EXPECTED
    tests = yaml.safe_load((ALERTS.parent / "alerts_test.yaml").read_text())["tests"]
    tested = {t["alertname"] for case in tests for t in case["alert_rule_test"]}
    assert tested == EXPECTED


def test_prometheus_rule_only_when_enabled(default_objects):
    assert not find(default_objects, "PrometheusRule")
    objects = render("--set", "prometheusRule.enabled=true", "--set", "prometheusRule.labels.release=kps")
    rule = one(objects, "PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kps"
    assert rule["spec"] == yaml.safe_load(ALERTS.read_text())
