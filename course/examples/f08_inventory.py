"""Inventory with failure handling and task-aware logging, and its tests (F08 example).

Usage:
    cd course/examples
    celery -A f08_inventory worker --loglevel=INFO                       # terminal 1
    python -m f08_inventory add pen 5 && python -m f08_inventory remove pen 7   # terminal 2
    python -m pytest ../../tests/course/test_course_examples.py -k f08   # its tests (real worker)

`remove` fails with InsufficientStock (state FAILURE, logged with the task id by
get_task_logger); tasks acknowledge late and are idempotent per request id, so a redelivered
message never applies the same change twice.
"""

import os
import sys

import redis
from celery import Celery
from celery.utils.log import get_task_logger

app = Celery("f08_inventory")
app.conf.update(task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1)
logger = get_task_logger(__name__)
STOCK = "f08_inventory:stock"
APPLIED = "f08_inventory:applied"


class InsufficientStock(Exception):
    pass


def _redis():
    return redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])


def _apply(request_id, sku, delta):
    """Apply a stock change once per request id (idempotent under redelivery)."""
    r = _redis()
    if not r.sadd(APPLIED, request_id):
        logger.info("request %s already applied; skipping", request_id)
        return int(r.hget(STOCK, sku) or 0)
    return r.hincrby(STOCK, sku, delta)


@app.task(bind=True, soft_time_limit=10)
def add(self, sku, qty):
    logger.info("adding %s x %s", qty, sku)
    return _apply(self.request.id, sku, qty)


@app.task(bind=True, soft_time_limit=10)
def remove(self, sku, qty):
    level = int(_redis().hget(STOCK, sku) or 0)
    if level < qty:
        logger.warning("refusing to remove %s x %s: only %s in stock", qty, sku, level)
        raise InsufficientStock(f"only {level} of {sku} in stock")
    return _apply(self.request.id, sku, -qty)


def main(argv=None):
    action, sku, qty = sys.argv[1:] if argv is None else argv
    result = {"add": add, "remove": remove}[action].delay(sku, int(qty))
    try:
        print(f"{sku}: {result.get(timeout=10)} in stock")
    except InsufficientStock as e:
        print(f"{result.state}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
