"""Training and precomputation through real Celery workers, Redis and PostgreSQL.

A slow training is the ``rating`` engine with many ALS iterations (``ENGINE_PARAMS`` handed to
the worker), so that a test can act while it runs.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from recommendations import serving, tasks, training
from recommendations.conf import app_settings
from recommendations.models import Event, ModelVersion, PrecomputedList
from recommendations.serving import Shopper, recommend_for

from .conftest import wait_for

pytestmark = pytest.mark.integration

RETRAIN = "/admin/recommendations/modelversion/retrain/"
DASHBOARD = "/admin/recommendations/modelversion/dashboard/"
STATUS = "/admin/recommendations/modelversion/status/"
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
    assert any("is waiting for a worker" in str(m) for m in get_messages(response.wsgi_request))
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
    second = tasks.queue("rating", triggered_by="race")
    refused = wait_for(lambda: finished(second.pk), 60, "the second run to be refused")
    assert refused.status == Status.FAILED and "already running" in refused.error
    assert ModelVersion.objects.get(pk=first.pk).status == Status.RUNNING

    done = wait_for(lambda: finished(first.pk), 120, f"the first run to finish\n{first_worker.tail()}")
    assert done.status == Status.SUCCEEDED and done.is_active, done.error
    assert ModelVersion.objects.filter(engine="rating", is_active=True).count() == 1


def test_a_killed_worker_is_declared_dead_and_the_next_retrain_succeeds(stack, shop, staff_client):
    """The issue's scenario at the DEFAULT lock and heartbeat settings: kill -9 the worker (main
    and pool process) mid-training, start another; within 5 minutes of the kill the killed run is
    failed with its reason and a new retrain of the engine has succeeded, while the old model
    serves and every API request answers 200 with a list."""
    books, garden, users = shop
    old = training.run_sync("rating", triggered_by="before")  # quick, in this process
    assert old.is_active
    worker = stack.start_worker("doomed", pool="prefork", **SLOW_RATING)
    stack.wait_ready(worker)
    api_answers: list[tuple[int, bool]] = []
    reader = Client()
    reader.force_login(users[1])

    def serve_and_check() -> None:
        response = reader.get("/api/recommendations/for-you/?limit=5")
        body = response.json() if response.status_code == 200 else {}
        api_answers.append((response.status_code, isinstance(body.get("results"), list) and bool(body["results"])))
        assert ModelVersion.objects.get(engine="rating", is_active=True).pk in (old.pk, *fresh_ids)
        assert recommend_for(Shopper(user_id=users[1].pk), 5, engine="rating")

    fresh_ids: list[int] = []
    staff_client.post(RETRAIN, {"engine": "rating"})
    run = ModelVersion.objects.get(engine="rating", status=Status.QUEUED)
    wait_for(lambda: ModelVersion.objects.filter(pk=run.pk, status=Status.RUNNING,
                                                 stage__in=["validating", "fitting"]).exists(),
             90, f"the training to get going\n{worker.tail()}", interval=0.05)
    killed_at = time.monotonic()
    worker.kill()
    assert worker.process.returncode == -9

    # Right after the kill the run is not declared dead: its lock and heartbeat are fresh.
    assert training.fail_stale_runs() == 0 or time.monotonic() - killed_at > 10
    phoenix = stack.start_worker("phoenix")
    stack.wait_ready(phoenix)

    def declared_failed():
        serve_and_check()
        status = staff_client.get(STATUS).json()  # whoever looks next: the dashboard's poll
        latest = status["engines"]["rating"]["latest"]
        time.sleep(1)
        return latest if latest["id"] == run.pk and latest["status"] == "failed" else None

    failed = wait_for(declared_failed, 150, "the killed run to be marked failed")
    failed_after = time.monotonic() - killed_at
    assert "worker stopped" in failed["error"]
    assert ModelVersion.objects.get(engine="rating", is_active=True).pk == old.pk

    response = staff_client.post(RETRAIN, {"engine": "rating"}, follow=True)
    assert "training started as v" in response.content.decode() or "queued" in response.content.decode()
    retry = ModelVersion.objects.filter(engine="rating").exclude(pk__in=[old.pk, run.pk]).get()
    fresh_ids.append(retry.pk)

    def retrained():
        serve_and_check()
        time.sleep(1)
        return finished(retry.pk)

    done = wait_for(retrained, 300 - (time.monotonic() - killed_at), f"the new retrain to finish\n{phoenix.tail()}")
    succeeded_after = time.monotonic() - killed_at
    assert done.status == Status.SUCCEEDED, done.error
    assert succeeded_after < 300
    run.refresh_from_db()
    assert run.status == Status.FAILED and run.finished_at is not None
    assert api_answers and all(code == 200 and listed for code, listed in api_answers), api_answers
    print(f"\nkill -> failed {failed_after:.0f} s, kill -> next retrain succeeded {succeeded_after:.0f} s "
          f"({len(api_answers)} API requests, all 200 with a list)")


def test_a_training_in_another_process_shows_as_running_not_failed(stack, shop, staff_client):
    """A live run on a worker (another process, sharing only the database and Redis) is shown
    running by the dashboard and its status endpoint, for longer than the lock's lifetime."""
    # The run must outlive the lock (60 s) whatever the machine's speed, so its length is set in
    # seconds, not in work: the deep engine trains until its time budget (no early stop), and a
    # training spends its 80 s budget over two fits (validation, then final), so the run lasts
    # over 80 s. (A rating run of 8,000 iterations took 52 s on a quiet machine: too short.)
    worker = stack.start_worker("busy", ENGINE_PARAMS={"deep": {
        "dim": 16, "epochs": 10**6, "patience": 10**6, "decay_patience": 10**6, "max_seconds": 80}})
    stack.wait_ready(worker)
    staff_client.post(RETRAIN, {"engine": "deep"})
    run = ModelVersion.objects.get(engine="deep")
    wait_for(lambda: ModelVersion.objects.filter(pk=run.pk, status=Status.RUNNING).exists(), 90,
             f"the training to start\n{worker.tail()}")
    seen = []
    deadline = time.monotonic() + app_settings.TRAINING_LOCK_SECONDS + 15
    while time.monotonic() < deadline and not finished(run.pk):
        latest = staff_client.get(STATUS).json()["engines"]["deep"]["latest"]
        assert staff_client.get(DASHBOARD).status_code == 200
        seen.append(latest["status"])
        time.sleep(2)
    assert "failed" not in seen and "running" in seen, seen
    done = wait_for(lambda: finished(run.pk), 600, f"the run to finish\n{worker.tail()}")
    assert done.status == Status.SUCCEEDED, done.error
    assert done.total_seconds > app_settings.TRAINING_LOCK_SECONDS + 10, done.total_seconds
    print(f"\nrun of {done.total_seconds:.0f} s, shown running throughout ({len(seen)} polls)")


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
