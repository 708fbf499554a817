"""Build data -> validate -> fit -> save artifact -> activate, for one engine.

Runs inside a Celery worker (``tasks.py``) or synchronously (``recommendations_train --sync``).
The active version keeps serving throughout: a new version becomes active in one transaction,
only after its artifact is stored, and only if its validation ndcg@10 is not worse than the
active one's by more than ``ACTIVATION_TOLERANCE`` (unless forced).

Liveness: a lock in the cache stops two trainings of one engine from overlapping. It lives
``TRAINING_LOCK_SECONDS`` (60 s) and a heartbeat thread renews it, and stamps the version's
``heartbeat_at``, every ``TRAINING_HEARTBEAT_SECONDS`` (10 s) while the training runs. A run whose
lock is gone *and* whose heartbeat is older than the lock's lifetime lost its worker (``kill -9``,
a lost machine): ``fail_stale_runs`` marks it failed, and the next training proceeds. Both signals
must be stale, so a cache that another process cannot see (or a flushed one) never makes a live
run look dead.
"""

from __future__ import annotations

import logging
import os
import resource
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import timedelta
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from celery import current_app as current_celery_app
from django.core.cache import cache
from django.core.files import File
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .algorithms import NEEDS_EXPLICIT_RATINGS, NEEDS_SEQUENCES, NEEDS_TENSORFLOW
from .algorithms.dataset import Dataset
from .artifacts import artifact_storage, save_bundle
from .conf import ENGINE_NAMES, app_settings
from .data import load_frames
from .fitting import fit_for_training
from .models import Event, ModelVersion, Rating
from .profiles import exclude_not_interested

logger = logging.getLogger(__name__)
Status = ModelVersion.Status


class TrainingFailed(RuntimeError):
    """A training run in this process (eager Celery) failed; the version holds the error."""


class TrainingLocked(RuntimeError):
    """Another training of the same engine holds the lock."""


class NoBrokerConfigured(RuntimeError):
    """Celery has no broker and does not run tasks eagerly: a queued training would never run."""


NO_BROKER_MESSAGE = _(
    "No Celery broker is configured, so a queued training would never run and nothing was queued. "
    "Either train in this process (`manage.py recommendations_train --sync`, or set "
    "CELERY_TASK_ALWAYS_EAGER = True), or configure a broker (CELERY_BROKER_URL, read by your "
    "project's Celery app) and start a worker.")


def check_broker_configured() -> None:
    """Refuse to queue to Celery's built-in default (``amqp://localhost``) that nobody configured.

    A shop without a Celery app of its own still gets Celery's default app, which would accept the
    task and send it to a broker that does not exist; the version would stay "queued" for ever.
    """
    conf = current_celery_app.conf  # the app the shared tasks run on
    if conf.task_always_eager or conf.broker_url or conf.broker_write_url:
        return
    raise NoBrokerConfigured(str(NO_BROKER_MESSAGE))


def tensorflow_unavailable_reason(engine: str = "deep") -> str | None:
    """Why this environment cannot train ``engine``, one of the TensorFlow engines (``deep``,
    ``sequence``); None when it can. Looks for TensorFlow without importing it: web processes
    never import TensorFlow."""
    if find_spec("tensorflow") is not None:
        return None
    return str(_("TensorFlow is not installed in this Python environment, so the %(engine)s engine cannot be "
                 "trained; the other engines and serving work without it. Install the deep extra, pip "
                 "install \"django-shop-recommendations[deep]\", on the machines that train, with a Python "
                 "that TensorFlow publishes wheels for (3.11 to 3.13 on Linux x86-64 when this was written).")
               % {"engine": engine})


def configured_engines() -> list[str]:
    """Engines that "retrain all" trains: the setting, less ``deep`` and ``sequence`` without
    TensorFlow."""
    names = [name for name in app_settings.ENGINES if name in ENGINE_NAMES]
    return [name for name in names if name not in NEEDS_TENSORFLOW or not tensorflow_unavailable_reason(name)]


