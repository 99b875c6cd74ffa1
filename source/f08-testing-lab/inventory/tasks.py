"""Inventory tasks (F08 lab): the application you test. Do not edit it - your tests are run
against this file and against copies of it with faults seeded in."""

import os

import redis
from celery import Celery

app = Celery("inventory")
app.conf.update(task_serializer="json", accept_content=["json"])
STOCK_KEY = "inventory:stock"


class InsufficientStock(Exception):
    """Raised when removing more than is in stock."""


def redis_client():
    return redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])


def _check(sku, qty):
    if not isinstance(sku, str):
        raise TypeError("sku must be a string")
    if not sku:
        raise ValueError("sku must not be empty")
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise TypeError("qty must be an int")
    if qty < 1:
        raise ValueError("qty must be at least 1")


@app.task
def add_stock(sku, qty):
    """Add qty units of sku; return the new stock level."""
    _check(sku, qty)
    return redis_client().hincrby(STOCK_KEY, sku, qty)


@app.task
def remove_stock(sku, qty):
    """Remove qty units of sku; InsufficientStock if fewer are in stock."""
    _check(sku, qty)
    client = redis_client()
    level = int(client.hget(STOCK_KEY, sku) or 0)
    if level < qty:
        raise InsufficientStock(f"only {level} of {sku} in stock, {qty} requested")
    return client.hincrby(STOCK_KEY, sku, -qty)


@app.task
def stock_level(sku):
    """Units of sku in stock (0 when unknown)."""
    return int(redis_client().hget(STOCK_KEY, sku) or 0)
