"""With the demo's settings, a training that runs in another process is shown running on the
dashboard, not failed: the demo's cache (files, or Redis) is one for every process, so the web
process sees the worker's training lock. (The issue: with a per-process memory cache the web
process could not, and a live run read "failed".)"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from recommendations.conf import app_settings
from recommendations.models import ModelVersion

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
STATUS = "/admin/recommendations/modelversion/status/"
DASHBOARD = "/admin/recommendations/modelversion/dashboard/"
HOLD_LOCK = """
import django, sys
django.setup()
from django.core.cache import cache
from recommendations import training
version = training.ModelVersion(pk=int(sys.argv[1]), engine="hybrid")
assert cache.add(training._lock_key("hybrid"), training._lock_value(version, "other-process"), 600)
print("held")
"""


def test_the_demos_cache_is_shared_by_every_process():
    backend = settings.CACHES["default"]["BACKEND"]
    assert backend.rsplit(".", 1)[-1] in ("FileBasedCache", "RedisCache", "DatabaseCache", "PyMemcacheCache")


def test_a_training_in_another_process_shows_as_running_on_the_dashboard(admin_client):
    # A run whose heartbeat in the database is older than the lock's lifetime (as if its stamps
    # had stalled): only the lock, held by the other process, says it is alive.
    stale = timezone.now() - timedelta(seconds=app_settings.TRAINING_LOCK_SECONDS + 30)
    run = ModelVersion.objects.create(engine="hybrid", status=ModelVersion.Status.RUNNING, stage="validating",
                                      progress=20, started_at=stale, heartbeat_at=stale)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "demo_shop.settings"}
    env.pop("CELERY_BROKER_URL", None)
    held = subprocess.run([sys.executable, "-c", HOLD_LOCK, str(run.pk)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert held.returncode == 0 and held.stdout.strip() == "held", held.stderr

    latest = admin_client.get(STATUS).json()["engines"]["hybrid"]["latest"]
    assert (latest["id"], latest["status"]) == (run.pk, "running")
    page = admin_client.get(DASHBOARD).content.decode()
    assert f"hybrid v{run.pk}: validating" in page and "worker stopped" not in page

    # ... and once the other process's lock is gone too, the run is declared dead, with the reason.
    from django.core.cache import cache

    cache.delete("recommendations:training-lock:hybrid")
    latest = admin_client.get(STATUS).json()["engines"]["hybrid"]["latest"]
    assert latest["status"] == "failed" and "The worker stopped before the training finished" in latest["error"]
