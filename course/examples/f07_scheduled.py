"""Scheduled reports with celery beat: intervals, crontab and a lock against overlap (F07 example).

Usage:
    cd course/examples
    celery -A f07_scheduled worker --loglevel=INFO        # terminal 1
    celery -A f07_scheduled beat --loglevel=INFO          # terminal 2 (exactly one beat)
    python -m f07_scheduled                               # when is each entry next due?

`refresh_cache` runs every SCHEDULED_REFRESH_SECONDS (default 60) and never overlaps itself,
thanks to a Redis lock; `weekly_summary` runs on Mondays at 06:00 in Europe/Berlin.
"""

import copy
import os
import sys
from datetime import datetime, timedelta

import redis
from celery import Celery
from celery.schedules import crontab, maybe_schedule

REFRESH_SECONDS = float(os.environ.get("SCHEDULED_REFRESH_SECONDS", "60"))

app = Celery("f07_scheduled")
app.conf.timezone = "Europe/Berlin"
app.conf.beat_schedule = {
    "refresh-cache": {
        "task": "f07_scheduled.refresh_cache",
        "schedule": timedelta(seconds=REFRESH_SECONDS),
        "options": {"expires": REFRESH_SECONDS},
    },
    "weekly-summary": {
        "task": "f07_scheduled.weekly_summary",
        "schedule": crontab(hour=6, minute=0, day_of_week="mon"),
    },
}


def _redis():
    return redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])


@app.task(name="f07_scheduled.refresh_cache")
def refresh_cache():
    r = _redis()
    if not r.set("f07_scheduled:lock", "1", nx=True, ex=300):
        return "skipped"
    try:
        return r.incr("f07_scheduled:refreshes")
    finally:
        r.delete("f07_scheduled:lock")


@app.task(name="f07_scheduled.weekly_summary")
def weekly_summary():
    return "summary sent"


def next_runs(now=None):
    """Roughly how long until each entry is next due, as of `now` (default: the current time)."""
    now = now or datetime.now(app.timezone)
    result = {}
    for name, entry in app.conf.beat_schedule.items():
        schedule = copy.copy(maybe_schedule(entry["schedule"], app=app))
        schedule.nowfun = lambda: now
        result[name] = schedule.remaining_estimate(now)
    return result


def main(argv=None):
    for name, delta in next_runs().items():
        print(f"{name:<15} next run in {delta}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
