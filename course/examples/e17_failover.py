"""Two brokers, one per region, given to clients and workers as a failover list; events applied
exactly once in a store that outlives either broker (E17 example).

Usage:
    cd course/examples
    export CELERY_BROKER_URL="redis://region-a:6379/0;redis://region-b:6379/0"
    export E17_STORE_URL=redis://store:6379/0 CELERY_RESULT_BACKEND=redis://store:6379/1
    celery -A e17_failover worker --loglevel=INFO         # terminal 1
    python -m e17_failover publish 10                     # terminal 2; stop region A, then again
    python -m e17_failover status                         # events applied, once each

Publishes retry across the failover; a repeated event is recognised and not applied twice.
"""

import os
import sys

import redis
from celery import Celery

app = Celery("e17_failover")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    broker_failover_strategy="round-robin",
    broker_connection_retry_on_startup=True,
)
APPLY = """
if redis.call('HSETNX', KEYS[1], ARGV[1], 1) == 1 then redis.call('INCR', KEYS[2]) return 1 end
return 0
"""


def store():
    return redis.Redis.from_url(os.environ["E17_STORE_URL"], decode_responses=True)


@app.task
def record(event_id):
    return bool(store().eval(APPLY, 2, "e17:events", "e17:applied", event_id))


def publish(event_id):
    policy = {"max_retries": 5, "interval_start": 0, "interval_step": 0.2, "interval_max": 1}
    return record.apply_async((event_id,), retry=True, retry_policy=policy)


def main(argv):
    if argv[:1] == ["publish"]:
        start = int(store().incrby("e17:published", 0))
        results = [publish(f"event-{n}") for n in range(start, start + int(argv[1]))]
        new = sum(r.get(timeout=60) for r in results)
        store().incrby("e17:published", len(results))
        print(f"published {len(results)}, applied {new} new")
        return 0
    if argv[:1] == ["status"]:
        print(f"applied {store().get('e17:applied') or 0} events")
        return 0
    print("usage: python -m e17_failover publish N | status", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
