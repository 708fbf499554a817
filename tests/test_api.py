"""The REST API: lists, business rules, capture, ratings, history, clicks, staff endpoints,
validation, throttling, CSRF, ownership, schema, and a web process without TensorFlow."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.test import Client, override_settings

from recommendations.models import Click, Event, Impression, ModelVersion, Rating
from recommendations.products import json_key
from recommendations.serving import Recommendation
from tests.conftest import BROWSER_HEADERS, UNKNOWN_PRODUCT, fill_payload, recs, shopper_client, train

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]
API = "/api/recommendations/"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def shop(taste_shop):
    return taste_shop(products=12, users=40, picks=6, seed=3, then=Event.Kind.CART, prefix="s")






def categories(body) -> set[str]:
    return {item["category"] for item in body["results"]}


# -- lists ----------------------------------------------------------------------------------------
def test_for_you_without_any_model_falls_back_and_records_an_impression(shop):
    response = shopper_client().get(API + "for-you/?limit=5")
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 5 and body["engine"] == "popular" and body["widget"] == "for_you"
    item = body["results"][0]
    assert {"id", "name", "description", "category", "brand", "price", "score", "engine", "reason",
            "recommendation_id", "url", "click_url"} <= set(item)
    assert item["price"] == "9.99" and item["brand"] == "Acme"
    assert item["recommendation_id"] == body["recommendation_id"]
    impression = Impression.objects.get(pk=body["recommendation_id"])
    assert impression.widget == "for_you" and impression.engine == "popular"
    assert impression.product_ids == [i["id"] for i in body["results"]]


def test_for_you_reflects_the_signed_in_shoppers_taste_with_reasons(shop):
    books, garden, users = shop
    train("item_cf", "trending", "popular")
    with override_settings(RECOMMENDATIONS=recs(SERVING_ENGINE="item_cf")):
        body = shopper_client(users[1]).get(API + "for-you/?limit=5").json()
    assert categories(body) == {"Books"} and body["engine"] == "item_cf"
    assert all(item["reason"].startswith("Because you ") for item in body["results"])
    assert Impression.objects.get(pk=body["recommendation_id"]).user_id == users[1].pk


def test_shoppers_only_ever_get_their_own_list(shop):
    books, garden, users = shop
    train("item_cf")
    with override_settings(RECOMMENDATIONS=recs(SERVING_ENGINE="item_cf")):
        reader = shopper_client(users[1])
        mine = reader.get(API + "for-you/?limit=5").json()
        # Parameters naming someone else are ignored: the list is always the requester's.
        attempt = reader.get(API + f"for-you/?limit=5&user={users[2].pk}&user_id={users[2].pk}").json()
        gardener = shopper_client(users[2]).get(API + "for-you/?limit=5").json()
    assert categories(mine) == categories(attempt) == {"Books"}
    assert categories(gardener) == {"Garden"}
    assert Impression.objects.get(pk=attempt["recommendation_id"]).user_id == users[1].pk


def test_similar_also_bought_and_trending(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    client = shopper_client()
    similar = client.get(API + f"products/{books[0].pk}/similar/?limit=4").json()
    assert len(similar["results"]) == 4 and categories(similar) == {"Books"}
    assert books[0].pk not in {i["id"] for i in similar["results"]}
    also = client.get(API + f"products/{garden[0].pk}/also-bought/?limit=4").json()
    assert categories(also) == {"Garden"} and also["widget"] == "also_bought"
    trending = client.get(API + "trending/?limit=6").json()
    assert len(trending["results"]) == 6 and trending["widget"] == "trending"
    assert {i["reason"] for i in trending["results"]} == {"Trending now"}


@pytest.mark.parametrize("path", ["products/{pk}/similar/", "products/{pk}/also-bought/"])
def test_unknown_product_is_404(shop, path):
    client = shopper_client()
    assert client.get(API + path.format(pk=987654)).status_code == 404
    assert client.get(API + path.format(pk="not-a-number")).status_code == 404


@pytest.mark.parametrize("value", ["0", "-1", "51", "abc", "1000"])
def test_limit_out_of_bounds_is_400_naming_the_field(shop, value):
    response = shopper_client().get(API + f"for-you/?limit={value}")
    assert response.status_code == 400 and "limit" in response.json()


def test_limit_bounds_are_inclusive(shop):
    client = shopper_client()
    assert len(client.get(API + "trending/?limit=1").json()["results"]) == 1
    assert len(client.get(API + "trending/?limit=50").json()["results"]) == 24  # the whole shop


def test_business_rules_per_request(shop):
    books, garden, users = shop
    train("popular", "item_cf")
    client = shopper_client(users[1])
    first = client.get(API + "for-you/?limit=4").json()
    excluded = [i["id"] for i in first["results"][:2]]
    again = client.get(API + "for-you/?limit=4&exclude=" + ",".join(map(str, excluded))).json()
    assert not set(excluded) & {i["id"] for i in again["results"]} and len(again["results"]) == 4
    mixed = client.get(API + "trending/?limit=6&max_per_category=2").json()
    counts = [i["category"] for i in mixed["results"]]
    assert len(counts) == 4 and max(counts.count(c) for c in set(counts)) == 2
    similar = client.get(API + f"products/{books[0].pk}/similar/?limit=3&exclude={books[1].pk}").json()
    assert books[1].pk not in {i["id"] for i in similar["results"]} and len(similar["results"]) == 3
    bad = client.get(API + "for-you/?max_per_category=0")
    assert bad.status_code == 400 and "max_per_category" in bad.json()


def pin_first_garden_tool(recommendations, context):
    from recommendations.conf import get_product_model

    model = get_product_model()
    pinned = model._default_manager.filter(pk__in=PINNED).first()
    if context["list"] == "for_you" and pinned is not None:
        return [Recommendation(pinned.pk, 99.0, "pinned", "Featured"), *recommendations]
    return recommendations


PINNED: list = []


def test_ranking_hooks_pin_a_product_through_the_api(shop):
    books, garden, users = shop
    train("item_cf")
    PINNED[:] = [garden[5].pk]
    try:
        with override_settings(RECOMMENDATIONS=recs(SERVING_ENGINE="item_cf",
                                                    RANKING_HOOKS=["tests.test_api.pin_first_garden_tool"])):
            client = shopper_client(users[1])
            body = client.get(API + "for-you/?limit=5").json()
            cached = client.get(API + "for-you/?limit=5").json()  # hooks run on cached lists too
    finally:
        PINNED.clear()
    for response in (body, cached):
        assert response["results"][0]["id"] == json_key(garden[5].pk)
        assert response["results"][0]["reason"] == "Featured" and len(response["results"]) == 5


# -- capture ----------------------------------------------------------------------------------------
def test_event_capture_for_anonymous_and_signed_in_shoppers(shop):
    books, garden, users = shop
    anonymous = shopper_client()
    response = anonymous.post(API + "events/", {"product": books[0].pk, "event": "view"},
                              content_type="application/json")
    assert response.status_code == 201 and response.json()["recorded"] is True
    event = Event.objects.get(pk=response.json()["id"])
    assert event.user is None and event.session_key and event.kind == Event.Kind.VIEW
    repeat = anonymous.post(API + "events/", {"product": books[0].pk, "event": "view"},
                            content_type="application/json")
    assert repeat.status_code == 200 and repeat.json() == {"recorded": False, "id": None}
    history = anonymous.get(API + "me/history/").json()
    assert history["count"] == 1 and history["results"][0]["product"]["name"] == "Book 0"

    signed_in = shopper_client(users[0])
    response = signed_in.post(API + "events/", {"product": garden[1].pk, "event": "purchase", "quantity": 3},
                              content_type="application/json")
    event = Event.objects.get(pk=response.json()["id"])
    assert (event.user_id, event.kind, event.quantity) == (users[0].pk, Event.Kind.PURCHASE, 3)


def test_bots_are_not_recorded(shop):
    books, garden, users = shop
    bot = Client(HTTP_USER_AGENT="Googlebot/2.1 (+http://www.google.com/bot.html)")
    response = bot.post(API + "events/", {"product": books[0].pk, "event": "cart"},
                        content_type="application/json")
    assert response.status_code == 200 and response.json()["recorded"] is False
    listing = bot.get(API + "trending/").json()
    assert listing["recommendation_id"] is None and not Impression.objects.exists()


@pytest.mark.parametrize("payload, field, status", [
    ({"event": "view"}, "product", 400),
    ({"product": UNKNOWN_PRODUCT, "event": "view"}, "product", 404),  # well formed, but no such product
    ({"product": UNKNOWN_PRODUCT, "event": "wishlist"}, "event", 400),  # and malformed: a 400
    ({"product": "x", "event": "view"}, "product", 400),
    ({"product": "{pk}", "event": "wishlist"}, "event", 400),
    ({"product": "{pk}", "event": "cart", "quantity": 0}, "quantity", 400),
    ({"product": "{pk}", "event": "cart", "quantity": "many"}, "quantity", 400),
    ({"product": "{pk}", "event": "cart", "quantity": "2"}, "quantity", 400),  # JSON integers only
])
def test_invalid_event_payload_is_400_naming_the_field(shop, payload, field, status):
    books, garden, users = shop
    payload = fill_payload(payload, books[0])
    response = shopper_client().post(API + "events/", payload, content_type="application/json")
    assert response.status_code == status and field in response.json(), response.json()
    assert not Event.objects.filter(session_key__gt="").exists()


def test_an_event_posted_through_the_api_changes_the_next_list(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    with override_settings(RECOMMENDATIONS=recs(SERVING_ENGINE="item_cf")):
        reader = shopper_client(users[1])
        before = reader.get(API + "for-you/?limit=6").json()
        assert categories(before) == {"Books"}
        for product in garden[:6]:
            assert reader.post(API + "events/", {"product": product.pk, "event": "purchase"},
                               content_type="application/json").status_code == 201
        after = reader.get(API + "for-you/?limit=6").json()
    assert "Garden" in categories(after)
    assert [i["id"] for i in after["results"]] != [i["id"] for i in before["results"]]


# -- ratings and history ---------------------------------------------------------------------------
def test_ratings_upsert_list_and_delete_own(shop):
    books, garden, users = shop
    client = shopper_client(users[0])
    created = client.post(API + "ratings/", {"product": books[0].pk, "score": 4}, content_type="application/json")
    assert created.status_code == 201 and created.json()["score"] == 4
    updated = client.post(API + "ratings/", {"product": books[0].pk, "score": 2}, content_type="application/json")
    assert updated.status_code == 200 and updated.json()["id"] == created.json()["id"]
    assert Rating.objects.get(user=users[0], product=books[0]).score == 2
    rid = created.json()["id"]
    assert client.put(API + f"ratings/{rid}/", {"score": 5}, content_type="application/json").json()["score"] == 5
    listing = client.get(API + "ratings/").json()
    assert listing["count"] == 1 and listing["results"][0]["product_name"] == "Book 0"
    assert client.delete(API + f"ratings/{rid}/").status_code == 204
    assert not Rating.objects.filter(pk=rid).exists()


@pytest.mark.parametrize("payload, field, status", [
    ({"product": "{pk}", "score": 6}, "score", 400),
    ({"product": "{pk}", "score": 0}, "score", 400),
    ({"product": "{pk}"}, "score", 400),
    ({"product": UNKNOWN_PRODUCT, "score": 3}, "product", 404),  # well formed, but no such product
])
def test_invalid_rating_is_400_naming_the_field(shop, payload, field, status):
    books, garden, users = shop
    payload = fill_payload(payload, books[0])
    response = shopper_client(users[0]).post(API + "ratings/", payload, content_type="application/json")
    assert response.status_code == status and field in response.json()


def test_a_shopper_cannot_read_or_change_another_shoppers_ratings_or_history(shop):
    books, garden, users = shop
    theirs = Rating.objects.create(user=users[2], product=books[3], score=5)
    me = shopper_client(users[0])
    assert me.get(API + "ratings/").json()["count"] == 0
    assert me.get(API + f"ratings/{theirs.pk}/").status_code == 404
    assert me.put(API + f"ratings/{theirs.pk}/", {"score": 1}, content_type="application/json").status_code == 404
    assert me.delete(API + f"ratings/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.score == 5
    history = me.get(API + f"me/history/?limit=50&user={users[2].pk}").json()
    assert history["count"] == Event.objects.filter(user=users[0]).count()
    assert {r["product_id"] for r in history["results"]} <= {json_key(pk) for pk in
        Event.objects.filter(user=users[0]).values_list("product_id", flat=True)}
    assert shopper_client().get(API + "me/history/").json() == {"count": 0, "results": []}


def test_ratings_need_a_signed_in_shopper(shop):
    books, garden, users = shop
    response = shopper_client().post(API + "ratings/", {"product": books[0].pk, "score": 3},
                                      content_type="application/json")
    assert response.status_code == 403 and not Rating.objects.exists()


# -- clicks -------------------------------------------------------------------------------------------
def test_clicks_are_recorded_once_and_only_for_the_shoppers_own_lists(shop):
    books, garden, users = shop
    me, other = shopper_client(users[0]), shopper_client(users[1])
    body = me.get(API + "trending/?limit=3").json()
    rec, product = body["recommendation_id"], body["results"][1]["id"]
    click = {"recommendation_id": rec, "product": product}
    assert me.post(API + "clicks/", click, content_type="application/json").status_code == 201
    assert me.post(API + "clicks/", click, content_type="application/json").status_code == 200
    assert Click.objects.filter(impression_id=rec).count() == 1
    stolen = other.post(API + "clicks/", {**click, "product": body["results"][0]["id"]},
                        content_type="application/json")
    assert stolen.status_code == 404 and "recommendation_id" in stolen.json()  # as if there were none
    not_shown = me.post(API + "clicks/", {"recommendation_id": rec, "product": 987654},
                        content_type="application/json")
    assert not_shown.status_code == 404 and "product" in not_shown.json()
    malformed = me.post(API + "clicks/", {"recommendation_id": "nope", "product": product},
                        content_type="application/json")
    assert malformed.status_code == 400 and "recommendation_id" in malformed.json()
    assert Click.objects.count() == 1


def test_click_redirect_records_and_sends_to_the_product(shop, monkeypatch):
    from recommendations.conf import get_product_model

    monkeypatch.setattr(get_product_model(), "get_absolute_url",
                        lambda self: f"/products/{self.pk}/", raising=False)
    client = shopper_client()
    body = client.get(API + "trending/?limit=3").json()
    item = body["results"][0]
    assert item["url"] == f"/products/{item['id']}/"
    assert item["click_url"] == API + f"r/{body['recommendation_id']}/{item['id']}/"
    response = client.get(item["click_url"])
    assert response.status_code == 302 and response["Location"] == item["url"]
    assert Click.objects.get().product_id == str(item["id"])
    assert client.get(API + f"r/{body['recommendation_id']}/987654/").status_code == 404


# -- staff ------------------------------------------------------------------------------------------
@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("staff", is_staff=True)


def test_model_endpoints_are_staff_only(shop, staff):
    books, garden, users = shop
    train("popular")
    for client in (shopper_client(), shopper_client(users[0])):
        assert client.get(API + "models/").status_code == 403
        assert client.post(API + "models/retrain/", {"engine": "popular"},
                           content_type="application/json").status_code == 403
    listing = shopper_client(staff).get(API + "models/").json()
    assert listing["count"] == 1 and listing["results"][0]["engine"] == "popular"
    assert listing["results"][0]["is_active"] is True


def test_retrain_queues_a_version(shop, staff, monkeypatch):
    from recommendations import tasks

    class Result:
        id = "task-1"

    monkeypatch.setattr(tasks.train_engine, "apply_async", lambda *a, **k: Result())
    response = shopper_client(staff).post(API + "models/retrain/", {"engine": "item_cf"},
                                          content_type="application/json")
    assert response.status_code == 202
    version = ModelVersion.objects.get(pk=response.json()["id"])
    assert (version.engine, version.task_id, version.triggered_by) == ("item_cf", "task-1", "staff")
    again = shopper_client(staff).post(API + "models/retrain/", {"engine": "item_cf"},
                                       content_type="application/json")
    assert again.status_code == 409 and again.json()["version"]["id"] == version.pk
    assert ModelVersion.objects.count() == 1  # one run of an engine at a time, as in the admin
    bad = shopper_client(staff).post(API + "models/retrain/", {"engine": "magic"}, content_type="application/json")
    assert bad.status_code == 400 and "engine" in bad.json()


def test_retrain_with_the_broker_down_is_503_with_a_clear_message(shop, staff, monkeypatch):
    from kombu.exceptions import OperationalError

    from recommendations import tasks

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.train_engine, "apply_async", down)
    response = shopper_client(staff).post(API + "models/retrain/", {"engine": "popular"},
                                          content_type="application/json")
    assert response.status_code == 503
    assert "broker" in response.json()["detail"] and "Connection refused" in response.json()["detail"]
    assert ModelVersion.objects.get().status == ModelVersion.Status.FAILED


# -- throttling, CSRF, schema --------------------------------------------------------------------
def test_writes_are_throttled_per_scope_and_reads_separately(shop):
    books, garden, users = shop
    client = shopper_client(users[0])
    with override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"recommendations.events": "2/min"}}):
        codes = [client.post(API + "events/", {"product": books[i].pk, "event": "cart"},
                             content_type="application/json").status_code for i in range(3)]
        assert codes == [201, 201, 429]
        assert all(client.get(API + "trending/?limit=2").status_code == 200 for _ in range(4))  # own rate
    # Without a REST_FRAMEWORK rate for the scope, RECOMMENDATIONS["THROTTLE_RATES"] applies.
    with override_settings(RECOMMENDATIONS=recs(THROTTLE_RATES={"recommendations.clicks": "1/min"}),
                           REST_FRAMEWORK={}):
        body = client.get(API + "trending/?limit=2").json()
        clicks = [client.post(API + "clicks/", {"recommendation_id": body["recommendation_id"], "product": i["id"]},
                              content_type="application/json").status_code for i in body["results"]]
        assert clicks == [201, 429]


def test_csrf_is_enforced_for_session_writes(shop):
    books, garden, users = shop
    payload = {"product": books[0].pk, "event": "cart"}
    anonymous = Client(enforce_csrf_checks=True, **BROWSER_HEADERS)
    response = anonymous.post(API + "events/", payload, content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    signed_in = Client(enforce_csrf_checks=True, **BROWSER_HEADERS)
    signed_in.force_login(users[0])
    assert signed_in.post(API + "events/", payload, content_type="application/json").status_code == 403
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    signed_in.cookies["csrftoken"] = token
    ok = signed_in.post(API + "events/", payload, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 201
    assert not Event.objects.filter(session_key__gt="", kind=Event.Kind.CART).exists()


def test_openapi_schema_and_docs_page(shop):
    client = shopper_client()
    schema = client.get(API + "schema/?format=json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    for path in ("for-you/", "trending/", "products/{id}/similar/", "events/", "ratings/", "clicks/",
                 "me/history/", "models/", "models/retrain/"):
        assert API + path in paths, path
    docs = client.get(API + "docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_docs_page_loads_its_assets_from_local_static_files_only():
    """The machine serving the docs may have no internet: Swagger UI comes from the
    drf-spectacular-sidecar app's static files, never from a CDN."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    html = shopper_client().get(API + "docs/").content.decode()
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assets = [url for url in urls if url.endswith((".js", ".css", ".png"))]
    assert len(assets) >= 3, urls  # css, bundle, standalone preset (and the favicon)
    assert not re.search(r"https?://|//cdn|jsdelivr|unpkg", html, re.IGNORECASE)
    static_prefix = "/" + settings.STATIC_URL.lstrip("/")
    for url in assets:
        assert url.startswith(static_prefix), url
        assert finders.find(url[len(static_prefix):]), f"{url} is not a static file of an installed app"


