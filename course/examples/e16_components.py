"""A task base class that audits every task, a worker bootstep that announces the worker and
shows in `inspect stats`, and a per-process resource opened by a signal (E16 example).

Usage:
    cd course/examples
    celery -A e16_components worker --loglevel=INFO     # terminal 1
    python -m e16_components 6 7 0                      # terminal 2

Divides 42 by each number on the worker, then prints the audit counts the base class kept, the
workers the bootstep announced and what `inspect stats` reports for the bootstep.
"""

import json
import os
import sys

import redis
from celery import Celery, Task, bootsteps
from celery.signals import worker_process_init

PROCESS = {}


def redis_client():
    return redis.Redis.from_url(
        os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0"), decode_responses=True
    )


class AuditedTask(Task):
    """Every task of the app: successes counted, failures listed; task bodies untouched."""

    def on_success(self, retval, task_id, args, kwargs):
        redis_client().hincrby("e16:ok", self.name, 1)

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        redis_client().rpush("e16:failures", json.dumps([self.name, type(exc).__name__]))


class AnnounceStep(bootsteps.StartStopStep):
    """Adds the worker to a Redis set while it runs; reported in `inspect stats`."""

    def start(self, worker):
        redis_client().sadd("e16:workers", worker.hostname)

    def stop(self, worker):
        redis_client().srem("e16:workers", worker.hostname)

    def info(self, worker):
        return {"announce": {"pid": os.getpid()}}


app = Celery("e16_components", task_cls=AuditedTask)
app.steps["worker"].add(AnnounceStep)


@worker_process_init.connect
def per_process(**kwargs):
    """One connection per pool process, opened after the fork."""
    PROCESS["redis"] = redis_client()


@app.task
def divide(a, b):
    return a / b


def main(argv):
    for b in [int(x) for x in argv] or [6]:
        try:
            print(f"42 / {b} =", divide.delay(42, b).get(timeout=10))
        except ZeroDivisionError:
            print(f"42 / {b} failed: ZeroDivisionError")
    client = redis_client()
    print("audited ok:", client.hgetall("e16:ok"))
    print("audited failures:", [json.loads(x) for x in client.lrange("e16:failures", 0, -1)])
    print("announced workers:", sorted(client.smembers("e16:workers")))
    stats = app.control.inspect(timeout=2).stats() or {}
    print("inspect stats:", {name: s.get("announce") is not None for name, s in stats.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
