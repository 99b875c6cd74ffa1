"""Fixtures for your thumbnail tests (provided): a real Celery worker, running in a thread of the
test process against the Redis in CELERY_BROKER_URL, and empty service keys for every test."""

import pytest
from celery.contrib.testing.worker import start_worker
from thumbs import tasks


@pytest.fixture(scope="session")
def worker():
    """A live worker for thumbs.tasks.app (all queues); use it in tests that call .delay()."""
    queues = ["celery", "images"]
    with start_worker(
        tasks.app, pool="solo", perform_ping_check=False, shutdown_timeout=10, queues=queues
    ) as w:
        yield w


@pytest.fixture(autouse=True)
def clean_keys():
    client = tasks.redis_client()
    for key in client.scan_iter("thumbs:*"):
        client.delete(key)
    yield
