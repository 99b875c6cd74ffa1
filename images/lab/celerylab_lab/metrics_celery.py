"""Task counters of the student's worker, from Celery's signals (imported by the worker).

Tasks run in prefork children that come and go (autoscale), so the counters use
prometheus_client's multiprocess mode: every process writes its own small file in
paths.METRICS_DIR, and the lab's metrics endpoint (celerylab_lab.metrics) adds them up when
Prometheus asks. Counts survive worker restarts for the life of the lab. Nothing runs between
tasks: no thread, no polling.
"""

from __future__ import annotations

import os
import sys
import time

from celerylab_lab import paths

if "prometheus_client" in sys.modules:  # too late for multiprocess mode: count nothing
    ENABLED = False
else:
    paths.METRICS_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(paths.METRICS_DIR)
    ENABLED = True

from celery.signals import task_postrun, task_prerun, task_received, task_revoked
from prometheus_client import Counter, Histogram

TASKS = Counter(
    "celerylab_tasks",
    "Tasks the worker finished, by task name and state (success, failure, retry, ...)",
    ["task", "state"],
)
RECEIVED = Counter("celerylab_tasks_received", "Tasks the worker received", ["task"])
RUNTIME = Histogram(
    "celerylab_task_runtime_seconds",
    "How long tasks ran in the worker",
    ["task"],
    buckets=(0.005, 0.025, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
_started: dict[str, float] = {}


@task_received.connect(weak=False)
def _received(request=None, **_):
    if ENABLED and request is not None:
        RECEIVED.labels(request.name).inc()


@task_prerun.connect(weak=False)
def _prerun(task_id=None, **_):
    _started[task_id] = time.monotonic()


@task_postrun.connect(weak=False)
def _postrun(task_id=None, task=None, state=None, **_):
    started = _started.pop(task_id, None)
    if not ENABLED or task is None:
        return
    TASKS.labels(task.name, (state or "unknown").lower()).inc()
    if started is not None:
        RUNTIME.labels(task.name).observe(time.monotonic() - started)


@task_revoked.connect(weak=False)
def _revoked(request=None, **_):
    if ENABLED and request is not None:
        TASKS.labels(request.name, "revoked").inc()