def missing_data(engine: str) -> str | None:
    """Why ``engine`` cannot train on this shop's data yet (a plain sentence), or None.

    "Train everything" skips such an engine with this reason instead of recording a failure
    that nobody can fix but the shoppers (no star ratings yet)."""
    if engine in NEEDS_EXPLICIT_RATINGS and not Rating.objects.exists():
        return str(_("there are no star ratings yet, and this engine learns only from ratings"))
    if engine in NEEDS_SEQUENCES and not _has_sequences():
        return str(_("no shopper has two different products in their history yet, and this engine "
                     "learns what shoppers do next"))
    return None


def _has_sequences() -> bool:
    """Whether some shopper (account or anonymous session) has events on two products, or some
    user rated two."""
    two = Count("product", distinct=True)
    return (Event.objects.exclude(user=None).values("user").annotate(n=two).filter(n__gte=2).exists()
            or Event.objects.filter(user=None).exclude(session_key="").values("session_key")
            .annotate(n=two).filter(n__gte=2).exists()
            or Rating.objects.values("user").annotate(n=two).filter(n__gte=2).exists())


def _lock_key(engine: str) -> str:
    return f"recommendations:training-lock:{engine}"


WORKER_STOPPED = ("The worker stopped before the training finished (no heartbeat for {seconds} s: "
                  "killed, out of memory, or its machine lost); the previous version kept serving.")
QUEUE_LOST = ("No worker started this training within {seconds} s of its queueing (its task was lost, "
              "or no worker consumes the training queue); nothing changed.")


def _lock_value(version: ModelVersion, token: str) -> str:
    return f"{version.pk}:{token}"


def is_alive(version: ModelVersion, *, now=None) -> bool:
    """Whether a running version's worker still shows signs of life: its lock is in the cache,
    or its last heartbeat (or start) is younger than the lock's lifetime."""
    held = cache.get(_lock_key(version.engine))
    if isinstance(held, str) and held.split(":", 1)[0] == str(version.pk):
        return True
    now = now or timezone.now()
    last = version.heartbeat_at or version.started_at or version.created_at
    return last is not None and now - last < timedelta(seconds=app_settings.TRAINING_LOCK_SECONDS)


def fail_stale_runs() -> int:
    """Mark as failed the runs whose worker died (no lock, no recent heartbeat) and the queued
    runs no worker started within ``TRAINING_QUEUE_TIMEOUT``. Cheap: one query when none runs."""
    stale = 0
    now = timezone.now()
    for version in ModelVersion.objects.filter(status=Status.RUNNING):
        if not is_alive(version, now=now):
            stale += ModelVersion.objects.filter(pk=version.pk, status=Status.RUNNING).update(
                status=Status.FAILED, finished_at=now, stage="worker lost",
                error=WORKER_STOPPED.format(seconds=app_settings.TRAINING_LOCK_SECONDS))
    lost_before = now - timedelta(seconds=app_settings.TRAINING_QUEUE_TIMEOUT)
    stale += ModelVersion.objects.filter(status=Status.QUEUED, created_at__lt=lost_before).update(
        status=Status.FAILED, finished_at=now,
        error=QUEUE_LOST.format(seconds=app_settings.TRAINING_QUEUE_TIMEOUT))
    return stale


class Heartbeat:
    """While a training runs: renew its lock and stamp ``heartbeat_at`` every
    ``TRAINING_HEARTBEAT_SECONDS``, from a daemon thread (NumPy releases the GIL, so it beats
    during a long fit too). It dies with its process, which is the point."""

    def __init__(self, version: ModelVersion, lock_value: str) -> None:
        self.version, self.lock_value = version, lock_value
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"training-heartbeat-{version.pk}",
                                        daemon=True)
        self.lost_lock = False
        # Inside a transaction (a test, a caller's atomic block) no other process sees the row,
        # and this thread's UPDATE would wait for that transaction's row lock: the lock only.
        self.stamp_row = not transaction.get_connection().in_atomic_block

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def beat(self) -> None:
        key, ttl = _lock_key(self.version.engine), app_settings.TRAINING_LOCK_SECONDS
        held = cache.get(key)
        if held == self.lock_value:
            cache.touch(key, ttl)
        elif held is None:
            cache.add(key, self.lock_value, timeout=ttl)  # expired under a long pause: take it back
        else:
            self.lost_lock = True
        if self.stamp_row:
            ModelVersion.objects.filter(pk=self.version.pk, status=Status.RUNNING).update(
                heartbeat_at=timezone.now())

    def _run(self) -> None:
        try:
            while not self._stop.wait(app_settings.TRAINING_HEARTBEAT_SECONDS):
                try:
                    self.beat()
                except Exception:  # noqa: BLE001 - a missed beat is retried; the lock outlives several
                    logger.warning("training heartbeat of v%s failed", self.version.pk, exc_info=True)
        finally:
            connection.close()  # this thread's own database connection


