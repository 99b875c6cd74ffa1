"""Two students, each with their own lab: their own worker runs their tasks, and nothing of
one student's lab is reachable from the other's."""

import pytest
from hubclient import KernelError
from live import lab_container

pytestmark = pytest.mark.docker

TASKS = """
import getpass
from celery import Celery

app = Celery("tasks")

@app.task
def add(x, y):
    return x + y

@app.task
def whoami():
    return getpass.getuser()
"""

RESTART = "import subprocess; subprocess.run(['celerylab-worker', 'restart'], check=True)"


@pytest.fixture(scope="module")
def students(stack):
    labs = {}
    for name in ("alice", "bob"):
        stack.ensure_user(name)
        stack.start(name)
        labs[name] = stack.lab(name, stack.token_for(name))
    yield labs
    for lab in labs.values():
        lab.close()


def test_each_student_runs_tasks_on_their_own_worker(students):
    for name, lab in students.items():
        lab.write_file("tasks.py", TASKS)
        lab.run(RESTART)
        out = lab.run(
            "from tasks import add, whoami\n"
            "print(add.delay(2, 3).get(timeout=20), whoami.delay().get(timeout=20))"
        )
        assert out.split() == ["5", name], f"{name}'s task ran on the wrong worker: {out!r}"


def test_celery_needs_no_configuration_in_a_lab(students):
    out = students["alice"].run(
        "from celery import Celery\napp = Celery()\nprint(app.control.ping(timeout=5))"
    )
    assert "pong" in out, f"Celery() without arguments did not reach the lab's worker: {out!r}"


def test_labs_have_distinct_uids_and_no_docker_socket(students):
    code = "import os; print(os.getuid(), os.path.exists('/var/run/docker.sock'))"
    seen = {}
    for name, lab in students.items():
        uid, socket = lab.run(code).split()
        assert socket == "False", "the Docker socket must never be visible in a lab"
        assert int(uid) > 10000, f"{name}'s lab runs as UID {uid}, expected uid_base + user id"
        seen[name] = uid
    assert seen["alice"] != seen["bob"]


def test_a_student_cannot_reach_another_students_redis(students):
    with pytest.raises(KernelError, match="ConnectionRefusedError"):
        students["alice"].run(
            f"import socket; socket.create_connection(('{lab_container('bob')}', 6379), timeout=5)"
        )


def test_a_student_cannot_use_another_students_lab_or_flower(students):
    alice = students["alice"]
    as_alice_at_bob = alice.__class__(alice.hub, "bob", alice.token)
    for path in ("api/contents", "flower/", "celery-worker/"):
        r = as_alice_at_bob.get(path, allow_redirects=False)
        assert r.status_code in (302, 403, 404), f"alice reached bob's /{path}: {r.status_code}"
        assert "Flower" not in r.text


def test_flower_is_served_through_the_hub_to_its_owner(students):
    r = students["alice"].get("flower/", timeout=60)
    assert r.status_code == 200, r.text[:300]
    assert "Flower" in r.text


def test_the_worker_page_restarts_the_worker(students):
    lab = students["bob"]
    r = lab.get("celery-worker/", timeout=60)
    assert r.status_code == 200 and "Your Celery worker" in r.text, r.text[:300]
    before = lab.run("import json; print(json.load(open('/run/celerylab/worker.json'))['pid'])")
    r = lab.request("POST", "celery-worker/restart", allow_redirects=False, timeout=60)
    assert r.status_code == 303
    after = lab.run("import json; print(json.load(open('/run/celerylab/worker.json'))['pid'])")
    assert before != after, "the worker was not restarted"


def test_a_broken_tasks_module_leaves_a_worker_that_explains(students):
    lab = students["bob"]
    lab.write_file("tasks.py", "from celery import Celery\napp = Celery(\ndef oops(:\n")
    out = lab.run(
        "import subprocess\n"
        "r = subprocess.run(['celerylab-worker', 'restart'], capture_output=True, text=True)\n"
        "print(r.returncode); print(r.stdout)"
    )
    assert out.startswith("1"), out
    assert "did not import" in out and "SyntaxError" in out, out
    # The worker still runs (empty app), so the student can keep working.
    assert "pong" in lab.run("from celery import Celery; print(Celery().control.ping(timeout=5))")
    lab.write_file("tasks.py", TASKS)
    lab.run(RESTART)


def test_worker_status_api_reports_the_running_app(students):
    r = students["alice"].get("api/celerylab/worker")
    assert r.status_code == 200, r.text[:300]
    status = r.json()
    assert status["ready"] is True and status["app"] == "tasks" and status["import_error"] is None
