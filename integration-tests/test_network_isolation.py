"""From inside a student's lab, as the student: nothing of the platform but the proxy's port
8000 and the exchange is open, on any port; another lab is closed on every port, even those a
student listens on; the metadata address and the host itself are unreachable. And the networks
are laid out so that labs share none with the broker, the graders, the exporter or the course
containers, and those have no way out at all."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from live import TEST_STACK, compose, lab_container
from outside import bound, gateway_of, host_address, listeners, probe_from, probe_on, stand_in

pytestmark = pytest.mark.docker

PROJECT = TEST_STACK.project
LABS_NETWORK = f"{PROJECT}-labs"
#: Ports bob listens on in his own lab, besides Jupyter (8888) and metrics (9100): a student's
#: server on the peer ports must not become reachable from another lab through them.
BOB_LISTENS = (8000, 8765, 5000)
METADATA = "169.254.169.254"
LAB_IMAGE = os.environ.get("CELERYLAB_LAB_IMAGE", "celerylab/lab:latest")
#: Tried only where the control container gets through (CI machines may have no internet).
INTERNET = [("1.1.1.1", 443), ("8.8.8.8", 53)]
#: Nothing of these calls out (nothing pulls at runtime): every network they are on is internal.
NO_WAY_OUT = ("grading-broker", "grader", "grading-exporter", "exchange")

#: Runs in the student's kernel: which TCP ports of each target accept a connection.
SCAN = """
import json, socket
from concurrent.futures import ThreadPoolExecutor
targets = json.loads({targets!r})
def is_open(target):
    host, port = target
    try:
        socket.create_connection((host, port), timeout=1.5).close()
        return True
    except OSError:
        return False
found = {{}}
with ThreadPoolExecutor(64) as pool:
    for host, ports in targets.items():
        hits = pool.map(is_open, [(host, p) for p in ports], chunksize=512)
        found[host] = [p for p, hit in zip(ports, hits) if hit]
print(json.dumps(found))
"""

LISTEN = """
import socket, threading
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        s.accept()[0].close()
for port in {ports!r}:
    threading.Thread(target=serve, args=(port,), daemon=True).start()
print("listening")
"""

ALL_PORTS = list(range(1, 65536))


def scan(lab, targets: dict[str, list[int]]) -> dict[str, list[int]]:
    return json.loads(lab.run(SCAN.format(targets=json.dumps(targets)), timeout=600))


def container_of(service: str) -> str:
    return compose("ps", "-q", service).stdout.strip()


def inspect(container: str) -> dict:
    out = subprocess.run(["docker", "inspect", container], capture_output=True, text=True)
    return json.loads(out.stdout)[0]


def networks_of(container: str) -> dict[str, str]:
    """network name -> the container's address on it"""
    nets = inspect(container)["NetworkSettings"]["Networks"]
    return {name: n["IPAddress"] for name, n in nets.items()}


@pytest.fixture(scope="module")
def two_labs(stack):
    r = compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
    assert r.returncode == 0, r.stderr  # course containers exist: they are targets too
    labs = {}
    for name in ("alice", "bob"):
        stack.ensure_user(name)
        stack.start(name)
        labs[name] = stack.lab(name, stack.token_for(name))
    assert labs["bob"].run(LISTEN.format(ports=BOB_LISTENS)).strip() == "listening"
    yield labs
    for lab in labs.values():
        lab.close()


def test_labs_share_a_network_only_with_the_proxy_hub_exchange_and_prometheus(two_labs):
    assert set(networks_of(lab_container("alice"))) == {LABS_NETWORK}
    members = {
        c["Name"] for c in json.loads(
            subprocess.run(
                ["docker", "network", "inspect", LABS_NETWORK], capture_output=True, text=True
            ).stdout
        )[0]["Containers"].values()
    }  # fmt: skip
    services = {s: container_of(s) for s in ("proxy", "hub", "exchange", "prometheus")}
    names = {inspect(cid)["Name"].lstrip("/") for cid in services.values()}
    assert {lab_container("alice"), lab_container("bob")} <= members
    # Besides labs (other tests' too), only these: no broker, grader, exporter or course.
    assert {m for m in members if not m.startswith(f"{PROJECT}-lab-")} == names, members
    labs_net = json.loads(
        subprocess.run(
            ["docker", "network", "inspect", LABS_NETWORK], capture_output=True, text=True
        ).stdout
    )[0]
    assert labs_net["Internal"] is True, "the labs' network must have no way out"


def test_from_a_lab_only_the_proxy_and_exchange_ports_are_open(two_labs):
    alice = two_labs["alice"]
    found = scan(
        alice,
        {
            "proxy": ALL_PORTS,
            "exchange": ALL_PORTS,
            "hub": ALL_PORTS,
            "prometheus": ALL_PORTS,
            lab_container("bob"): ALL_PORTS,
            METADATA: [80, 443, 8080],
        },
    )
    # The controls: the scan does see open ports, where a lab must reach.
    assert found["proxy"] == [8000], found  # not the proxy's API (8001)
    assert found["exchange"] == [8765], found
    # Bob listens on 8000, 8765 and 5000 besides Jupyter and metrics: none of it is reachable.
    assert found["hub"] == [], found
    assert found["prometheus"] == [], found
    assert found[lab_container("bob")] == [], found
    assert found[METADATA] == [], found


