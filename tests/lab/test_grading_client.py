"""The course side's grading client (run_on_fleet) against a real redis-server and a real Celery
worker standing in for the fleet: it gets its outcome through a restart of the broker, whether
the restart comes while the task runs or before it could be sent."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import pytest
import redis
from celerylab_course.labkit import free_port, wait_for
from celerylab_lab.sandbox_execute import GradingServiceError, run_on_fleet, seal_job
from cryptography.fernet import Fernet

FLEET = textwrap.dedent(
    """
    import time
    from celery import Celery

    app = Celery("fleet-stand-in", broker=BROKER, backend=BROKER)
    app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1, accept_content=["json"])

    @app.task(name="celerylab.grading.execute")
    def execute(job):
        if job.get("fail"):
            raise RuntimeError("docker is unreachable")
        time.sleep(job.get("seconds", 0))
        return {"status": "ok", "reason": "", "notebook": job["notebook"], "seconds": 0}
    """
)


class Broker:
    """A redis-server that keeps its data across a restart (appendonly), as the grading broker."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="celerylab-grading-broker-")
        self.url = f"redis://:secret@127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--requirepass", "secret", "--appendonly", "yes", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, password="secret", socket_connect_timeout=1)
        wait_for(client.ping, 10, what=f"redis-server on port {self.port}")

    def stop(self) -> None:
        self.proc.terminate()  # as `docker compose restart` does: SIGTERM, data saved
        self.proc.wait(10)

    def started_tasks(self) -> int:
        client = redis.Redis(port=self.port, password="secret")
        return client.hlen("unacked")  # kombu keeps delivered, unacknowledged tasks here


@pytest.fixture
def broker(redis_server_installed):
    b = Broker()
    b.start()
    yield b
    b.stop()
    shutil.rmtree(b.dir, ignore_errors=True)


@pytest.fixture
def fleet(broker, tmp_path):
    (tmp_path / "fleet.py").write_text(f"BROKER = {broker.url!r}\n{FLEET}")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "fleet", "worker", "--pool", "solo",
         "--without-heartbeat", "--without-mingle", "--without-gossip", "-Q", "grading"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=(tmp_path / "worker.log").open("w"),
    )  # fmt: skip
    yield tmp_path / "worker.log"
    worker.terminate()
    worker.wait(20)


def in_background(broker: Broker, job: dict, timeout: float) -> dict:
    """Runs run_on_fleet on a thread; the dict gets its outcome or error."""
    box: dict = {}

    def run():
        try:
            box["outcome"] = run_on_fleet(broker.url, job, timeout)
        except GradingServiceError as e:
            box["error"] = str(e)

    box["thread"] = threading.Thread(target=run, daemon=True)
    box["thread"].start()
    return box


def test_an_outcome_comes_back_through_a_broker_restart_mid_task(broker, fleet):
    box = in_background(broker, {"notebook": "ps1.ipynb", "seconds": 4}, timeout=60)
    wait_for(lambda: broker.started_tasks() == 1, 30, what="the worker to take the task")
    broker.stop()
    time.sleep(2)
    broker.start()
    box["thread"].join(60)
    assert box.get("outcome", {}).get("status") == "ok", (box, fleet.read_text()[-3000:])


def test_a_task_sent_while_the_broker_is_down_goes_when_it_is_back(broker, fleet):
    broker.stop()
    box = in_background(broker, {"notebook": "ps1.ipynb"}, timeout=60)
    time.sleep(3)
    broker.start()
    box["thread"].join(60)
    assert box.get("outcome", {}).get("status") == "ok", (box, fleet.read_text()[-3000:])


def test_the_fleet_giving_up_is_an_error_with_its_reason(broker, fleet):
    with pytest.raises(GradingServiceError, match="RuntimeError: docker is unreachable"):
        run_on_fleet(broker.url, {"notebook": "ps1.ipynb", "fail": True}, 60)


def test_no_fleet_is_a_timeout_that_says_so(broker):
    started = time.monotonic()
    with pytest.raises(GradingServiceError, match=r"timed out after 2 s \(sent, no result\)"):
        run_on_fleet(broker.url, {"notebook": "ps1.ipynb"}, 2)
    assert time.monotonic() - started < 5


def test_no_broker_at_all_is_a_timeout_that_says_why():
    url = f"redis://:secret@127.0.0.1:{free_port()}/0"
    with pytest.raises(GradingServiceError, match=r"could not be sent.*unreachable"):
        run_on_fleet(url, {"notebook": "ps1.ipynb"}, 3)


def test_the_client_ignores_the_containers_own_celery_settings(broker, fleet, monkeypatch):
    # The course container points Celery at the student-style Redis of its own worker.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("CELERY_RESULT_BACKEND", "redis://127.0.0.1:1/0")
    outcome = run_on_fleet(broker.url, {"notebook": "ps1.ipynb"}, 60)
    assert outcome["status"] == "ok"


def test_a_wrong_password_is_said_at_once_not_waited_out(broker):
    wrong = broker.url.replace(":secret@", ":guess@")
    started = time.monotonic()
    with pytest.raises(GradingServiceError, match="refused this course"):
        run_on_fleet(wrong, {"notebook": "ps1.ipynb"}, 60)
    assert time.monotonic() - started < 10


def test_the_broker_holds_a_tasks_course_and_nothing_else_readable(broker):
    key = Fernet.generate_key().decode()
    job = seal_job(key, "c101", {"student": "alice", "notebook": "ps1.ipynb", "workspace": ""})
    box = in_background(broker, job, timeout=3)  # no worker: the task stays queued
    client = redis.Redis(port=broker.port, password="secret")
    wait_for(lambda: client.llen("grading") == 1, 10, what="the task in the queue")
    message = json.loads(client.lindex("grading", 0))
    assert message["headers"]["argsrepr"] == "[{course: 'c101', sealed}]"  # Flower shows this
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert args == [job] and kwargs == {}
    assert "alice" not in json.dumps(args) and "ps1.ipynb" not in json.dumps(args)
    box["thread"].join(30)
    assert "timed out" in box.get("error", ""), box
