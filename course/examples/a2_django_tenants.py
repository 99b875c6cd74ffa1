"""Per-tenant daily reports from one database schedule: django-celery-beat holds one entry, a
fan-out task sends a group of idempotent per-tenant tasks (A2 example).

Usage:
    cd course/examples
    python -m a2_django_tenants setup                          # tables, three tenants, the entry
    celery -A a2_django_tenants worker --loglevel=INFO         # terminal 1
    celery -A a2_django_tenants beat -S django                 # terminal 2 (exactly one beat)
    python -m a2_django_tenants run 2026-01-05                 # terminal 3: a day by hand

The database is SQLite (A2_DB, default a2_tenants.sqlite3 here). Running a day twice creates no
second report: each tenant has one report per day.
"""

import datetime
import os
import sys
import time

import django
from django.conf import settings

if not settings.configured:
    # Run as `python -m a2_django_tenants` this file is __main__: let Django find it by its name.
    sys.modules.setdefault("a2_django_tenants", sys.modules[__name__])
    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django_celery_beat",
            "a2_django_tenants",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": os.environ.get("A2_DB", "a2_tenants.sqlite3"),
                "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            }
        },
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        TIME_ZONE="UTC",
        CELERY_TASK_SERIALIZER="json",
        CELERY_ACCEPT_CONTENT=["json"],
        CELERY_TIMEZONE="UTC",
        CELERY_BEAT_SCHEDULER="django_celery_beat.schedulers:DatabaseScheduler",
    )
    django.setup()

from celery import Celery, group  # after settings.configure()
from django.db import IntegrityError, models, transaction

app = Celery("a2_django_tenants")
app.config_from_object(settings, namespace="CELERY")


class Tenant(models.Model):
    name = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(default=True)
    usage = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "a2_django_tenants"


class DailyReport(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE)
    day = models.DateField()
    usage = models.PositiveIntegerField()

    class Meta:
        app_label = "a2_django_tenants"
        constraints = [  # noqa: RUF012 - Django's Meta format
            models.UniqueConstraint(fields=["tenant", "day"], name="a2_one_report_a_day")
        ]


@app.task
def tenant_report(tenant_id, day):
    """The tenant's report for the day, created once (a repeat or a race changes nothing)."""
    tenant = Tenant.objects.get(pk=tenant_id)
    try:
        with transaction.atomic():
            _, created = DailyReport.objects.get_or_create(
                tenant=tenant, day=day, defaults={"usage": tenant.usage}
            )
    except IntegrityError:
        created = False
    return created


@app.task
def fan_out(day=None):
    """One tenant_report per active tenant: the only task beat sends."""
    day = day or datetime.datetime.now(datetime.UTC).date().isoformat()
    ids = list(Tenant.objects.filter(active=True).values_list("id", flat=True))
    if ids:
        group(tenant_report.s(pk, day) for pk in ids).apply_async()
    return len(ids)


def setup():
    from django.core.management import call_command
    from django.db import connection
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    call_command("migrate", verbosity=0)
    existing = connection.introspection.table_names()
    with connection.schema_editor() as editor:  # this one-file app has no migrations
        for model in (Tenant, DailyReport):
            if model._meta.db_table not in existing:
                editor.create_model(model)
    for name, usage in (("acme", 10), ("globex", 20), ("initech", 30)):
        Tenant.objects.update_or_create(name=name, defaults={"usage": usage})
    cron, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="1", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    PeriodicTask.objects.update_or_create(
        name="daily-fan-out", defaults={"crontab": cron, "task": "a2_django_tenants.fan_out"}
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["setup"]:
        setup()
        print("ready")
        return 0
    if len(argv) == 2 and argv[0] == "run":
        sent = fan_out.delay(argv[1]).get(timeout=30)
        deadline = time.monotonic() + 30
        while DailyReport.objects.filter(day=argv[1]).count() < sent:
            if time.monotonic() > deadline:
                print("FAILURE: the reports did not arrive")
                return 1
            time.sleep(0.2)
        for name, usage in DailyReport.objects.filter(day=argv[1]).values_list(
            "tenant__name", "usage"
        ):
            print(f"{argv[1]} {name} {usage}")
        return 0
    print("usage: python -m a2_django_tenants setup | run DAY", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
