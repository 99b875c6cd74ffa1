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
