"""A shopper's own data: export (JSON) and erasure through ``me/data/``; erasure reaches events,
ratings, impressions and clicks, cached and precomputed lists, and the next trained model."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from recommendations import serving
from recommendations.models import Click, Event, Impression, ModelVersion, PrecomputedList, Rating
from recommendations.products import json_key
from recommendations.serving import Shopper, recommend_for
from tests.conftest import BROWSER_HEADERS, shopper_client, train

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]
API = "/api/recommendations/me/data/"


@pytest.fixture
def shop(taste_shop):
    books, garden, users = taste_shop(products=10, users=30, picks=5, seed=2, then=Event.Kind.PURCHASE)
    alice, bob = users[1], users[2]
    for user, product in ((alice, books[0]), (bob, garden[0])):
        Rating.objects.create(user=user, product=product, score=5)
        shown = Impression.objects.create(user=user, widget="for_you", engine="item_cf",
                                          product_ids=[json_key(product.pk)])
        Click.objects.create(impression=shown, product_id=str(product.pk))
    return books, garden, alice, bob


def test_export_holds_the_shoppers_own_data_only(shop):
    books, garden, alice, bob = shop
    response = shopper_client(alice).get(API)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = response.json()
    assert len(data["events"]) == Event.objects.filter(user=alice).count() > 0
    assert {e["product_id"] for e in data["events"]} == {json_key(pk) for pk in
        Event.objects.filter(user=alice).values_list("product_id", flat=True)}
    assert [r["product_id"] for r in data["ratings"]] == [json_key(books[0].pk)]
    assert len(data["impressions"]) == 1 and len(data["clicks"]) == 1
    assert str(garden[0].pk) not in {c["product_id"] for c in data["clicks"]}  # not bob's


def test_erase_removes_everything_of_the_shopper_and_nothing_of_others(shop):
    books, garden, alice, bob = shop
    train("item_cf", "trending")
    recommend_for(Shopper(user_id=alice.pk), 5)  # now cached
    PrecomputedList.objects.create(shopper=Shopper(user_id=alice.pk).data_key, engine="item_cf", items=[],
                                   version=ModelVersion.objects.get(engine="item_cf", is_active=True))
    bob_before = (Event.objects.filter(user=bob).count(), Rating.objects.filter(user=bob).count())

    response = shopper_client(alice).delete(API)
    assert response.status_code == 200
    deleted = response.json()["deleted"]
    assert deleted["ratings"] == 1 and deleted["impressions"] == 1 and deleted["events"] > 0
    assert not Event.objects.filter(user=alice).exists() and not Rating.objects.filter(user=alice).exists()
    assert not Impression.objects.filter(user=alice).exists() and Click.objects.count() == 1  # bob's
    assert not PrecomputedList.objects.filter(shopper=Shopper(user_id=alice.pk).data_key).exists()
    assert "lists" not in (cache.get(Shopper(user_id=alice.pk).cache_key) or {})  # a tombstone at most
    assert (Event.objects.filter(user=bob).count(), Rating.objects.filter(user=bob).count()) == bob_before
    assert shopper_client(alice).get(API).json()["events"] == []

    train("item_cf")  # the next training no longer sees alice
    bundle = serving.active_models.get("item_cf").bundle
    assert Shopper(user_id=alice.pk).data_key not in bundle.user_index
    assert Shopper(user_id=bob.pk).data_key in bundle.user_index


def test_an_anonymous_session_can_export_and_erase_its_own_data(shop, client):
    books, garden, alice, bob = shop
    response = client.post("/api/recommendations/events/", {"product": books[3].pk, "event": "view"},
                           content_type="application/json", **BROWSER_HEADERS)
    assert response.status_code in (201, 202), response.content
    assert len(client.get(API).json()["events"]) == 1
    assert client.delete(API).json()["deleted"]["events"] == 1
    assert Event.objects.filter(user__isnull=True).count() == 0
    assert Event.objects.filter(user=alice).exists()  # others untouched
