"""The benchmark's peer: plain JupyterHub + DockerSpawner + JupyterLab (benchmarks/baseline/),
run as containers named <project>-baseline-* on their own network, and removed afterwards."""

from __future__ import annotations

import os
import secrets
import subprocess
from pathlib import Path

from hubclient import Hub  # the integration tests' client: spawn.py puts it on sys.path
from stack import Stack

HERE = Path(__file__).resolve().parent / "baseline"


class Baseline:
    def __init__(self, project: str, port: int):
        self.project = f"{project}-baseline"
        self.port = port
        self.image = f"{self.project}:latest"
        self.hub_container = f"{self.project}-hub"

    def lab_container(self, user: str) -> str:
        return f"{self.project}-lab-{user}"

    def build(self) -> None:
        subprocess.run(
            ["docker", "compose", "-f", str(HERE / "compose.yml"), "-p", self.project, "build"],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "BASELINE_IMAGE": self.image},
        )

    def up(self) -> Hub:
        self.down()
        token = secrets.token_hex(32)
        subprocess.run(
            ["docker", "network", "create", self.project], check=True, capture_output=True
        )
        subprocess.run(
            ["docker", "run", "-d", "--name", self.hub_container, "--user", "root",
             "--network", self.project, "-p", f"127.0.0.1:{self.port}:8000",
             "-v", "/var/run/docker.sock:/var/run/docker.sock",
             "-e", f"BASELINE_IMAGE={self.image}", "-e", f"BASELINE_NETWORK={self.project}",
             "-e", f"BASELINE_PROJECT={self.project}",
             "-e", f"BASELINE_HUB_NAME={self.hub_container}",
             "-e", f"BASELINE_TOKEN={token}", self.image],
            check=True, capture_output=True,
        )  # fmt: skip
        hub = Hub(f"http://127.0.0.1:{self.port}", token, subdomains=False)  # one origin
        Stack.wait_healthy(hub, timeout=120)
        return hub

    def down(self) -> None:
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"name=^{self.project}-"],
            capture_output=True, text=True,
        ).stdout.split()  # fmt: skip
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        subprocess.run(["docker", "network", "rm", self.project], capture_output=True)
