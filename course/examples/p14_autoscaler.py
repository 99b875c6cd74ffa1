"""A queue-length autoscaler: reads a queue's backlog from the broker and prints the bounded
number of workers it wants, once or in a loop (P14 example).

Usage:
    cd course/examples
    python -m p14_autoscaler --queue reports --fill 45          # one decision: 45 waiting -> 5
    python -m p14_autoscaler --queue reports --watch 5          # decide every 5 s (Ctrl-C stops)
    celery -A p14_autoscaler worker -Q reports --autoscale=4,1  # a worker that drains the queue

An orchestrator would apply the number (replicas of a worker deployment); this example prints
it, scaling down at most one step at a time.
"""

import argparse
import math
import sys
import time

from celery import Celery

app = Celery("p14_autoscaler")


@app.task
def job(x):
    return x


def queue_length(queue):
    with app.connection_for_read() as conn:
        return conn.default_channel.client.llen(queue)


def decide(queued, current, minimum=1, maximum=8, per_worker=10):
    if minimum > maximum or min(queued, current, minimum) < 0 or per_worker < 1:
        raise ValueError("need counts >= 0, minimum <= maximum and per_worker >= 1")
    wanted = max(minimum, min(maximum, math.ceil(queued / per_worker)))
    return max(wanted, current - 1)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="p14_autoscaler")
    parser.add_argument("--queue", default="celery")
    parser.add_argument("--fill", type=int, default=0, help="first enqueue this many jobs")
    parser.add_argument("--watch", type=float, default=0, help="decide every N seconds")
    parser.add_argument("--min", type=int, default=1)
    parser.add_argument("--max", type=int, default=8)
    args = parser.parse_args(argv)
    for n in range(args.fill):
        job.apply_async((n,), queue=args.queue)
    current = args.min
    while True:
        waiting = queue_length(args.queue)
        current = decide(waiting, current, args.min, args.max)
        print(f"{args.queue}: {waiting} waiting -> {current} workers", flush=True)
        if not args.watch:
            return 0
        time.sleep(args.watch)


if __name__ == "__main__":
    sys.exit(main())
