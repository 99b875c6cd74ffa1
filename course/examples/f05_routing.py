"""Routing tasks to dedicated queues and workers (F05 example).

Usage:
    cd course/examples
    celery -A f05_routing worker -Q email -n mail@%h --loglevel=INFO      # terminal 1
    celery -A f05_routing worker -Q celery,images -n general@%h           # terminal 2
    python -m f05_routing                                                 # terminal 3

Routes live in configuration (`task_routes`), so callers never name queues; `where()` asks the
router where a task would go without sending it.
"""

import sys

from celery import Celery
from kombu import Queue

app = Celery("f05_routing")
app.conf.update(
    task_default_queue="celery",
    task_queues=[Queue("celery"), Queue("email"), Queue("images")],
    task_routes={
        "f05_routing.send_email": {"queue": "email"},
        "f05_routing.resize_*": {"queue": "images"},
    },
    worker_prefetch_multiplier=1,
)


@app.task(name="f05_routing.send_email")
def send_email(to):
    return f"mailed {to}"


@app.task(name="f05_routing.resize_thumbnail")
def resize_thumbnail(name):
    return f"thumbnail of {name}"


@app.task(name="f05_routing.generate_report")
def generate_report(day):
    return f"report for {day}"


def where(task):
    return app.amqp.router.route({}, task.name)["queue"].name


def main(argv=None):
    for task, args in (
        (send_email, ("ada@example.com",)),
        (resize_thumbnail, ("cat.png",)),
        (generate_report, ("monday",)),
    ):
        print(f"{task.name} -> {where(task)}: {task.delay(*args).get(timeout=10)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
