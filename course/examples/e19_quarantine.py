"""Find and quarantine poison messages in a Redis queue without losing or reordering the others,
then let a worker drain the queue (E19 example).

Usage:
    cd course/examples
    celery -A e19_quarantine worker --loglevel=INFO         # terminal 1 (consumes celery only)
    python -m e19_quarantine fill intake                    # terminal 2: 6 records, 2 poisoned
    python -m e19_quarantine scan intake                    # which messages are poison
    python -m e19_quarantine move intake                    # quarantine them
    python -m e19_quarantine drain intake                   # the worker consumes what is left

A message is poison when it calls `ingest` with a record that is not a dict with an int `id`.
"""

import base64
import json
import os
import sys
import time

import redis
from celery import Celery

app = Celery("e19_quarantine")
app.conf.update(task_acks_late=True, worker_prefetch_multiplier=1)
QUARANTINE_KEY = "e19:quarantine"
DONE_KEY = "e19:done"


def redis_client():
    return redis.Redis.from_url(
        os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0"), decode_responses=True
    )


def valid(record):
    return isinstance(record, dict) and type(record.get("id")) is int


@app.task
def ingest(record):
    if not valid(record):  # defence in depth: never crash on a bad record
        redis_client().rpush(QUARANTINE_KEY, json.dumps({"record": repr(record)}))
        return None
    redis_client().hincrby(DONE_KEY, record["id"], 1)
    return record["id"]


def decode(raw):
    """(task name, args) of one raw message of a Redis queue."""
    envelope = json.loads(raw)
    args, _kwargs, _embed = json.loads(base64.b64decode(envelope["body"]))
    return envelope["headers"]["task"], args


def poisoned(raw):
    name, args = decode(raw)
    return name == ingest.name and not (args and valid(args[0]))


def main(argv):
    command, queue = argv
    client = redis_client()
    if command == "fill":
        for record in ({"id": 1}, "junk", {"id": 2}, {"id": "3"}, {"id": 4}, {"id": 5}):
            ingest.apply_async((record,), queue=queue)
        print(f"{client.llen(queue)} messages in {queue}")
    elif command == "scan":
        for n, raw in enumerate(reversed(client.lrange(queue, 0, -1))):  # oldest first
            if poisoned(raw):
                print(f"#{n} poison: {decode(raw)[1]!r}")
    elif command == "move":
        moved = 0
        for raw in reversed(client.lrange(queue, 0, -1)):  # LREM the exact one: the others stay
            if poisoned(raw) and client.lrem(queue, 1, raw):
                client.rpush(QUARANTINE_KEY, json.dumps({"message": raw}))
                moved += 1
        print(f"quarantined {moved}; {client.llen(queue)} left in {queue}")
    elif command == "drain":
        waiting = client.llen(queue) + client.hlen(DONE_KEY)  # every one is good after "move"
        app.control.add_consumer(queue, reply=True, timeout=5)
        deadline = time.monotonic() + 30
        while client.hlen(DONE_KEY) < waiting and time.monotonic() < deadline:
            time.sleep(0.2)
        print("ingested:", sorted(int(k) for k in client.hkeys(DONE_KEY)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
