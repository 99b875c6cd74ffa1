"""Bring a celerylab compose stack up and down as its own compose project.

Shared by the integration tests (project celerylab-test) and the benchmarks
(celerylab-bench), so neither ever touches a course running on the same machine.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from hubclient import Hub

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
#: Overridable (CELERYLAB_HUB_IMAGE / CELERYLAB_LAB_IMAGE, as docker-compose.yml reads them), so
#: a branch's images can be tested beside the ones a course runs on.
IMAGES = (
    os.environ.get("CELERYLAB_HUB_IMAGE", "celerylab/hub:latest"),
    os.environ.get("CELERYLAB_LAB_IMAGE", "celerylab/lab:latest"),
    "celerylab/prometheus:latest",
)
#: Services a test stack leaves out: Grafana's image cannot be had on CI machines (its
#: provisioning is checked statically, its panels' queries against the live Prometheus).
SKIPPED_SERVICES = ("grafana",)
DOCKER_SOCKET = "/var/run/docker.sock"


def docker_ok() -> tuple[bool, str]:
    try:
        subprocess.run(["docker", "info"], check=True, capture_output=True, timeout=20)
        subprocess.run(
            ["docker", "compose", "version"], check=True, capture_output=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError) as e:
        return False, f"docker / docker compose not usable ({e})"
    for image in IMAGES:
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode:
            return False, f"image {image} missing: run `make images`"
    return True, ""


@dataclass
class Stack:
    project: str
    port: int
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def env_file(self) -> str:
        return f"artifacts/{self.project}.env"

    @property
    def prometheus_port(self) -> int:
        return int(os.environ.get("CELERYLAB_TEST_PROMETHEUS_PORT", self.port + 1090))

    @property
    def env(self) -> dict[str, str]:
        local = "celerylab/prometheus:latest"  # Debian's Prometheus, built by make images
        return {
            "COMPOSE_PROJECT_NAME": self.project,
            "CELERYLAB_HTTP_PORT": str(self.port),
            "CELERYLAB_ENV_FILE": self.env_file,
            "CELERYLAB_PROMETHEUS_PORT": str(self.prometheus_port),
            "CELERYLAB_PROMETHEUS_IMAGE": os.environ.get("CELERYLAB_PROMETHEUS_IMAGE", local),
            "CELERYLAB_NODE_EXPORTER_IMAGE": os.environ.get("CELERYLAB_NODE_EXPORTER_IMAGE", local),
            # The hub and graders get the socket's group only (scripts/up.sh finds it likewise).
            "CELERYLAB_DOCKER_GID": str(os.stat(DOCKER_SOCKET).st_gid)
            if os.path.exists(DOCKER_SOCKET)
            else "",
            **self.settings,
        }

    def compose(self, *args: str, env: dict | None = None, check: bool = True, **kwargs):
        return subprocess.run(
            ["docker", "compose", *args],
            cwd=ROOT,
            env={**os.environ, **self.env, **(env or {})},
            check=check,
            capture_output=True,
            text=True,
            **kwargs,
        )

    def lab_container(self, user: str) -> str:
        return f"{self.project}-lab-{user}"

    def lab_containers(self) -> list[str]:
        return self.lab_containers_of("")

    def lab_containers_of(self, user: str) -> list[str]:
        """IDs of lab containers (running or not) named <project>-lab-<user>; all if user=''."""
        name = f"^{self.project}-lab-{user}" + ("$" if user else "")
        out = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"name={name}"], capture_output=True, text=True
        ).stdout
        return out.split()

    def course_containers(self) -> list[str]:
        out = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"name=^{self.project}-course-"],
            capture_output=True,
            text=True,
        ).stdout
        return out.split()

    def up(self) -> Hub:
        """Start from nothing; return a Hub client holding the ops token."""
        ARTIFACTS.mkdir(exist_ok=True)
        self.down()
        self.forget_stray_courses()
        (ROOT / self.env_file).unlink(missing_ok=True)
        services = [
            name
            for name in self.compose("config", "--services").stdout.split()
            if name not in SKIPPED_SERVICES
        ]
        up = self.compose("up", "-d", "--wait", *services, check=False, timeout=300)
        if up.returncode:
            raise RuntimeError(f"docker compose up failed:\n{up.stderr[-3000:]}")
        hub = Hub(f"http://127.0.0.1:{self.port}", self.read_token())
        self.wait_healthy(hub)
        return hub

    def forget_stray_courses(self) -> None:
        """Remove course declarations a killed test run wrote into the stack's course folder.

        A hub starts with every declaration it finds there, so a leftover (a test adds one
        while the hub runs, then removes it) would start the next stack with that course
        already loaded. Only files git does not track go.
        """
        folder = self.settings.get("CELERYLAB_COURSES")
        if not folder:
            return
        stray = subprocess.run(
            ["git", "ls-files", "--others", "-z", "--", folder],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\0")
        for name in filter(None, stray):
            (ROOT / name).unlink(missing_ok=True)

    def down(self) -> None:
        """Remove the stack, its labs and course containers, and every volume it made."""
        ids = self.lab_containers() + self.course_containers()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        self.compose("down", "-v", "--remove-orphans", check=False)
        volumes = [
            v
            for kind in ("home", "course")
            for v in subprocess.run(
                ["docker", "volume", "ls", "-q", "--filter", f"name=^{self.project}-{kind}-"],
                capture_output=True,
                text=True,
            ).stdout.split()
        ]
        if volumes:
            subprocess.run(["docker", "volume", "rm", "-f", *volumes], capture_output=True)

    def read_token(self, name: str = "CELERYLAB_API_TOKEN") -> str:
        """A value setup generated into the stack's .env (the ops token by default)."""
        for line in (ROOT / self.env_file).read_text().splitlines():
            if line.startswith(f"{name}="):
                return line.split("=", 1)[1]
        raise RuntimeError(f"{self.env_file} has no {name}")

    @staticmethod
    def wait_healthy(hub: Hub, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if hub.api("GET", "/", timeout=5).status_code == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"the hub did not answer within {timeout}s")

    def restart_hub(self, hub: Hub, **env: str) -> None:
        """Recreate the hub container (with extra settings); running labs must survive it."""
        self.compose(
            "up", "-d", "--wait", "--force-recreate", "--no-deps", "hub", env=env, timeout=180
        )
        self.wait_healthy(hub)

    def dump_logs(self) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        logs = self.compose("logs", "--no-color", check=False)
        (ARTIFACTS / f"{self.project}-compose.log").write_text(logs.stdout)
        for cid in self.lab_containers() + self.course_containers():
            name = (
                subprocess.run(
                    ["docker", "inspect", "-f", "{{.Name}}", cid], capture_output=True, text=True
                )
                .stdout.strip()
                .lstrip("/")
            )
            out = subprocess.run(["docker", "logs", cid], capture_output=True, text=True)
            (ARTIFACTS / f"{name}.log").write_text(out.stdout + out.stderr)
        return ARTIFACTS
