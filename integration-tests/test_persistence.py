"""A student's work survives their lab stopping and starting, and the hub restarting; running
labs stay reachable while the hub restarts."""

import subprocess
import time

import pytest
from live import lab_container, restart_hub

pytestmark = pytest.mark.docker


def started_at(user: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "-f", "{{.State.StartedAt}}", lab_container(user)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def test_home_survives_stop_start_and_hub_restart(stack):
    stack.ensure_user("carol")
    stack.start("carol")
    lab = stack.lab("carol")
    lab.write_file("notes.txt", "my work")

    stack.stop("carol")
    assert (
        subprocess.run(
            ["docker", "inspect", lab_container("carol")], capture_output=True
        ).returncode
        != 0
    ), "a stopped lab's container is removed"
    stack.start("carol")
    assert lab.read_file("notes.txt") == "my work"

    before = started_at("carol")
    restart_hub(stack)
    assert started_at("carol") == before, "the lab must keep running while the hub restarts"
    deadline = time.monotonic() + 30
    while lab.get("api/status").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert lab.read_file("notes.txt") == "my work"
    assert lab.run("print(6 * 7)").strip() == "42"
    lab.close()
