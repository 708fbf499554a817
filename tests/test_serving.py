"""Serving: fallbacks, freshness between trainings, caching and invalidation, rules, reasons."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from recommendations import serving
from recommendations.models import Event, ModelVersion
from recommendations.products import info
from recommendations.serving import Shopper, also_bought, recommend_for, similar_products, trending
from recommendations.signals import product_purchased, product_viewed
from tests.conftest import recs, train, unavailable_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]


@pytest.fixture
def shop(taste_shop):
    return taste_shop(products=15, users=60, picks=7, seed=1, then=Event.Kind.CART, prefix="s")




def categories(recs):
    return {info(r.product).category for r in recs}


def test_without_any_model_lists_still_come_from_the_database(shop):
    books, garden, users = shop
    recs = recommend_for(Shopper(user_id=users[1].pk), 5)
    assert len(recs) == 5 and all(r.engine == "popular" for r in recs)
    assert len(trending(4)) == 4
    assert similar_products(books[0], 5)  # same-category fallback
    assert categories(similar_products(books[0], 5)) == {"Books"}


def test_known_shopper_gets_their_taste(shop):
    books, garden, users = shop
    train("item_cf", "trending", "popular")
    recs = recommend_for(Shopper(user_id=users[1].pk), 5, engine="item_cf")
    assert categories(recs) == {"Books"} and all(r.engine == "item_cf" for r in recs)
    assert all(r.reason.startswith("Because you ") for r in recs)


def test_anonymous_session_history_is_folded_in_without_retraining(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    Event.objects.bulk_create(Event(session_key="visitor1", product=p, kind=Event.Kind.VIEW)
                              for p in garden[:3])
    recs = recommend_for(Shopper(session_key="visitor1"), 5, engine="item_cf")
    assert categories(recs) == {"Garden"}
    assert all("Tool" in r.reason for r in recs)


def test_new_events_shift_a_known_shoppers_list_on_the_next_request(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    reader = users[1]  # a books shopper
    before = recommend_for(Shopper(user_id=reader.pk), 6, engine="item_cf")
    assert categories(before) == {"Books"}
    for p in garden[:6]:
        product_purchased.send(sender=None, user=reader, product=p)
    after = recommend_for(Shopper(user_id=reader.pk), 6, engine="item_cf")
    assert "Garden" in categories(after)


def test_list_is_cached_per_shopper_and_invalidated_by_their_event(shop, rf):
    books, garden, users = shop
    train("item_cf", "trending")
    shopper = Shopper(user_id=users[1].pk)
    first = recommend_for(shopper, 5)
    with CaptureQueriesContext(connection) as cached_queries:
        again = recommend_for(shopper, 5)
    assert [r.product_id for r in again] == [r.product_id for r in first]
    # Only the active-version check (every request in this test); products come from the product cache.
    assert len(cached_queries) == 1
    other = Shopper(user_id=users[2].pk)
    assert categories(recommend_for(other, 5)) == {"Garden"}  # never another shopper's list
    product_viewed.send(sender=None, user=users[1], product=garden[0])
    assert "lists" not in cache.get(shopper.cache_key)  # only when it was invalidated


def test_new_active_version_changes_the_cache_key(shop):
    books, garden, users = shop
    train("popular")
    shopper = Shopper(user_id=users[1].pk)
    recommend_for(shopper, 5)
    train("item_cf")
    assert {r.engine for r in recommend_for(shopper, 5)} == {"item_cf"}


def test_purchased_and_unavailable_products_are_excluded(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    reader = users[1]
    first = recommend_for(Shopper(user_id=reader.pk), 5, engine="item_cf")
    bought, gone = first[0].product, first[1].product
    product_purchased.send(sender=None, user=reader, product=bought)
    type(gone).objects.filter(pk=gone.pk).update(**unavailable_update(type(gone)))
    ids = {r.product_id for r in recommend_for(Shopper(user_id=reader.pk), 10, engine="item_cf")}
    assert bought.pk not in ids and gone.pk not in ids


def test_consumable_categories_may_be_recommended_again(shop):
    books, garden, users = shop
    train("popular")
    reader = users[1]
    product_purchased.send(sender=None, user=reader, product=books[0])
    product_purchased.send(sender=None, user=reader, product=garden[0])
    with override_settings(RECOMMENDATIONS=recs(REPURCHASABLE_CATEGORIES=["Books"])):
        ids = {r.product_id for r in recommend_for(Shopper(user_id=reader.pk), 30, engine="popular")}
    assert garden[0].pk not in ids


def test_diversity_cap_per_category(shop):
    books, garden, users = shop
    train("popular")
    recs = recommend_for(Shopper(user_id=users[1].pk), 6, engine="popular", max_per_category=3)
    assert sorted(categories([r]).pop() for r in recs) == ["Books"] * 3 + ["Garden"] * 3


def test_similar_and_also_bought_stay_in_taste_and_exclude_the_product(shop):
    books, garden, users = shop
    train("item_cf")
    similar = similar_products(books[0], 5)
    assert books[0].pk not in {r.product_id for r in similar}
    assert categories(similar) == {"Books"} and similar[0].engine == "item_cf"
    assert categories(also_bought(garden[0], 5)) == {"Garden"}


def test_limit_is_bounded(shop):
    train("popular")
    assert len(recommend_for(Shopper(), 10_000, engine="popular")) <= 50


def test_corrupt_artifact_keeps_the_loaded_version_serving(shop, tmp_path):
    books, garden, users = shop
    train("item_cf")
    shopper = Shopper(user_id=users[1].pk)
    good = recommend_for(shopper, 5, engine="item_cf", use_cache=False)
    train("item_cf")
    new = ModelVersion.objects.get(engine="item_cf", is_active=True)
    (tmp_path / new.artifact).write_bytes(b"not a model")
    still = recommend_for(shopper, 5, engine="item_cf", use_cache=False)
    assert [r.product_id for r in still] == [r.product_id for r in good]
    new.refresh_from_db()
    assert "could not load the artifact" in new.error


def test_a_list_begun_before_the_shoppers_last_action_is_not_cached(shop):
    """A request computing a list while the shopper acts must not store it after the action's
    invalidation: the next request would serve a list that misses the action."""
    import time

    books, garden, users = shop
    train("item_cf", "trending")
    shopper = Shopper(user_id=users[1].pk)
    signature = serving.active_models.signature()
    begun = time.time() - 1.0  # the slow request began a second ago ...
    product_viewed.send(sender=None, user=users[1], product=garden[0])  # ... the shopper acted ...
    serving._cache_set(shopper.cache_key, "for_you:test", signature, [{"product_id": 1}], since=begun)
    assert serving._cache_get(shopper.cache_key, "for_you:test", signature) is None  # ... not stored
    # a list begun after the action is stored, and the next one begun before it still is not
    recommend_for(shopper, 5)
    assert recommend_for(shopper, 5) and "lists" in cache.get(shopper.cache_key)
    serving._cache_set(shopper.cache_key, "for_you:late", signature, [{"product_id": 1}], since=begun)
    assert serving._cache_get(shopper.cache_key, "for_you:late", signature) is None
