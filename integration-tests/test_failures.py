"""Bad configuration and failed spawns give clear messages and hurt no one else; a recreated hub
is reached by the labs that kept running."""

import io
import os
import subprocess
import time

import docker
import pytest
import requests
from live import TEST_STACK, compose, restart_hub

pytestmark = pytest.mark.docker

LAB_IMAGE = os.environ.get("CELERYLAB_LAB_IMAGE", "celerylab/lab:latest")
BROKEN = f'FROM {LAB_IMAGE}\nENTRYPOINT ["sh", "-c", "echo lab config broken >&2; exit 3"]\n'
STUCK = f'FROM {LAB_IMAGE}\nENTRYPOINT ["sh", "-c", "echo lab stuck >&2; exec sleep 600"]\n'


def build(tag: str, dockerfile: str) -> None:
    """Build a one-line variant of the lab image through the Docker API (whatever the CLI's
    builder setup: the client here has no buildx, and CI sets DOCKER_BUILDKIT=1)."""
    docker.from_env().images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=tag, rm=True)


def test_invalid_setting_stops_the_hub_with_its_name(stack):
    r = compose(
        "run",
        "--rm",
        "--no-deps",
        "-e",
        "CELERYLAB_LAB_MEM_LIMIT=lots",
        "hub",
        check=False,
        timeout=120,
    )
    assert r.returncode != 0
    assert "CELERYLAB_LAB_MEM_LIMIT='lots'" in r.stderr + r.stdout


@pytest.fixture
def running_lab(stack):
    stack.ensure_user("fred")
    stack.start("fred")
    yield stack.lab("fred")
    restart_hub(stack)


def fails_to_start(stack, running_lab, user: str, message: str) -> None:
    """The spawn fails with a message the student can act on; a running lab is unaffected."""
    stack.ensure_user(user)
    with pytest.raises(RuntimeError, match=message):
        stack.start(user)
    assert running_lab.run("print('still here')").strip() == "still here"
    running_lab.close()


def test_missing_image_fails_clearly_and_others_keep_working(stack, running_lab):
    restart_hub(stack, CELERYLAB_LAB_IMAGE="celerylab-test/missing:latest")
    fails_to_start(
        stack, running_lab, "gina", r"celerylab-test/missing:latest.*is not on this host"
    )


def test_lab_that_exits_shows_its_log(stack, running_lab):
    build("celerylab-test/broken:latest", BROKEN)
    restart_hub(stack, CELERYLAB_LAB_IMAGE="celerylab-test/broken:latest")
    fails_to_start(stack, running_lab, "hugo", r"(?s)exit code 3.*lab config broken")


def test_lab_that_stops_making_progress_fails_with_its_log(stack, running_lab):
    """A lab that is running but doing nothing (no CPU time) fails after stall_timeout; a slow
    one on a busy host is waited for (test_class_start)."""
    build("celerylab-test/stuck:latest", STUCK)
    restart_hub(
        stack, CELERYLAB_LAB_IMAGE="celerylab-test/stuck:latest", CELERYLAB_STALL_TIMEOUT="5"
    )
    fails_to_start(
        stack, running_lab, "ines", r"(?s)stopped making progress.*for 5 seconds.*lab stuck"
    )
    assert not TEST_STACK.lab_containers_of("ines"), "a lab that timed out must not linger"


def hub_address() -> str:
    hub = compose("ps", "-q", "hub").stdout.split()[0]
    fmt = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
    return subprocess.run(
        ["docker", "inspect", "-f", fmt, hub], capture_output=True, text=True, check=True
    ).stdout.strip()


def recreate_hub_at_a_new_address(stack) -> None:
    """Recreate the hub as an upgrade does after other containers came and went: Docker would
    hand a hub recreated at once its old address back, so a placeholder holds that meanwhile."""
    compose("rm", "--stop", "--force", "hub")
    placeholder = subprocess.run(
        ["docker", "run", "-d", "--rm", "--network", TEST_STACK.project,
         "--entrypoint", "sleep", LAB_IMAGE, "300"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    try:
        restart_hub(stack)
    finally:
        subprocess.run(["docker", "rm", "-f", placeholder], capture_output=True, check=False)


def test_running_labs_reach_a_recreated_hub_at_its_new_address(stack, running_lab):
    """A running lab checks each new token with the hub. After the hub is recreated elsewhere it
    must ask the new container within seconds, not keep the old address for Docker's DNS TTL
    (600 s: c-ares, JupyterHub's resolver, did; celerylab_lab.system_dns)."""
    before = hub_address()
    recreate_hub_at_a_new_address(stack)
    after = hub_address()
    assert after != before, f"the recreated hub kept its address {before}: nothing was tested"
    fresh = stack.lab("fred", token=stack.token_for("fred"))  # not in the lab's token cache
    # Far under the TTL; the first request can hang on a connection to the old hub (10 s each).
    deadline = time.monotonic() + 60
    while True:
        try:
            status = fresh.get("api/status", timeout=10).status_code
        except requests.Timeout:
            status = "nothing within 10 s"
        if status == 200:
            break
        assert time.monotonic() < deadline, f"fred's lab still answers {status} after 60 s"
        time.sleep(1)