def test_the_grading_fleet_and_course_containers_are_out_of_reach(two_labs):
    """By their addresses (labs cannot even resolve their names): every port, every network."""
    targets = {}
    for service in ("grading-broker", "grading-exporter", "grader", "hub", "proxy", "prometheus"):
        for net, ip in networks_of(container_of(service)).items():
            if net != LABS_NETWORK and ip:
                targets[ip] = ALL_PORTS
    courses = TEST_STACK.course_containers()
    assert courses, "courses sync made no course container"
    for cid in courses:
        targets.update({ip: ALL_PORTS for ip in networks_of(cid).values() if ip})
    found = scan(two_labs["alice"], targets)
    assert all(ports == [] for ports in found.values()), found
    # The control: the broker does listen, for those on its network (a course container).
    broker_ip = networks_of(container_of("grading-broker"))[PROJECT]
    probe = (
        f"import socket; socket.create_connection(({broker_ip!r}, 6379), timeout=3); print('ok')"
    )
    r = subprocess.run(
        ["docker", "exec", courses[0], "python3", "-c", probe], capture_output=True, text=True
    )
    assert r.stdout.strip() == "ok", r.stderr


def test_the_hub_and_prometheus_still_reach_labs(two_labs):
    probe = (
        "import socket\n"
        f"for port in (8888, 9100, 5000):\n"
        "    try:\n"
        f"        socket.create_connection(({lab_container('bob')!r}, port), timeout=3).close()\n"
        "        print(port, 'open')\n"
        "    except OSError:\n"
        "        print(port, 'closed')\n"
    )
    r = compose("exec", "-T", "hub", "python3", "-c", probe, check=False)
    # Jupyter and metrics are served to the platform; a student's own server on 5000 is not.
    assert r.stdout.split("\n")[:3] == ["8888 open", "9100 open", "5000 closed"], (
        r.stdout + r.stderr
    )


def test_the_host_is_out_of_reach(two_labs):
    """A process on the host that listens on every address (on a port of its own, and on the
    peer ports at the labs' gateway, which the fence would let a lab open on its networks):
    a lab reaches it at none of the host's addresses. The control: the hub, on the same
    network without a fence, does (the host answers containers at its networks' gateways)."""
    gateway = gateway_of(LABS_NETWORK)
    addresses = sorted({gateway, host_address(), gateway_of("bridge"), gateway_of(PROJECT)})
    with listeners() as (own,), bound(gateway, (8000, 8765)):
        control = probe_from(container_of("hub"), [(gateway, own), (gateway, 8765)])
        found = scan(two_labs["alice"], {a: [own, 8000, 8765] for a in addresses})
    assert set(control.values()) == {"open"}, f"the control reaches no host port: {control}"
    assert all(ports == [] for ports in found.values()), found


def test_a_student_cannot_lift_the_fence(two_labs):
    out = two_labs["alice"].run(
        "import subprocess\n"
        "r = subprocess.run(['nft', 'flush', 'ruleset'], capture_output=True, text=True)\n"
        "print(r.returncode, 'Operation not permitted' in r.stderr)\n"
        "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])\n"
    )
    first, caps = out.strip().split("\n")
    assert first == "1 True", f"nft flush ruleset did not fail for lack of permission: {out}"
    assert int(caps, 16) == 0, f"the student has capabilities: {caps}"
    found = scan(two_labs["alice"], {lab_container("bob"): [*BOB_LISTENS, 8888, 9100]})
    assert found[lab_container("bob")] == [], found


def network_is_internal(name: str) -> bool:
    out = subprocess.run(["docker", "network", "inspect", name], capture_output=True, text=True)
    return json.loads(out.stdout)[0]["Internal"]


def test_the_platform_services_have_no_way_out(stack):
    """The broker, graders, exporter, exchange and course containers are only on internal
    networks; the broker, tried live, reaches nothing beyond the host (a stand-in the host
    forwards to, as to another machine; the internet), where a container on `edge` does."""
    r = compose("exec", "-T", "hub", "celerylab", "courses", "sync", check=False)
    assert r.returncode == 0, r.stderr
    containers = {s: container_of(s) for s in NO_WAY_OUT}
    containers.update({inspect(c)["Name"]: c for c in TEST_STACK.course_containers()})
    assert len(containers) > len(NO_WAY_OUT), "courses sync made no course container"
    for name, cid in containers.items():
        for net in networks_of(cid):
            assert network_is_internal(net), f"{name} is on {net}, which has a way out"
    # (Docker 20.10 still gives it a default route: its internal network drops what leaves.)
    broker = containers["grading-broker"]
    with stand_in(f"{PROJECT}-outside", LAB_IMAGE) as (host, (port,)), listeners() as (own,):
        stand_in_at = f"{host}:{port}"
        targets = [(host, port), *INTERNET]
        control = probe_on(f"{PROJECT}-edge", LAB_IMAGE, targets)
        assert control[stand_in_at] == "open", f"the control reaches no stand-in: {control}"
        found = probe_from(broker, targets)
        # Not asserted, reported: a port on the host itself (an accepted risk,
        # docs/architecture.md: Docker adds no rule against it).
        the_host = probe_from(broker, [(host, own)])
    assert found[stand_in_at] != "open", found
    for target_host, target_port in INTERNET:
        if control[f"{target_host}:{target_port}"] == "open":
            assert found[f"{target_host}:{target_port}"] != "open", found
    print(f"from the edge network: {control}; from the broker: {found}; the host: {the_host}")
