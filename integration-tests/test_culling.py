"""Idle labs are culled; a lab whose Celery worker is busy is not, even with nobody at it; a lab
kept looking busy for ever is stopped at its maximum age, from outside the lab."""

import os
import subprocess
import time
import uuid

import pytest
from live import TEST_STACK, restart_hub

pytestmark = pytest.mark.docker

HUB_IMAGE = os.environ.get("CELERYLAB_HUB_IMAGE", "celerylab/hub:latest")

SLOW_TASKS = """
import time
from celery import Celery

app = Celery("tasks")

@app.task
def crunch(seconds):
    time.sleep(seconds)
    return seconds
"""
CULL_TIMEOUT = 60


@pytest.mark.slow
def test_busy_worker_keeps_a_lab_from_being_culled(stack):
    for name in ("dora", "emil"):
        stack.ensure_user(name)
        stack.start(name)
    busy = stack.lab("emil")
    busy.write_file("tasks.py", SLOW_TASKS)
    busy.run("import subprocess; subprocess.run(['celerylab-worker', 'restart'], check=True)")
    busy.run(f"from tasks import crunch; crunch.delay({CULL_TIMEOUT * 4})")
    busy.close()
    stack.lab("dora").run("print('last touch')")
    stack.lab("dora").close()

    restart_hub(stack, CELERYLAB_CULL_TIMEOUT=str(CULL_TIMEOUT), CELERYLAB_CULL_EVERY="5")
    try:
        deadline = time.monotonic() + CULL_TIMEOUT * 3
        while time.monotonic() < deadline and stack.user("dora")["servers"]:
            time.sleep(2)
        assert not stack.user("dora")["servers"], "an idle lab was not culled"
        assert stack.user("emil")["servers"], "a lab with a busy worker was culled"
    finally:
        restart_hub(stack)


# Touches the worker-busy file every 2 s for ever, as a student could: to the lab's own server
# extension the worker looks busy, so the lab reports activity without end.
FAKE_BUSY = """
import subprocess
subprocess.Popen(
    ["sh", "-c", "while true; do touch /run/celerylab/worker-busy; sleep 2; done"],
    start_new_session=True,
)
"""
#: Seconds: the lab reports activity every 10 s (the test stack's CELERYLAB_ACTIVITY_INTERVAL),
#: so IDLE_TIMEOUT would stop it if the busy file were not believed; MAX_AGE stops it anyway.
IDLE_TIMEOUT = 25
MAX_AGE = 40
CULL_EVERY = 5
#: The idle culler's role (celerylab_hub.services.roles), here for one user.
CULLER_SCOPES = ("list:users", "read:users:activity", "read:servers", "delete:servers")


@pytest.fixture
def culler(stack):
    """jupyterhub-idle-culler, as the hub runs it (celerylab_hub.services), with a short
    --max-age, pointed at the test stack's hub from a container on the platform's network.

    The stack's own culler keeps its long settings: restarting the hub twice to shorten them
    would cost more than the test itself (which stays under 90 s this way). Its token sees
    gus alone, so other tests' labs are not culled under them."""
    stack.ensure_user("gus")
    scopes = [f"{scope}!user=gus" for scope in CULLER_SCOPES]
    # Owned by an admin (the stack's `admin`), who holds them: gus could not list users.
    r = stack.api("POST", "/users/admin/tokens", json={"scopes": scopes, "expires_in": 600})
    assert r.status_code == 201, r.text
    name = f"{TEST_STACK.project}-culler-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["docker", "run", "-d", "--rm", "--name", name, "--network", TEST_STACK.project,
         "-e", f"JUPYTERHUB_API_TOKEN={r.json()['token']}", "--entrypoint", "python3", HUB_IMAGE,
         "-m", "jupyterhub_idle_culler", "--url=http://hub:8081/hub/api",
         f"--timeout={IDLE_TIMEOUT}", f"--cull-every={CULL_EVERY}", f"--max-age={MAX_AGE}"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    yield name
    logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
    print(logs.stdout + logs.stderr)
    subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def test_a_lab_kept_busy_for_ever_is_stopped_at_its_maximum_age(stack, culler):
    started = time.monotonic()  # the hub's clock starts with the spawn
    stack.start("gus")
    lab = stack.lab("gus")
    lab.run(FAKE_BUSY)
    lab.close()
    # Past the idle timeout it still runs: the busy file is believed for idleness...
    while time.monotonic() - started < IDLE_TIMEOUT + 2 * CULL_EVERY:
        time.sleep(2)
    assert stack.user("gus")["servers"], "the busy file should keep it from the idle culler"
    # ...but not beyond its maximum age, which the culler takes from the hub's records.
    deadline = started + MAX_AGE + 3 * CULL_EVERY
    while time.monotonic() < deadline and stack.user("gus")["servers"]:
        time.sleep(1)
    stopped = time.monotonic() - started
    assert not stack.user("gus")["servers"], f"still running {stopped:.0f} s after its start"
    assert stopped >= MAX_AGE - 5, f"stopped {stopped:.0f} s after its start, before its max age"
    print(f"gus's busy lab stopped {stopped:.0f} s after its start (max age {MAX_AGE} s)")
