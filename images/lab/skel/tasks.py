"""Your lab's tasks. The Celery worker in this lab imports this module (`tasks`).

After editing, restart the worker so it sees the change:
    celerylab-worker restart      (in a terminal, or a notebook cell starting with `!`)
or open the "Celery worker" tile in the JupyterLab launcher and press Restart.
"""

from celery import Celery

# No arguments needed: Celery reads CELERY_BROKER_URL and CELERY_RESULT_BACKEND, which point at
# this lab's private Redis.
app = Celery("tasks")


@app.task
def add(x, y):
    return x + y
