"""Tenants and their daily usage reports (given)."""

from django.db import models


class Tenant(models.Model):
    name = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(default=True)
    usage = models.PositiveIntegerField(default=0)

    def __str__(self):
        return self.name


class DailyReport(models.Model):
    tenant = models.ForeignKey(Tenant, related_name="reports", on_delete=models.CASCADE)
    day = models.DateField()
    usage = models.PositiveIntegerField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [  # noqa: RUF012 - Django's Meta format
            models.UniqueConstraint(fields=["tenant", "day"], name="one_report_per_tenant_and_day")
        ]
