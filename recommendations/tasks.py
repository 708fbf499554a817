"""Celery tasks: thin wrappers over ``training``. No schedule is defined here; a shop adds
its own beat entry (see the README)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.db import OperationalError as DatabaseOperationalError
from django.utils import timezone

from . import training
from .models import ModelVersion

TRANSIENT = (DatabaseOperationalError, ConnectionError, TimeoutError)
logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True,
             autoretry_for=TRANSIENT, retry_backoff=True, retry_backoff_max=600, max_retries=3,
             soft_time_limit=3 * 60 * 60, time_limit=3 * 60 * 60 + 300)
def train_engine(self, version_id: int, force: bool = False) -> dict:
    """Train one queued model version.

    Only a *queued* version is trained: a message delivered again (``acks_late``: after its
    worker died, Redis hands it out once more after the visibility timeout) for a run that has
    already ended, or that another worker is running, does nothing.
    """
    training.fail_stale_runs()
    try:
        version = ModelVersion.objects.get(pk=version_id)
    except ModelVersion.DoesNotExist:
        return {"version": version_id, "status": "missing"}
    if version.status != ModelVersion.Status.QUEUED:
        return {"version": version_id, "status": version.status, "duplicate": True}
    try:
        version = training.train(version, force=force)
    except training.TrainingLocked as exc:
        ModelVersion.objects.filter(pk=version_id).update(
            status=ModelVersion.Status.FAILED, finished_at=timezone.now(),
            error=f"{exc}; this run was not started (retrain once that one has finished).")
        return {"version": version_id, "status": "locked"}
    except TRANSIENT:
        if self.request.retries < self.max_retries:  # tried again (autoretry_for): queued again
            ModelVersion.objects.filter(pk=version_id).update(status=ModelVersion.Status.QUEUED)
        raise
    _refresh_outdated_profiles()
    return {"version": version.pk, "status": version.status, "active": version.is_active,
            "metrics": version.metrics}


def _refresh_outdated_profiles() -> None:
    """After a training, bring every shopper's stored profile up to the data it learned from
    (only the missing and outdated ones: the engines finishing one after another share the
    work). A failure here never fails the training that already succeeded."""
    try:
        refresh_profiles.delay(stale_only=True)
    except Exception:  # noqa: BLE001 - broker down, or an eager refresh that failed
        logger.exception("could not refresh the shopper profiles after a training")


@shared_task
def train_all(triggered_by: str = "schedule") -> list[int]:
    """Queue a training of every configured engine, and a refresh of the stored shopper
    profiles (they read the same behaviour)."""
    versions = [queue(name, triggered_by=triggered_by).pk for name in training.configured_engines()
                if not training.missing_data(name)]
    refresh_profiles.delay()
    return versions


@shared_task
def prune_versions() -> int:
    return sum(training.prune(name) for name in training.configured_engines())


# -- precomputed "recommended for you" lists ---------------------------------------------------
def known_shopper_keys() -> list[str]:
    """Data keys of the signed-in shoppers the app knows: users with events or ratings.

    Anonymous sessions are left out: most never come back, and their lists are computed live.
    """
    from .data import shopper_key
    from .models import Event, Rating

    users = set(Event.objects.filter(user__isnull=False).values_list("user_id", flat=True).distinct())
    users |= set(Rating.objects.values_list("user_id", flat=True).distinct())
    return [shopper_key(user) for user in sorted(users, key=str)]


@shared_task(bind=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def precompute_lists(self, engine: str | None = None) -> dict:
    """Split all known shoppers into chunks of ``PRECOMPUTE_CHUNK_SIZE`` and send one
    ``precompute_chunk`` task per chunk (to the precompute queue, where any number of workers
    share them). Lists of an older version of the engine are deleted first: serving ignores
    them anyway."""
    from .conf import app_settings
    from .models import PrecomputedList

    engine = engine or app_settings.SERVING_ENGINE
    active = ModelVersion.objects.filter(engine=engine, is_active=True).values_list("pk", flat=True).first()
    if active is None:
        return {"engine": engine, "status": "skipped", "reason": "no active version", "chunks": 0,
                "shoppers": 0, "task_ids": []}
    PrecomputedList.objects.filter(engine=engine).exclude(version_id=active).delete()
    keys = known_shopper_keys()
    size = max(1, int(app_settings.PRECOMPUTE_CHUNK_SIZE))
    task_ids = [precompute_chunk.apply_async(args=[keys[i:i + size], engine]).id
                for i in range(0, len(keys), size)]
    return {"engine": engine, "status": "sent", "version": active, "shoppers": len(keys),
            "chunks": len(task_ids), "task_ids": task_ids}


@shared_task(bind=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def precompute_chunk(self, shopper_keys: list[str], engine: str) -> dict:
    """Compute and store (upsert: one row per shopper and engine) the lists of ``shopper_keys``
    with ``engine``'s active version. Returns which worker did it."""
    from django.utils import timezone

    from . import serving
    from .conf import app_settings
    from .models import PrecomputedList

    worker = getattr(self.request, "hostname", None) or "local"
    version = serving.active_models.active_version(engine, fresh=True)
    if version is None:
        return {"engine": engine, "status": "skipped", "worker": worker, "shoppers": 0}
    n = app_settings.PRECOMPUTE_LENGTH
    now = timezone.now()
    rows = []
    for key in shopper_keys:
        recs = serving.recommend_for(serving.Shopper.from_data_key(key), n, engine=engine, use_cache=False)
        rows.append(PrecomputedList(shopper=key, engine=engine, version_id=version,
                                    items=serving.precomputed_items(recs), computed_at=now))
    PrecomputedList.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["shopper", "engine"],
        update_fields=["version", "items", "computed_at"])
    return {"engine": engine, "status": "done", "version": version, "worker": worker,
            "shoppers": len(rows)}


