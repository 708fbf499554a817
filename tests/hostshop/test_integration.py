"""docs/integration.md, followed step by step by a shop with its own product model."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from recommendations.conf import get_product_model
from recommendations.data import load_frames
from recommendations.models import Event, Rating
from recommendations.signals import product_added_to_cart, product_purchased, product_viewed
from tests.hostshop.models import Department, Item

DOC = Path(__file__).resolve().parents[2] / "docs" / "integration.md"


def doc_settings() -> dict:
    """Execute the settings snippet of step 3 of the guide."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    snippet = next(b for b in blocks if "RECOMMENDATIONS_PRODUCT_MODEL" in b)
    namespace: dict = {"INSTALLED_APPS": []}
    exec(snippet, namespace)
    return namespace


def test_guide_settings_are_the_ones_this_shop_runs_with():
    guide = doc_settings()
    assert guide["INSTALLED_APPS"] == settings.INSTALLED_APPS[-len(guide["INSTALLED_APPS"]):]
    for name in ("RECOMMENDATIONS_PRODUCT_MODEL", "RECOMMENDATIONS", "SPECTACULAR_SETTINGS"):
        assert guide[name] == getattr(settings, name), name
    assert guide["REST_FRAMEWORK"].items() <= settings.REST_FRAMEWORK.items()
    assert get_product_model() is Item


def test_the_guides_settings_serve_the_schema_and_docs_pages(client):
    assert client.get("/api/recommendations/schema/").status_code == 200
    docs = client.get("/api/recommendations/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


@pytest.mark.django_db
def test_shop_models_untouched_and_checks_clean():
    out = StringIO()
    call_command("makemigrations", "hostshop", "recommendations", "--check", "--dry-run", stdout=out)
    call_command("check", stdout=out)
    assert Item._meta.get_field("title")  # the shop's own model, unchanged
    assert Event._meta.get_field("product").related_model is Item
    assert Rating._meta.get_field("product").related_model is Item


def test_check_names_a_wrong_field():
    from recommendations.checks import check_settings

    fields = {**settings.RECOMMENDATIONS["PRODUCT_FIELDS"], "brand": "manufacturer"}
    with override_settings(RECOMMENDATIONS={"PRODUCT_FIELDS": fields}):
        errors = check_settings()
    assert [e.id for e in errors] == ["recommendations.E006"]
    assert "Item has no field 'manufacturer'" in errors[0].msg


@pytest.mark.django_db
def test_shop_records_behaviour_and_the_bridge_reads_its_fields(client, django_user_model):
    books = Department.objects.create(label="Books")
    item = Item.objects.create(title="Dune", blurb="Desert planet epic", department=books,
                               maker="Ace", cost="9.50")
    user = django_user_model.objects.create_user("reader", password="pw-reader-1")
    client.get(f"/products/{item.pk}/")                                   # mixin, anonymous
    client.post("/login/", {"username": "reader", "password": "pw-reader-1"})
    product_added_to_cart.send(sender=Item, user=user, product=item, quantity=2)
    product_purchased.send(sender=Item, user=user, product=item, quantity=2)
    Rating.objects.update_or_create(user=user, product=item, defaults={"score": 5})
    product_viewed.send(sender=Item, user=user, product=item)  # same view again: not counted

    kinds = sorted(Event.objects.filter(user=user).values_list("kind", flat=True))
    assert kinds == [Event.Kind.VIEW, Event.Kind.CART, Event.Kind.PURCHASE]

    events, products = load_frames()
    row = products.set_index("product_id").loc[item.pk]
    assert (row["name"], row["description"], row["category"], row["brand"], row["price"]) == (
        "Dune", "Desert planet epic", ["Books"], "Ace", 9.5)
    assert sorted(events["event"]) == ["cart", "purchase", "rating", "view"]
    # training reads the catalogue as columns; the same as through instances
    from recommendations.products import ProductAdapter, product_adapter

    adapter = product_adapter()
    assert list(adapter.describe_all()) == list(ProductAdapter.describe_all(adapter))
