"""A report job: who started which task, and whether they asked to cancel it (given)."""

from django.conf import settings
from django.db import models


class ReportJob(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    task_id = models.CharField(max_length=64, unique=True, null=True)
    steps = models.PositiveIntegerField()
    cancelled = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