# -- shopper profiles ---------------------------------------------------------------------------
@shared_task(bind=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def refresh_profiles(self, stale_only: bool = False) -> dict:
    """Recompute the profiles of every signed-in shopper with events or ratings (with
    ``stale_only``, only those missing or older than the shopper's newest behaviour), in
    ``PRECOMPUTE_CHUNK_SIZE`` chunks (one ``refresh_profiles_chunk`` task each). Serving never
    waits for it: a stale profile is recomputed when it is read."""
    from . import profiles
    from .conf import app_settings

    keys = profiles.shoppers_to_refresh(stale_only=stale_only)
    size = max(1, int(app_settings.PRECOMPUTE_CHUNK_SIZE))
    chunks = [refresh_profiles_chunk.delay(keys[i:i + size]).id for i in range(0, len(keys), size)]
    return {"shoppers": len(keys), "chunks": len(chunks)}


@shared_task(bind=True, autoretry_for=TRANSIENT, retry_backoff=True, max_retries=3)
def refresh_profiles_chunk(self, shopper_keys: list[str]) -> int:
    from . import profiles
    from .serving import Shopper

    for key in shopper_keys:
        profiles.refresh(Shopper.from_data_key(key))
    return len(shopper_keys)


def queue(engine: str, *, triggered_by: str = "", force: bool = False,
          params: dict[str, Any] | None = None) -> ModelVersion:
    """Create a queued version and hand it to Celery; returns at once.

    With no broker configured at all ``NoBrokerConfigured`` is raised before anything is stored.
    If the broker cannot be reached the version is marked failed with a message saying so and
    the error propagates, so the caller can tell the user; nothing else changes. With eager
    Celery (no broker: the embedded default) the training runs here; if it fails (and eager
    tasks propagate errors), ``TrainingFailed`` says why.
    """
    if engine not in training.ENGINE_NAMES:
        raise ValueError(f"unknown engine {engine!r}; choose from {', '.join(training.ENGINE_NAMES)}")
    training.check_broker_configured()
    training.fail_stale_runs()  # a run whose worker died is declared so before the next one is asked for
    version = ModelVersion.objects.create(engine=engine, triggered_by=triggered_by[:150],
                                          params=params or {})
    try:
        result = train_engine.apply_async(args=[version.pk], kwargs={"force": force})
    except Exception as exc:
        if ModelVersion.objects.filter(pk=version.pk).exclude(status=ModelVersion.Status.QUEUED).exists():
            # Eager Celery ran the training right here and it failed; train() recorded why.
            raise training.TrainingFailed(str(exc)) from exc
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.FAILED, finished_at=timezone.now(),
            error=f"Could not reach the task broker: {exc}. The training was not started.")
        raise
    ModelVersion.objects.filter(pk=version.pk).update(task_id=result.id or "")
    version.refresh_from_db()  # eager Celery: it may have run already
    return version


def prepare_to_queue() -> None:
    """Set up the Celery app (its task registry) ahead of a Retrain click: the first task a
    process sends otherwise pays for it in that request (about half a second). Opens no
    connection, so a broker that is down costs nothing here."""
    try:
        train_engine.app.tasks  # noqa: B018 - finalizes the app once per process
    except Exception:  # noqa: BLE001 - the click will say what is wrong
        logger.warning("could not set up the Celery app", exc_info=True)
