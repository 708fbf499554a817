"""The second host shop's own shape: articles in several sections, priced by their cheapest offer,
available while published and in stock (its adapter's code), keyed by UUID; what ``manage.py
check`` says about mappings that cannot be evaluated."""

from __future__ import annotations

import io
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.test import override_settings

from recommendations import products as catalogue
from recommendations import serving
from recommendations.algorithms import get_engine
from recommendations.algorithms.dataset import Dataset
from recommendations.artifacts import artifact_storage, load_bundle
from recommendations.checks import check_product_adapter, check_settings
from recommendations.data import load_frames
from recommendations.models import Event, ModelVersion
from recommendations.products import ProductAdapter, info, json_key
from recommendations.serving import Shopper, recommend_for
from tests.conftest import make_product, recs, shopper_client, train
from tests.uuidshop.models import Article, Offer, Section

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]
API = "/api/recommendations/"
FIELDS = recs()["PRODUCT_FIELDS"]


@pytest.fixture
def atlas():
    """An article in two sections, with three offers (one out of stock)."""
    article = make_product("World atlas", category="Books", offers=[Decimal("30.00")])
    article.sections.add(Section.objects.create(name="Travel"))
    Offer.objects.create(article=article, price=Decimal("24.50"), stock=3)
    Offer.objects.create(article=article, price=Decimal("19.00"), stock=0)
    return article


def test_several_sections_the_cheapest_offer_and_stock_describe_an_article(atlas):
    described = catalogue.fetch([atlas.pk])[atlas.pk]
    assert info(described).categories == ("Books", "Travel")
    assert info(described).price == Decimal("19.00") and info(described).available
    assert info(described).url == f"/products/{atlas.pk}/" and info(described).image_url is None
    Article.objects.filter(pk=atlas.pk).update(cover="atlas.jpg")
    Offer.objects.filter(article=atlas).update(stock=0)
    again = catalogue.fetch([atlas.pk])[atlas.pk]
    assert not info(again).available and info(again).image_url == "/media/covers/atlas.jpg"


def test_every_section_reaches_the_engines_and_artifacts_hold_typed_ids(atlas, django_user_model):
    travel_guide = make_product("Rome guide", category="Travel")
    cookbook = make_product("Cookbook", category="Kitchen")
    user = django_user_model.objects.create_user("reader@example.com")
    for product in (atlas, travel_guide, cookbook):
        Event.objects.create(user=user, product=product, kind=Event.Kind.VIEW)
    events, products = load_frames()
    assert products.set_index("product_id").loc[atlas.pk, "category"] == ["Books", "Travel"]
    dataset = Dataset.from_frames(events, products)
    assert dataset.item_features.category[list(dataset.item_ids).index(atlas.pk)] == ["Books", "Travel"]
    content = get_engine("content", prior_weight=0.0).fit(dataset)
    index = {pk: i for i, pk in enumerate(dataset.item_ids.tolist())}
    items, _ = content.similar_items(index[travel_guide.pk], n=2)
    assert dataset.item_ids[items[0]] == atlas.pk  # they share "Travel"

    train("content")
    version = ModelVersion.objects.get(engine="content", is_active=True)
    with artifact_storage().open(version.artifact, "rb") as fh:
        raw = np.load(io.BytesIO(fh.read()), allow_pickle=False)
        assert raw["item_ids"].dtype.kind == "U" and raw["user_ids"].dtype.kind == "U"
    with artifact_storage().open(version.artifact, "rb") as fh:
        bundle = load_bundle(fh)
    loaded = serving.active_models.get("content")
    assert loaded is not None and loaded.version_id == version.pk
    assert set(loaded.bundle.item_keys) == {atlas.pk, travel_guide.pk, cookbook.pk} == set(
        Article.objects.values_list("pk", flat=True))
    assert len(bundle.item_ids) == 3


def test_lists_profiles_and_not_interested_follow_every_category(atlas, taste_shop):
    books, garden, users = taste_shop(products=8, users=20, picks=4, seed=3, then=Event.Kind.CART)
    shopper = users[1]  # likes books
    Event.objects.create(user=shopper, product=atlas, kind=Event.Kind.PURCHASE)
    train("item_cf", "popular")
    client = shopper_client(shopper)
    profile = client.get(API + "me/profile/").json()
    assert {c["name"] for c in profile["categories"]} >= {"Books", "Travel"}
    body = client.get(API + f"products/{json_key(books[0].pk)}/similar/?limit=20").json()
    atlas_item = next((i for i in body["results"] if i["id"] == str(atlas.pk)), None)
    assert atlas_item is None or (atlas_item["categories"] == ["Books", "Travel"] and atlas_item["price"] == "19.00")
    client.post(API + "me/not-interested/", {"category": "Travel"}, content_type="application/json")
    served = recommend_for(Shopper(user_id=shopper.pk), 20, engine="item_cf", use_cache=False)
    assert atlas.pk not in {r.product_id for r in served}  # one of its categories is dismissed
    assert served and all("Travel" not in info(r.product).categories for r in served)


