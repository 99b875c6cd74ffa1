"""One course cannot reach another (issue 19, items 4-6), played live: course c101's staff, with
everything c101's container holds (its broker user, its grading key, its part of the exchange,
its UID), attack course c202. Each attack must fail; controls show the same thing works for the
course it belongs to. The same broker attacks against a bare redis-server and grading worker:
tests/test_grading_apart.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from live import compose
from test_exchange import EXCHANGE, in_exchange
from test_two_courses import GRADE_AS, container, courses  # noqa: F401  (its fixture, used below)

# The same hostile archive the exchange store's unit test refuses, sent live here.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "hub"))
from test_exchange_store import many_empty_members

# Both courses synced, c101's ps1 and c202's q1 released (test_two_courses's fixture).
pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("courses")]


def as_staff(course: str, code: str) -> subprocess.CompletedProcess:
    """Python as the course's staff run it (its Jupyter's account and environment)."""
    return subprocess.run(
        ["docker", "exec", "-u", f"grader-{course}", "-w", "/home/student",
         "-e", "HOME=/home/student", container(course), "python3", "-c", code],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


BROKER_ATTACKS = """
import json, os, uuid
import redis
r = redis.Redis.from_url(os.environ["CELERYLAB_GRADING_BROKER"], socket_timeout=10)
victim = "celery-task-meta-c202." + str(uuid.uuid4())
mine = "celery-task-meta-c101." + str(uuid.uuid4())

def subscribe(pattern):
    p = r.pubsub()
    p.psubscribe(pattern)
    message = p.get_message(timeout=5)
    assert message and message["type"] == "psubscribe", message

attacks = {
    "watch the queue": lambda: r.lrange("grading", 0, -1),
    "list the keys": lambda: r.keys("*"),
    "scan the keys": lambda: r.scan(0),
    "watch task events": lambda: subscribe("*"),
    "watch c202's results arrive": lambda: subscribe("celery-task-meta-c202.*"),
    "watch every command": lambda: r.execute_command("MONITOR"),
    "read c202's result": lambda: r.get(victim),
    "forge c202's result": lambda: r.set(victim, json.dumps({"status": "SUCCESS"})),
    "forge its own result": lambda: r.set(mine, json.dumps({"status": "SUCCESS"})),
    "delete c202's result": lambda: r.delete(victim),
    "take c202's tasks": lambda: r.rpop("grading"),
    "trim the queue": lambda: r.ltrim("grading", 1, 0),
    "delete the queue": lambda: r.delete("grading"),
    "read tasks being run": lambda: r.hgetall("unacked"),
    "FLUSHALL": lambda: r.flushall(),
    "FLUSHDB": lambda: r.flushdb(),
    "reconfigure the broker": lambda: r.config_set("maxmemory", "1mb"),
    "read the broker's users": lambda: r.execute_command("ACL", "LIST"),
    "stop the broker": lambda: r.execute_command("SHUTDOWN", "NOSAVE"),
    "stop the graders": lambda: r.publish("/0.celery.pidbox", "shutdown"),
    "kill other clients": lambda: r.client_kill_filter(_type="normal"),
    "run a script": lambda: r.eval("return redis.call('flushall')", 0),
}
succeeded = []
for name, attack in attacks.items():
    try:
        attack()
    except redis.exceptions.NoPermissionError:
        continue
    except Exception as e:
        succeeded.append(f"{name} ({type(e).__name__}: {e})")
        continue
    succeeded.append(name)
