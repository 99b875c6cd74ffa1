"""Bad configuration and failed spawns give clear messages and hurt no one else."""

import subprocess

import pytest
from live import compose, restart_hub

pytestmark = pytest.mark.docker

BROKEN = (
    'FROM celerylab/lab:latest\nENTRYPOINT ["sh", "-c", "echo lab config broken >&2; exit 3"]\n'
)


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


def test_missing_image_fails_clearly_and_others_keep_working(stack, running_lab):
    restart_hub(stack, CELERYLAB_LAB_IMAGE="celerylab-test/missing:latest")
    stack.ensure_user("gina")
    with pytest.raises(RuntimeError, match=r"celerylab-test/missing:latest.*is not on this host"):
        stack.start("gina")
    assert running_lab.run("print('still here')").strip() == "still here"
    running_lab.close()


def test_lab_that_exits_shows_its_log(stack, running_lab):
    subprocess.run(
        ["docker", "build", "-q", "-t", "celerylab-test/broken:latest", "-"],
        input=BROKEN,
        text=True,
        check=True,
        capture_output=True,
    )
    restart_hub(stack, CELERYLAB_LAB_IMAGE="celerylab-test/broken:latest")
    stack.ensure_user("hugo")
    with pytest.raises(RuntimeError, match=r"(?s)exit code 3.*lab config broken"):
        stack.start("hugo")
    assert running_lab.run("print('still here')").strip() == "still here"
    running_lab.close()
