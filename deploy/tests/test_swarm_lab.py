"""The swarm topology (inventories/local-swarm): a student's lab runs as a swarm service.

Through HTTPS only, like test_https.py: a roster student logs in, gets a lab, and runs a Celery
task in it; the lab is a swarm service (not a container the hub made) whose task runs on a node
labelled celerylab.lab=true, reached by the hub by name (endpoint mode dnsrr). A lab the swarm
rejects (its image missing on the node) fails the spawn with the swarm's reason at once. The
inventory culls labs idle 30 s: the idle culler stops the lab, and its service is removed.

Settings (from run.sh): those of conftest.py, pointing at the swarm installation, and
CELERYLAB_DEPLOY_PROJECT (its compose project).
"""

import json
import os
import subprocess
import time

import pytest
from conftest import STACK_DIR, STUDENT, URL, hub, initial_passwords, login, own_token
from hubclient import origin

PROJECT = os.environ.get("CELERYLAB_DEPLOY_PROJECT", "clab-swarm")
SERVICE = f"{PROJECT}-lab-{STUDENT}"


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def service_exists() -> bool:
    return SERVICE in docker("service", "ls", "--format", "{{.Name}}").split()


def test_lab_is_a_swarm_service_on_a_lab_node_and_runs_a_task(student):
    student.start(STUDENT, timeout=120)
    assert service_exists(), f"no swarm service {SERVICE}: the lab was not spawned by the swarm"
    spec = json.loads(docker("service", "inspect", SERVICE))[0]["Spec"]
    assert spec["EndpointSpec"]["Mode"] == "dnsrr"
    assert "node.labels.celerylab.lab==true" in spec["TaskTemplate"]["Placement"]["Constraints"]
    tasks = docker(
        "service",
        "ps",
        SERVICE,
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Node}} {{.CurrentState}}",
    ).splitlines()
    assert len(tasks) == 1 and " Running " in f"{tasks[0]} ", tasks
    node = tasks[0].split()[0]
    labels = json.loads(docker("node", "inspect", node, "--format", "{{json .Spec.Labels}}"))
    assert labels.get("celerylab.lab") == "true", f"the lab runs on {node}, labelled {labels}"
    # Limits the container spawner sets reach the swarm task's container too.
    (container,) = docker(
        "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={SERVICE}"
    ).split()
    host = json.loads(docker("inspect", container, "--format", "{{json .HostConfig}}"))
    assert host["PidsLimit"] == 512 and host["CapDrop"] == ["ALL"]

    lab = student.lab(STUDENT)
    assert lab.base == f"{origin(URL, STUDENT)}/user/{STUDENT}", lab.base  # its own origin
    try:
        out = lab.run("from tasks import add\nprint(add.delay(2, 3).get(timeout=30))", timeout=90)
        assert out.strip() == "5"
    finally:
        lab.close()


def test_a_rejected_lab_fails_the_spawn_with_the_swarm_reason():
    name = "student2"
    student2 = hub(own_token(login(name, initial_passwords()[name]), name))
    env = dict(
        line.split("=", 1) for line in (STACK_DIR / ".env").read_text().splitlines() if "=" in line
    )
    image = env["CELERYLAB_LAB_IMAGE"]
    image_id = docker("image", "inspect", image, "--format", "{{.Id}}").strip()
    tags = json.loads(docker("image", "inspect", image, "--format", "{{json .RepoTags}}"))
    assert len(tags) > 1, f"{image} has no other tag to keep it while its name is removed"
    docker("image", "rm", image)  # only the name: the node no longer has "the lab image"
    try:
        t0 = time.monotonic()
        with pytest.raises(RuntimeError) as failure:
            student2.start(name, timeout=60)
        took = time.monotonic() - t0
    finally:
        docker("tag", image_id, image)
    message = str(failure.value)
    assert "Your lab could not start on node" in message and image in message, message
    assert took < 30, f"the rejection took {took:.0f}s to reach the student"
    # Like a crashed lab container, the failed service stays for diagnosis until the next start,
    # which replaces it; stopping a lab removes its service.
    service = f"{PROJECT}-lab-{name}"
    states = docker("service", "ps", service, "--format", "{{.CurrentState}}")
    assert states.startswith("Rejected"), states
    student2.start(name, timeout=120)
    assert docker("service", "ps", service, "--format", "{{.CurrentState}}").startswith("Running")
    student2.stop(name)
    assert service not in docker("service", "ls", "--format", "{{.Name}}").split()


def test_idle_culler_stops_the_lab_service(ops):
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and ops.user(STUDENT)["servers"]:
        time.sleep(3)
    assert not ops.user(STUDENT)["servers"], "the idle lab was not culled"
    while time.monotonic() < deadline and service_exists():
        time.sleep(1)
    assert not service_exists(), f"the culled lab's service {SERVICE} is still there"
