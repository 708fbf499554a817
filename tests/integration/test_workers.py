"""Training and precomputation through real Celery workers, Redis and PostgreSQL.

A slow training is the ``rating`` engine with many ALS iterations (``ENGINE_PARAMS`` handed to
the worker), so that a test can act while it runs.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.messages import get_messages
from django.core.cache import cache

from recommendations import serving, tasks, training
from recommendations.models import Event, ModelVersion, PrecomputedList
from recommendations.serving import Shopper, recommend_for

from .conftest import wait_for

pytestmark = pytest.mark.integration

RETRAIN = "/admin/recommendations/modelversion/retrain/"
DASHBOARD = "/admin/recommendations/modelversion/dashboard/"
Status = ModelVersion.Status
SLOW_RATING = {"ENGINE_PARAMS": {"rating": {"mf_iters": 250}}}


def finished(pk: int) -> ModelVersion | None:
    """The version once its run is over: failed, or succeeded and through the activation step
    (which comes just after the status is set, and always leaves a note)."""
    version = ModelVersion.objects.get(pk=pk)
    over = version.status == Status.FAILED or (version.status == Status.SUCCEEDED and version.activation_note)
    return version if over else None


def test_staff_retrain_click_trains_on_the_worker_and_changes_recommendations(stack, shop, staff_client):
    books, garden, users = shop
    worker = stack.start_worker("trainer")
    stack.wait_ready(worker)
    reader = Shopper(user_id=users[1].pk)  # likes books
    before = recommend_for(reader, 5)
    assert {r.engine for r in before} == {"popular"}  # no model yet: database counts

    response = staff_client.post(RETRAIN, {"engine": "item_cf"})
    assert response.status_code == 302
    assert any("queued as v" in str(m) for m in get_messages(response.wsgi_request))
    queued = ModelVersion.objects.get(engine="item_cf")
    assert queued.task_id  # handed to the broker, not run in this process

    done = wait_for(lambda: finished(queued.pk), 90, f"v{queued.pk} to finish\n{worker.tail()}")
    assert done.status == Status.SUCCEEDED, done.error
    assert done.is_active and done.metrics["ndcg@10"] > 0 and done.n_users == 60

    after = recommend_for(reader, 5)
    assert {r.engine for r in after} == {"item_cf"}
    assert {r.product.category for r in after} == {"Books"}
    assert [r.product_id for r in after] != [r.product_id for r in before]


def test_a_second_training_of_an_engine_never_runs_alongside_the_first(stack, shop, staff_client):
    first_worker = stack.start_worker("first", **SLOW_RATING)
    second_worker = stack.start_worker("second", **SLOW_RATING)
    stack.wait_ready(first_worker, second_worker)

    staff_client.post(RETRAIN, {"engine": "rating"})
    first = ModelVersion.objects.get(engine="rating")
    wait_for(lambda: ModelVersion.objects.filter(pk=first.pk, status=Status.RUNNING).exists(), 60,
             "the first training to start")

    # 1. The admin refuses a second click while a run is queued or running.
    response = staff_client.post(RETRAIN, {"engine": "rating"}, follow=True)
    assert f"v{first.pk} is already running" in response.content.decode()
    assert ModelVersion.objects.filter(engine="rating").count() == 1

    # 2. A run queued some other way (a race, beat, the shell) meets the lock on the other
    #    worker: it ends failed at once, and the first run carries on.
    assert ModelVersion.objects.get(pk=first.pk).status == Status.RUNNING
    second = training.queue("rating", triggered_by="race")
    refused = wait_for(lambda: finished(second.pk), 60, "the second run to be refused")
    assert refused.status == Status.FAILED and "already running" in refused.error
    assert ModelVersion.objects.get(pk=first.pk).status == Status.RUNNING

    done = wait_for(lambda: finished(first.pk), 120, f"the first run to finish\n{first_worker.tail()}")
    assert done.status == Status.SUCCEEDED and done.is_active, done.error
    assert ModelVersion.objects.filter(engine="rating", is_active=True).count() == 1


def test_killed_worker_leaves_the_old_version_serving_and_the_run_failed(stack, shop, staff_client):
    old = training.run_sync("rating", triggered_by="before")  # quick, in this process
    assert old.is_active
    lock_seconds = 5
    worker = stack.start_worker("doomed", TRAINING_LOCK_SECONDS=lock_seconds, **SLOW_RATING)
    stack.wait_ready(worker)

    staff_client.post(RETRAIN, {"engine": "rating"})
    run = ModelVersion.objects.get(engine="rating", status=Status.QUEUED)
    wait_for(lambda: ModelVersion.objects.filter(pk=run.pk, status=Status.RUNNING,
                                                 stage__in=["validating", "fitting"]).exists(),
             60, f"the training to get going\n{worker.tail()}", interval=0.05)
    killed_at = time.monotonic()
    worker.kill()
    assert worker.process.returncode == -9

    lock = "recommendations:training-lock:rating"
    if time.monotonic() - killed_at < 1 and cache.get(lock) is not None:
        # the dead worker's lock is still there: the run is not declared dead yet
        assert training.fail_stale_runs() == 0
        assert ModelVersion.objects.get(pk=run.pk).status == Status.RUNNING
    wait_for(lambda: cache.get(lock) is None, lock_seconds + 5, "the lock to expire")

    assert staff_client.get(DASHBOARD).status_code == 200  # the dashboard calls fail_stale_runs
    run.refresh_from_db()
    assert run.status == Status.FAILED and "worker stopped" in run.error
    assert ModelVersion.objects.get(engine="rating", is_active=True).pk == old.pk
    assert serving.active_models.active_version("rating", fresh=True) == old.pk
    assert recommend_for(Shopper(user_id=shop[2][1].pk), 5, engine="rating")


def test_two_workers_share_the_precompute_chunks(stack, shop):
    books, garden, users = shop
    training.run_sync("item_cf")
    workers = [stack.start_worker(name, PRECOMPUTE_CHUNK_SIZE=4) for name in ("pre-a", "pre-b")]
    stack.wait_ready(*workers)

    for _ in range(2):  # a second run upserts, never duplicates
        sent = tasks.precompute_lists.delay("item_cf").get(timeout=60)
        assert (sent["status"], sent["shoppers"], sent["chunks"]) == ("sent", 60, 15)
        results = [tasks.precompute_chunk.AsyncResult(task_id).get(timeout=90)
                   for task_id in sent["task_ids"]]
        assert all(r["status"] == "done" for r in results)
        assert sum(r["shoppers"] for r in results) == 60
        by_worker = {w.hostname: sum(r["worker"] == w.hostname for r in results) for w in workers}
        assert all(count >= 1 for count in by_worker.values()), by_worker

    assert PrecomputedList.objects.count() == 60
    keys = {str(u.pk) for u in users}
    assert set(PrecomputedList.objects.values_list("shopper", flat=True)) == keys
    active = ModelVersion.objects.get(engine="item_cf", is_active=True)
    assert set(PrecomputedList.objects.values_list("version_id", flat=True)) == {active.pk}

    reader = users[1]
    stored = PrecomputedList.objects.get(shopper=str(reader.pk), engine="item_cf").items
    recs = recommend_for(Shopper(user_id=reader.pk), 5, engine="item_cf")
    assert [r.product_id for r in recs] == [item[0] for item in stored[:5]]
    Event.objects.create(user=reader, product=garden[0], kind=Event.Kind.PURCHASE)
    serving.invalidate(Shopper(user_id=reader.pk))
    assert not PrecomputedList.objects.filter(shopper=str(reader.pk)).exists()
