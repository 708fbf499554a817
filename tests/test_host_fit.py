"""What every host shop gets, whatever its catalogue's shape. This module runs in each host
configuration (the app's own product model; ``tests.hostshop``, a shop's own model described by
the guide's ``PRODUCT_FIELDS``; ``tests.uuidshop``, UUID keys, several categories per product,
prices from related rows, an adapter of its own and a user model without ``username``): trained
models serve the lists, items carry category, price and URL, the shopper's and the staff's pages
answer, and no list costs a query per product."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.template import Context, Template
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from recommendations import serving
from recommendations.conf import app_settings, get_product_model
from recommendations.models import Event, ModelVersion, Rating
from recommendations.products import json_key
from tests.conftest import recs, shopper_client, train
from tests.test_templatetags import request_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]
API = "/api/recommendations/"


@pytest.fixture
def shop(taste_shop, monkeypatch):
    if not hasattr(get_product_model(), "get_absolute_url"):  # the app's own model has no page
        monkeypatch.setattr(get_product_model(), "get_absolute_url", lambda self: f"/products/{self.pk}/",
                            raising=False)
    books, garden, users = taste_shop(products=12, users=30, picks=6, seed=5, then=Event.Kind.CART, prefix="fit")
    if hasattr(books[0], "sections"):  # the UUID shop: a product in several sections
        books[0].sections.create(name="Travel")
    return books, garden, users


def test_trained_models_serve_every_list_with_category_price_and_url(shop):
    books, garden, users = shop
    train("popular", "trending", "item_cf", "content", "hybrid")
    client = shopper_client(users[1])  # a books shopper
    body = client.get(API + "for-you/?limit=6").json()
    assert body["engine"] == app_settings.SERVING_ENGINE == "hybrid"  # the trained model, not a fallback
    assert {item["engine"] for item in body["results"]} == {"hybrid"} and len(body["results"]) == 6
    for item in body["results"]:
        assert item["category"] in ("Books", "Garden") and item["categories"][0] == item["category"]
        product = get_product_model()._default_manager.get(pk=item["id"])
        assert item["price"] == "9.99" and item["url"] == product.get_absolute_url()
    assert sum(item["category"] == "Books" for item in body["results"]) >= 4
    similar = client.get(API + f"products/{json_key(books[0].pk)}/similar/?limit=4").json()
    assert similar["engine"] == "content" and len(similar["results"]) == 4  # likeness first
    everything = client.get(API + f"products/{json_key(books[1].pk)}/similar/?limit=23").json()["results"]
    [first_book] = [item for item in everything if item["id"] == json_key(books[0].pk)]
    assert first_book["categories"] == (["Books", "Travel"] if hasattr(books[0], "sections") else ["Books"])
    assert client.get(API + "trending/?limit=4").json()["engine"] == "trending"
    # every active artifact loaded in this process (a failed load would write its error)
    assert not ModelVersion.objects.filter(is_active=True).exclude(error="").exists()
    assert all(serving.active_models.get(name) is not None
               for name in ("popular", "trending", "item_cf", "content", "hybrid"))


def test_profile_export_and_admin_search_answer(shop, admin_client):
    books, garden, users = shop
    train("item_cf", "trending")
    shopper = users[1]
    Rating.objects.create(user=shopper, product=books[0], score=5)
    client = shopper_client(shopper)
    profile = client.get(API + "me/profile/")
    assert profile.status_code == 200
    data = profile.json()
    assert data["categories"][0]["name"] == "Books" and data["price"]["typical"] == 9.99
    assert {p["product_id"] for p in data["shaping"]} <= {json_key(b.pk) for b in books}
    assert client.post(API + "me/not-interested/", {"category": "Garden"},
                       content_type="application/json").status_code == 201
    export = client.get(API + "me/data/")
    assert export.status_code == 200 and export.json()["events"] and export.json()["ratings"]
    client.get(API + "for-you/?limit=3")  # an impression to search for
    username = shopper.get_username()
    for model in ("event", "rating", "impression", "notinterested", "shopperprofile"):
        page = admin_client.get(f"/admin/recommendations/{model}/", {"q": username})
        assert page.status_code == 200, model
        assert username in page.content.decode(), model
    profile_page = admin_client.get(f"/admin/recommendations/shopperprofile/user/{shopper.pk}/", follow=True)
    assert profile_page.status_code == 200 and b"Books" in profile_page.content


def _queries(callable_) -> int:
    cache.clear()  # computed afresh, not from the cache
    with CaptureQueriesContext(connection) as queries:
        callable_()
    return len(queries)


@override_settings(RECOMMENDATIONS=recs(SERVING_ENGINE="item_cf", ACTIVE_VERSION_CHECK_SECONDS=60))
def test_no_list_costs_a_query_per_product(shop):
    """(Active versions checked once a minute, as in production, so that only the lists count.)"""
    books, garden, users = shop
    train("item_cf", "popular")
    serving.active_models.clear()
    client = shopper_client(users[2])
    client.get(API + "for-you/?limit=5")  # loads the models, checks the active versions
    api = {n: _queries(lambda n=n: client.get(API + f"for-you/?limit={n}")) for n in (2, 10)}
    assert api[2] == api[10], api
    requests = {n: request_for(users[2]) for n in (2, 10)}  # one page each
    widget = {n: _queries(lambda n=n: Template("{% load recommendations %}{% recommended_for_you limit=" + str(n)
                                               + " %}").render(Context({"request": requests[n]})))
              for n in (2, 10)}
    assert widget[2] == widget[10], widget
    product = get_product_model()._default_manager.get(pk=books[0].pk)  # as a view would hold it
    similar = {n: _queries(lambda n=n: client.get(API + f"products/{json_key(product.pk)}/similar/?limit={n}"))
               for n in (2, 10)}
    assert similar[2] == similar[10], similar


def test_schema_and_docs_pages_answer():
    client = shopper_client()
    assert client.get(API + "schema/").status_code == 200
    assert client.get(API + "docs/").status_code == 200
