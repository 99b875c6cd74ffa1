"""Limits and least privilege, as Docker and the host's process list show them on the live
stack: every container the platform starts has memory, pids and log-size limits; no secret is
ever on a command line; each service can read only its own secrets; no process of the platform
runs as root (the exceptions below, with their reasons)."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest
from live import TEST_STACK, compose

pytestmark = pytest.mark.docker

SECRETS = "/srv/celerylab/secrets"
#: What each service may read of the secrets volume (celerylab_hub.secrets.OWNERS, HUB_READS).
OWN_SECRETS = {
    # The hub: its own (cookie secret, ops token, admin password, course token key) and, through
    # its group, those of other services it needs; never Prometheus's web config, Grafana's
    # password or the exporter's.
    "hub": {
        "cookie_secret",
        "ops_api_token",
        "admin_password",
        "course_token_key",
        "exchange_api_token",
        "grading_worker_password",
        "grading_key_root",
        "grading_broker_password",
        "proxy_auth_token",
        "prometheus_hub_token",
        "metrics_scrape_token",
    },
    # Its broker user's password and the root of the courses' grading keys, nothing that makes
    # hub tokens.
    "grader": {"grading_worker_password", "grading_key_root"},
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


def as_root(script: str) -> str:
    """Run in a one-off setup container (root; no running service reads every secret)."""
    run = ("run", "--rm", "--no-deps", "-T", "--entrypoint", "sh", "setup", "-c", script)
    return compose(*run).stdout


def read_secrets() -> dict[str, str]:
    """Every one-line secret, name -> value."""
    one_line = '[ "$(wc -l <"$f")" -le 1 ] && echo "${f##*/} $(cat "$f")"'
    dump = f"for f in {SECRETS}/*; do {one_line}; done"
    values = {}
    for line in as_root(dump + "; true").splitlines():
        name, _, value = line.partition(" ")
        if len(value) >= 12:
            values[name] = value
    assert "grading_broker_password" in values and "proxy_auth_token" in values, values.keys()
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
    listing = as_root(f"ls {SECRETS}").split()
    assert len(listing) > 8, listing
    probe = f'for f in {SECRETS}/*; do cat "$f" >/dev/null 2>&1 && echo "${{f##*/}}"; done; true'
    for service, own in OWN_SECRETS.items():
        r = compose("exec", "-T", service, "sh", "-c", probe, check=False)
        assert r.returncode == 0, f"{service}: {r.stderr}"
        assert set(r.stdout.split()) == own, f"{service} reads {r.stdout.split()}, not {own}"
        user = inspect(compose("ps", "-q", service).stdout.strip())["Config"]["User"]
        assert user and not user.startswith("0"), f"{service} runs as root"


#: Processes of the platform's containers that run as root, by their command, and why.
ROOT_ALLOWED = {
    # A lab's and a course container's PID 1 (the lab image's entrypoint). Its start script
    # runs as root only to name the account, hand the home over and load the network fence,
    # then drops to the student's UID; tini stays to reap. The student cannot signal or
    # trace it (another UID, no capabilities).
    "tini": "the lab image's init, lab and course containers only",
}
#: Their containers: the lab image's (compose services run no root process at all).
ROOT_ALLOWED_IN = ("-lab-", "-course-")


def processes(container: str) -> list[tuple[int, str]] | None:
    """(uid, command line) of every process in a running container, as the host sees them;
    None if it has stopped meanwhile (other tests stop labs on the shared stack)."""
    out = subprocess.run(
        ["docker", "top", container, "-eo", "pid,uid,args"], capture_output=True, text=True
    )
    if out.returncode and "is not running" in out.stderr:
        return None
    assert out.returncode == 0, out.stderr
    rows = [line.split(None, 2) for line in out.stdout.splitlines()[1:]]
    return [(int(row[1]), row[2] if len(row) > 2 else "") for row in rows]


def test_no_platform_process_runs_as_root(running):
    """Every process of every running container of the stack (services, a lab, the course
    containers): none is root's but the lab image's init. The setup service, the one step that
    needs root (it chowns the volumes and secrets to the services), has exited by then, and a
    stopped container (setup, a student's stopped lab) runs nothing."""
    found, root = {}, []
    for cid in stack_containers():
        info = inspect(cid)
        name = info["Name"].lstrip("/")
        if not info["State"]["Running"]:
            continue  # runs nothing: setup after its run, a student's stopped lab
        procs = processes(cid)
        if procs is None:
            continue  # stopped between the two looks
        found[name] = procs
        for uid, args in found[name]:
            command = args.split(" ")[0].rsplit("/", 1)[-1]
            allowed = command in ROOT_ALLOWED and any(k in name for k in ROOT_ALLOWED_IN)
            if uid == 0 and not allowed:
                root.append(f"{name}: {args}")
    # The control: the services that hold the Docker socket are among them, and do run.
    assert any("-hub-" in n for n in found) and any("-grader-" in n for n in found), found
    assert any(uid == 0 for procs in found.values() for uid, _ in procs), "no control: tini"
    assert not root, "running as root:\n" + "\n".join(root)


def test_the_socket_holders_have_only_the_sockets_group(running):
    """The hub and the graders: their own UIDs, the Docker socket's group as their only extra
    one, no capabilities; and the socket still works for them (the hub started lena's lab)."""
    gid = str(os.stat("/var/run/docker.sock").st_gid)
    for service, uid in (("hub", "2004"), ("grader", "2005")):
        info = inspect(compose("ps", "-q", service).stdout.strip())
        assert info["Config"]["User"] == f"{uid}:{uid}", info["Config"]["User"]
        assert info["HostConfig"]["GroupAdd"] == [gid], info["HostConfig"]["GroupAdd"]
        assert info["HostConfig"]["CapDrop"] == ["ALL"], info["HostConfig"]["CapDrop"]
        status = compose("exec", "-T", service, "cat", "/proc/self/status").stdout
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        assert fields["Uid"].split()[0] == uid and int(fields["CapEff"], 16) == 0, status
        # Its own group and the socket's: nothing else.
        assert set(fields["Groups"].split()) == {uid, gid}, fields["Groups"]
        ping = "import docker; print(docker.from_env().ping())"
        r = compose("exec", "-T", service, "python", "-c", ping, check=False)
        assert r.stdout.strip() == "True", r.stdout + r.stderr
