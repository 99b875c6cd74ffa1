"""Idle labs are culled; a lab whose Celery worker is busy is not, even with nobody at it."""

import time

import pytest
from live import restart_hub

pytestmark = [pytest.mark.docker, pytest.mark.slow]

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
MAX_AGE = 150


def test_a_lab_kept_busy_for_ever_is_stopped_at_its_maximum_age(stack):
    stack.ensure_user("gus")
    started = time.monotonic()  # the hub's clock starts with the spawn
    stack.start("gus")
    lab = stack.lab("gus")
    lab.run(FAKE_BUSY)
    lab.close()
    restart_hub(
        stack,
        CELERYLAB_CULL_TIMEOUT=str(CULL_TIMEOUT),
        CELERYLAB_CULL_EVERY="5",
        CELERYLAB_LAB_MAX_AGE=str(MAX_AGE),
    )
    try:
        # Past the idle timeout it still runs: the busy file is believed for idleness...
        while time.monotonic() - started < CULL_TIMEOUT * 1.5:
            time.sleep(2)
        assert stack.user("gus")["servers"], "the busy file should keep it from the idle culler"
        # ...but not beyond its maximum age, which the culler takes from the hub's records.
        deadline = started + MAX_AGE + 60
        while time.monotonic() < deadline and stack.user("gus")["servers"]:
            time.sleep(2)
        assert not stack.user("gus")["servers"], f"still running {MAX_AGE + 60} s after its start"
        assert time.monotonic() - started >= MAX_AGE - 5, "stopped before its maximum age"
    finally:
        restart_hub(stack)
