"""A real django-oscar 4.2 shop with ``recommendations.contrib.oscar`` added by following
docs/oscar.md: shoppers browse, add to their basket and check out through Oscar's own views;
the engines train on that; Oscar's product and browse pages then show recommended products with
their category and price, the API's items carry category, price and URL, and a shopper's list
follows the categories they browsed. On SQLite with ``ATOMIC_REQUESTS`` (Oscar's dev setup), a
login right after a page with widgets works at default settings."""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from oscar.core.loading import get_model

from recommendations import feedback, serving
from recommendations.models import Event, Impression, Rating
from recommendations.products import info

pytestmark = pytest.mark.django_db
DOC = Path(__file__).resolve().parents[2] / "docs" / "oscar.md"
API = "/api/recommendations/"
BROWSER = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}
CATEGORIES = ["Books", "Music", "Garden", "Kitchen", "Toys", "Sports", "Games", "Travel"]
PER_CATEGORY = 5

Category = get_model("catalogue", "Category")
Country = get_model("address", "Country")
Partner = get_model("partner", "Partner")
Product = get_model("catalogue", "Product")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductClass = get_model("catalogue", "ProductClass")
StockRecord = get_model("partner", "StockRecord")
Order = get_model("order", "Order")
ProductReview = get_model("reviews", "ProductReview")


# -- the recipe is the shop's configuration -----------------------------------------------------
def recipe_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)


def test_the_shop_runs_the_recipes_lines():
    [snippet] = [b for b in recipe_blocks("python") if "RECOMMENDATIONS_PRODUCT_MODEL" in b]
    namespace = {"INSTALLED_APPS": []}
    exec(snippet, namespace)
    assert [a for a in namespace["INSTALLED_APPS"]] == settings.INSTALLED_APPS[-len(namespace["INSTALLED_APPS"]):]
    for name in ("RECOMMENDATIONS_PRODUCT_MODEL", "RECOMMENDATIONS", "REST_FRAMEWORK"):
        assert namespace[name] == getattr(settings, name), name
    templates = Path(__file__).parent / "templates"
    overrides = [block for block in recipe_blocks("django") if block.startswith("{% extends")]
    assert len(overrides) == 2
    for block in overrides:
        name = re.search(r'{% extends "(.+?)" %}', block).group(1)
        assert (templates / name).read_text().strip() == block.strip(), name


