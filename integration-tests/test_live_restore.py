"""Labs survive a dockerd restart: live-restore, tested on a private Docker engine.

The engine the tests (and everyone's labs on a shared machine) run on must not be restarted, so
this test starts a second dockerd of its own (own data root, exec root, socket, pid file and
containerd; no iptables, a default bridge of its own), with the daemon configuration that
scripts/bootstrap-docker.sh installs, loads the base image into it, and restarts that daemon
under a running container that serves a published port. The control runs the same with
live-restore off: the container does not survive, so the test can tell the two apart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from live import require
from stack import ROOT

pytestmark = pytest.mark.docker

BASE_IMAGE = os.environ.get("CELERYLAB_BASE_IMAGE", "debian:bookworm-slim")
#: The test's own bridge: a subnet and interface name nothing else on the host should use.
SUBNET, BRIDGE = "10.213.77.0/24", "clrestore0"
#: The private daemon's default bridge. Not `--bridge=none`: a dockerd started so deletes the
#: host's `docker0`, the shared engine's default bridge (every later build and `docker run` on
#: it fails: found when this test first ran beside the others).
DEFAULT_BRIDGE, DEFAULT_ADDRESS = "clrestoredef0", "10.213.78.1/24"
#: A container that answers every connection on 8080 (perl-base is in every Debian image).
SERVE = [
    "perl", "-MIO::Socket::INET", "-e",
    '$s = IO::Socket::INET->new(LocalPort => 8080, Listen => 8, ReuseAddr => 1) or die;'
    ' while ($c = $s->accept) { print $c "alive $$\\n"; close $c }',
]  # fmt: skip


def production_config() -> dict:
    """The daemon.json that scripts/bootstrap-docker.sh writes on a new engine."""
    script = (ROOT / "scripts" / "bootstrap-docker.sh").read_text()
    return json.loads(re.search(r"<<'JSON'\n(.*?)\nJSON\n", script, re.DOTALL).group(1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateDockerd:
    def __init__(self, root: Path):
        self.root = root
        self.sock = root / "docker.sock"
        self.process: subprocess.Popen | None = None

    def start(self, config: dict) -> None:
        (self.root / "daemon.json").write_text(json.dumps(config))
        log = (self.root / "dockerd.log").open("a")
        self.process = subprocess.Popen(
            ["dockerd", "--config-file", str(self.root / "daemon.json"),
             "--data-root", str(self.root / "data"), "--exec-root", str(self.root / "exec"),
             "--pidfile", str(self.root / "docker.pid"), "-H", f"unix://{self.sock}",
             f"--bridge={DEFAULT_BRIDGE}", "--iptables=false", "--ip-masq=false",
             "--shutdown-timeout=5"],
            stdout=log, stderr=log,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while self.docker("info", check=False).returncode:
            assert self.process.poll() is None, self.log()
            assert time.monotonic() < deadline, f"the private dockerd did not start:\n{self.log()}"
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)

    def restart(self, config: dict) -> None:
        self.stop()
        self.start(config)

    def docker(self, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker", "-H", f"unix://{self.sock}", *args],
            capture_output=True, text=True, check=check, timeout=120, **kwargs,
        )  # fmt: skip

    def load(self, image: str) -> None:
        """Copy an image from the shared engine into this one."""
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "-H", f"unix://{self.sock}", "load"],
            stdin=save.stdout, capture_output=True, timeout=300,
        )  # fmt: skip
        save.stdout.close()
        assert save.wait() == 0 and load.returncode == 0, load.stderr

    def state(self, container: str) -> dict:
        return json.loads(self.docker("inspect", "-f", "{{json .State}}", container).stdout)

    def log(self) -> str:
        return (self.root / "dockerd.log").read_text()[-3000:]


@contextmanager
def private_dockerd():
    # Short: containerd's socket lives under it, and unix socket paths are short.
    root = Path(tempfile.mkdtemp(prefix="clrestore-"))
    daemon = PrivateDockerd(root)
    ip = ["ip", "link", "add", DEFAULT_BRIDGE, "type", "bridge"]
    subprocess.run(ip, check=True, capture_output=True)
    subprocess.run(["ip", "addr", "add", DEFAULT_ADDRESS, "dev", DEFAULT_BRIDGE], check=True)
    subprocess.run(["ip", "link", "set", DEFAULT_BRIDGE, "up"], check=True)
    try:
        yield daemon
    finally:
        if daemon.process and daemon.process.poll() is None:
            ids = daemon.docker("ps", "-aq", check=False).stdout.split()
            if ids:
                daemon.docker("rm", "-f", *ids, check=False)
            daemon.docker("network", "rm", "restore", check=False)
        daemon.stop()
        for mounted in ("exec", "data"):  # dockerd bind-mounts its roots onto themselves
            subprocess.run(["umount", "-R", str(root / mounted)], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
        subprocess.run(["ip", "link", "del", DEFAULT_BRIDGE], capture_output=True)


def host_bridges() -> set[str]:
    out = subprocess.run(["ip", "-o", "link", "show", "type", "bridge"], capture_output=True)
    return {line.split(":")[1].strip() for line in out.stdout.decode().splitlines()}


def answer(port: int) -> str:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            return s.recv(100).decode().strip()
    except OSError as e:
        return type(e).__name__


def test_a_running_container_and_its_port_survive_a_dockerd_restart():
    require("A private dockerd", os.geteuid() == 0, "it must run as root")
    require("A private dockerd", bool(shutil.which("dockerd")), "dockerd is not installed")
    live = production_config()
    assert live.get("live-restore") is True, live
    without = {**live, "live-restore": False}
    bridges = host_bridges()
    with private_dockerd() as daemon:
        daemon.start(without)
        daemon.load(BASE_IMAGE)
        daemon.docker(
            "network", "create", "--subnet", SUBNET,
            "-o", f"com.docker.network.bridge.name={BRIDGE}", "restore",
        )  # fmt: skip

        # The control: without live-restore, a restart stops the container (no restart policy).
        daemon.docker("run", "-d", "--init", "--name", "control", "--network", "restore",
                      BASE_IMAGE, "sleep", "infinity")  # fmt: skip
        daemon.restart(without)
        assert not daemon.state("control")["Running"], "the control survived: the test is moot"

        # With the configuration the platform installs, the same restart leaves it running.
        daemon.restart(live)
        port = free_port()
        daemon.docker("run", "-d", "--init", "--name", "lab", "--network", "restore",
                      "-p", f"127.0.0.1:{port}:8080", BASE_IMAGE, *SERVE)  # fmt: skip
        deadline = time.monotonic() + 30
        while not (before := answer(port)).startswith("alive"):
            assert time.monotonic() < deadline, f"the container does not answer: {before}"
            time.sleep(0.5)
        state = daemon.state("lab")
        daemon.restart(live)
        after = daemon.state("lab")
        assert after["Running"], f"the container did not survive: {after}\n{daemon.log()}"
        assert (after["Pid"], after["StartedAt"]) == (state["Pid"], state["StartedAt"]), after
        deadline = time.monotonic() + 30
        while (now := answer(port)) != before:
            assert time.monotonic() < deadline, f"its port answers {now!r}, not {before!r}"
            time.sleep(0.5)
    # The shared engine's default bridge is still there.
    assert "docker0" not in bridges or "docker0" in host_bridges(), "docker0 was deleted"