# -- the web process never imports TensorFlow -------------------------------------------------------
def test_web_process_never_imports_tensorflow(tmp_path):
    settings_module = os.environ.get("DJANGO_SETTINGS_MODULE", "tests.settings")
    script = textwrap.dedent(f"""
        import os, sys
        os.environ["DJANGO_SETTINGS_MODULE"] = {settings_module!r}
        os.environ["DATABASE_URL"] = "sqlite:///{tmp_path}/web.sqlite3"
        import django
        from django.conf import settings
        django.setup()
        settings.MEDIA_ROOT = {str(tmp_path)!r}
        from django.test.utils import setup_test_environment
        from django.db import connection
        setup_test_environment()
        connection.creation.create_test_db(verbosity=0)
        from django.urls import get_resolver
        get_resolver().url_patterns
        import tests.urls, recommendations.urls  # noqa
        from tests.conftest import make_product
        from recommendations.models import Event
        from django.contrib.auth import get_user_model
        products = [make_product(f"P{{i}}") for i in range(6)]
        for u in range(8):
            user = get_user_model().objects.create_user(f"u{{u}}")
            for p in products[u % 3: u % 3 + 3]:
                Event.objects.create(user=user, product=p, kind=Event.Kind.VIEW)
        from recommendations import training, serving
        training.run_sync("item_cf")
        serving.active_models.clear()
        from recommendations.serving import Shopper, recommend_for
        assert serving.active_models.get("item_cf") is not None
        recs = recommend_for(Shopper(user_id=user.pk), 3, engine="item_cf")
        assert recs and recs[0].engine == "item_cf", recs
        from django.template import engines
        from django.test import RequestFactory
        request = RequestFactory().get("/")
        request.user = user
        html = engines["django"].from_string(
            "{{% load recommendations %}}{{% recommended_for_you limit=3 %}}{{% similar_products p %}}"
            "{{% trending_products %}}").render({{"request": request, "p": products[0]}})
        assert "P" in html
        from django.test import Client
        assert Client().get("/api/recommendations/for-you/").status_code == 200
        loaded = sorted(m for m in sys.modules if m == "tensorflow" or m.startswith(("tensorflow.", "keras")))
        print("TF_MODULES", loaded)
        assert not loaded, loaded
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "TF_MODULES []" in result.stdout
