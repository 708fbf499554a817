"""A shop that existed before the recommendations app: its product model has its own names and
knows nothing of the app (see docs/integration.md)."""

from django.db import models


class Department(models.Model):
    label = models.CharField(max_length=80, unique=True)

    def __str__(self) -> str:
        return self.label


class Item(models.Model):
    title = models.CharField(max_length=200)
    blurb = models.TextField(blank=True)
    department = models.ForeignKey(Department, on_delete=models.PROTECT)
    maker = models.CharField(max_length=80, blank=True)
    cost = models.DecimalField(max_digits=8, decimal_places=2)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.title
