"""The lab's worker settings: environment defaults, the student's file, and bad values."""

import json

import pytest
from celerylab_lab.settings import WorkerSettings


@pytest.fixture
def config(tmp_path, monkeypatch):
    for var in ("APP", "DIR", "POOL", "CONCURRENCY", "AUTOSCALE"):
        monkeypatch.delenv(f"CELERYLAB_WORKER_{var}", raising=False)
    return tmp_path / "worker.json"


def test_defaults_run_tasks_module_on_an_autoscaled_prefork_pool(config):
    s = WorkerSettings.load(config)
    assert (s.app, s.pool, s.autoscale) == ("tasks", "prefork", "4,0")
    assert "--autoscale=4,0" in s.worker_argv() and "--pool=prefork" in s.worker_argv()
    assert "--task-events" in s.worker_argv()


def test_fixed_pool_when_autoscale_is_empty(config):
    s = WorkerSettings(autoscale="", concurrency=2).validated()
    assert "--concurrency=2" in s.worker_argv()
    assert not any(a.startswith("--autoscale") for a in s.worker_argv())


def test_hub_defaults_then_student_file(config, monkeypatch):
    monkeypatch.setenv("CELERYLAB_WORKER_CONCURRENCY", "2")
    assert WorkerSettings.load(config).concurrency == 2
    WorkerSettings(app="calculator.tasks", concurrency=4, workdir="/tmp").save(config)
    s = WorkerSettings.load(config)
    assert (s.app, s.concurrency, s.workdir) == ("calculator.tasks", 4, "/tmp")


def test_autoscale_replaces_concurrency(config):
    s = WorkerSettings(autoscale="4,1").validated()
    assert "--autoscale=4,1" in s.worker_argv()
    assert not any(a.startswith("--concurrency") for a in s.worker_argv())


def test_queues_to_consume_are_passed_to_the_worker(config):
    assert not any(a.startswith("--queues") for a in WorkerSettings().validated().worker_argv())
    s = WorkerSettings(queues="celery, ingest").validated()
    assert "--queues=celery,ingest" in s.worker_argv()
    s.save(config)
    assert WorkerSettings.load(config).queues == "celery,ingest"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"pool": "gevent", "autoscale": ""}, "pool must be one of"),
        ({"concurrency": 0, "autoscale": ""}, "between 1 and 16"),
        ({"concurrency": "many", "autoscale": ""}, "whole number"),
        ({"autoscale": "4"}, "'max,min'"),
        ({"autoscale": "1,4"}, "min <= max"),
        ({"autoscale": "0,0"}, "max >= 1"),
        ({"autoscale": "4,1", "pool": "threads"}, "only with the prefork pool"),
        ({"app": " "}, "must name a module"),
        ({"queues": "celery,,ingest"}, "names separated by commas"),
        ({"queues": "celery ingest"}, "names separated by commas"),
    ],
)
def test_bad_values_are_explained(values, message):
    with pytest.raises(ValueError, match=message):
        WorkerSettings(**values).validated()


def test_unknown_or_broken_student_file_is_explained(config):
    config.write_text(json.dumps({"app": "tasks", "colour": "blue"}))
    with pytest.raises(ValueError, match="unknown settings"):
        WorkerSettings.load(config)
    config.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        WorkerSettings.load(config)
