"""Deploying Django with workers: one settings source read from the environment, a health check
for the load balancer and the deploy script, and the worker settings that let a deploy replace
workers without losing tasks (A4 example).

Usage:
    cd course/examples
    export A4_DB=/tmp/a4.sqlite3 A4_PREFETCH=1
    python -m a4_django_deploy migrate                          # before the new release starts
    celery -A a4_django_deploy worker --loglevel=INFO           # the workers' command
    python -m a4_django_deploy health                           # what /healthz answers
    python -m a4_django_deploy serve                            # or GET :8000/healthz

`health` exits 1 while anything is not ready (database, migrations, broker, a worker), so a deploy
script can wait on it; every process reads the same settings from the same environment.
"""

import json
import os
import sys

import django
from django.conf import settings


def env(name, default, cast=str):
    """A typed setting from the environment; booleans accept 1/true/yes/on."""
    value = os.environ.get(name)
    if value is None:
        return default
    if cast is bool:
        return value.strip().lower() in ("1", "true", "yes", "on")
    return cast(value)


if not settings.configured:
    settings.configure(
        DEBUG=env("A4_DEBUG", False, bool),
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=env("A4_ALLOWED_HOSTS", "localhost,127.0.0.1,testserver").split(","),
        SECRET_KEY=env("A4_SECRET_KEY", "example-only"),
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": env("A4_DB", "a4_deploy.sqlite3"),
            }
        },
        CELERY_TASK_ACKS_LATE=env("A4_ACKS_LATE", True, bool),
        CELERY_TASK_REJECT_ON_WORKER_LOST=env("A4_REJECT_ON_WORKER_LOST", True, bool),
        CELERY_WORKER_PREFETCH_MULTIPLIER=env("A4_PREFETCH", 1, int),
    )
    django.setup()

from celery import Celery  # noqa: E402 - after settings.configure()
from django.db import connection  # noqa: E402 - after settings.configure()
from django.db.migrations.executor import MigrationExecutor  # noqa: E402 - after settings.configure()
from django.http import JsonResponse  # noqa: E402 - after settings.configure()
from django.urls import path  # noqa: E402 - after settings.configure()

app = Celery("a4_django_deploy")
app.config_from_object(settings, namespace="CELERY")


def health_report():
    body = {"database": "ok", "migrations": "ok", "broker": "ok", "workers": 0}
    try:
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            body["migrations"] = "pending"
    except Exception:
        body["database"] = body["migrations"] = "down"
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        body["workers"] = len(app.control.ping(timeout=1.0) or [])
    except Exception:
        body["broker"] = "down"
    ready = all(body[k] == "ok" for k in ("database", "migrations", "broker")) and body["workers"]
    return body, bool(ready)


def healthz(request):
    body, ready = health_report()
    return JsonResponse(body, status=200 if ready else 503)


urlpatterns = [path("healthz", healthz)]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["migrate"]:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        print("migrated")
        return 0
    if argv == ["health"]:
        body, ready = health_report()
        print(json.dumps(body, sort_keys=True))
        return 0 if ready else 1
    if argv[:1] == ["serve"]:
        from django.core.management import call_command

        call_command("runserver", "--noreload", *argv[1:])
        return 0
    print("usage: python -m a4_django_deploy migrate | health | serve", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
