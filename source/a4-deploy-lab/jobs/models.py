"""A unit of background work, done at most once (given)."""

from django.db import models


class Job(models.Model):
    key = models.CharField(max_length=64, unique=True)
    done = models.BooleanField(default=False)
    runs = models.PositiveIntegerField(default=0)
