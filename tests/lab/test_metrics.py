"""The lab's metrics endpoint: its token check, and what each collector reads from the real thing
(a redis-server, cgroup files, Celery's signals in a worker-like process, nbgrader's gradebook)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from celerylab_lab import metrics, metrics_cgroup, metrics_course, metrics_lab
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

TOKEN = "s3cret-scrape-token"
SHA = hashlib.sha256(TOKEN.encode()).hexdigest()


def samples(registry) -> dict[tuple, float]:
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def registry_of(*collectors) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    for c in collectors:
        registry.register(c)
    return registry


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (f"Bearer {TOKEN}", True),
        (f"token {TOKEN}", True),
        (f"Bearer {SHA}", False),  # the hash a student can read is not the token
        (TOKEN, False),
        ("Bearer ", False),
        (None, False),
    ],
)
def test_only_the_scrape_token_opens_the_endpoint(header, ok):
    assert metrics.token_ok(header, SHA) is ok
    assert metrics.token_ok(f"Bearer {TOKEN}", "") is False  # no hash configured: nobody


def test_no_hash_means_no_endpoint():
    assert metrics.make_app({}) is None


def test_cgroup_v2(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    (tmp_path / "memory.current").write_text("300000000\n")
    (tmp_path / "memory.stat").write_text("anon 1\ninactive_file 100000000\n")
    (tmp_path / "memory.max").write_text("1073741824\n")
    (tmp_path / "cpu.stat").write_text("usage_usec 2500000\nuser_usec 1\n")
    (tmp_path / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n")
    values = samples(registry_of(metrics_cgroup.CgroupCollector(tmp_path)))
    assert values[("celerylab_lab_memory_bytes", ())] == 200000000
    assert values[("celerylab_lab_memory_limit_bytes", ())] == 1073741824
    assert values[("celerylab_lab_cpu_seconds_total", ())] == 2.5
    assert values[("celerylab_lab_oom_kills_total", ())] == 2


def test_cgroup_v1_without_limit(tmp_path):
    (tmp_path / "memory").mkdir()
    (tmp_path / "cpuacct").mkdir()
    (tmp_path / "memory" / "memory.usage_in_bytes").write_text("177250304\n")
    (tmp_path / "memory" / "memory.stat").write_text("cache 1\ntotal_inactive_file 42024960\n")
    (tmp_path / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (tmp_path / "memory" / "memory.oom_control").write_text("oom_kill_disable 0\noom_kill 1\n")
    (tmp_path / "cpuacct" / "cpuacct.usage").write_text("6218718779\n")
    usage = metrics_cgroup.read_usage(tmp_path)
    assert usage == {"memory": 135225344, "cpu": 6.218718779, "oom_kills": 1}


def test_missing_cgroup_files_give_no_metrics_and_no_error(tmp_path):
    assert samples(registry_of(metrics_cgroup.CgroupCollector(tmp_path / "none"))) == {}


@pytest.fixture
def redis_server(redis_server_installed):
    from celerylab_course.labkit import RedisServer

    with RedisServer() as server:
        yield server


def test_worker_and_redis_from_the_real_thing(redis_server, tmp_path):
    client = redis_server.client()
    # What a worker leaves in its broker: kombu's bindings, a queue with 3 waiting messages, and
    # its remote-control queue (not work, so not measured).
    client.sadd("_kombu.binding.celery", "celery\x06\x16\x06\x16celery")
    client.sadd("_kombu.binding.reports", "reports\x06\x16\x06\x16reports")
    client.sadd("_kombu.binding.celery.pidbox", "\x06\x16\x06\x16celery@lab.celery.pidbox")
    client.rpush("celery", "a", "b", "c")
    status = tmp_path / "worker.json"
    started = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    status.write_text(json.dumps({"pid": os.getpid(), "ready": True, "started_at": str(started)}))
    lab = metrics_lab.LabCollector.from_environ({"CELERY_BROKER_URL": redis_server.url(0)})
    lab.status_file = status
    values = samples(registry_of(lab))
    assert values[("celerylab_worker_up", ())] == 1
    assert values[("celerylab_worker_started_timestamp_seconds", ())] == started.timestamp()
    assert values[("celerylab_redis_up", ())] == 1
    assert values[("celerylab_redis_connected_clients", ())] >= 1
    assert values[("celerylab_redis_used_memory_bytes", ())] > 0
    queues = {k[1][0][1]: v for k, v in values.items() if k[0] == "celerylab_queue_length"}
    assert queues == {"celery": 3, "reports": 0}


def test_a_dead_worker_and_a_dead_redis_are_reported_not_raised(tmp_path):
    status = tmp_path / "worker.json"
    status.write_text(json.dumps({"pid": 2**22 + 17, "ready": True}))  # no such process
    lab = metrics_lab.LabCollector.from_environ({"CELERY_BROKER_URL": "redis://127.0.0.1:1/0"})
    lab.status_file = status
    values = samples(registry_of(lab))
    assert values[("celerylab_worker_up", ())] == 0
    assert values[("celerylab_redis_up", ())] == 0


WORKER = textwrap.dedent(
    """
    import sys
    from celerylab_lab import metrics_celery  # what the worker imports first
    from celery import Celery

    app = Celery("tasks")
    app.conf.task_always_eager = True  # signals fire as in a worker, in this process

    @app.task
    def add(x, y):
        return x + y

    @app.task
    def boom():
        raise ValueError("boom")

    assert metrics_celery.ENABLED
    for i in range(3):
        add.delay(i, i)
    boom.delay()
    """
)


def test_task_counters_from_celery_signals_add_up_across_processes(tmp_path):
    env = {**os.environ, "CELERYLAB_RUN_DIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    for _ in range(2):  # two processes, as prefork children or a restarted worker
        subprocess.run([sys.executable, "-c", WORKER], env=env, check=True, timeout=60)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path / "metrics"))
    values = samples(registry)
    assert values[("celerylab_tasks_total", (("state", "success"), ("task", "tasks.add")))] == 6
    assert values[("celerylab_tasks_total", (("state", "failure"), ("task", "tasks.boom")))] == 2
    assert values[("celerylab_task_runtime_seconds_count", (("task", "tasks.add"),))] == 6


@pytest.fixture
def course_dir(tmp_path, monkeypatch):
    """A course container's home and exchange: two submissions of ps1 (one late), a gradebook."""
    from nbgrader.api import Gradebook

    # nbgrader migrates a new gradebook with the alembic command of its environment
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

    home, exchange = tmp_path / "home", tmp_path / "exchange"
    home.mkdir()
    inbound = exchange / "c101" / "inbound"
    inbound.mkdir(parents=True)
    due = datetime(2027, 1, 10, tzinfo=UTC)
    for student, when in (
        ("amy", due - timedelta(days=1)),
        ("amy", due + timedelta(hours=2)),  # resubmitted late: her latest counts
        ("ben", due - timedelta(hours=1)),
    ):
        stamp = when.strftime(metrics_course.TIMESTAMP_FORMAT)
        (inbound / f"{student}+ps1+{stamp}+{os.urandom(4).hex()}").mkdir()
    (inbound / ".ben+ps1+partial.partial").mkdir()  # an upload in progress: not counted
    with Gradebook(f"sqlite:///{home}/gradebook.db", course_id="c101") as gb:
        gb.add_assignment("ps1", duedate=due.replace(tzinfo=None))
        gb.add_notebook("nb", "ps1")
        gb.add_grade_cell("q1", "nb", "ps1", max_score=4, cell_type="code")
        gb.add_grade_cell("q2", "nb", "ps1", max_score=6, cell_type="markdown")
        for student, auto, manual in (("amy", 4, 3), ("ben", 2, None)):
            gb.add_student(student)
            gb.add_submission("ps1", student)
            for cell, score in (("q1", auto), ("q2", manual)):
                grade = gb.find_grade(cell, "nb", "ps1", student)
                if cell == "q1":  # as autograde leaves a passing code cell
                    grade.auto_score = score
                    grade.needs_manual_grade = False
                else:
                    grade.manual_score = score
                    grade.needs_manual_grade = score is None
            gb.db.commit()
    course = {
        "id": "c101",
        "students": ["amy", "ben", "cy"],
        "assignments": [{"id": "ps1", "due": due.isoformat()}, {"id": "ps2", "due": None}],
    }
    return metrics_course.CourseCollector(course, home, exchange)