# -- the shop -----------------------------------------------------------------------------------
@pytest.fixture
def catalogue(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    serving.active_models.clear()
    from django.core.cache import cache

    cache.clear()
    Country.objects.create(iso_3166_1_a2="GB", iso_3166_1_a3="GBR", iso_3166_1_numeric="826", printable_name="UK",
                           name="United Kingdom", is_shipping_country=True)
    kind = ProductClass.objects.create(name="Goods", track_stock=True)
    partner = Partner.objects.create(name="Warehouse")
    products = {}
    for c, name in enumerate(CATEGORIES):
        category = Category.add_root(name=name)
        products[name] = []
        for i in range(PER_CATEGORY):
            product = Product.objects.create(title=f"{name} item {i}", product_class=kind, is_public=True,
                                             description=f"A fine {name.lower()} thing")
            ProductCategory.objects.create(product=product, category=category)
            StockRecord.objects.create(product=product, partner=partner, partner_sku=f"sku-{product.pk}",
                                       price=Decimal(10 + c + i), num_in_stock=50)
            products[name].append(product)
    yield products
    serving.active_models.clear()


def shopper(django_user_model, n: int):
    user = django_user_model.objects.create_user(f"shopper{n}", f"shopper{n}@example.com", "pw-shopper")
    client = Client(**BROWSER)
    client.force_login(user)
    return user, client


def browse(client, product) -> None:
    assert client.get(product.get_absolute_url()).status_code == 200


def add_to_basket(client, product, quantity: int = 1) -> None:
    response = client.post(f"/basket/add/{product.pk}/", {"quantity": quantity})
    assert response.status_code == 302, response.content[:500]


def checkout(client) -> Order:
    """Oscar's real checkout: shipping address, (free) shipping, preview, place order."""
    assert client.get("/checkout/").status_code == 302
    response = client.post("/checkout/shipping-address/", {
        "first_name": "Ada", "last_name": "Lovelace", "line1": "1 Analytical Row", "line4": "London",
        "postcode": "N1 9GU", "country": "GB"})
    assert response.status_code == 302, response.content[:2000]
    for url in ("/checkout/shipping-method/", "/checkout/payment-method/"):
        assert client.get(url).status_code == 302
    response = client.post("/checkout/preview/", {"action": "place_order"})
    assert response.status_code == 302 and response["Location"].endswith("/checkout/thank-you/"), response
    return Order.objects.latest("id")


@pytest.fixture
def trained_shop(catalogue, django_user_model):
    """16 shoppers, each into two categories, browse, add to basket and (a few) buy through Oscar."""
    users = []
    for n in range(16):
        user, client = shopper(django_user_model, n)
        first, second = CATEGORIES[(n % 4) * 2], CATEGORIES[(n % 4) * 2 + 1]
        if n // 4 % 2:
            liked = catalogue[first][:3] + catalogue[second][:2]
        else:
            liked = catalogue[first][2:] + catalogue[second][3:]
        for product in liked:
            browse(client, product)
        add_to_basket(client, liked[0], quantity=2)
        if n < 3:
            order = checkout(client)
            assert order.lines.count() == 1
        users.append(user)
    call_command("recommendations_train", "--sync", "--engine", "popular", "--engine", "trending",
                 "--engine", "item_cf", "--engine", "content", "--engine", "hybrid", verbosity=0)
    serving.active_models.clear()  # as a web process does within ACTIVE_VERSION_CHECK_SECONDS
    return catalogue, users


def test_oscars_signals_are_captured(catalogue, django_user_model):
    user, client = shopper(django_user_model, 99)
    book = catalogue["Books"][0]
    browse(client, book)
    add_to_basket(client, book, quantity=3)
    add_to_basket(client, book)  # the line exists: the quantity added is the one posted
    order = checkout(client)
    kinds = list(Event.objects.filter(user=user).order_by("id").values_list("kind", "quantity"))
    assert kinds == [(Event.Kind.VIEW, 1), (Event.Kind.CART, 3), (Event.Kind.CART, 1), (Event.Kind.PURCHASE, 4)]
    assert order.lines.get().quantity == 4
    ProductReview.objects.create(product=book, user=user, score=4, title="Good", body="Liked it")
    assert Rating.objects.get(user=user, product=book).score == 4
    # the product as the app sees it: Oscar's strategy's price (the stock record's), URL, category
    described = info(Product.objects.get(pk=book.pk))
    assert (described.name, described.categories, described.price) == ("Books item 0", ("Books",), Decimal("10.00"))
    assert described.available and described.url == book.get_absolute_url()
    StockRecord.objects.filter(product=book).update(num_in_stock=0)  # sold out: not shown any more
    assert not info(Product.objects.get(pk=book.pk)).available


def test_pages_and_api_show_recommended_products_that_follow_what_shoppers_browse(trained_shop, django_user_model):
    catalogue, users = trained_shop
    client = Client(**BROWSER)
    client.force_login(users[1])
    page = client.get(catalogue["Books"][0].get_absolute_url()).content.decode()
    similar = page[page.index("recommendations-similar"):]
    assert "Similar products" in page and "Customers also bought" in page
    cards = re.findall(r'data-product-id="(\d+)"', similar)
    assert len(cards) >= 3
    assert "product_pod" in similar  # Oscar's own product card
    assert re.search(r'recommendations-category small">(Books|Music)<', similar)
    assert re.search(r"€\d+\.\d\d", similar)  # the card's price
    browse_page = client.get("/catalogue/").content.decode()
    assert "Recommended for you" in browse_page and "product_pod" in browse_page
    body = client.get(API + "for-you/?limit=6").json()
    assert body["engine"] == "hybrid" and len(body["results"]) == 6
    for item in body["results"]:
        product = Product.objects.get(pk=item["id"])
        assert item["category"] in CATEGORIES and item["url"] == product.get_absolute_url()
        assert Decimal(item["price"]) == product.stockrecords.get().price
    assert client.get(API + "schema/").status_code == 200 and client.get(API + "docs/").status_code == 200

    # a shopper's list follows the categories they browse (one trained shop for both: training
    # through Oscar's views is this suite's slow part)
    newcomer, client = shopper(django_user_model, 200)
    for product in catalogue["Garden"][:3]:
        browse(client, product)
    categories = [item["category"] for item in client.get(API + "for-you/?limit=4").json()["results"]]
    assert categories.count("Garden") + categories.count("Kitchen") >= 3, categories
    for product in catalogue["Toys"][1:5]:
        browse(client, product)
    body = client.get(API + "for-you/?limit=4").json()
    categories = [item["category"] for item in body["results"]]
    assert categories.count("Toys") + categories.count("Sports") >= 2, body


class SlowHasher(PBKDF2PasswordHasher):
    """A login that takes a while (a real password hasher on a busy machine): long enough for a
    background write to land inside the login's transaction."""

    iterations = 1_500_000


@pytest.mark.django_db(transaction=True)
@override_settings(PASSWORD_HASHERS=["tests.oscarshop.test_oscar.SlowHasher"])
def test_login_after_a_page_with_widgets_on_sqlite(catalogue, django_user_model):
    """Oscar's dev setup: SQLite, ATOMIC_REQUESTS. A page with widgets stores impressions; with a
    background writer those landed during the next request's transaction and Oscar's login view
    failed with "database is locked". On SQLite they are now written with the page."""
    django_user_model.objects.create_user("ada", "ada@example.com", "pw-ada-12345")
    client = Client(**BROWSER)
    before = threading.active_count()
    assert client.get(catalogue["Books"][0].get_absolute_url()).status_code == 200
    if connection.vendor == "sqlite":
        assert Impression.objects.exists() and len(feedback.buffer) == 0  # written with the page
        assert threading.active_count() == before  # no writer thread
    response = client.post("/accounts/login/", {"login-username": "ada@example.com",
                                                "login-password": "pw-ada-12345", "login_submit": "1"})
    assert response.status_code == 302, response.content[:300]
    assert client.get("/accounts/profile/").status_code == 200

