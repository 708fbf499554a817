"""Celery tasks: thin wrappers over ``training``. No schedule is defined here; a shop adds
its own beat entry (see the README)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError as DatabaseOperationalError

from . import training
from .models import ModelVersion

TRANSIENT = (DatabaseOperationalError, ConnectionError, TimeoutError)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=3,
             soft_time_limit=3 * 60 * 60, time_limit=3 * 60 * 60 + 300)
def train_engine(self, version_id: int, force: bool = False) -> dict:
    """Train one queued model version."""
    try:
        version = ModelVersion.objects.get(pk=version_id)
    except ModelVersion.DoesNotExist:
        return {"version": version_id, "status": "missing"}
    if version.status == ModelVersion.Status.SUCCEEDED:
        return {"version": version_id, "status": version.status}  # a redelivered duplicate
    training.fail_stale_runs()
    try:
        version = training.train(version, force=force)
    except training.TrainingLocked as exc:
        ModelVersion.objects.filter(pk=version_id).update(
            status=ModelVersion.Status.FAILED, error=str(exc))
        return {"version": version_id, "status": "locked"}
    return {"version": version.pk, "status": version.status, "active": version.is_active,
            "metrics": version.metrics}


@shared_task
def train_all(triggered_by: str = "schedule") -> list[int]:
    """Queue a training of every configured engine."""
    return [training.queue(name, triggered_by=triggered_by).pk for name in training.configured_engines()]


@shared_task
def prune_versions() -> int:
    return sum(training.prune(name) for name in training.configured_engines())
