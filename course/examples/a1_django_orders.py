"""Order processing in a one-file Django project: ORM in tasks, `transaction.on_commit`,
`F()` updates, results and schedules in django-celery-results / django-celery-beat (A1 example).

Usage:
    cd course/examples
    python -m a1_django_orders setup                              # tables and two products
    celery -A a1_django_orders worker --loglevel=INFO             # terminal 1
    python -m a1_django_orders order ada pen 2                    # terminal 2: confirmed
    python -m a1_django_orders order bob pen 99                   # rejected: not enough pens

The database is SQLite (A1_DB, default a1_orders.sqlite3 here). The order is saved in a
transaction and its processing task is sent only after the commit.
"""

import os
import sys
import time

import django
from django.conf import settings

if not settings.configured:
    # Run as `python -m a1_django_orders` this file is __main__: let Django find it by its name.
    sys.modules.setdefault("a1_django_orders", sys.modules[__name__])
    settings.configure(
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django_celery_results",
            "django_celery_beat",
            "a1_django_orders",
        ],
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": os.environ.get("A1_DB", "a1_orders.sqlite3"),
                "OPTIONS": {"timeout": 20},
            }
        },
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        USE_TZ=True,
        CELERY_TASK_SERIALIZER="json",
        CELERY_ACCEPT_CONTENT=["json"],
    )
    django.setup()

from celery import Celery  # after settings.configure()
from django.db import models, transaction
from django.db.models import F

app = Celery("a1_django_orders")
app.config_from_object(settings, namespace="CELERY")


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    stock = models.PositiveIntegerField(default=0)

    class Meta:
        app_label = "a1_django_orders"


class Order(models.Model):
    customer = models.CharField(max_length=100)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    qty = models.PositiveIntegerField()
    status = models.CharField(max_length=16, default="pending")

    class Meta:
        app_label = "a1_django_orders"


@app.task
def process_order(order_id):
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status != "pending":
            return order.status
        taken = Product.objects.filter(pk=order.product_id, stock__gte=order.qty).update(
            stock=F("stock") - order.qty
        )
        order.status = "confirmed" if taken else "rejected"
        order.save(update_fields=["status"])
        return order.status


def place_order(customer, sku, qty):
    with transaction.atomic():
        order = Order.objects.create(
            customer=customer, product=Product.objects.get(sku=sku), qty=qty
        )
        transaction.on_commit(lambda: process_order.delay(order.id))
    return order


def setup():
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)  # the installed apps' own tables
    existing = connection.introspection.table_names()
    with connection.schema_editor() as editor:  # this one-file app has no migrations
        for model in (Product, Order):
            if model._meta.db_table not in existing:
                editor.create_model(model)
    for sku, stock in (("pen", 10), ("cup", 3)):
        Product.objects.update_or_create(sku=sku, defaults={"stock": stock})


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["setup"]:
        setup()
        print("ready")
        return 0
    if len(argv) == 4 and argv[0] == "order":
        order = place_order(argv[1], argv[2], int(argv[3]))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            order.refresh_from_db()
            if order.status != "pending":
                print(order.status)
                return 0 if order.status == "confirmed" else 1
            time.sleep(0.2)
        print("FAILURE: no worker processed the order")
        return 2
    print("usage: python -m a1_django_orders setup | order CUSTOMER SKU QTY", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
