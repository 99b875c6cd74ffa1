"""Grading fleet metrics, kept in the grading broker's Redis so every worker adds to one count.

Workers record what they start and finish (celerylab_hub.grading); the grading exporter
(`python -m celerylab_hub.grading_stats`, compose service grading-exporter) serves them to
Prometheus with the queue's length. Recording never fails a task: a Redis hiccup only loses a
sample.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
import uuid

import redis
from prometheus_client.core import (
    REGISTRY,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

log = logging.getLogger(__name__)
PREFIX = "celerylab:grading:"
BUCKETS = (1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
#: A run older than this is not in flight any more, whatever its worker said (it was killed).
STALE_SECONDS = 3600
_client = None
_runs: dict[str, str] = {}


def client() -> redis.Redis:
    global _client
    if _client is None:
        from celerylab_hub.grading import broker_url

        _client = redis.Redis.from_url(broker_url(), socket_timeout=2, socket_connect_timeout=2)
    return _client


def started(course: str) -> None:
    run = uuid.uuid4().hex
    _runs[course] = run
    try:
        client().hset(PREFIX + "inflight", run, f"{course}|{time.time()}")
    except redis.RedisError as e:
        log.warning("grading stats: %s", e)


def finished(course: str, outcome: str, seconds: float) -> None:
    run = _runs.pop(course, None)
    try:
        pipe = client().pipeline()
        if run:
            pipe.hdel(PREFIX + "inflight", run)
        pipe.hincrby(PREFIX + "total", f"{course}|{outcome}", 1)
        if outcome != "retried":
            for le in (*BUCKETS, "+Inf"):
                if le == "+Inf" or seconds <= le:
                    pipe.hincrby(PREFIX + "duration", f"{course}|{le}", 1)
            pipe.hincrbyfloat(PREFIX + "duration_sum", course, seconds)
        pipe.execute()
    except redis.RedisError as e:
        log.warning("grading stats: %s", e)


class Collector:
    """Prometheus collector over the counts in Redis and the grading queue's length."""

    def __init__(self, r: redis.Redis, queue: str = "grading"):
        self.r, self.queue = r, queue

    def collect(self):
        queue = GaugeMetricFamily(
            "celerylab_grading_queue_length", "grading tasks waiting for a worker"
        )
        inflight = GaugeMetricFamily(
            "celerylab_grading_in_flight", "submissions being graded now", labels=["course"]
        )
        total = CounterMetricFamily(
            "celerylab_grading_submissions",
            "graded notebooks by outcome (ok, or the limit that stopped them; retried = "
            "infrastructure error, tried again)",
            labels=["course", "outcome"],
        )
        duration = HistogramMetricFamily(
            "celerylab_grading_duration_seconds",
            "time from a worker taking a submission to its result",
            labels=["course"],
        )
        up = GaugeMetricFamily("celerylab_grading_broker_up", "the grading broker answers")
        try:
            queue.add_metric([], self.r.llen(self.queue))
            now, counts = time.time(), {}
            for value in self.r.hvals(PREFIX + "inflight"):
                course, _, since = value.decode().rpartition("|")
                if now - float(since) < STALE_SECONDS:
                    counts[course] = counts.get(course, 0) + 1
            for course, n in counts.items():
                inflight.add_metric([course], n)
            for key, n in self.r.hgetall(PREFIX + "total").items():
                course, _, outcome = key.decode().rpartition("|")
                total.add_metric([course, outcome], int(n))
            buckets: dict[str, dict[str, int]] = {}
            for key, n in self.r.hgetall(PREFIX + "duration").items():
                course, _, le = key.decode().rpartition("|")
                buckets.setdefault(course, {})[le] = int(n)
            sums = {
                k.decode(): float(v) for k, v in self.r.hgetall(PREFIX + "duration_sum").items()
            }
            for course, by_le in buckets.items():
                ordered = [(str(float(b)), by_le.get(str(b), 0)) for b in BUCKETS]
                ordered.append(("+Inf", by_le.get("+Inf", 0)))
                duration.add_metric([course], ordered, sums.get(course, 0.0))
            up.add_metric([], 1)
        except redis.RedisError as e:
            log.warning("grading broker: %s", e)
            up.add_metric([], 0)
            yield up
            return
        yield from (queue, inflight, total, duration, up)


def main(argv: list[str] | None = None) -> None:
    from prometheus_client import start_http_server

    logging.basicConfig(level=logging.INFO)
    parser = argparse.ArgumentParser(description="the grading fleet's Prometheus exporter")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 9808))
    args = parser.parse_args(argv)
    from celerylab_hub.grading import broker_url

    # Its own broker user: it reads the queue's length and the counts, nothing else.
    exporter = redis.Redis.from_url(
        broker_url("exporter"), socket_timeout=2, socket_connect_timeout=2
    )
    REGISTRY.register(Collector(exporter))
    start_http_server(args.port)
    print(f"celerylab grading exporter on :{args.port}", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
