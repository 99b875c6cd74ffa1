"""Fixtures for your inventory tests (provided): a real Celery worker, running in a thread of
the test process against the Redis in CELERY_BROKER_URL, and an empty stock for every test."""

import pytest
from celery.contrib.testing.worker import start_worker
from inventory import tasks


@pytest.fixture(scope="session")
def worker():
    """A live worker for inventory.tasks.app; use it in tests that call .delay()."""
    with start_worker(tasks.app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


@pytest.fixture(autouse=True)
def empty_stock():
    tasks.redis_client().delete(tasks.STOCK_KEY)
    yield
