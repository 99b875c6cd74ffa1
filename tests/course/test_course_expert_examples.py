"""The example applications of E16-E19 and A2-A4 work as their Usage docstrings say, against a
real Redis and worker (one worker per example; the Usage-docstring check is in
test_course_examples)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from celerylab_course import labkit

EXAMPLES = Path(__file__).resolve().parents[2] / "course" / "examples"

pytestmark = pytest.mark.redis


@pytest.fixture
def lab(request):
    lab = labkit.Lab(request.param, EXAMPLES)
    yield lab
    lab.close()


@pytest.mark.parametrize("lab", ["e16_components"], indirect=True)
def test_e16_components_audit_and_announce(lab, capsys):
    client = lab.redis.client(0)
    client.delete("e16:ok", "e16:failures")
    assert lab.module.main(["6", "0"]) == 0
    out = capsys.readouterr().out
    assert "42 / 6 = 7.0" in out and "42 / 0 failed: ZeroDivisionError" in out, out
    labkit.wait_for(lambda: client.llen("e16:failures"), 10, what="the failure audit")
    assert client.hgetall("e16:ok") == {b"e16_components.divide": b"1"}
    assert [json.loads(x) for x in client.lrange("e16:failures", 0, -1)] == [
        ["e16_components.divide", "ZeroDivisionError"]
    ]
    assert lab.worker.name in out and f"'{lab.worker.name}': True" in out, out


def _run(args, env, cwd=EXAMPLES):
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_a2_django_tenants_one_report_per_tenant_and_day(redis_server, tmp_path):
    """Run as the Usage says, in subprocesses (Django settings are per process)."""
    env = {
        **os.environ,
        "A2_DB": str(tmp_path / "tenants.sqlite3"),
        "CELERY_BROKER_URL": redis_server.url(2),
        "CELERY_RESULT_BACKEND": redis_server.url(3),
    }
    assert _run(["-m", "a2_django_tenants", "setup"], env).stdout.strip() == "ready"
    with labkit.Worker(
        "a2_django_tenants", redis_server.url(2), redis_server.url(3), EXAMPLES, env=env
    ):
        for _ in range(2):  # a repeated day adds nothing
            out = _run(["-m", "a2_django_tenants", "run", "2026-01-05"], env)
            assert out.returncode == 0, out.stderr
            assert sorted(out.stdout.split("\n")[:-1]) == [
                "2026-01-05 acme 10",
                "2026-01-05 globex 20",
                "2026-01-05 initech 30",
            ]


def test_a3_django_progress_streams_events_to_the_owner_only(redis_server):
    env = {
        **os.environ,
        "CELERY_BROKER_URL": redis_server.url(4),
        "CELERY_RESULT_BACKEND": redis_server.url(5),
    }
    with labkit.Worker(
        "a3_django_progress", redis_server.url(4), redis_server.url(5), EXAMPLES, env=env
    ):
        out = _run(["-m", "a3_django_progress", "watch", "5"], env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    events = [json.loads(line[5:]) for line in lines if line.startswith("data:")]
    assert events[-1] == {"state": "SUCCESS", "done": 5, "total": 5}, events
    assert any(e["state"] == "PROGRESS" for e in events), events
    assert lines[-1] == "bob: 403"


@pytest.mark.parametrize("lab", ["e19_quarantine"], indirect=True)
def test_e19_quarantine_moves_poison_and_keeps_the_rest(lab, capsys):
    ex = lab.module
    for command in ("fill", "scan", "move", "drain"):
        assert ex.main([command, "intake"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "6 messages in intake",
        "#1 poison: ['junk']",
        "#3 poison: [{'id': '3'}]",
        "quarantined 2; 4 left in intake",
        "ingested: [1, 2, 4, 5]",
    ]


@pytest.mark.parametrize("lab", ["e18_benchmark"], indirect=True)
def test_e18_benchmark_batches_beat_one_message_per_item(lab, capsys):
    assert lab.module.main(["--items", "300", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "speed-up:" in out and "(floor 3x)" in out, out


def test_e17_failover_applies_every_event_once_across_a_broker_loss(capsys):
    a, b, store = (labkit.RedisServer().start() for _ in range(3))
    urls = f"{a.url(0)};{b.url(0)}"
    saved = labkit.point_env_at(urls, store.url(1))
    os.environ["E17_STORE_URL"] = store.url(0)
    worker = None
    try:
        ex = labkit.fresh_import("e17_failover", EXAMPLES)
        worker = labkit.Worker("e17_failover", urls, store.url(1), EXAMPLES).start()
        assert ex.main(["publish", "5"]) == 0
        a.stop()  # region A is lost
        assert ex.main(["publish", "5"]) == 0
        assert ex.record.delay("event-3").get(timeout=20) is False  # a duplicate
        assert ex.main(["status"]) == 0
        assert capsys.readouterr().out.splitlines() == [
            "published 5, applied 5 new",
            "published 5, applied 5 new",
            "applied 10 events",
        ]
    finally:
        if worker:
            worker.close()
        os.environ.pop("E17_STORE_URL", None)
        labkit.restore_env(saved)
        for server in (a, b, store):
            server.stop()


def test_a4_django_deploy_health_waits_for_migrations_and_a_worker(redis_server, tmp_path):
    env = {
        **os.environ,
        "A4_DB": str(tmp_path / "deploy.sqlite3"),
        "CELERY_BROKER_URL": redis_server.url(6),
        "CELERY_RESULT_BACKEND": redis_server.url(7),
    }
    health = ["-m", "a4_django_deploy", "health"]
    before = _run(health, env)
    assert before.returncode == 1 and json.loads(before.stdout)["migrations"] == "pending"
    assert _run(["-m", "a4_django_deploy", "migrate"], env).stdout.strip() == "migrated"
    assert json.loads(_run(health, env).stdout)["workers"] == 0
    with labkit.Worker(
        "a4_django_deploy", redis_server.url(6), redis_server.url(7), EXAMPLES, env=env
    ):
        ready = _run(health, env)
    assert ready.returncode == 0, ready.stdout + ready.stderr
    assert json.loads(ready.stdout) == {
        "broker": "ok",
        "database": "ok",
        "migrations": "ok",
        "workers": 1,
    }
