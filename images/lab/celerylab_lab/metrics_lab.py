"""A student lab's worker and Redis, read when Prometheus scrapes (celerylab_lab.metrics)."""

from __future__ import annotations

import json
import os
from datetime import datetime

import redis
from prometheus_client.core import GaugeMetricFamily

from celerylab_lab import paths

#: Queues to measure at most: a student's Redis may hold anything, a scrape must stay cheap.
MAX_QUEUES = 20
DEFAULT_QUEUE = "celery"
#: kombu's Redis transport keeps each exchange's bindings in a set of
#: "routing_key<SEP>pattern<SEP>queue" members.
BINDING_SEP = "\x06\x16"


def worker_state(status_file=paths.WORKER_STATUS) -> tuple[bool, float | None]:
    """(is the worker up, when it started) from the status file the worker writes."""
    try:
        status = json.loads(status_file.read_text())
    except (OSError, ValueError):
        return False, None
    started = status.get("started_at")
    try:
        started_at = datetime.fromisoformat(started).timestamp() if started else None
    except ValueError:
        started_at = None
    pid = status.get("pid")
    try:
        os.kill(int(pid), 0)
        alive = True
    except (TypeError, ValueError, ProcessLookupError, PermissionError):
        alive = False
    return bool(status.get("ready")) and alive, started_at


def queue_names(client: redis.Redis) -> list[str]:
    names = {DEFAULT_QUEUE}
    for key in client.scan_iter(match="_kombu.binding.*", count=100):
        for member in client.smembers(key):
            queue = member.decode(errors="replace").split(BINDING_SEP)[-1]
            # Broadcast queues of remote control and events are not work waiting.
            if queue and not queue.endswith(".pidbox") and not queue.startswith("celeryev."):
                names.add(queue)
        if len(names) >= MAX_QUEUES:
            break
    return sorted(names)[:MAX_QUEUES]


class LabCollector:
    def __init__(self, client: redis.Redis, status_file=paths.WORKER_STATUS):
        self.client, self.status_file = client, status_file

    @classmethod
    def from_environ(cls, environ) -> LabCollector:
        url = environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
        return cls(redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1))

    def collect(self):
        up, started = worker_state(self.status_file)
        yield GaugeMetricFamily(
            "celerylab_worker_up", "1 if the lab's Celery worker is running and ready", value=up
        )
        if started is not None:
            yield GaugeMetricFamily(
                "celerylab_worker_started_timestamp_seconds",
                "When the worker last started (restarts show as changes)",
                value=started,
            )
        yield from self._redis()

    def _redis(self):
        try:
            info = self.client.info()
            queues = {q: self.client.llen(q) for q in queue_names(self.client)}
        except (redis.RedisError, OSError):
            yield GaugeMetricFamily("celerylab_redis_up", "1 if the lab's Redis answers", value=0)
            return
        yield GaugeMetricFamily("celerylab_redis_up", "1 if the lab's Redis answers", value=1)
        for name, key, text in (
            ("used_memory_bytes", "used_memory", "Memory used by the lab's Redis"),
            ("maxmemory_bytes", "maxmemory", "maxmemory of the lab's Redis (0: none)"),
            ("connected_clients", "connected_clients", "Clients connected to the lab's Redis"),
        ):
            if key in info:
                yield GaugeMetricFamily(f"celerylab_redis_{name}", text, value=info[key])
        length = GaugeMetricFamily(
            "celerylab_queue_length", "Messages waiting in a Celery queue", labels=["queue"]
        )
        for queue, count in queues.items():
            length.add_metric([queue], count)
        yield length
