"""Health check for a Celery environment: the F01 example application.

Usage:
    # in a lab terminal (CELERY_BROKER_URL is already set)
    cd course/examples
    python -m f01_healthcheck                                  # Redis and worker
    python -m f01_healthcheck --flower http://127.0.0.1:5555   # and a Flower you started with
                                                               #   celery flower --port=5555

Prints one line per service and exits 1 when any check fails, so it also works as a container
health check or a CI smoke test.
"""

import argparse
import os
import sys
import urllib.error
import urllib.request

import redis
from celery import Celery

# Bound to CELERY_BROKER_URL; also lets `celery -A f01_healthcheck worker` start a worker to check.
app = Celery("healthcheck")


def check_redis(url, timeout=2.0):
    try:
        redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout).ping()
    except redis.RedisError as e:
        return False, f"no answer: {e}"
    return True, "PONG"


def check_worker(app, timeout=2.0):
    try:
        replies = app.control.ping(timeout=timeout) or []
    except Exception as e:
        return False, f"no broker: {e}"
    names = sorted(name for reply in replies for name in reply)
    return bool(names), ", ".join(names) or "no worker answered"


def check_flower(url, timeout=5.0):
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/healthcheck", timeout=timeout) as r:  # noqa: S310
            return r.status == 200, f"HTTP {r.status}"
    except (urllib.error.URLError, OSError) as e:
        return False, f"not reachable: {e}"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check Redis, a Celery worker and Flower.")
    parser.add_argument(
        "--broker", default=os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0")
    )
    parser.add_argument("--flower", help="Flower base URL (skipped when absent)")
    args = parser.parse_args(argv)
    checks = {"redis": check_redis(args.broker), "worker": check_worker(app)}
    if args.flower:
        checks["flower"] = check_flower(args.flower)
    for name, (ok, detail) in checks.items():
        print(f"{'ok  ' if ok else 'FAIL'} {name:<7} {detail}")
    return 0 if all(ok for ok, _ in checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
