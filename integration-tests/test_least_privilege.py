"""Limits and least privilege, as Docker and the host's process list show them on the live
stack: every container the platform starts has memory, pids and log-size limits; no secret is
ever on a command line; each service can read only its own secrets."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from live import TEST_STACK, compose

pytestmark = pytest.mark.docker

SECRETS = "/srv/celerylab/secrets"
#: What each service may read of the secrets volume (celerylab_hub.secrets.OWNERS). The hub and
#: the graders run as root: they hold the Docker socket, which is root on the host anyway.
OWN_SECRETS = {
    "proxy": {"proxy_auth_token"},
    "exchange": {"exchange_api_token"},
    "grading-broker": {"grading_broker_password", "grading_broker_users.acl"},
    "grading-exporter": {"grading_exporter_password"},
    "prometheus": {"prometheus_hub_token", "metrics_scrape_token", "prometheus_web.yml"},
}


def inspect(container: str) -> dict:
    out = subprocess.run(["docker", "inspect", container], capture_output=True, text=True)
    return json.loads(out.stdout)[0]


def stack_containers() -> list[str]:
    """Every container of the stack, compose's and the ones the hub started (labs, courses)."""
    out = compose("ps", "-a", "-q").stdout.split()
    return out + TEST_STACK.lab_containers() + TEST_STACK.course_containers()


@pytest.fixture(scope="module")
def running(stack):
    r = compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
    assert r.returncode == 0, r.stderr
    # A user of its own, stopped afterwards: later tests (test_persistence) start theirs afresh.
    stack.ensure_user("lena")
    stack.start("lena")
    assert TEST_STACK.lab_containers_of("lena") and TEST_STACK.course_containers()
    yield stack
    stack.stop("lena")


def test_every_container_has_memory_pids_and_log_limits(running):
    containers = stack_containers()
    assert len(containers) >= 10, containers  # the services, a lab and the course containers
    missing = []
    for cid in containers:
        info = inspect(cid)
        host = info["HostConfig"]
        name = info["Name"].lstrip("/")
        log = host["LogConfig"]
        if not host.get("Memory"):
            missing.append(f"{name}: no memory limit")
        if not host.get("PidsLimit") or host["PidsLimit"] <= 0:
            missing.append(f"{name}: no pids limit")
        if log["Type"] != "json-file" or not log["Config"].get("max-size"):
            missing.append(f"{name}: log not rotated ({log})")
    assert not missing, "\n".join(missing)


def read_secrets() -> dict[str, str]:
    listing = compose("exec", "-T", "hub", "ls", SECRETS).stdout.split()
    values = {}
    for name in listing:
        value = compose("exec", "-T", "hub", "cat", f"{SECRETS}/{name}").stdout.strip()
        if len(value) >= 12 and "\n" not in value:
            values[name] = value
    assert "grading_broker_password" in values and "proxy_auth_token" in values, listing
    return values


def test_no_secret_is_ever_on_a_command_line(running):
    """The host's process list shows every container's processes, health checks included
    (the broker's and the proxy's run every 5 s): sampled for three rounds of them."""
    secrets = read_secrets()
    seen, leaks = set(), set()
    deadline = time.monotonic() + 16
    while time.monotonic() < deadline:
        lines = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        for line in lines.splitlines():
            seen.add(line.split(" ")[0].rsplit("/", 1)[-1])
            leaks.update(name for name, value in secrets.items() if value in line)
        time.sleep(0.05)
    # The control: the sampling does see the stack's processes.
    assert {"redis-server", "configurable-http-proxy"} <= seen or "node" in seen, seen
    assert not leaks, f"secrets on a command line: {sorted(leaks)}"


def test_each_service_reads_only_its_own_secrets(running):
    listing = compose("exec", "-T", "hub", "ls", SECRETS).stdout.split()
    assert len(listing) > 8, listing
    probe = f'for f in {SECRETS}/*; do cat "$f" >/dev/null 2>&1 && echo "${{f##*/}}"; done; true'
    for service, own in OWN_SECRETS.items():
        r = compose("exec", "-T", service, "sh", "-c", probe, check=False)
        assert r.returncode == 0, f"{service}: {r.stderr}"
        assert set(r.stdout.split()) == own, f"{service} reads {r.stdout.split()}, not {own}"
        user = inspect(compose("ps", "-q", service).stdout.strip())["Config"]["User"]
        assert user and not user.startswith("0"), f"{service} runs as root"
