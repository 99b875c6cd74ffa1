"""Ingestion service for the Expert certification drill, as it runs in production today: it has
the three faults the exam describes. Copy it into the exam's answer cell and repair it there."""

import json  # noqa: F401 - the repaired service needs it
import os

import redis
from celery import Celery

app = Celery("drill")
DONE_KEY = "drill:done"
QUARANTINE_KEY = "drill:quarantine"


def redis_client():
    """The service's Redis (the broker's database)."""
    return redis.Redis.from_url(os.environ["CELERY_BROKER_URL"], decode_responses=True)


app.conf.update(
    task_acks_late=True,
    task_routes={
        "drill.tasks.ingest": {"queue": "ingest"},
        "drill.tasks.daily_report": {"queue": "reports"},
    },
)
_SEEN = {}


@app.task(autoretry_for=(Exception,), max_retries=None, default_retry_delay=1)
def ingest(record):
    """Count a record."""
    redis_client().hincrby(DONE_KEY, record["id"], 1)
    return record["id"]


@app.task
def daily_report():
    """How many ids have been ingested."""
    return redis_client().hlen(DONE_KEY)


@app.task
def enrich(value):
    """value * 2, remembered."""
    _SEEN[value] = value * 2
    return _SEEN[value]


@app.task
def cache_size():
    """Entries remembered by enrich in this process."""
    return len(_SEEN)
