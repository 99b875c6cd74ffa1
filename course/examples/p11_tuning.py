"""A worker tuned for mixed workloads: fair prefetching, late acks, rate and time limits
(P11 example).

Usage:
    cd course/examples
    celery -A p11_tuning worker -Q io --pool=threads --concurrency=20    # terminal 1: I/O work
    celery -A p11_tuning worker -Q cpu --pool=prefork --concurrency=2    # terminal 2: CPU work
    python -m p11_tuning 12                                              # terminal 3

Sends 12 rate-limited API calls (5 per second per worker) to the `io` queue and one runaway
computation to the `cpu` queue, and prints how long the calls took and how the runaway ended.
"""

import sys
import time

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

app = Celery("p11_tuning")
app.conf.update(
    worker_prefetch_multiplier=1,
    task_acks_late=True,
    task_routes={"p11_tuning.call_api": {"queue": "io"}, "p11_tuning.runaway": {"queue": "cpu"}},
)


@app.task(rate_limit="5/s")
def call_api(n):
    return n


@app.task(soft_time_limit=1, time_limit=3)
def runaway(seconds):
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            sum(i * i for i in range(10_000))
    except SoftTimeLimitExceeded:
        return "stopped at the soft time limit"
    return "finished"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    calls = int(argv[0]) if argv else 12
    start = time.monotonic()
    results = [call_api.delay(n) for n in range(calls)]
    done = [r.get(timeout=60) for r in results]
    print(f"{len(done)} calls in {time.monotonic() - start:.1f} s")
    print("runaway:", runaway.delay(30).get(timeout=10))
    return 0


if __name__ == "__main__":
    sys.exit(main())
