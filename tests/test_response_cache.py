"""The API's finished list responses kept in the cache (``serving.cached_response``): a cached
request answers the same JSON as a computed one, with its own impression, never another
shopper's list, and nothing stale after the shopper acts, the catalogue changes or another
model version becomes active."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token

from recommendations import feedback, serving
from recommendations.models import Event, Impression
from recommendations.products import json_key
from recommendations.serving import Shopper
from tests.conftest import recs, shopper_client, train, update_product, without_ids

pytestmark = [pytest.mark.usefixtures("isolated_serving"), pytest.mark.django_db]
API = "/api/recommendations/"


@pytest.fixture
def shop(taste_shop):
    return taste_shop(products=12, users=30, picks=6, seed=5, then=Event.Kind.CART, prefix="r")


def ids(body: dict) -> list:
    return [item["id"] for item in body["results"]]


def impression(body: dict) -> Impression:
    return Impression.objects.get(pk=body["recommendation_id"])


@pytest.mark.parametrize("path", ["for-you/?limit=5", "products/{pk}/similar/?limit=4",
                                  "products/{pk}/also-bought/?limit=4", "trending/?limit=5&exclude={pk}"])
def test_a_cached_response_is_the_computed_one_with_its_own_impression(shop, path):
    books, garden, users = shop
    train("item_cf", "trending")
    client = shopper_client(users[1])
    url = API + path.format(pk=books[0].pk)
    first = client.get(url)
    with CaptureQueriesContext(connection) as queries:
        again = client.get(url)
    assert first.status_code == again.status_code == 200
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    assert again["Vary"] == first["Vary"]
    first_body, body = first.json(), again.json()
    assert first_body["results"] and without_ids(body) == without_ids(first_body)
    assert body["recommendation_id"] != first_body["recommendation_id"]
    assert all(item["recommendation_id"] == body["recommendation_id"] for item in body["results"])
    assert [item["click_url"] and item["click_url"].replace(body["recommendation_id"], first_body["recommendation_id"])
            for item in body["results"]] == [item["click_url"] for item in first_body["results"]]
    shown = impression(body)  # the cached answer records its impression like a computed one
    assert shown.user_id == users[1].pk and shown.product_ids == [json_key(pk) for pk in ids(body)]
    assert (shown.widget, shown.engine) == (impression(first_body).widget, body["engine"])
    # The session, the active-version check and the impression: no product or list query.
    tables = {q["sql"].split('FROM "')[1].split('"')[0] for q in queries.captured_queries if 'FROM "' in q["sql"]}
    assert not tables & {"recommendations_product", "recommendations_event", "recommendations_precomputedlist"}


def test_one_shoppers_cached_list_is_never_anothers(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    reader, gardener = users[1], users[2]  # odd shoppers like books, even ones garden tools
    reader_body = shopper_client(reader).get(API + "for-you/?limit=5").json()
    shopper_client(reader).get(API + "for-you/?limit=5")  # cached now
    gardener_body = shopper_client(gardener).get(API + "for-you/?limit=5").json()
    gardener_again = shopper_client(gardener).get(API + "for-you/?limit=5").json()
    # as JSON gives them: numbers for integer keys, strings for UUID keys
    book_ids, garden_ids = {str(p.pk) for p in books}, {str(p.pk) for p in garden}
    assert set(map(str, ids(reader_body))) <= book_ids and set(map(str, ids(gardener_body))) <= garden_ids
    assert ids(gardener_again) == ids(gardener_body)
    assert impression(gardener_again).user_id == gardener.pk
    # Anonymous visitors (no session, nothing to key a list by) never get a signed-in shopper's list.
    anonymous = shopper_client().get(API + "for-you/?limit=5").json()
    assert not set(ids(anonymous)) & set(ids(reader_body)) - set(ids(
        shopper_client().get(API + "trending/?limit=24").json()))


def test_the_shoppers_own_event_replaces_their_cached_response(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    client = shopper_client(users[1])
    first = client.get(API + "for-you/?limit=5").json()
    assert ids(client.get(API + "for-you/?limit=5").json()) == ids(first)  # cached
    bought = ids(first)[0]
    response = client.post(API + "events/", {"product": bought, "event": "purchase"},
                           content_type="application/json")
    assert response.status_code == 201
    after = client.get(API + "for-you/?limit=5").json()
    assert bought not in ids(after)  # bought products are not recommended again


def test_a_catalogue_change_replaces_cached_responses(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    client = shopper_client(users[1])
    similar = API + f"products/{books[0].pk}/similar/?limit=4"
    first = client.get(similar).json()
    assert ids(client.get(similar).json()) == ids(first)  # cached
    gone = type(books[0]).objects.get(pk=ids(first)[0])
    update_product(gone, available=False)
    assert gone.pk not in ids(client.get(similar).json())
    renamed = type(books[0]).objects.get(pk=ids(first)[1])
    update_product(renamed, price=Decimal("123.45"))
    assert "123.45" in [item["price"] for item in client.get(similar).json()["results"]]


def test_a_new_active_version_replaces_cached_responses(shop):
    books, garden, users = shop
    train("popular")
    client = shopper_client(users[1])
    assert {item["engine"] for item in client.get(API + "for-you/?limit=5").json()["results"]} == {"popular"}
    client.get(API + "for-you/?limit=5")  # cached
    train("item_cf")
    assert {item["engine"] for item in client.get(API + "for-you/?limit=5").json()["results"]} == {"item_cf"}


def test_what_is_not_kept(shop):
    """Other renderers, other parameters and bots get their own answers."""
    books, garden, users = shop
    train("item_cf", "trending")
    client = shopper_client(users[1])
    plain = client.get(API + "trending/?limit=5").json()
    assert client.get(API + "trending/?limit=5", HTTP_ACCEPT="text/html").status_code == 200
    indented = client.get(API + "trending/?limit=5", HTTP_ACCEPT="application/json; indent=2")
    assert indented.content.startswith(b'{\n  "recommendation_id"')
    assert len(client.get(API + "trending/?limit=3").json()["results"]) == 3
    assert ids(client.get(API + f"trending/?limit=5&exclude={ids(plain)[0]}").json())[0] != ids(plain)[0]
    bot = client.get(API + "trending/?limit=5", HTTP_USER_AGENT="Googlebot/2.1").json()
    assert bot["recommendation_id"] is None and ids(bot) == ids(plain)
    response = client.get(API + "trending/?limit=0")
    assert response.status_code == 400 and "limit" in response.json()
    assert client.get(API + "products/999999/similar/").status_code == 404
    entry = serving._cache().get(serving.TRENDING_KEY)
    assert len(entry["responses"]) == 3  # limit=5, limit=3, the exclusion


@pytest.mark.django_db(transaction=True)
def test_buffered_impressions_are_written_as_recorded(shop):
    """The buffer keeps field values and writes them in bulk (PostgreSQL: COPY): every field
    comes back as recorded, the time being when the list was shown."""
    books, garden, users = shop
    feedback.flush_impressions()
    with override_settings(RECOMMENDATIONS=recs(IMPRESSION_BUFFER_SECONDS=60)):
        before = timezone.now()
        signed_in = feedback.record_shown(Shopper(user_id=users[0].pk), "for_you", [7, "key-2"], "item_cf", "B")
        anonymous = feedback.record_shown(Shopper(session_key="s-9"), "trending", ["x'\"\\\t"], "trending")
        after = timezone.now()
        assert not Impression.objects.filter(pk__in=[signed_in, anonymous]).exists()  # still buffered
        assert feedback.flush_impressions() == 2
    rows = {row.pk: row for row in Impression.objects.filter(pk__in=[signed_in, anonymous])}
    first, second = rows[signed_in], rows[anonymous]
    assert (first.user_id, first.session_key, first.widget, first.engine, first.variant, first.product_ids) == (
        users[0].pk, "", "for_you", "item_cf", "B", [7, "key-2"])
    assert (second.user_id, second.session_key, second.variant, second.product_ids) == (
        None, "s-9", "", ["x'\"\\\t"])
    assert before <= first.created_at <= second.created_at <= after


def test_a_response_begun_before_the_shoppers_event_is_not_kept(shop):
    """A request that read the shopper's state before their event (another process) must not
    store the response it built after the event's invalidation."""
    books, garden, users = shop
    shopper = Shopper(user_id=users[1].pk)
    response = (b'{"results": []}', [], "", "")
    stored, token, signature = serving.cached_response(shopper.cache_key, "name")
    assert stored is None
    begun = time.time() - 1
    serving.invalidate(shopper)  # the event, while the response was being built
    serving.store_response(shopper.cache_key, "name", response, token=token, signature=signature, since=begun)
    assert serving.cached_response(shopper.cache_key, "name")[0] is None
    serving.store_response(shopper.cache_key, "name", response, token=token, signature=signature, since=time.time())
    assert serving.cached_response(shopper.cache_key, "name")[0] == response
    serving.products_changed()  # a new catalogue token
    assert serving.cached_response(shopper.cache_key, "name")[0] is None


