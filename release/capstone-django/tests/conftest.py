"""Fixtures for your shop tests (provided): Django on a fresh SQLite database, a real Celery
worker in a thread of the test process (against the Redis in CELERY_BROKER_URL), and empty
tables before every test."""

import os
import tempfile

import django
import pytest

os.environ["DJANGO_SETTINGS_MODULE"] = "shop.settings"
os.environ["SHOP_DB"] = os.path.join(tempfile.mkdtemp(prefix="shop-tests-"), "db.sqlite3")
django.setup()

from celery.contrib.testing.worker import start_worker  # noqa: E402
from django.core.management import call_command  # noqa: E402
from shop.celery import app  # noqa: E402

call_command("migrate", verbosity=0)


@pytest.fixture(scope="session")
def worker():
    """A live worker for the shop's Celery app."""
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as w:
        yield w


@pytest.fixture(autouse=True)
def empty_tables():
    from django_celery_beat.models import CrontabSchedule, PeriodicTask
    from orders.models import Order, OrderLine, Product

    for model in (OrderLine, Order, Product, PeriodicTask, CrontabSchedule):
        model.objects.all().delete()
    yield