def _ids(**fields) -> list[tuple[str, str, str]]:
    with override_settings(RECOMMENDATIONS={**recs(), "PRODUCT_FIELDS": {**FIELDS, **fields}}):
        return [(e.id, e.msg, e.hint) for e in check_settings() + check_product_adapter()]


def test_check_names_the_setting_and_what_to_write_instead(atlas):
    assert _ids() == []
    [(code, msg, hint)] = _ids(brand="sections__name")  # a many-to-many for a one-value key
    assert code == "recommendations.E006" and "PRODUCT_FIELDS']['brand'] = 'sections__name'" in msg
    assert "many-valued relation" in msg and "Only 'category' (a list), 'price' (the lowest)" in hint
    [(code, msg, hint)] = _ids(description="offers__seller")  # a reverse relation, and no such field
    assert code == "recommendations.E006" and "Offer has no field 'seller'" in msg
    [(code, msg, hint)] = _ids(description="offers__price")  # a reverse relation for a one-value key
    assert code == "recommendations.E006" and "'offers' is a many-valued relation" in msg
    [(code, msg, hint)] = _ids(category="section__name")  # a typo
    assert code == "recommendations.E006" and "Article has no field 'section'" in msg
    assert "Did you mean 'sections__name'?" in hint
    [(code, msg, hint)] = _ids(price="headline")  # passes the field check, fails on a real product
    assert code == "recommendations.E020" and "PRODUCT_FIELDS']['price'] = 'headline' gave 'World atlas'" in msg
    assert "a price must be a number" in msg and "ProductAdapter subclass" in hint
    out = io.StringIO()
    call_command("check", stdout=out)  # the shop's own configuration passes


class RaisingAdapter(ProductAdapter):
    def categories(self, product):
        return product.no_such_attribute


class QueryingAdapter(ProductAdapter):
    def categories(self, product):
        return [s.name for s in product.sections.all()]  # not prefetched: a query per product


def test_check_evaluates_a_custom_adapter_on_a_product(atlas):
    path = "tests.uuidshop.test_uuidshop."
    with override_settings(RECOMMENDATIONS={**recs(), "PRODUCT_ADAPTER": path + "RaisingAdapter"}):
        [error] = check_product_adapter()
    assert error.id == "recommendations.E020" and "RaisingAdapter).categories()" in error.msg
    assert "AttributeError" in error.msg
    with override_settings(RECOMMENDATIONS={**recs(), "PRODUCT_ADAPTER": path + "QueryingAdapter"}):
        [warning] = check_product_adapter()
    assert warning.id == "recommendations.W021" and "prefetch_related" in warning.hint
    with override_settings(RECOMMENDATIONS={**recs(), "PRODUCT_ADAPTER": "no.such.Adapter"}):
        [error] = check_product_adapter()
    assert error.id == "recommendations.E019"


def test_the_shorthand_takes_an_aggregate_and_a_q_for_availability(atlas):
    from django.db.models import Max, Q

    fields = {**FIELDS, "price": Max("offers__price"), "available": Q(published=True, offers__stock__gt=0)}
    with override_settings(RECOMMENDATIONS={**recs(), "PRODUCT_ADAPTER": "recommendations.products.FieldMappingAdapter",
                                            "PRODUCT_FIELDS": fields}):
        assert check_settings() + check_product_adapter() == []
        described = info(catalogue.fetch([atlas.pk])[atlas.pk])
        assert described.price == Decimal("30.00") and described.available
        assert described.categories == ("Books", "Travel") and described.brand == "Acme"
        # training reads the same catalogue as columns, without instances
        adapter = catalogue.product_adapter()
        by_columns = {p.pk: p for p in adapter.describe_all()}
        by_instances = {p.pk: p for p in ProductAdapter.describe_all(adapter)}
        assert by_columns == by_instances and by_columns[atlas.pk].categories == ("Books", "Travel")
        assert by_columns[atlas.pk].price == Decimal("30.00")
        Offer.objects.filter(article=atlas).update(stock=0)
        assert not info(catalogue.fetch([atlas.pk])[atlas.pk]).available
        assert catalogue.product_adapter().prices() == [30.0]
