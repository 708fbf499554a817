"""The cached serving path: no database query for a cached list, products made unavailable
leave cached lists at once (in this process and, through the cache, in others), and buffered
impressions reach the database with the CTR unchanged."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import pytest
from django.core.cache import cache
from django.db import connection, connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from recommendations import feedback, serving
from recommendations.conf import get_product_model
from recommendations.feedback import ctr_report
from recommendations.models import Click, Event, Impression
from recommendations.products import FieldMappingAdapter, info, json_key
from recommendations.products import fetch as catalogue_fetch
from recommendations.serving import Recommendation, Shopper, recommend_for, similar_products, trending
from tests.conftest import recs, shopper_client, train, unavailable_update, update_product

pytestmark = pytest.mark.usefixtures("isolated_serving")
API = "/api/recommendations/"


@pytest.fixture
def shop(taste_shop):
    return taste_shop(products=12, users=30, picks=6, seed=5, then=Event.Kind.CART, prefix="c")


def make_unavailable(product) -> None:
    update_product(product, available=False)


@pytest.mark.django_db
def test_a_cached_list_makes_no_database_query(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    shopper = Shopper(user_id=users[1].pk)
    with override_settings(RECOMMENDATIONS=recs(ACTIVE_VERSION_CHECK_SECONDS=60)):
        first, similar, hot = recommend_for(shopper, 5), similar_products(books[0], 4), trending(5)
        with CaptureQueriesContext(connection) as queries:
            again, similar_again, hot_again = (recommend_for(shopper, 5), similar_products(books[0], 4),
                                               trending(5))
    assert queries.captured_queries == []
    assert [r.product_id for r in again] == [r.product_id for r in first]
    assert [r.product_id for r in similar_again] == [r.product_id for r in similar]
    assert [r.product_id for r in hot_again] == [r.product_id for r in hot] and len(hot) == 5
    assert all(r.product is not None for r in again + similar_again + hot_again)


class Uncopyable:
    """A product that must not be copied (a model instance is costly to deep-copy)."""

    pk = 7

    def __deepcopy__(self, memo):
        raise AssertionError("the product was copied")


def test_a_cached_recommendation_keeps_every_field_but_the_product_and_never_copies_it():
    rec = Recommendation(7, 0.5, "hybrid", "Because you viewed a book", product=Uncopyable())
    stored = rec.as_cacheable()
    assert stored == {"product_id": 7, "score": 0.5, "engine": "hybrid", "reason": "Because you viewed a book"}
    assert set(stored) == {f.name for f in dataclasses.fields(Recommendation)} - {"product"}
    assert Recommendation(**stored) == rec


@pytest.mark.django_db
def test_a_product_saved_unavailable_leaves_cached_lists_at_once(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    shopper = Shopper(user_id=users[1].pk)
    first = recommend_for(shopper, 5)
    gone = first[0].product
    assert gone.pk in {r.product_id for r in trending(24)}  # cached for everyone
    make_unavailable(gone)
    assert cache.get(shopper.cache_key) is not None  # the list itself is still cached
    assert gone.pk not in {r.product_id for r in recommend_for(shopper, 5)}
    assert gone.pk not in {r.product_id for r in similar_products(first[1].product, 10)}
    assert gone.pk not in {r.product_id for r in trending(24)}


@pytest.mark.django_db
def test_a_product_change_in_another_process_reaches_this_ones_product_cache(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    shopper = Shopper(user_id=users[1].pk)
    gone = recommend_for(shopper, 5)[0].product
    # Another process saves the product: its row changes and its receiver replaces the
    # catalogue token in the shared cache; this process's product cache still holds the old row.
    type(gone).objects.filter(pk=gone.pk).update(**unavailable_update(type(gone)))
    cache.set(serving.CATALOG_KEY, "changed-elsewhere", None)
    assert serving.product_cache.get(gone.pk) is gone
    assert gone.pk not in {r.product_id for r in recommend_for(shopper, 5)}


@pytest.mark.django_db
def test_the_product_cache_follows_the_catalogue_token_alone(shop):
    """No timer empties it (a timed refill made every process re-read every product at once, a
    periodic spike): a change that bypasses signals is seen once ``products_changed`` says so."""
    books, garden, users = shop
    train("item_cf", "trending")
    shopper = Shopper(user_id=users[1].pk)
    with override_settings(RECOMMENDATIONS=recs(ACTIVE_VERSION_CHECK_SECONDS=60)):
        gone = recommend_for(shopper, 5)[0].product
        type(gone).objects.filter(pk=gone.pk).update(**unavailable_update(type(gone)))
        with CaptureQueriesContext(connection) as queries:
            assert gone.pk in {r.product_id for r in recommend_for(shopper, 5)}
        assert queries.captured_queries == []
        serving.products_changed()
        assert gone.pk not in {r.product_id for r in recommend_for(shopper, 5)}


@pytest.mark.django_db
@pytest.mark.parametrize("off", [{"PRODUCT_CACHE_SIZE": 0}, {"PRODUCT_CACHE_SECONDS": 0}])  # the second: deprecated
def test_the_product_cache_can_be_turned_off(shop, off):
    books, garden, users = shop
    train("item_cf", "trending")
    shopper = Shopper(user_id=users[1].pk)
    serving.product_cache.clear()
    with override_settings(RECOMMENDATIONS=recs(ACTIVE_VERSION_CHECK_SECONDS=60, **off)):
        first = recommend_for(shopper, 5)
        with CaptureQueriesContext(connection) as queries:
            again = recommend_for(shopper, 5)
    assert [r.product_id for r in again] == [r.product_id for r in first]
    assert product_reads(queries) == 1 and not serving.product_cache._entries


def product_reads(queries: CaptureQueriesContext) -> int:
    table = connection.ops.quote_name(get_product_model()._meta.db_table)
    return sum(f"FROM {table}" in query["sql"] for query in queries.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["for-you/", "trending/", "products/{pk}/similar/", "products/{pk}/also-bought/"])
def test_a_cold_product_cache_costs_one_bulk_query_per_list_whatever_its_length(shop, url):
    """A cached list served after the product cache emptied (a product saved anywhere) reads its
    products in one query, plus the adapter's fixed prefetches, the page's own product included:
    as many queries for 2 products as for 10."""
    books, garden, users = shop
    train("item_cf", "trending")
    client = shopper_client(users[1])
    path = API + url.format(pk=books[0].pk)
    counted = {}
    with override_settings(RECOMMENDATIONS=recs(ACTIVE_VERSION_CHECK_SECONDS=60, RECORD_IMPRESSIONS=False)):
        for limit in (2, 10):
            shown = client.get(path, {"limit": limit}).json()["results"]  # the list is cached
            serving.products_changed()
            with CaptureQueriesContext(connection) as queries:
                again = client.get(path, {"limit": limit}).json()["results"]
            assert [item["id"] for item in again] == [item["id"] for item in shown]
            counted[len(shown)] = (len(queries.captured_queries), product_reads(queries))
    assert len(counted) == 2 and min(counted) < max(counted)  # really more products in the longer list
    assert counted[min(counted)] == counted[max(counted)], counted
    assert counted[max(counted)][1] == 1, counted


@pytest.mark.django_db
def test_unknown_and_deleted_products_are_404_through_the_product_cache(shop):
    books, garden, users = shop
    client = shopper_client()
    assert client.get(API + f"products/{books[0].pk}/similar/").status_code == 200
    assert client.get(API + "products/987654/similar/").status_code == 404
    assert client.get(API + "products/not-a-number/similar/").status_code == 404
    books[0].delete()
    assert client.get(API + f"products/{books[0].pk}/similar/").status_code == 404
    assert client.get(API + "products/99999999999999999999999/similar/").status_code == 404


# -- impressions --------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_buffered_impressions_reach_the_database_and_the_ctr_stays_right(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    feedback.flush_impressions()
    with override_settings(RECOMMENDATIONS=recs(IMPRESSION_BUFFER_SECONDS=60, IMPRESSION_BUFFER_SIZE=1000)):
        shown = [shopper_client(u).get(API + "for-you/?limit=4").json() for u in users[:3]]
        shown.append(shopper_client().get(API + f"products/{books[0].pk}/similar/?limit=4").json())
        assert Impression.objects.count() == 0 and len(feedback.buffer) == 4  # not written yet
        # A click on a list this process still holds writes the buffer first, then counts.
        first = shown[0]
        click = {"recommendation_id": first["recommendation_id"], "product": first["results"][0]["id"]}
        reply = shopper_client(users[0]).post(API + "clicks/", click, content_type="application/json")
        assert reply.status_code == 201 and Impression.objects.count() == 4
        # Someone else's list stays someone else's, buffered or not.
        stolen = shopper_client(users[1]).post(API + "clicks/", click, content_type="application/json")
        assert stolen.status_code == 404
        shown.append(shopper_client(users[3]).get(API + "for-you/?limit=4").json())
        assert Impression.objects.count() == 4 and len(feedback.buffer) == 1
        report = ctr_report()  # writes what is buffered, then counts
    assert Impression.objects.count() == 5 and len(feedback.buffer) == 0
    assert {str(i.pk) for i in Impression.objects.all()} == {s["recommendation_id"] for s in shown}
    stored = Impression.objects.get(pk=first["recommendation_id"])
    assert stored.user_id == users[0].pk and stored.product_ids == [i["id"] for i in first["results"]]
    assert report["totals"]["impressions"] == 5 and report["totals"]["clicks"] == 1
    assert report["totals"]["ctr"] == 0.2 and Click.objects.count() == 1
    widgets = {row["widget"]: row["impressions"] for row in report["by_widget"]}
    assert widgets == {"for_you": 4, "similar": 1}


@pytest.mark.django_db(transaction=True)
def test_the_background_writer_empties_the_buffer_within_its_interval(shop):
    books, garden, users = shop
    feedback.flush_impressions()
    with override_settings(RECOMMENDATIONS=recs(IMPRESSION_BUFFER_SECONDS=0.2)):
        body = shopper_client().get(API + "trending/?limit=3").json()
        deadline = time.monotonic() + 120  # only a guard against hanging: the loop ends when it is written
        while not Impression.objects.filter(pk=body["recommendation_id"]).exists():
            assert time.monotonic() < deadline, "the buffered impression was never written"
            time.sleep(0.05)
    assert len(feedback.buffer) == 0


@pytest.mark.django_db(transaction=True)
def test_closing_the_buffer_writes_the_rest_and_ends_the_writer(shop):
    """What runs at exit (and before the test database is dropped): nothing lost, no thread
    left holding a database connection; a later impression starts a new writer."""
    books, garden, users = shop
    feedback.flush_impressions()
    rows = [Recommendation(p.pk, 1.0, "popular", "", p) for p in books[:3]]
    with override_settings(RECOMMENDATIONS=recs(IMPRESSION_BUFFER_SECONDS=60)):
        first = feedback.record_impression(Shopper(user_id=users[0].pk), "for_you", rows)
        writer = feedback.buffer._thread
        assert writer is not None and writer.is_alive() and len(feedback.buffer) == 1
        feedback.buffer.close()
        assert not writer.is_alive() and len(feedback.buffer) == 0
        assert Impression.objects.filter(pk=first.pk).exists()
        later = feedback.record_impression(Shopper(user_id=users[0].pk), "for_you", rows)
        assert feedback.buffer._thread.is_alive() and feedback.flush_impressions() == 1
    assert Impression.objects.filter(pk=later.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_one_bad_impression_does_not_lose_the_others(shop):
    books, garden, users = shop
    feedback.flush_impressions()
    rows = [Recommendation(p.pk, 1.0, "popular", "", p) for p in books[:3]]
    with override_settings(RECOMMENDATIONS=recs(IMPRESSION_BUFFER_SECONDS=60)):
        good = feedback.record_impression(Shopper(user_id=users[0].pk), "for_you", rows)
        feedback.record_impression(Shopper(user_id=987654), "for_you", rows)  # no such user
        other = feedback.record_impression(Shopper(session_key="s-1"), "trending", rows)
        assert feedback.flush_impressions() == 2
    assert set(Impression.objects.values_list("pk", flat=True)) == {good.pk, other.pk}


class WaitClock:
    """The clock of the click's wait for an impression: each nap advances it instead of
    sleeping, and the first one is when another worker writes the impression (``on_first_nap``),
    so the test does not depend on how fast a loaded machine runs two threads."""

    def __init__(self, on_first_nap=None):
        self.now, self.naps, self.on_first_nap = 1000.0, 0, on_first_nap

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        self.naps += 1
        self.now += seconds
        if self.naps == 1 and self.on_first_nap is not None:
            self.on_first_nap()


@pytest.mark.django_db(transaction=True)
def test_a_click_waits_for_an_impression_another_process_has_not_written_yet(shop, monkeypatch):
    books, garden, users = shop
    feedback.flush_impressions()
    shown = Impression(user=users[0], widget="for_you", engine="item_cf", product_ids=[json_key(books[0].pk)])

    def another_worker_writes_it():  # with its own database connection
        writer = threading.Thread(target=lambda: (shown.save(force_insert=True), connections.close_all()))
        writer.start()
        writer.join()

    client = shopper_client(users[0])
    with override_settings(RECOMMENDATIONS=recs(IMPRESSION_BUFFER_SECONDS=1.0)):
        click = {"recommendation_id": str(shown.pk), "product": books[0].pk}
        clock = WaitClock(on_first_nap=another_worker_writes_it)
        monkeypatch.setattr(feedback, "time", clock)
        reply = client.post(API + "clicks/", click, content_type="application/json")
        assert reply.status_code == 201, reply.content
        assert clock.naps == 1  # it looked again after the other worker wrote
        unknown = {"recommendation_id": str(uuid.uuid4()), "product": books[0].pk}
        clock = WaitClock()
        monkeypatch.setattr(feedback, "time", clock)
        assert client.post(API + "clicks/", unknown, content_type="application/json").status_code == 404
        # The wait is bounded: IMPRESSION_BUFFER_SECONDS + 0.25 s, one look every 50 ms.
        assert 25 <= clock.naps <= 26 and clock.now - 1000.0 < 1.35
    assert Click.objects.get().impression_id == shown.pk


class LinkedProducts(FieldMappingAdapter):
    """The suite's field mapping, with a link per product (the suite's product model has none)."""

    def url(self, product):
        return f"/products/{product.pk}/"


@pytest.mark.django_db
def test_a_shoppers_history_is_read_without_links_and_their_list_keeps_its_links(shop):
    books, garden, users = shop
    train("item_cf", "trending")
    with override_settings(RECOMMENDATIONS=recs(PRODUCT_ADAPTER="tests.test_serving_fast_path.LinkedProducts")):
        state = serving.shopper_state(Shopper(user_id=users[1].pk))
        history = state.history_products
        assert history and all(info(p).url is None and info(p).name for p in history.values())
        linked = catalogue_fetch(list(history))
        assert all(info(p).url == f"/products/{pk}/" for pk, p in linked.items())
        assert {pk: info(p).categories for pk, p in history.items()} == {
            pk: info(p).categories for pk, p in linked.items()}
        results = shopper_client(users[1]).get(API + "for-you/?limit=5").json()["results"]
    assert len(results) == 5
    assert all(item["url"] == f"/products/{item['id']}/" for item in results)
    assert any(item["reason"].startswith("Because you") for item in results)
