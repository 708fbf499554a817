"""The training admin without a worker: version list, actions, dashboard (charts), retrain
buttons, the progress endpoint, who may see and do what, and precomputed lists (Celery eager).
tests/integration repeats the important paths with a real worker."""

from __future__ import annotations

import json
import re
import types
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.test import override_settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from recommendations import serving, tasks, training
from recommendations.models import Event, ModelVersion, PrecomputedList
from recommendations.products import json_key
from recommendations.serving import Shopper, recommend_for
from recommendations.signals import product_viewed
from tests.conftest import FETCH_QUERIES, recs

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/recommendations/modelversion/dashboard/"
RETRAIN = "/admin/recommendations/modelversion/retrain/"
STATUS = "/admin/recommendations/modelversion/status/"
CHANGELIST = "/admin/recommendations/modelversion/"
Status = ModelVersion.Status




@pytest.fixture(autouse=True)
def fresh(isolated_serving):
    with override_settings(RECOMMENDATIONS=recs(ENGINES=["popular", "item_cf"])):
        yield


@pytest.fixture
def shop(taste_shop):
    return taste_shop(products=12, users=30, picks=6, seed=3, then=Event.Kind.CART, prefix="s")


@pytest.fixture
def sent(monkeypatch):
    """Capture what would go to the broker instead of running it (returns at once)."""
    calls = []

    def apply_async(args=None, kwargs=None, **options):
        calls.append((args, kwargs))
        return types.SimpleNamespace(id=f"task-{len(calls)}")

    monkeypatch.setattr(tasks.train_engine, "apply_async", apply_async)
    return calls


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# -- who may see and do what ------------------------------------------------------------------
@pytest.mark.parametrize("url", [DASHBOARD, STATUS, CHANGELIST])
def test_anonymous_and_non_staff_are_sent_to_login(client, django_user_model, url):
    assert client.get(url).status_code == 302
    django_user_model.objects.create_user("shopper", password="pw-1")
    client.login(username="shopper", password="pw-1")
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_non_staff_cannot_trigger_training(client, django_user_model, sent):
    django_user_model.objects.create_user("shopper", password="pw-1")
    client.login(username="shopper", password="pw-1")
    response = client.post(RETRAIN, {"engine": "popular"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not sent and not ModelVersion.objects.exists()


def test_staff_without_permissions_get_403(client, django_user_model, sent):
    django_user_model.objects.create_user("clerk", password="pw-1", is_staff=True)
    client.login(username="clerk", password="pw-1")
    assert client.get(DASHBOARD).status_code == 403
    assert client.get(STATUS).status_code == 403
    assert client.post(RETRAIN, {"engine": "popular"}).status_code == 403
    assert not sent and not ModelVersion.objects.exists()


def test_staff_with_view_permission_sees_dashboard_but_cannot_retrain(client, django_user_model, sent):
    viewer = django_user_model.objects.create_user("viewer", password="pw-1", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_modelversion"))
    client.login(username="viewer", password="pw-1")
    response = client.get(DASHBOARD)
    assert response.status_code == 200 and b"Retrain all" not in response.content
    assert client.post(RETRAIN, {"engine": "popular"}).status_code == 403
    assert not sent


def test_retrain_needs_post(admin_client, sent):
    assert admin_client.get(RETRAIN).status_code == 405
    assert not sent


# -- retraining ---------------------------------------------------------------------------
def test_retrain_button_queues_and_returns_at_once(admin_client, admin_user, shop, sent):
    response = admin_client.post(RETRAIN, {"engine": "item_cf"})
    assert response.status_code == 302 and response["Location"] == DASHBOARD
    version = ModelVersion.objects.get()
    assert (version.engine, version.status, version.task_id) == ("item_cf", Status.QUEUED, "task-1")
    assert version.triggered_by == f"admin:{admin_user.get_username()}"
    assert sent == [([version.pk], {"force": False})]
    assert any(f"item_cf v{version.pk} is waiting for a worker" in m for m in messages_of(response))


def test_retrain_all_queues_every_configured_engine(admin_client, shop, sent):
    admin_client.post(RETRAIN, {"engine": "__all__"})
    assert sorted(ModelVersion.objects.values_list("engine", flat=True)) == ["item_cf", "popular"]
    assert len(sent) == 2


def test_second_click_while_a_run_is_queued_or_running_starts_nothing(admin_client, shop, sent):
    admin_client.post(RETRAIN, {"engine": "popular"})
    first = ModelVersion.objects.get()
    response = admin_client.post(RETRAIN, {"engine": "popular"})
    assert ModelVersion.objects.count() == 1 and len(sent) == 1
    assert any(f"v{first.pk} is already queued" in m for m in messages_of(response))
    # while it runs (holding the lock), still refused
    ModelVersion.objects.filter(pk=first.pk).update(status=Status.RUNNING, stage="fitting", progress=55)
    cache.set("recommendations:training-lock:popular", "worker", 60)
    response = admin_client.post(RETRAIN, {"engine": "popular"})
    assert any("already running (fitting, 55%)" in m for m in messages_of(response))
    assert ModelVersion.objects.count() == 1


def test_broker_down_shows_an_error_and_changes_nothing_else(admin_client, shop, monkeypatch):
    active = training.run_sync("popular")

    def unreachable(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.train_engine, "apply_async", unreachable)
    response = admin_client.post(RETRAIN, {"engine": "popular"}, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Could not reach the task broker" in text and "Connection refused" in text
    assert ModelVersion.objects.get(is_active=True).pk == active.pk
    failed = ModelVersion.objects.exclude(pk=active.pk).get()
    assert failed.status == Status.FAILED and "not started" in failed.error


def test_retrain_action_on_the_changelist(admin_client, shop, sent):
    a = ModelVersion.objects.create(engine="item_cf", status=Status.SUCCEEDED)
    b = ModelVersion.objects.create(engine="item_cf", status=Status.FAILED)
    c = ModelVersion.objects.create(engine="popular", status=Status.SUCCEEDED)
    admin_client.post(CHANGELIST, {"action": "retrain_selected", "_selected_action": [a.pk, b.pk, c.pk]})
    queued = ModelVersion.objects.filter(status=Status.QUEUED)
    assert sorted(queued.values_list("engine", flat=True)) == ["item_cf", "popular"]


def test_force_activate_action(admin_client, shop):
    good = training.run_sync("popular")
    ModelVersion.objects.filter(pk=good.pk).update(metrics={"ndcg@10": 0.99})
    worse = training.run_sync("popular")
    assert not worse.is_active
    response = admin_client.post(CHANGELIST, {"action": "force_activate", "_selected_action": [worse.pk]})
    assert response.status_code == 302
    worse.refresh_from_db()
    assert worse.is_active and worse.activation_note == "forced by staff"
    assert ModelVersion.objects.filter(engine="popular", is_active=True).count() == 1
    # not a failed one, and not two of one engine
    failed = ModelVersion.objects.create(engine="item_cf", status=Status.FAILED)
    admin_client.post(CHANGELIST, {"action": "force_activate", "_selected_action": [failed.pk]})
    assert not ModelVersion.objects.filter(engine="item_cf", is_active=True).exists()
    admin_client.post(CHANGELIST, {"action": "force_activate", "_selected_action": [good.pk, worse.pk]})
    worse.refresh_from_db()
    assert worse.is_active


# -- pages ------------------------------------------------------------------------------------
def test_changelist_and_detail_render(admin_client, shop):
    version = training.run_sync("item_cf")
    response = admin_client.get(CHANGELIST)
    text = response.content.decode()
    assert response.status_code == 200 and "Training dashboard" in text
    assert f"{version.ndcg:.4f}" in text and "30 users" in text
    detail = admin_client.get(f"{CHANGELIST}{version.pk}/change/")
    assert detail.status_code == 200 and b"ndcg@10" in detail.content
    assert admin_client.get("/admin/recommendations/").content.count(b"Training dashboard") == 1
    assert admin_client.get("/admin/recommendations/modelversion/add/").status_code == 403


def test_dashboard_shows_versions_metrics_and_svg_charts(admin_client, shop):
    for _ in range(3):
        training.run_sync("item_cf", force=True)
    training.run_sync("popular")
    ghost = ModelVersion.objects.create(engine="item_cf", status=Status.RUNNING,  # dead worker
                                        heartbeat_at=timezone.now() - timedelta(minutes=5))
    response = admin_client.get(DASHBOARD)
    assert response.status_code == 200
    text = response.content.decode()
    ghost.refresh_from_db()
    assert ghost.status == Status.FAILED  # fail_stale_runs ran
    active = ModelVersion.objects.get(engine="item_cf", is_active=True)
    assert f"v{active.pk}</a>" in text and "Last trained" in text and "30 users" in text
    svgs = re.findall(r"<svg [^>]*class=\"rec-chart\".*?</svg>", text, flags=re.S)
    # the comparison, beyond accuracy and novelty compared, per engine accuracy and beyond accuracy
    assert len(svgs) == 7
    for svg in svgs:
        assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    comparison = svgs[0]
    assert "item_cf" in comparison and "popular" in comparison and "coverage@10" in comparison
    assert comparison.count('class="bar"') == 8  # 2 engines x 4 metrics
    item_chart = next(s for s in svgs if "item_cf: validation metrics by version" in s)
    assert item_chart.count("<polyline") == 3  # ndcg, precision, recall over 3 versions
    assert "Retrain item_cf" in text and "Retrain all" in text
    assert "<script>" in text and "/admin/recommendations/modelversion/status/" in text
    assert "cdn" not in text.lower()


def test_empty_dashboard_renders(admin_client):
    response = admin_client.get(DASHBOARD)
    assert response.status_code == 200
    assert b"No active versions yet." in response.content
    assert b"No succeeded version with metrics yet." in response.content


def test_status_endpoint_reports_stage_and_percent(admin_client, shop):
    done = training.run_sync("popular")
    running = ModelVersion.objects.create(engine="item_cf", status=Status.RUNNING, stage="fitting",
                                          progress=55)
    cache.set("recommendations:training-lock:item_cf", "worker", 60)
    response = admin_client.get(STATUS)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = json.loads(response.content)
    assert data["busy"] is True
    item = data["engines"]["item_cf"]["latest"]
    assert (item["id"], item["status"], item["stage"], item["progress"]) == (
        running.pk, "running", "fitting", 55)
    assert data["engines"]["popular"] == {"active": done.pk, "latest": {
        **data["engines"]["popular"]["latest"], "status": "succeeded", "progress": 100}}


def test_outcomes_are_said_in_plain_words_and_link_the_version(admin_client, shop):
    live = training.run_sync("popular")
    ModelVersion.objects.filter(pk=live.pk).update(metrics={"ndcg@10": 0.99}, total_seconds=130.4)
    response = admin_client.post(RETRAIN, {"engine": "popular"}, follow=True)  # eager here: it ran
    kept = ModelVersion.objects.filter(engine="popular").latest("pk")
    text = response.content.decode()
    assert not kept.is_active
    assert re.search(rf'<a href="/admin/recommendations/modelversion/{kept.pk}/change/">popular v{kept.pk} '
                     rf'trained in \d+ s; kept v{live.pk}: ndcg@10 0\.\d{{3}} &lt; 0\.990 of the live version', text)
    # the failed run: its one line on the dashboard, the whole trace on its page
    failed = ModelVersion.objects.create(
        engine="item_cf", status=Status.FAILED, started_at=timezone.now() - timedelta(seconds=34),
        finished_at=timezone.now(), error="MemoryError: out of memory\n\nTraceback (most recent call last):\n"
                                          "  File \"training.py\", line 1, in train")
    data = admin_client.get(STATUS).json()
    assert data["engines"]["item_cf"]["latest"]["message"] == (
        f"item_cf v{failed.pk} failed after 34 s: MemoryError: out of memory; it had no model yet, so the "
        "storefront falls back to other engines")
    assert data["engines"]["item_cf"]["latest"]["error"] == "MemoryError: out of memory"
    assert data["summary"] == "Latest runs: 2 of 2 finished (0 live, 1 kept the old version, 1 failed)."
    page = admin_client.get(f"{CHANGELIST}{failed.pk}/change/").content.decode()
    assert "Traceback (most recent call last):" in page and "line 1, in train" in page


def test_a_running_training_shows_elapsed_time_and_an_estimate_from_the_last_run(admin_client, shop):
    done = training.run_sync("item_cf")
    ModelVersion.objects.filter(pk=done.pk).update(total_seconds=130)
    now = timezone.now()
    running = ModelVersion.objects.create(engine="item_cf", status=Status.RUNNING, stage="validating",
                                          progress=20, started_at=now - timedelta(seconds=52),
                                          heartbeat_at=now)
    ModelVersion.objects.create(engine="popular")  # queued
    data = admin_client.get(STATUS).json()
    run = data["engines"]["item_cf"]["latest"]
    assert (run["elapsed_s"], run["estimate_s"]) == (52, 130)
    assert run["percent"] == 40  # 52 of 130 s, within the validating stage (20-54 %)
    assert run["message"] == (f"item_cf v{running.pk}: validating, 40 %, 52 s so far; about 1 min 18 s left "
                              "(the last run took 2 min 10 s)")
    assert data["busy"] and data["summary"] == "Training: 0 of 2 finished (0 live, 0 kept the old version, " \
                                               "0 failed); 1 running, 1 waiting."
    assert "is waiting for a worker" in data["engines"]["popular"]["latest"]["message"]
    page = admin_client.get(DASHBOARD).content.decode()
    assert 'id="rec-training-summary"' in page and "1 running, 1 waiting" in page
    assert re.search(r"about 1 min 1\d s left", page)  # a second or two later


def test_the_dashboard_says_what_the_storefront_serves(admin_client, shop):
    item = training.run_sync("item_cf")
    text = admin_client.get(DASHBOARD).content.decode()
    panel = text[text.index('id="rec-serving"'):text.index("</section>", text.index('id="rec-serving"'))]
    assert "<strong>hybrid</strong>" in panel and "has no model yet: item_cf answers instead" in panel
    assert f"item_cf (<a href=\"/admin/recommendations/modelversion/{item.pk}/change/\">v{item.pk}</a>)" in panel
    assert "trending (no model)" in panel and "then database counts" in panel
    with override_settings(RECOMMENDATIONS=recs(SERVING_ENGINE="item_cf",
                                                AB_TEST={"name": "t", "variants": {"item_cf": 80, "popular": 20}})):
        panel = admin_client.get(DASHBOARD).content.decode()
    assert "A/B variant “item_cf” (80 % of shoppers)" in panel and "A/B variant “popular” (20 % of shoppers)" in panel
    assert f"v{item.pk}</a>, live for" in panel


# -- precomputed lists ------------------------------------------------------------------------
@override_settings(RECOMMENDATIONS=recs(PRECOMPUTE_CHUNK_SIZE=7))
def test_precompute_writes_one_list_per_shopper_and_serving_reads_it(shop, django_assert_max_num_queries):
    books, garden, users = shop
    assert tasks.precompute_lists.delay("item_cf").get()["status"] == "skipped"  # no model yet
    training.run_sync("item_cf")
    for _ in range(2):  # a second run replaces, never duplicates
        result = tasks.precompute_lists.delay("item_cf").get()
    assert (result["shoppers"], result["chunks"]) == (30, 5)
    assert PrecomputedList.objects.count() == 30
    assert PrecomputedList.objects.values("shopper", "engine").distinct().count() == 30
    reader = Shopper(user_id=users[1].pk)
    row = PrecomputedList.objects.get(shopper=str(users[1].pk), engine="item_cf")
    assert len(row.items) == 20 and row.version.is_active
    # serving answers from the stored list: no history, no model scoring (two active-version
    # checks here because the test checks on every call, the shopper's "not interested"
    # choices, the row, its products)
    with django_assert_max_num_queries(4 + FETCH_QUERIES()):
        recs = recommend_for(reader, 5, engine="item_cf")
    assert [json_key(r.product_id) for r in recs] == [item[0] for item in row.items[:5]]
    assert {serving._category(r.product) for r in recs} == {"Books"}
    # the shopper acts: their stored list goes, the next list is computed live
    product_viewed.send(sender=None, user=users[1], product=garden[0])
    assert not PrecomputedList.objects.filter(shopper=str(users[1].pk)).exists()
    assert PrecomputedList.objects.count() == 29


@override_settings(RECOMMENDATIONS=recs())
def test_precomputed_list_of_an_older_version_is_ignored(shop):
    books, garden, users = shop
    old = training.run_sync("item_cf")
    tasks.precompute_lists.delay("item_cf").get()
    key = str(users[1].pk)
    PrecomputedList.objects.filter(shopper=key).update(items=[[json_key(garden[0].pk), 9.0, "item_cf", "stale"]] * 20)
    training.run_sync("item_cf", force=True)
    recs = recommend_for(Shopper(user_id=users[1].pk), 5, engine="item_cf")
    assert garden[0].pk not in {r.product_id for r in recs}
    assert PrecomputedList.objects.get(shopper=key).version_id == old.pk


@pytest.mark.parametrize("page", ["modelversion", "precomputedlist", "impression"])
def test_training_changelists_have_no_n_plus_one(admin_client, django_user_model, page):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from recommendations.models import Click, Impression

    def fill(n):
        for i in range(n):
            user = django_user_model.objects.create_user(f"{page}-{n}-{i}")
            version = ModelVersion.objects.create(engine="popular", status=Status.SUCCEEDED,
                                                  metrics={"ndcg@10": 0.1}, n_events=10)
            PrecomputedList.objects.create(shopper=f"{n}-{i}", engine="popular", version=version,
                                           items=[[1, 1.0, "popular", ""]])
            impression = Impression.objects.create(user=user, widget="home", engine="popular",
                                                   product_ids=[1, 2])
            Click.objects.create(impression=impression, product_id="1")

    url = f"/admin/recommendations/{page}/"
    fill(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    fill(20)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).status_code == 200
    assert len(many) == len(few)


def test_without_a_broker_a_failed_training_says_why_not_broker(admin_client, db, monkeypatch):
    """Eager Celery (the embedded default; the demo propagates task errors): the training runs
    in the request; when it fails (here: nothing to train on), the message and the version say
    so, not "broker"."""
    monkeypatch.setitem(tasks.train_engine.app.conf, "task_eager_propagates", True)
    response = admin_client.post(RETRAIN, {"engine": "popular"}, follow=True)
    text = response.content.decode()
    failed = ModelVersion.objects.get()
    assert f"popular v{failed.pk} failed after" in text and "no events or ratings" in text
    assert "it had no model yet, so the storefront falls back" in text
    assert "task broker" not in text
    assert failed.status == Status.FAILED and "no events or ratings" in failed.error
