"""Beyond-accuracy metrics in model versions and on the dashboard, the RERANK setting in
serving, and its system check (issue #8, parts 2 and 3)."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from recommendations import serving, training
from recommendations.checks import check_presentation_settings
from recommendations.models import Event
from recommendations.serving import Shopper, recommend_for
from tests.conftest import recs, train

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/recommendations/modelversion/dashboard/"
BEYOND = ("ild_category@10", "ild_content@10", "novelty@10", "popularity_bias@10", "exposure_gini@10")


@pytest.fixture(autouse=True)
def fresh(isolated_serving):
    with override_settings(RECOMMENDATIONS=recs(ENGINES=["popular", "item_cf"])):
        yield


@pytest.fixture
def shop(taste_shop):
    return taste_shop(products=12, users=30, picks=6, seed=3, then=Event.Kind.CART, prefix="b")


def test_a_trained_version_stores_the_beyond_accuracy_metrics(taste_shop):
    # 60 shoppers, so that every two products of a category were picked together by at least
    # two of them: EASE (item_cf's default) then scores each of a shopper's unseen products of
    # their category above 0 whichever item the holdout takes (its draw follows the product keys'
    # order, random in the UUID shop). With 30, about one run in 20 left a shopper whose seventh
    # product scored at or below 0, behind the other category.
    taste_shop(products=12, users=60, picks=6, seed=3, then=Event.Kind.CART, prefix="b")
    version = training.run_sync("item_cf")
    for key in BEYOND:
        assert isinstance(version.metrics[key], float), key
    # planted tastes: each shopper has 7 products of their category left after the holdout
    # (6 picks, 1 held out), ranked first; a 10-item list is 7 + 3: 21 of 45 pairs differ
    assert version.metrics["ild_category@10"] == pytest.approx(21 / 45)
    assert 0 <= version.metrics["popularity_bias@10"] <= 1 and 0 <= version.metrics["exposure_gini@10"] < 1
    assert version.metrics["novelty@10"] > 0
    popular = training.run_sync("popular")
    # a list of the most popular products has more head products than a personal one
    assert popular.metrics["popularity_bias@10"] >= version.metrics["popularity_bias@10"]


def test_dashboard_charts_beyond_accuracy_next_to_accuracy(admin_client, shop):
    train("item_cf", "popular")
    response = admin_client.get(DASHBOARD)
    assert response.status_code == 200
    text = response.content.decode()
    svgs = re.findall(r"<svg [^>]*class=\"rec-chart\".*?</svg>", text, flags=re.S)
    beyond = next(s for s in svgs if "Active version of each engine: beyond accuracy" in s)
    assert 'role="img"' in beyond and "<desc id=" in beyond
    for metric in ("ild_category@10", "ild_content@10", "popularity_bias@10", "exposure_gini@10"):
        assert metric in beyond
    assert "item_cf" in beyond and "popular" in beyond
    assert beyond.count('class="bar"') >= 6  # 2 engines x 4 metrics, less any exactly 0
    novelty = next(s for s in svgs if "novelty@10 (mean self-information, bits)" in s)
    assert novelty.count('class="bar"') == 2
    assert any("item_cf: beyond accuracy by version" in s for s in svgs)
    assert 'id="rec-beyond-heading"' in text and "Beyond accuracy" in text
    # and in the active version's metric rows
    assert re.search(r"<th scope=\"row\">exposure_gini@10</th><td>0\.\d{4}</td>", text)


def test_dashboard_with_versions_older_than_the_metrics(admin_client, shop):
    version = training.run_sync("item_cf")
    version.metrics = {"ndcg@10": 0.3, "ild_content@10": None}
    version.save()
    response = admin_client.get(DASHBOARD)
    text = response.content.decode()
    assert response.status_code == 200
    assert "No active version with beyond-accuracy metrics yet." in text
    assert "item_cf: beyond accuracy by version" not in text
    assert "<th scope=\"row\">ild_content@10</th><td>–</td>" in text


# -- the knob in serving ----------------------------------------------------------------------
def _categories(shopper: Shopper, n: int = 6) -> list[str]:
    return [serving._category(r.product) for r in recommend_for(shopper, n, engine="item_cf", use_cache=False)]


def test_rerank_mmr_brings_another_category_into_the_list(shop):
    books, garden, users = shop
    train("item_cf")
    reader = Shopper(user_id=users[1].pk)  # odd shoppers like books
    assert set(_categories(reader)) == {"Books"}
    with override_settings(RECOMMENDATIONS=recs(ENGINES=["item_cf"], RERANK={"method": "mmr", "strength": 0.9})):
        mixed = _categories(reader)
    assert mixed[0] == "Books" and "Garden" in mixed[:2]
    with override_settings(RECOMMENDATIONS=recs(ENGINES=["item_cf"], RERANK={"method": "mmr", "strength": 0.0})):
        assert set(_categories(reader)) == {"Books"}


def test_rerank_popularity_penalty_puts_less_popular_products_first(shop):
    books, garden, users = shop
    train("item_cf")
    loaded = serving.active_models.get("item_cf")
    popularity = serving._item_popularity("item_cf", loaded)
    # distinct shoppers per product, straight from the events
    for product in books[:3] + garden[:3]:
        expected = Event.objects.filter(product=product).values("user").distinct().count()
        assert popularity[loaded.bundle.item_index[product.pk]] == expected
    reader = Shopper(user_id=users[1].pk)
    with override_settings(RECOMMENDATIONS=recs(RERANK={"method": "popularity", "strength": 100.0})):
        listed = recommend_for(reader, 6, engine="item_cf", use_cache=False)
    counts = [popularity[loaded.bundle.item_index[r.product_id]] for r in listed]
    assert counts == sorted(counts) and len(counts) == 6


def test_rerank_by_content_and_popularity_borrowed_from_the_popular_model(shop):
    books, garden, users = shop
    train("item_cf", "content", "popular")
    reader = Shopper(user_id=users[1].pk)
    with override_settings(RECOMMENDATIONS=recs(RERANK={"method": "mmr_content", "strength": 0.9})):
        assert "Garden" in _categories(reader)[:3]
    # the content model keeps no training matrix: popularity comes from the popular model's
    content = serving.active_models.get("content")
    popularity = serving._item_popularity("content", content)
    for product in books[:3] + garden[:3]:
        expected = Event.objects.filter(product=product).values("user").distinct().count()
        assert popularity[content.bundle.item_index[product.pk]] == expected


@pytest.mark.parametrize("value", [
    {"method": "random"}, {"method": "mmr", "strength": 2}, {"strength": -1}, {"overfetch": 0},
    {"method": "popularity", "strength": "high"}, {"lambda": 0.3}, "mmr"])
def test_bad_rerank_settings_fail_the_check(value):
    with override_settings(RECOMMENDATIONS=recs(RERANK=value)):
        assert "recommendations.E036" in [e.id for e in check_presentation_settings()]
        with pytest.raises(SystemCheckError, match="RERANK"):
            call_command("check")


@pytest.mark.parametrize("value", [{"method": "mmr", "strength": 0.3}, {"method": "popularity", "strength": 2.5},
                                   {"method": None}, {"method": "mmr_content", "strength": 1, "overfetch": 3}])
def test_good_rerank_settings_pass(value):
    with override_settings(RECOMMENDATIONS=recs(RERANK=value)):
        assert "recommendations.E036" not in [e.id for e in check_presentation_settings()]


@pytest.mark.django_db(transaction=True)
def test_the_new_charts_in_a_browser(shop, live_server, browser, django_user_model, settings):
    from pathlib import Path

    import django.contrib.admin

    settings.STATIC_ROOT = str(Path(django.contrib.admin.__file__).parent / "static")  # admin CSS
    train("item_cf", "popular")
    django_user_model.objects.create_superuser("boss", password="pw-boss-1")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/admin/login/?next={DASHBOARD}")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-1")
    page.click("input[type=submit]")
    page.wait_for_url(f"**{DASHBOARD}")
    page.locator("#rec-advanced summary").click()  # the offline scores sit under "Advanced"
    section = page.locator("#rec-beyond")
    assert section.get_by_role("heading", name="Beyond accuracy").is_visible()
    chart = section.locator("svg.rec-chart").first
    box = chart.bounding_box()
    assert chart.is_visible() and box["width"] > 300 and box["height"] > 150
    assert chart.locator("rect.bar").count() >= 6
    assert "beyond accuracy" in chart.locator("title").first.text_content()
    history = page.locator("#engine-item_cf svg.rec-chart").nth(1)
    assert history.is_visible()
    assert history.locator("title").first.text_content() == "item_cf: beyond accuracy by version"
