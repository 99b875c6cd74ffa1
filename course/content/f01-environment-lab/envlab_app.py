"""A minimal Celery application for the F01 environment lab: the grader runs a worker and Flower
for it. It has no tasks of its own; workers still answer pings and run `celery.ping`."""

from celery import Celery

app = Celery("envlab")