HEADERS = ("Content-Type", "Vary", "Allow", "Content-Language", "X-Frame-Options")


@pytest.mark.parametrize("path", ["for-you/?limit=5", "products/{pk}/similar/?limit=4", "trending/"])
def test_a_kept_response_is_served_before_drfs_dispatch_as_drf_would_serve_it(shop, path, dispatches):
    books, garden, users = shop
    train("item_cf", "trending")
    client = shopper_client(users[1])
    url = API + path.format(pk=books[0].pk)
    first = client.get(url)
    assert dispatches == [url.split("?")[0]]  # built by DRF
    again = client.get(url, HTTP_ACCEPT="*/*")
    plain = client.get(url, HTTP_ACCEPT="application/json")
    assert len(dispatches) == 1  # both kept answers served before DRF's dispatch
    for response in (again, plain):
        assert response.status_code == 200
        assert without_ids(response.json()) == without_ids(first.json())
        assert {name: response.get(name) for name in HEADERS} == {name: first.get(name) for name in HEADERS}
        assert impression(response.json()).user_id == users[1].pk


def test_drf_dispatches_whatever_it_could_answer_otherwise(shop, dispatches):
    """Another renderer or ``format``, credentials in a header and an inactive user's session
    all go through DRF, which may answer differently."""
    books, garden, users = shop
    train("item_cf", "trending")
    reader, gardener = users[1], users[2]
    client = shopper_client(reader)
    client.get(API + "for-you/?limit=5")
    client.get(API + "for-you/?limit=5")
    assert len(dispatches) == 1
    for extra in ({"HTTP_ACCEPT": "text/html"}, {"HTTP_ACCEPT": "application/json; indent=2"},
                  {"data": {"limit": 5, "format": "json"}}):
        assert client.get(API + "for-you/", **({"data": {"limit": 5}} | extra)).status_code == 200
    assert len(dispatches) == 4
    # A token that names another shopper than the session, where the token counts first.
    token = Token.objects.create(user=gardener)
    gardener_body = shopper_client(gardener).get(API + "for-you/?limit=5").json()
    assert ids(gardener_body) != ids(client.get(API + "for-you/?limit=5").json())
    token_first = ["rest_framework.authentication.TokenAuthentication",
                   "rest_framework.authentication.SessionAuthentication"]
    with override_settings(REST_FRAMEWORK={"DEFAULT_AUTHENTICATION_CLASSES": token_first}):
        by_token = client.get(API + "for-you/?limit=5", HTTP_AUTHORIZATION=f"Token {token.key}").json()
    assert ids(by_token) == ids(gardener_body) and impression(by_token).user_id == gardener.pk
    # Where Django lets inactive users sign in, DRF's session authentication still takes them
    # for anonymous: a deactivated user's session is not served their kept list.
    allow_all = "django.contrib.auth.backends.AllowAllUsersModelBackend"
    with override_settings(AUTHENTICATION_BACKENDS=[allow_all]):
        client = shopper_client()
        client.force_login(reader, backend=allow_all)
        kept = client.get(API + "for-you/?limit=5").json()
        assert impression(kept).user_id == reader.pk
        type(reader).objects.filter(pk=reader.pk).update(is_active=False)
        dispatched = len(dispatches)
        after = client.get(API + "for-you/?limit=5").json()
    assert len(dispatches) == dispatched + 1 and impression(after).user_id is None


