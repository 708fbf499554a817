"""The owner's section of the dashboard (``recommendations.attribution``): revenue, add-to-carts
and purchases attributed to widget clicks within the attribution window, per widget, engine and
A/B variant, and a significance statement that says what a planted difference means."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from recommendations import attribution
from recommendations.models import Click, Event, Impression
from tests.conftest import recs

pytestmark = pytest.mark.django_db
DASHBOARD = "/admin/recommendations/modelversion/dashboard/"


def shown(user, widget, engine, products, *, variant="", at=None):
    return Impression.objects.create(user=user, widget=widget, engine=engine, variant=variant,
                                     product_ids=[str(p.pk) for p in products],
                                     created_at=at or timezone.now() - timedelta(days=5))


def click(impression, product, at):
    return Click.objects.create(impression=impression, product_id=str(product.pk), created_at=at)


def bought(user, product, at, quantity=1, price="10.00"):
    return Event.objects.create(user=user, product=product, kind=Event.Kind.PURCHASE, quantity=quantity,
                                unit_price=Decimal(price) if price is not None else None, created_at=at)


def test_attributed_revenue_on_the_dashboard_is_the_sum_of_the_attributed_order_lines(
        admin_client, product_factory, django_user_model):
    alice, bob = (django_user_model.objects.create_user(n) for n in ("alice", "bob"))
    book, lamp, pan = (product_factory(n) for n in ("Atlas", "Lamp", "Pan"))
    now = timezone.now()
    clicked_at = now - timedelta(days=4)
    for_you = shown(alice, "for_you", "hybrid", [book, lamp], at=clicked_at - timedelta(minutes=1))
    similar = shown(bob, "similar", "content", [pan, book], at=clicked_at - timedelta(minutes=1))
    click(for_you, book, clicked_at)
    click(similar, pan, clicked_at)
    attributed = [
        bought(alice, book, clicked_at + timedelta(days=1), quantity=2, price="12.50"),   # 25.00
        bought(bob, pan, clicked_at + timedelta(hours=3), quantity=1, price="40.00"),     # 40.00
    ]
    bought(alice, book, clicked_at - timedelta(hours=1), price="12.50")     # before the click
    bought(alice, book, clicked_at + timedelta(days=8), price="12.50")      # after the 7-day window
    bought(alice, lamp, clicked_at + timedelta(days=1), price="99.00")      # shown, never clicked
    bought(bob, book, clicked_at + timedelta(days=1), price="12.50")        # alice clicked it, not bob
    Event.objects.create(user=alice, product=book, kind=Event.Kind.CART, created_at=clicked_at + timedelta(hours=1))
    shown(alice, "trending", "trending", [lamp])  # a list shown without a click

    expected = sum(e.unit_price * e.quantity for e in attributed)
    assert expected == Decimal("65.00")
    page = admin_client.get(DASHBOARD).content.decode()
    revenue = re.search(r'<dd id="rec-revenue">([^<]+)</dd>', page).group(1)
    assert Decimal(revenue) == expected
    results = attribution.shop_results(days=30)
    assert results.totals["purchases"] == 2 and results.totals["carts"] == 1
    assert results.totals["impressions"] == 3 and results.totals["clicks"] == 2
    by_widget = {row["widget"]: row for row in results.by["widget"]}
    assert by_widget["for_you"]["revenue"] == Decimal("25.00") and by_widget["similar"]["revenue"] == Decimal("40")
    assert by_widget["trending"]["revenue"] == 0 and by_widget["trending"]["ctr"] == 0
    assert {row["engine"]: row["revenue"] for row in results.by["engine"]}["hybrid"] == Decimal("25.00")
    assert "What recommendations did for the shop" in page and 'id="rec-advanced"' in page

    # A longer window takes in the purchase 8 days after the click.
    with override_settings(RECOMMENDATIONS=recs(ATTRIBUTION_DAYS=10)):
        assert attribution.shop_results(days=30).totals["revenue"] == Decimal("77.50")


def test_a_purchase_without_a_stored_price_counts_at_the_products_price(product_factory, django_user_model):
    alice = django_user_model.objects.create_user("alice")
    book = product_factory("Atlas")  # 9.99 in every test shop
    at = timezone.now() - timedelta(days=2)
    click(shown(alice, "for_you", "hybrid", [book], at=at), book, at)
    bought(alice, book, at + timedelta(hours=1), quantity=3, price=None)
    assert attribution.shop_results(days=30).totals["revenue"] == Decimal("29.97")


def test_the_significance_statement_flips_between_a_large_and_a_null_difference():
    large = attribution.two_proportions(300, 1000, 200, 1000, name_a="hybrid", name_b="item_cf")
    assert large.significant and large.p_value < 0.001
    assert large.statement.startswith("hybrid has a higher click-through rate than item_cf")
    assert "significant" in large.statement and "No significant" not in large.statement
    null = attribution.two_proportions(250, 1000, 248, 1000, name_a="hybrid", name_b="item_cf")
    assert not null.significant and null.p_value > 0.5
    assert null.statement.startswith("No significant difference in click-through rate between hybrid")
    small = attribution.two_proportions(3, 10, 2, 10)  # the same rates as "large", few trials
    assert not small.significant
    assert attribution.two_proportions(1, 0, 1, 10) is None


def test_the_dashboard_states_the_ab_result_for_planted_variants(admin_client, product_factory, django_user_model):
    users = [django_user_model.objects.create_user(f"u{i}") for i in range(4)]
    book = product_factory("Atlas")
    now = timezone.now() - timedelta(days=1)

    def plant(variant, engine, n, clicked):
        for i in range(n):
            impression = shown(users[i % 4], "for_you", engine, [book], variant=variant, at=now)
            if i < clicked:
                Click.objects.create(impression=impression, product_id=f"{book.pk}", created_at=now)

    plant("A", "hybrid", 400, 120)
    plant("B", "item_cf", 400, 60)
    page = admin_client.get(DASHBOARD + "?days=7").content.decode()
    assert "A has a higher click-through rate than B" in page and "the difference is significant" in page
    Click.objects.all().delete()
    Impression.objects.all().delete()
    plant("A", "hybrid", 400, 100)
    plant("B", "item_cf", 400, 98)
    page = admin_client.get(DASHBOARD + "?days=7").content.decode()
    assert "No significant difference in click-through rate between A" in page


def test_a_bad_attribution_window_is_a_check_error():
    from django.core import checks

    with override_settings(RECOMMENDATIONS=recs(ATTRIBUTION_DAYS=0)):
        messages = [m.msg for m in checks.run_checks() if "ATTRIBUTION_DAYS" in m.msg]
    assert messages == ["RECOMMENDATIONS['ATTRIBUTION_DAYS'] must be an integer >= 1, got 0."]
