"""The feedback loop: A/B assignment, the variant's engine in serving, ranking hooks, and the
CTR / conversion report the admin dashboard shows."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from recommendations import feedback, serving, training
from recommendations.feedback import ctr_report
from recommendations.models import Click, Event, Impression
from recommendations.products import json_key
from recommendations.serving import Recommendation, Shopper, assign_variant, recommend_for
from tests.conftest import recs

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]
AB = {"name": "engines-2026-11", "variants": {"item_cf": 50, "popular": 50}}




@pytest.fixture
def shop(taste_shop):
    return taste_shop(products=10, users=30, picks=5, seed=7, then=Event.Kind.CART, prefix="f")


# -- A/B -------------------------------------------------------------------------------------------
def test_ab_split_is_stable_per_shopper_and_roughly_balanced():
    shoppers = [Shopper(user_id=i) for i in range(1, 2001)] + [Shopper(session_key=f"s{i:032d}")
                                                               for i in range(2000)]
    with override_settings(RECOMMENDATIONS=recs(AB_TEST=AB)):
        first = [assign_variant(s).name for s in shoppers]
        again = [assign_variant(s).name for s in shoppers]
        counts = Counter(first)
        assert first == again
        assert set(counts) == {"item_cf", "popular"}
        assert 0.46 < counts["item_cf"] / len(shoppers) < 0.54
        assert assign_variant(Shopper()) is None  # unknown visitors stay out of the test
    weighted = {"name": "w", "variants": {"a": {"engine": "hybrid", "weight": 80}, "b": {"engine": "item_cf",
                                                                                      "weight": 20}}}
    with override_settings(RECOMMENDATIONS=recs(AB_TEST=weighted)):
        arms = [assign_variant(s) for s in shoppers]
    share = sum(a.name == "a" for a in arms) / len(arms)
    assert 0.76 < share < 0.84 and {a.engine for a in arms} == {"hybrid", "item_cf"}
    with override_settings(RECOMMENDATIONS=recs()):
        assert assign_variant(shoppers[0]) is None


def test_a_new_test_name_reshuffles_shoppers():
    shoppers = [Shopper(user_id=i) for i in range(1, 401)]
    with override_settings(RECOMMENDATIONS=recs(AB_TEST=AB)):
        one = [assign_variant(s).name for s in shoppers]
    with override_settings(RECOMMENDATIONS=recs(AB_TEST={**AB, "name": "another"})):
        two = [assign_variant(s).name for s in shoppers]
    assert one != two


def test_serving_uses_the_variants_engine_and_the_api_reports_the_variant(shop):
    books, garden, users = shop
    training.run_sync("item_cf", force=True)
    training.run_sync("popular", force=True)
    with override_settings(RECOMMENDATIONS=recs(AB_TEST=AB)):
        seen = set()
        for user in users:
            arm = assign_variant(Shopper(user_id=user.pk))
            engines = {r.engine for r in recommend_for(Shopper(user_id=user.pk), 4)}
            assert engines == {arm.name}, (arm, engines)
            seen.add(arm.name)
        assert seen == {"item_cf", "popular"}
        client = Client(HTTP_USER_AGENT="Mozilla/5.0 Firefox/140.0")
        client.force_login(users[3])
        body = client.get("/api/recommendations/for-you/?limit=3").json()
    impression = Impression.objects.get(pk=body["recommendation_id"])
    assert body["variant"] == impression.variant and impression.variant in {"item_cf", "popular"}
    assert impression.engine == impression.variant


# -- ranking hooks -------------------------------------------------------------------------------
def boost_garden(recommendations, context):
    return sorted(recommendations, key=lambda r: serving._category(r.product) != "Garden")


def broken_hook(recommendations, context):
    raise RuntimeError("hook bug")


def drop_all_but_one(recommendations, context):
    return recommendations[:1]


CONTEXTS: list[dict] = []


def spy(recommendations, context):
    CONTEXTS.append(context)
    return recommendations


def test_ranking_hooks_boost_drop_and_survive_a_broken_hook(shop, caplog):
    books, garden, users = shop
    training.run_sync("popular", force=True)
    plain = recommend_for(Shopper(user_id=users[1].pk), 6, engine="popular", use_cache=False)
    hooks = ["tests.test_feedback.broken_hook", "tests.test_feedback.boost_garden", "no.such.hook"]
    with override_settings(RECOMMENDATIONS=recs(RANKING_HOOKS=hooks)):
        boosted = recommend_for(Shopper(user_id=users[1].pk), 6, engine="popular", use_cache=False)
    assert {r.product_id for r in boosted} == {r.product_id for r in plain}
    cats = [serving._category(r.product) for r in boosted]
    assert cats == sorted(cats, key=lambda c: c != "Garden")
    assert "hook bug" in caplog.text and "no.such.hook" in caplog.text
    CONTEXTS.clear()
    with override_settings(RECOMMENDATIONS=recs(RANKING_HOOKS=["tests.test_feedback.drop_all_but_one",
                                                               "tests.test_feedback.spy"])):
        assert len(serving.similar_products(books[0], 4)) == 1
        assert len(serving.trending(4)) == 1
    assert [c["list"] for c in CONTEXTS] == ["similar", "trending"]
    assert CONTEXTS[0]["product"] == books[0]


# -- clicks and the report ----------------------------------------------------------------------
def test_click_is_recorded_once_per_list_and_product(shop):
    books, garden, users = shop
    shopper = Shopper(user_id=users[0].pk)
    rows = [Recommendation(p.pk, 1.0, "item_cf", "", p) for p in books[:3]]
    impression = feedback.record_impression(shopper, "for_you", rows)
    assert feedback.record_click(impression, books[0].pk)[1] is True
    assert feedback.record_click(impression, books[0].pk)[1] is False
    assert feedback.owns(impression, shopper) and not feedback.owns(impression, Shopper(user_id=users[1].pk))
    assert not feedback.owns(impression, Shopper(session_key="someone"))
    assert feedback.get_impression(impression.pk, Shopper(user_id=users[1].pk)) is None
    assert feedback.get_impression("not-a-uuid", shopper) is None


def test_ctr_report_per_engine_widget_and_variant_with_conversions(shop):
    books, garden, users = shop
    a, b, c = (Shopper(user_id=u.pk) for u in users[:3])
    anon = Shopper(session_key="anon-1")

    def show(shopper, widget, engine, variant="", products=books[:4]):
        rows = [Recommendation(p.pk, 1.0, engine, "", p) for p in products]
        return feedback.record_impression(shopper, widget, rows, variant=variant)

    i1 = show(a, "for_you", "item_cf", "item_cf")
    show(b, "for_you", "item_cf", "item_cf")
    i3 = show(c, "for_you", "popular", "popular")
    i4 = show(a, "similar", "item_cf")
    show(anon, "trending", "trending")
    i6 = show(anon, "trending", "trending")
    feedback.record_click(i1, books[0].pk)
    feedback.record_click(i1, books[1].pk)
    feedback.record_click(i3, books[2].pk)
    feedback.record_click(i4, books[3].pk)
    feedback.record_click(i6, books[0].pk)
    later = timezone.now() + timedelta(minutes=1)
    # Conversions: a buys books[0] after clicking it (counts); b buys books[0] without a click from
    # their list (does not); c bought books[2] *before* clicking (does not); anon buys books[0].
    Event.objects.create(user=users[0], product=books[0], kind=Event.Kind.PURCHASE, created_at=later)
    Event.objects.create(user=users[1], product=books[0], kind=Event.Kind.PURCHASE, created_at=later)
    Event.objects.create(user=users[2], product=books[2], kind=Event.Kind.PURCHASE,
                         created_at=timezone.now() - timedelta(days=1))
    Event.objects.create(session_key="anon-1", product=books[0], kind=Event.Kind.PURCHASE, created_at=later)
    Event.objects.create(user=users[0], product=books[1], kind=Event.Kind.VIEW, created_at=later)

    with override_settings(RECOMMENDATIONS=recs(AB_TEST=AB)):
        report = ctr_report()
    assert report["totals"] == {"impressions": 6, "clicks": 5, "clicked_impressions": 4, "ctr": 0.6667,
                                "clicks_per_impression": 0.8333, "conversions": 2, "conversion_rate": 0.4}
    engine = {row["engine"]: row for row in report["by_engine"]}
    item_cf = engine["item_cf"]
    assert (item_cf["impressions"], item_cf["clicks"], item_cf["conversions"]) == (3, 3, 1)
    assert engine["item_cf"]["ctr"] == 0.6667 and engine["item_cf"]["conversion_rate"] == 0.3333
    assert (engine["popular"]["clicks"], engine["popular"]["conversions"]) == (1, 0)
    assert (engine["trending"]["impressions"], engine["trending"]["ctr"], engine["trending"]["conversions"]) == (
        2, 0.5, 1)
    widget = {row["widget"]: row for row in report["by_widget"]}
    assert widget["for_you"]["impressions"] == 3 and widget["similar"]["clicks"] == 1
    variant = {row["variant"]: row for row in report["by_variant"]}
    assert set(variant) == {"item_cf", "popular"}
    assert variant["item_cf"]["engine"] == "item_cf" and variant["item_cf"]["impressions"] == 2
    assert variant["item_cf"]["conversions"] == 1 and variant["popular"]["ctr"] == 1.0
    assert report["ab_test"] == AB and report["by_engine"][0]["engine"] == "item_cf"

    old = ctr_report(since=timezone.now() - timedelta(days=60), until=timezone.now() - timedelta(days=30))
    assert old["totals"]["impressions"] == 0 and old["by_engine"] == [] and old["ab_test"] is None


def test_report_survives_an_empty_database():
    report = ctr_report()
    assert report["totals"]["impressions"] == 0 and report["by_variant"] == []
    assert Click.objects.count() == 0


def test_system_checks_for_the_new_settings():
    from recommendations.checks import check_presentation_settings

    assert check_presentation_settings() == []
    bad = recs(RANKING_HOOKS=["no.such.hook", "tests.test_feedback.AB"],
               AB_TEST={"name": "x", "variants": {"magic": 50}},
               THROTTLE_RATES={"recommendations.events": "lots"}, RECORD_IMPRESSIONS="yes", DEFAULT_LIMIT=0)
    with override_settings(RECOMMENDATIONS=bad):
        errors = check_presentation_settings()
    assert [e.id for e in errors] == ["recommendations.E030"] * 2 + [
        "recommendations.E031", "recommendations.E032", "recommendations.E033", "recommendations.E034"]
    assert "'magic'" in errors[2].msg and "'lots'" in errors[3].msg
    with override_settings(RECOMMENDATIONS=recs(AB_TEST=AB, RANKING_HOOKS=["tests.test_feedback.spy"])):
        assert check_presentation_settings() == []


@pytest.mark.django_db(transaction=True)
def test_impressions_outside_a_transaction_and_a_failed_insert_leave_the_connection_usable(product_factory):
    """On PostgreSQL this takes the one-round-trip, no-fsync insert; a failing insert (unknown
    user) is rolled back, reported as None, and the connection keeps working."""
    products = [product_factory(f"P{i}") for i in range(3)]
    rows = [Recommendation(p.pk, 1.0, "popular", "", p) for p in products]
    with override_settings(RECOMMENDATIONS=recs(IMPRESSION_BUFFER_SECONDS=0)):  # one INSERT each
        impression = feedback.record_impression(Shopper(session_key="t-1"), "trending", rows)
        stored = Impression.objects.get(pk=impression.pk)
        assert stored.product_ids == [json_key(p.pk) for p in products] and stored.session_key == "t-1"
        assert feedback.record_impression(Shopper(user_id=987654), "for_you", rows) is None
        assert Impression.objects.count() == 1
        assert feedback.record_impression(Shopper(session_key="t-2"), "trending", rows) is not None
        assert Impression.objects.count() == 2