def test_kept_answers_are_throttled_like_others(shop, dispatches):
    books, garden, users = shop
    train("item_cf", "trending")
    with override_settings(RECOMMENDATIONS=recs(THROTTLE_RATES={"recommendations.reads": "3/min"})):
        client = shopper_client(users[1])
        answers = [client.get(API + "trending/") for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429, 429]
    assert int(answers[3]["Retry-After"]) > 0
    assert len(dispatches) == 3  # the first (built) and the two refusals; two kept answers counted


def test_a_kept_answer_under_read_limits_builds_its_shopper_once(shop, dispatches, monkeypatch):
    """The fast path hands its shopper to the read throttle instead of building it again."""
    books, garden, users = shop
    train("trending")
    built = []
    from_request = Shopper.from_request.__func__

    def counted(cls, request):
        built.append(request.path)
        return from_request(cls, request)

    with override_settings(RECOMMENDATIONS=recs(THROTTLE_RATES={"recommendations.reads": "100/min"})):
        client = shopper_client(users[1])
        client.get(API + "trending/")
        monkeypatch.setattr(Shopper, "from_request", classmethod(counted))
        kept = client.get(API + "trending/")
    assert kept.status_code == 200 and len(dispatches) == 1  # the second answer was the kept one
    assert built == [API + "trending/"]
