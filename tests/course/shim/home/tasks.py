"""The lab's starter module (as images/lab/skel/tasks.py): what the worker runs by default."""

from celery import Celery

app = Celery("tasks")


@app.task
def add(x, y):
    return x + y
