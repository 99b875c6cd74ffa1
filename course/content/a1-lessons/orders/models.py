"""The shop's data: products with stock, orders and their lines (given)."""

from django.db import models


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    stock = models.PositiveIntegerField(default=0)
    price_cents = models.PositiveIntegerField()

    def __str__(self):
        return self.sku


class Order(models.Model):
    PENDING, CONFIRMED, REJECTED = "pending", "confirmed", "rejected"
    customer = models.CharField(max_length=100)
    status = models.CharField(max_length=16, default=PENDING)
    total_cents = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)


class OrderLine(models.Model):
    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    qty = models.PositiveIntegerField()


class TaskRun(models.Model):
    """A task sent on someone's behalf (lessons: the admin lists these with their live state)."""

    task_id = models.CharField(max_length=64, unique=True)
    task_name = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    started_by = models.CharField(max_length=150)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.task_name} for {self.subject}"
