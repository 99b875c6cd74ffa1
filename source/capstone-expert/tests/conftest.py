"""Fixtures for your platform tests (provided): a real Celery worker, running in a thread of the
test process against the Redis in CELERY_BROKER_URL, and empty jobs:* keys for every test."""

import pytest
from celery.contrib.testing.worker import start_worker
from jobs import tasks


@pytest.fixture(scope="session")
def worker():
    """A live worker for jobs.tasks.app consuming every platform queue."""
    with start_worker(
        tasks.app,
        pool="solo",
        perform_ping_check=False,
        shutdown_timeout=10,
        queues=["celery", "standard", "gold"],
    ) as w:
        yield w


@pytest.fixture(autouse=True)
def clean_keys():
    client = tasks.redis_client()
    for key in client.scan_iter("jobs:*"):
        client.delete(key)
    yield
