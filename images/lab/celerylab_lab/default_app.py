"""The worker's fallback app, used until the student's own app imports.

`Celery()` with no arguments reads CELERY_BROKER_URL and CELERY_RESULT_BACKEND, which the lab
sets to the student's private Redis, so this app is bound to that Redis and answers pings and
the built-in `celery.ping` task.
"""

from celery import Celery

app = Celery("celerylab")
