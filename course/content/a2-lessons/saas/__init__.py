"""The SaaS Django project; importing it loads the Celery app (Django's usual layout)."""

from saas.celery import app as celery_app

__all__ = ("celery_app",)