def worker_name() -> str:
    return f"{socket.gethostname()} pid {os.getpid()}"[:255]


def build_dataset() -> Dataset:
    events, products = load_frames()
    events = exclude_not_interested(events, products)
    dataset = Dataset.from_frames(
        events, products, event_weights=app_settings.EVENT_WEIGHTS,
        decay_half_life_days=app_settings.TIME_DECAY_HALF_LIFE_DAYS,
    )
    return _apply_min_support(dataset, app_settings.MIN_SUPPORT)


def _apply_min_support(dataset: Dataset, min_support: int) -> Dataset:
    """Drop events of users and products with fewer than ``min_support`` distinct partners."""
    if min_support <= 1 or not dataset.n_events:
        return dataset
    binary = (dataset.matrix > 0).astype(np.int32)
    user_ok = np.asarray(binary.sum(axis=1)).ravel() >= min_support
    item_ok = np.asarray(binary.sum(axis=0)).ravel() >= min_support
    return dataset.subset(user_ok[dataset.user] & item_ok[dataset.item])


def _peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def train(version: ModelVersion, *, force: bool = False,
          on_progress: Callable[[str, int], None] | None = None) -> ModelVersion:
    """Run one queued version to the end; on any error it is marked failed and re-raised."""
    engine = version.engine
    token = _lock_value(version, uuid.uuid4().hex)
    if not cache.add(_lock_key(engine), token, timeout=app_settings.TRAINING_LOCK_SECONDS):
        raise TrainingLocked(f"a training of {engine!r} is already running")

    def stage(name: str, percent: int) -> None:
        ModelVersion.objects.filter(pk=version.pk).update(stage=name, progress=percent,
                                                          heartbeat_at=timezone.now())
        if on_progress:
            on_progress(name, percent)

    started = time.perf_counter()
    heartbeat = Heartbeat(version, token)
    try:
        # Kept on the instance too: the final save() writes every field. Serving treats events
        # after started_at as new to this model (they were not in its training data).
        version.started_at = version.heartbeat_at = timezone.now()
        version.worker = worker_name()
        ModelVersion.objects.filter(pk=version.pk).update(
            status=Status.RUNNING, started_at=version.started_at, heartbeat_at=version.heartbeat_at,
            worker=version.worker, error="", stage="loading data", progress=5)
        heartbeat.__enter__()
        if engine in NEEDS_TENSORFLOW and (reason := tensorflow_unavailable_reason(engine)):
            raise RuntimeError(reason)  # the version's error says why, not an ImportError mid-fit
        params = {**app_settings.ENGINE_PARAMS.get(engine, {}), **(version.params or {})}
        dataset = build_dataset()
        if dataset.n_events == 0:
            raise ValueError("there are no events or ratings to train on yet")
        version.n_users, version.n_products, version.n_events = (
            dataset.n_users, dataset.n_items, dataset.n_events)

        fitted = fit_for_training(
            engine, dataset, params, tuning_seconds=app_settings.TUNING_SECONDS,
            validation_max_users=app_settings.VALIDATION_MAX_USERS, pinned=version.params or {},
            stage=stage)
        if fitted.tuning is not None:
            version.tuning = fitted.tuning
        version.fit_seconds = fitted.fit_seconds

        stage("saving", 85)
        if not ModelVersion.objects.filter(pk=version.pk, status=Status.RUNNING).exists():
            raise RuntimeError("this run was marked failed while it ran (no heartbeat for longer "
                               "than the lock's lifetime); its model was not saved")
        version.artifact = _save_artifact(fitted.model, dataset, version)
        version.metrics = fitted.metrics
        version.params = fitted.params
        version.total_seconds = time.perf_counter() - started
        version.peak_memory_mb = _peak_memory_mb()
        version.status = Status.SUCCEEDED
        version.stage, version.progress, version.finished_at = "done", 100, timezone.now()
        version.save()
        activate(version, force=force)
        prune(engine)
        return version
    except Exception as exc:
        logger.exception("training %s v%s failed", engine, version.pk)
        ModelVersion.objects.filter(pk=version.pk).update(
            status=Status.FAILED, finished_at=timezone.now(),
            total_seconds=time.perf_counter() - started,
            error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
        raise
    finally:
        heartbeat.__exit__()
        if cache.get(_lock_key(engine)) == token:
            cache.delete(_lock_key(engine))


def _save_artifact(model, dataset: Dataset, version: ModelVersion) -> str:
    storage = artifact_storage()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        with path.open("wb") as fh:
            save_bundle(model, dataset.user_ids, dataset.item_ids, fh)
        with path.open("rb") as fh:
            name = f"{app_settings.ARTIFACT_PATH}/{version.engine}/v{version.pk}.npz"
            return storage.save(name, File(fh, name=path.name))


def activate(version: ModelVersion, *, force: bool = False) -> bool:
    """Make ``version`` the one serving its engine, atomically, if it is good enough."""
    with transaction.atomic():
        current = (ModelVersion.objects.select_for_update()
                   .filter(engine=version.engine, is_active=True).first())
        if current is not None and current.pk != version.pk and not force:
            old, new = current.ndcg, version.ndcg
            tolerance = app_settings.ACTIVATION_TOLERANCE
            if old is not None and new is not None and new < old - tolerance:
                note = (f"kept v{current.pk}: ndcg@10 {new:.3f} < {old:.3f} of the live version "
                        f"(tolerance {tolerance})")
                ModelVersion.objects.filter(pk=version.pk).update(activation_note=note)
                version.activation_note = note
                return False
        ModelVersion.objects.filter(engine=version.engine, is_active=True).update(is_active=False)
        note = "forced by staff" if force else "activated"
        now = timezone.now()
        ModelVersion.objects.filter(pk=version.pk).update(is_active=True, activation_note=note, activated_at=now)
        version.is_active, version.activation_note, version.activated_at = True, note, now
    return True


def prune(engine: str, keep: int | None = None) -> int:
    """Delete all but the newest ``keep`` finished versions of ``engine`` (never the active one)."""
    keep = app_settings.KEEP_VERSIONS if keep is None else keep
    finished = ModelVersion.objects.filter(engine=engine, status__in=[Status.SUCCEEDED, Status.FAILED])
    old = [v for v in finished.order_by("-created_at", "-id")[keep:] if not v.is_active]
    storage = artifact_storage()
    removed = 0
    for version in old:
        if version.artifact and storage.exists(version.artifact):
            storage.delete(version.artifact)
        version.delete()
        removed += 1
    return removed


def busy_version(engine: str) -> ModelVersion | None:
    """The engine's run that is running, or queued recently enough that a worker may still pick
    it up (a queued run older than ``TRAINING_QUEUE_TIMEOUT`` is taken as lost)."""
    recent = timezone.now() - timedelta(seconds=app_settings.TRAINING_QUEUE_TIMEOUT)
    return (ModelVersion.objects.filter(engine=engine)
            .filter(Q(status=Status.RUNNING) | Q(status=Status.QUEUED, created_at__gte=recent))
            .order_by("-created_at", "-id").first())


def run_sync(engine: str, *, triggered_by: str = "", force: bool = False,
             on_progress: Callable[[str, int], None] | None = None) -> ModelVersion:
    """Train in this process (management command, tests)."""
    fail_stale_runs()
    version = ModelVersion.objects.create(engine=engine, triggered_by=triggered_by[:150])
    return train(version, force=force, on_progress=on_progress)
