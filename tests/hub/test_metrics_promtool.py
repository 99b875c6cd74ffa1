"""Prometheus's configuration, alert rules and their unit tests through the real promtool, and
Grafana's provisioning checked statically (Grafana itself cannot run on every test machine).

promtool comes from the celerylab/prometheus image (Debian's package), run with Docker; under
CI a missing Docker or image fails these tests instead of skipping them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from celerylab_hub import secrets

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "monitoring"
IMAGE = "celerylab/prometheus:latest"
sys.path.insert(0, str(MONITORING))
import dashboards  # noqa: E402 - monitoring/dashboards.py, the dashboard checker


def _docker_image_ok() -> tuple[bool, str]:
    try:
        found = subprocess.run(
            ["docker", "image", "inspect", IMAGE], capture_output=True, timeout=30
        ).returncode
    except (OSError, subprocess.SubprocessError) as e:
        return False, f"docker is not usable ({e})"
    return (True, "") if found == 0 else (False, f"{IMAGE} missing: run `make images`")


@pytest.fixture(scope="module")
def promtool():
    ok, why = _docker_image_ok()
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"promtool is needed: {why}")
        pytest.skip(why)

    def run(*args: str, secrets_dir: Path | None = None) -> subprocess.CompletedProcess:
        mounts = [
            "-v", f"{MONITORING / 'prometheus.yml'}:/etc/prometheus/prometheus.yml:ro",
            "-v", f"{MONITORING / 'rules'}:/etc/prometheus/rules:ro",
            "-v", f"{MONITORING / 'tests'}:/etc/prometheus/tests:ro",
        ]  # fmt: skip
        if secrets_dir:
            mounts += ["-v", f"{secrets_dir}:/srv/celerylab/secrets:ro"]
        docker = ["docker", "run", "--rm", "--user", "0", *mounts, "--entrypoint", "/bin/promtool"]
        return subprocess.run(
            [*docker, IMAGE, *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    return run


def test_prometheus_config_is_valid_with_the_generated_secrets(promtool, tmp_path):
    secrets.ensure(tmp_path / "s")
    result = promtool(
        "check", "config", "/etc/prometheus/prometheus.yml", secrets_dir=tmp_path / "s"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 1 rule files found" in result.stdout + result.stderr
    web = promtool(
        "check", "web-config", f"/srv/celerylab/secrets/{secrets.PROMETHEUS_WEB_CONFIG}",
        secrets_dir=tmp_path / "s",
    )  # fmt: skip
    assert web.returncode == 0, web.stdout + web.stderr


def test_alert_rules_are_valid(promtool):
    result = promtool("check", "rules", "/etc/prometheus/rules/celerylab.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_pass_their_unit_tests(promtool):
    result = promtool("test", "rules", "/etc/prometheus/tests/rules_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_the_issue_asks_for_is_tested():
    rules = (MONITORING / "rules" / "celerylab.yml").read_text()
    tests = (MONITORING / "tests" / "rules_test.yml").read_text()
    for alert in (
        "HubDown",
        "SpawnFailureRate",
        "LabOOMKilled",
        "LabStoppedUnexpectedly",
        "WorkerRestarting",
        "LabWorkerDown",
        "HostDiskFilling",
        "GradingBacklogGrowing",
        "LoginFailureBurst",
        "LoginSourceLockouts",
    ):
        assert f"alert: {alert}" in rules
        assert f"alertname: {alert}" in tests


def test_grafana_provisioning_is_valid():
    assert dashboards.problems() == []
    titles = {d["title"] for d in dashboards.load().values()}
    assert titles == {"celerylab: Fleet", "celerylab: Celery", "celerylab: Class progress"}


def test_the_checker_catches_what_grafana_would_not_provision(monkeypatch, tmp_path):
    import json
    import shutil

    shutil.copytree(dashboards.DASHBOARDS, tmp_path / "d")
    broken = json.loads((tmp_path / "d" / "celery.json").read_text())
    broken["uid"] = "celerylab-fleet"  # a duplicate, and not its stable uid
    broken["__inputs"] = [{"name": "DS_PROMETHEUS"}]
    broken["panels"][0]["datasource"] = "Prometheus"  # by name, not uid
    broken["panels"][1]["targets"] = []
    (tmp_path / "d" / "celery.json").write_text(json.dumps(broken))
    monkeypatch.setattr(dashboards, "DASHBOARDS", tmp_path / "d")
    found = "\n".join(dashboards.problems())
    for expected in ("not unique", "must stay", "__inputs", "by uid", "has no query"):
        assert expected in found


def test_grafana_variables_become_runnable_promql():
    expr = 'rate(x{course=~"$course", student=~"${student}"}[$__rate_interval])'
    assert dashboards.runnable(expr, ["course", "student"]) == (
        'rate(x{course=~".*", student=~".*"}[1m])'
    )
    with pytest.raises(KeyError, match="unknown"):
        dashboards.runnable("x{a=~'$nope'}", [])
