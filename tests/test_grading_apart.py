"""One course cannot reach another through the grading broker (issue 19, item 4).

A real redis-server set up as the compose grading broker (the platform's ACL file from
`celerylab setup`, course users from `celerylab courses sync`) and a real grading worker
(celerylab_hub.grading, the fleet's own code). Course c101's staff hold c101's broker URL and
grading key, as its container does, and play every attack on course c202; each must fail, and a
control shows the same request succeeds for the course it belongs to. The same attacks run
against the live stack in integration-tests/test_course_apart.py.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import redis
from celery.utils import uuid
from celerylab_course.labkit import free_port, wait_for
from celerylab_hub import grading_acl, secrets
from celerylab_lab.sandbox_execute import (
    GradingServiceError,
    new_task_id,
    open_outcome,
    run_on_fleet,
    seal_job,
    submission_digest,
)

NOPERM = redis.exceptions.NoPermissionError


def workspace() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"print('no notebook here')"
        info = tarfile.TarInfo("helper.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def submission(task_id: str, body: bytes) -> dict:
    # No notebook in the workspace: the worker refuses it, sealed, without needing Docker.
    return {
        "task_id": task_id,
        "student": "alice",
        "assignment": "ps1",
        "notebook": "ps1.ipynb",
        "workspace": base64.b64encode(body).decode(),
    }


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if not shutil.which("redis-server"):
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is needed (CI=true)")
        pytest.skip("redis-server is not installed")
    root = tmp_path_factory.mktemp("apart")
    secrets_dir = root / "secrets"
    secrets.ensure(secrets_dir)
    data = root / "data"
    data.mkdir()
    # What the broker's start command does: the platform's users, then the saved course users.
    shutil.copy(secrets_dir / secrets.BROKER_ACL, data / "users.acl")
    port = free_port()
    broker = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data),
         "--aclfile", str(data / "users.acl"), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def url(user: str, secret: str) -> str:
        return f"redis://{user}:{secret}@127.0.0.1:{port}/0"

    admin = url("default", secrets.read(secrets_dir, "grading_broker_password"))
    wait_for(redis.Redis.from_url(admin).ping, 10, what="the broker")
    courses = {c: secrets.course_broker_password(secrets_dir, c) for c in ("c101", "c202")}
    grading_acl.ensure_course_users(admin, courses)
    env = {
        **os.environ,
        "CELERYLAB_SECRETS_DIR": str(secrets_dir),
        "CELERYLAB_GRADING_BROKER": url(
            "grader", secrets.read(secrets_dir, "grading_worker_password")
        ),
        "DOCKER_HOST": "unix:///nonexistent/docker.sock",  # these tasks never reach a sandbox
    }
    log = root / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "celerylab_hub.grading", "worker", "--pool", "solo",
         "--without-heartbeat", "--without-mingle", "--without-gossip", "-Q", "grading",
         "--loglevel", "INFO"],
        env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=log.open("w"),
    )  # fmt: skip
    wait_for(lambda: "ready" in log.read_text(), 60, what="the grading worker")
    yield {
        "admin": admin,
        "exporter": url("exporter", secrets.read(secrets_dir, "grading_exporter_password")),
        "secrets": secrets_dir,
        "data": data,
        "log": log,
        "a": grading_acl.course_url("c101", courses["c101"]).replace(
            "grading-broker:6379", f"127.0.0.1:{port}"
        ),
        "b": grading_acl.course_url("c202", courses["c202"]).replace(
            "grading-broker:6379", f"127.0.0.1:{port}"
        ),
        "key_a": secrets.course_grading_key(secrets_dir, "c101"),
        "key_b": secrets.course_grading_key(secrets_dir, "c202"),
    }
    worker.terminate()
    worker.wait(30)
    broker.terminate()
    broker.wait(10)


def grade(stack, who: str, course: str, key: str) -> tuple[str, bytes, dict]:
    body = workspace()
    task_id = new_task_id(course)
    job = seal_job(key, course, submission(task_id, body))
    return task_id, body, run_on_fleet(stack[who], job, 60, task_id)


def test_a_course_grades_through_its_own_user_and_the_outcome_is_bound_to_its_task(stack):
    task_id, body, result = grade(stack, "b", "c202", stack["key_b"])
    outcome = open_outcome(stack["key_b"], result, task_id, submission_digest(body))
    assert outcome["status"] == "refused" and "not in the workspace" in outcome["reason"]
    assert outcome["task_id"] == task_id
    admin = redis.Redis.from_url(stack["admin"])
    assert admin.get(f"celery-task-meta-{task_id}") is None  # read, then removed at once


def subscribe(client: redis.Redis, pattern: str) -> None:
    """Redis answers a subscription after it is sent: read the answer (or its refusal)."""
    listener = client.pubsub()
    listener.psubscribe(pattern)
    message = listener.get_message(timeout=5)
    assert message and message["type"] == "psubscribe", message


def test_staff_of_one_course_cannot_watch_forge_delete_or_flush_another(stack):
    a = redis.Redis.from_url(stack["a"])
    admin = redis.Redis.from_url(stack["admin"])
    victim = f"c202.{uuid()}"
    admin.set(f"celery-task-meta-{victim}", json.dumps({"status": "STARTED"}))
    attacks = {
        "watch the queue": lambda: a.lrange("grading", 0, -1),
        "list the keys": lambda: a.keys("*"),
        "scan the keys": lambda: a.scan(0),
        "read c202's result": lambda: a.get(f"celery-task-meta-{victim}"),
        "forge c202's result": lambda: a.set(f"celery-task-meta-{victim}", '{"status": "SUCCESS"}'),
        "delete c202's result": lambda: a.delete(f"celery-task-meta-{victim}"),
        "pop c202's tasks": lambda: a.rpop("grading"),
        "trim the queue": lambda: a.ltrim("grading", 1, 0),
        "delete the queue": lambda: a.delete("grading"),
        "take tasks being run": lambda: a.hgetall("unacked"),
        "FLUSHALL": lambda: a.flushall(),
        "FLUSHDB": lambda: a.flushdb(),
        "reconfigure": lambda: a.config_set("maxmemory", "1"),
        "see the users": lambda: a.execute_command("ACL", "LIST"),
        "stop the broker": lambda: a.execute_command("SHUTDOWN", "NOSAVE"),
        "stop the graders (remote control)": lambda: a.publish("/0.celery.pidbox", "shutdown"),
        "watch task events": lambda: subscribe(a, "*"),
        "watch c202's results arrive": lambda: subscribe(a, f"celery-task-meta-{victim}"),
        "watch every command": lambda: a.execute_command("MONITOR"),
        "kill other clients": lambda: a.client_kill_filter(_type="normal"),
        "run a script": lambda: a.eval("return redis.call('flushall')", 0),
    }
    succeeded = []
    for name, attack in attacks.items():
        try:
            attack()
        except NOPERM:
            continue
        succeeded.append(name)
    assert not succeeded, f"course c101's user could {succeeded}"
    assert admin.get(f"celery-task-meta-{victim}") is not None  # untouched
    # Control: the victim course itself may read and delete what is its own, and still grades.
    b = redis.Redis.from_url(stack["b"])
    assert json.loads(b.get(f"celery-task-meta-{victim}")) == {"status": "STARTED"}
    assert b.delete(f"celery-task-meta-{victim}") == 1
    task_id, body, result = grade(stack, "b", "c202", stack["key_b"])
    assert open_outcome(stack["key_b"], result, task_id, submission_digest(body))


def test_the_platforms_users_are_not_in_a_course_container(stack):
    # The admin and the graders' passwords do not open the broker as a course's staff would hold
    # them: a course user cannot read the broker's users or the secrets behind them.
    a = redis.Redis.from_url(stack["a"])
    with pytest.raises(NOPERM):
        a.execute_command("ACL", "GETUSER", "grader")
    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis.from_url(stack["a"].replace("course-c101:", "course-c202:")).ping()


def test_a_task_sent_into_another_courses_namespace_writes_nothing_there(stack):
    # c101 asks the worker to run its own sealed job under an id of c202's: a result there would
    # be a forgery (c202 polls that key). The worker refuses to store anything.
    admin = redis.Redis.from_url(stack["admin"])
    victim = f"c202.{uuid()}"
    job = seal_job(stack["key_a"], "c101", submission(victim, workspace()))
    with pytest.raises(GradingServiceError, match="timed out"):
        run_on_fleet(stack["admin"], job, 5, victim)  # sent with the admin's rights, even
    assert admin.get(f"celery-task-meta-{victim}") is None
    assert f"ignored task {victim}" in stack["log"].read_text()


def test_a_job_claiming_another_course_comes_back_unsealed_and_is_refused(stack):
    # c101 seals with its own key but names c202 and an id in c202's namespace (an id it would
    # have to guess): the worker cannot open it, and c202 refuses what comes back unsealed.
    victim = f"c202.{uuid()}"
    body = workspace()
    job = seal_job(stack["key_a"], "c202", submission(victim, body))
    result = run_on_fleet(stack["admin"], job, 60, victim)
    assert "sealed" not in result
    with pytest.raises(GradingServiceError, match="not sealed, so it is not trusted"):
        open_outcome(stack["key_b"], result, victim, submission_digest(body))


def test_a_sealed_job_replayed_under_another_id_is_refused(stack):
    # Someone who got hold of one of c202's sealed jobs sends it again under a new id of c202's:
    # the worker refuses it (sealed for another task), so it cannot be re-graded at will.
    first = f"c202.{uuid()}"
    body = workspace()
    job = seal_job(stack["key_b"], "c202", submission(first, body))
    again = f"c202.{uuid()}"
    result = run_on_fleet(stack["admin"], job, 60, again)
    assert result["status"] == "refused" and "sealed for task" in result["reason"]
    with pytest.raises(GradingServiceError, match="not sealed, so it is not trusted"):
        open_outcome(stack["key_b"], result, again, submission_digest(body))


def test_a_sealed_outcome_of_another_task_or_submission_is_refused(stack):
    task_id, body, result = grade(stack, "b", "c202", stack["key_b"])
    assert open_outcome(stack["key_b"], result, task_id, submission_digest(body))
    with pytest.raises(GradingServiceError, match="sealed for another task"):
        open_outcome(stack["key_b"], result, f"c202.{uuid()}", submission_digest(body))
    with pytest.raises(GradingServiceError, match="sealed for another task"):
        open_outcome(stack["key_b"], result, task_id, submission_digest(b"another submission"))
    with pytest.raises(GradingServiceError, match="not sealed with this course's key"):
        open_outcome(stack["key_a"], result, task_id, submission_digest(body))


def test_the_exporter_reads_the_counts_and_nothing_else(stack):
    from celerylab_hub import grading_stats

    exporter = redis.Redis.from_url(stack["exporter"])
    metrics = {m.name: m for m in grading_stats.Collector(exporter).collect()}
    assert metrics["celerylab_grading_broker_up"].samples[0].value == 1
    for attack in (
        lambda: exporter.get("celery-task-meta-c202.x"),
        lambda: exporter.hset("celerylab:grading:total", "c101|ok", 99),
        lambda: exporter.flushall(),
    ):
        with pytest.raises(NOPERM):
            attack()


def test_course_users_survive_a_broker_restart_through_its_acl_file(stack):
    saved = (stack["data"] / "users.acl").read_text()
    assert "user course-c101 " in saved and "user course-c202 " in saved
    for course in ("c101", "c202"):
        assert secrets.course_broker_password(stack["secrets"], course) not in saved
    # The broker's restart with them: integration-tests/test_course_apart.py.
