"""The live stack shared by all integration tests: `docker compose up` once per session.

It runs as its own compose project (celerylab-test, port 18000) so it never touches a running
course on the same machine. Images are built beforehand (make images). On any test failure the
compose logs and every lab's log are written to artifacts/.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from hubclient import Hub

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
PROJECT = "celerylab-test"
PORT = 18000
ENV_FILE = "artifacts/test.env"
#: Settings of the test stack: fast activity reports so the culling test finishes in minutes.
STACK_ENV = {
    "COMPOSE_PROJECT_NAME": PROJECT,
    "CELERYLAB_HTTP_PORT": str(PORT),
    "CELERYLAB_ENV_FILE": ENV_FILE,
    "CELERYLAB_ACTIVITY_INTERVAL": "10",
    "CELERYLAB_LOGIN_ATTEMPTS": "3",
}


def require(kind: str, ok: bool, why: str) -> None:
    """Skip when a real part is missing on a developer machine; fail under CI."""
    if ok:
        return
    message = f"{kind} is needed for this test: {why}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def docker_ok() -> tuple[bool, str]:
    try:
        subprocess.run(["docker", "info"], check=True, capture_output=True, timeout=20)
        subprocess.run(
            ["docker", "compose", "version"], check=True, capture_output=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError) as e:
        return False, f"docker / docker compose not usable ({e})"
    for image in ("celerylab/hub:latest", "celerylab/lab:latest"):
        if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode:
            return False, f"image {image} missing: run `make images`"
    return True, ""


def compose(*args: str, env: dict | None = None, check: bool = True, **kwargs):
    return subprocess.run(
        ["docker", "compose", *args],
        cwd=ROOT,
        env={**os.environ, **STACK_ENV, **(env or {})},
        check=check,
        capture_output=True,
        text=True,
        **kwargs,
    )


def lab_containers() -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"name=^{PROJECT}-lab-"], capture_output=True, text=True
    ).stdout
    return out.split()


def lab_container(user: str) -> str:
    return f"{PROJECT}-lab-{user}"


def remove_everything() -> None:
    ids = lab_containers()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
    compose("down", "-v", "--remove-orphans", check=False)
    volumes = subprocess.run(
        ["docker", "volume", "ls", "-q", "--filter", f"name=^{PROJECT}-home-"],
        capture_output=True,
        text=True,
    ).stdout.split()
    if volumes:
        subprocess.run(["docker", "volume", "rm", "-f", *volumes], capture_output=True)


def dump_logs(reason: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "compose.log").write_text(compose("logs", "--no-color", check=False).stdout)
    for cid in lab_containers():
        name = (
            subprocess.run(
                ["docker", "inspect", "-f", "{{.Name}}", cid], capture_output=True, text=True
            )
            .stdout.strip()
            .lstrip("/")
        )
        logs = subprocess.run(["docker", "logs", cid], capture_output=True, text=True)
        (ARTIFACTS / f"{name}.log").write_text(logs.stdout + logs.stderr)
    print(f"\n{reason}: compose and lab logs written to {ARTIFACTS}/", file=sys.stderr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        item.session.celerylab_failed = True
    return report


def read_token() -> str:
    for line in (ROOT / ENV_FILE).read_text().splitlines():
        if line.startswith("CELERYLAB_API_TOKEN="):
            return line.split("=", 1)[1]
    raise RuntimeError(f"{ENV_FILE} has no CELERYLAB_API_TOKEN")


def wait_healthy(hub: Hub, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if hub.api("GET", "/", timeout=5).status_code == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError("the hub did not answer within {timeout}s")


@pytest.fixture(scope="session")
def stack(request):
    """Bring the test stack up (once), yield a Hub client with the ops token, tear it down."""
    ok, why = docker_ok()
    require("Docker", ok, why)
    ARTIFACTS.mkdir(exist_ok=True)
    remove_everything()  # leftovers of an interrupted run
    (ROOT / ENV_FILE).unlink(missing_ok=True)
    up = compose("up", "-d", "--wait", check=False, timeout=300)
    if up.returncode:
        dump_logs("compose up failed")
        pytest.fail(f"docker compose up failed:\n{up.stderr[-3000:]}")
    hub = Hub(f"http://127.0.0.1:{PORT}", read_token())
    wait_healthy(hub)
    yield hub
    if getattr(request.session, "celerylab_failed", False):
        dump_logs("a test failed")
    if os.environ.get("CELERYLAB_KEEP_STACK") != "1":
        remove_everything()


def restart_hub(hub: Hub, **env: str) -> None:
    """Recreate the hub container (with extra settings); running labs must survive it."""
    compose("up", "-d", "--wait", "--force-recreate", "--no-deps", "hub", env=env, timeout=180)
    wait_healthy(hub)
