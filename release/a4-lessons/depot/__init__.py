"""The depot Django project; importing it loads the Celery app (Django's usual layout)."""

from depot.celery import app as celery_app

__all__ = ("celery_app",)