print(json.dumps(succeeded))
"""


def test_another_courses_grading_cannot_be_watched_forged_deleted_or_stopped():
    r = as_staff("c101", BROKER_ATTACKS)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip().splitlines()[-1] == "[]", f"c101's staff could: {r.stdout}"
    # The broker's password is not in the course container: only its own user's.
    env = as_staff("c101", "import os; print(os.environ['CELERYLAB_GRADING_BROKER'])")
    assert env.stdout.startswith("redis://course-c101:"), env.stdout
    # Control: grading still works for both courses after all of it, and a task c101 sends for
    # c202 (sealed with c101's key) is refused, never run.
    for course in ("c101", "c202"):
        graded = as_staff(course, GRADE_AS.format(own=course))
        lines = dict(line.split(" ", 1) for line in graded.stdout.splitlines() if " " in line)
        assert lines.get(course) == "graded", graded.stdout + graded.stderr
    assert lines.get("c202") == "graded"


def test_course_users_survive_a_broker_restart():
    compose("restart", "grading-broker")
    deadline = time.monotonic() + 120
    while True:
        graded = as_staff("c101", GRADE_AS.format(own="c101"))
        if "c101 graded" in graded.stdout or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert "c101 graded" in graded.stdout, graded.stdout + graded.stderr


EXCHANGE_ATTACKS = """
import json, os, pathlib
root = pathlib.Path("/srv/celerylab/exchange")
found = {"courses": sorted(p.name for p in root.iterdir())}
c202 = root / "c202"
for what, path in {"read c202's release": c202 / "outbound" / "q1",
                   "read c202's inbound": c202 / "inbound",
                   "read c202's feedback": c202 / "feedback"}.items():
    try:
        if path.exists() and list(path.iterdir()) is not None:
            found[what] = "yes"
    except OSError:
        pass
# Plant a submission for dan in c202 with a time far ahead (collect would take it as the latest).
planted = c202 / "inbound" / "dan+q1+2099-01-01 00:00:00.000000 UTC+planted"
try:
    planted.mkdir(parents=True)
    (planted / "q1.ipynb").write_text("{}")
except OSError as e:
    found["plant"] = str(e)
mounts = [line.split()[1] for line in open("/proc/mounts") if "/srv/celerylab/exchange" in line]
found["mounts"] = mounts
found["uid"] = os.getuid()
print(json.dumps(found))
"""


def test_a_course_container_sees_only_its_own_part_of_the_exchange():
    r = as_staff("c101", EXCHANGE_ATTACKS)
    assert r.returncode == 0, r.stdout + r.stderr
    found = json.loads(r.stdout.strip().splitlines()[-1])
    assert found["mounts"] == ["/srv/celerylab/exchange/c101"], found
    for what in ("read c202's release", "read c202's inbound", "read c202's feedback"):
        assert what not in found, found
    # Whatever it wrote stayed in its own container: the exchange has no such submission.
    seen = in_exchange(
        "import pathlib\n"
        "print(sorted(p.name for p in pathlib.Path('/srv/celerylab/exchange/c202/inbound')"
        ".glob('*planted*')))"
    )
    assert seen.strip() == "[]", seen
    # Control: the exchange service sees c202's release (it alone sees every course).
    assert "q1" in in_exchange(
        "import os; print(os.listdir('/srv/celerylab/exchange/c202/outbound'))"
    )
    # Each course container has a UID of its own, not the exchange's.
    other = json.loads(as_staff("c202", EXCHANGE_ATTACKS).stdout.strip().splitlines()[-1])
    assert len({found["uid"], other["uid"], 2000}) == 3, (found["uid"], other["uid"])
    assert other["mounts"] == ["/srv/celerylab/exchange/c202"], other


def test_a_hostile_archive_does_not_stall_the_exchange(stack):
    """60,000 empty members: refused at member 201, on a worker thread, while others are served."""
    hostile = many_empty_members(60_000)
    amy = {"Authorization": f"token {stack.token_for('amy')}"}
    answer: dict = {}

    def submit():
        started = time.monotonic()
        answer["response"] = requests.post(
            f"{EXCHANGE}/courses/c101/submit/ps1", data=hostile, headers=amy, timeout=60
        )
        answer["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=submit)
    thread.start()
    slowest = 0.0
    while thread.is_alive():
        started = time.monotonic()
        requests.get(f"{EXCHANGE}/health", timeout=30).raise_for_status()
        slowest = max(slowest, time.monotonic() - started)
    thread.join()
    response = answer["response"]
    assert response.status_code == 400, response.text
    assert "more than 200 files" in response.json()["message"]
    assert answer["seconds"] < 5, answer
    assert slowest < 1.0, f"another request waited {slowest:.2f} s"
    leftovers = in_exchange(
        "import pathlib\n"
        "print(sorted(p.name for p in pathlib.Path('/srv/celerylab/exchange/c101/inbound')"
        ".glob('.*')))"
    )
    assert leftovers.strip() == "[]", leftovers