def test_course_metrics_from_exchange_and_gradebook(course_dir):
    values = samples(registry_of(course_dir))
    ps1, ps2 = (
        (("assignment", "ps1"), ("course", "c101")),
        (("assignment", "ps2"), ("course", "c101")),
    )
    assert values[("celerylab_course_students", (("course", "c101"),))] == 3
    assert values[("celerylab_course_submissions_total", ps1)] == 3
    assert values[("celerylab_course_submitted_students", ps1)] == 2
    assert values[("celerylab_course_late_students", ps1)] == 1
    assert values[("celerylab_course_submitted_students", ps2)] == 0  # declared, none yet
    assert values[("celerylab_course_graded", ps1)] == 2
    assert values[("celerylab_course_needs_manual_grade", ps1)] == 1  # ben's q2
    # amy 7/10, ben 2/10
    assert values[("celerylab_course_score_ratio_count", ps1)] == 2
    assert values[("celerylab_course_score_ratio_sum", ps1)] == pytest.approx(0.9)
    assert values[("celerylab_course_score_ratio_bucket", (*ps1, ("le", "0.2")))] == 1
    assert values[("celerylab_course_score_ratio_bucket", (*ps1, ("le", "0.7")))] == 2


def test_a_course_without_gradebook_or_submissions_still_reports(tmp_path):
    course = {"id": "c9", "students": [], "assignments": [{"id": "a1", "due": None}]}
    collector = metrics_course.CourseCollector(course, tmp_path, tmp_path / "no-exchange")
    values = samples(registry_of(collector))
    assert values[("celerylab_course_graded", (("assignment", "a1"), ("course", "c9")))] == 0
    assert (
        values[("celerylab_course_submissions_total", (("assignment", "a1"), ("course", "c9")))]
        == 0
    )
