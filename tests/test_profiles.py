"""Shopper profiles and "not interested": the profile reflects planted tastes, "not interested"
changes the very next list (and the next training), and nobody reads another shopper's."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from recommendations import profiles, tasks, training
from recommendations.models import Event, NotInterested, Rating, ShopperProfile
from recommendations.products import info
from recommendations.serving import Shopper, recommend_for
from tests.conftest import UNKNOWN_PRODUCT, fill_payload, make_product, shopper_client, train, update_product

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]
API = "/api/recommendations/"


def product(name: str, category: str, brand: str, price: str):
    """A product with this brand and price, whichever product model and field names are active."""
    item = make_product(name, category=category)
    update_product(item, brand=brand, price=Decimal(price))
    return item


def category_of(rec) -> str:
    return info(rec.product).category


@pytest.fixture
def catalogue():
    garden = [product(f"Trowel {i}", "Garden", "GreenCo", f"{2 + i}.00") for i in range(6)]
    books = [product(f"Atlas {i}", "Books", "Papyrus", f"{40 + 5 * i}.00") for i in range(6)]
    toys = [product(f"Kite {i}", "Toys", "Playful", f"{10 + 2 * i}.00") for i in range(6)]
    return garden, books, toys


def test_the_profile_reflects_planted_tastes(catalogue, django_user_model):
    garden, books, toys = catalogue
    gardener = django_user_model.objects.create_user("gardener")
    reader = django_user_model.objects.create_user("reader")
    V, C, P = Event.Kind.VIEW, Event.Kind.CART, Event.Kind.PURCHASE
    Event.objects.bulk_create(
        [Event(user=gardener, product=p, kind=V) for p in garden]
        + [Event(user=gardener, product=garden[0], kind=k) for k in (C, P, P)]
        + [Event(user=gardener, product=garden[1], kind=P), Event(user=gardener, product=books[0], kind=V)]
        + [Event(user=reader, product=p, kind=V) for p in books[3:] + books[3:]]
        + [Event(user=reader, product=toys[0], kind=V)])
    Rating.objects.create(user=reader, product=toys[1], score=1)  # disliked: not a taste

    mine = profiles.get_profile(Shopper(user_id=gardener.pk)).data
    assert mine["activity"] | {"first_seen": None, "last_seen": None} == {
        "views": 7, "carts": 1, "purchases": 3, "ratings": 0, "products": 7,
        "first_seen": None, "last_seen": None}
    assert [c["name"] for c in mine["categories"]] == ["Garden", "Books"]
    assert mine["categories"][0]["share"] > 0.9
    assert mine["brands"][0]["name"] == "GreenCo"
    assert mine["price"]["band"] == "budget" and mine["price"]["typical"] == 2.0
    assert mine["shaping"][0]["name"] == "Trowel 0"  # viewed, carted, bought twice
    assert mine["shaping"][0]["why"] == "bought 2×, added to cart 1×, viewed 1×"
    assert mine["segment"] == "Loyal customer · Garden fan · bargain hunter"

    theirs = profiles.get_profile(Shopper(user_id=reader.pk)).data
    assert theirs["segment"] == "Browser · Books fan · premium taste"
    assert theirs["activity"]["ratings"] == 1
    assert "Toys" in [c["name"] for c in theirs["categories"]]  # the view counts ...
    assert all(p["name"] != "Kite 1" for p in theirs["shaping"])  # ... the 1-star rating does not


def test_a_profile_is_recomputed_only_when_the_shopper_did_something_new(catalogue, django_user_model):
    garden, _, _ = catalogue
    user = django_user_model.objects.create_user("u")
    shopper = Shopper(user_id=user.pk)
    assert profiles.get_profile(shopper).segment == "New shopper"
    Event.objects.create(user=user, product=garden[0], kind=Event.Kind.VIEW)
    first = profiles.get_profile(shopper)
    assert first.data["activity"]["views"] == 1
    assert profiles.get_profile(shopper).computed_at == first.computed_at  # nothing new: stored row
    Event.objects.create(user=user, product=garden[1], kind=Event.Kind.PURCHASE)
    again = profiles.get_profile(shopper)
    assert again.computed_at > first.computed_at and again.data["activity"]["purchases"] == 1
    Rating.objects.create(user=user, product=garden[2], score=5)
    assert profiles.get_profile(shopper).data["activity"]["ratings"] == 1


def test_not_interested_in_a_category_empties_it_from_the_very_next_list(taste_shop):
    books, garden, users = taste_shop(products=10, users=40, picks=6, seed=4, then=Event.Kind.CART)
    train("item_cf", "trending")
    gardener = users[0]  # even shoppers like garden tools
    client = shopper_client(gardener)
    before = client.get(API + "for-you/?limit=8&engine=item_cf").json()["results"]
    assert any(item["category"] == "Garden" for item in before)  # and it is cached now

    response = client.post(API + "me/not-interested/", {"category": "Garden"}, content_type="application/json")
    assert response.status_code == 201, response.content
    after = client.get(API + "for-you/?limit=8").json()["results"]
    assert len(after) == 8 and all(item["category"] != "Garden" for item in after)
    assert all(category_of(r) != "Garden" for r in recommend_for(Shopper(user_id=gardener.pk), 8, use_cache=False))

    dataset = training.build_dataset()  # the next training: none of their Garden events ...
    def items_of(user) -> set:
        return set(dataset.item_ids[dataset.item[dataset.user_ids[dataset.user] == str(user.pk)]].tolist())
    assert not items_of(gardener) & {g.pk for g in garden}
    assert items_of(users[2]) & {g.pk for g in garden}  # ... another gardener's stay
    entry = client.get(API + "me/not-interested/").json()[0]
    assert entry["category"] == "Garden" and entry["product"] is None
    assert client.delete(API + f"me/not-interested/{entry['id']}/").status_code == 204
    again = client.get(API + "for-you/?limit=8").json()["results"]
    assert any(item["category"] == "Garden" for item in again)


def test_not_interested_in_a_product_leaves_the_list_the_history_and_the_next_training(taste_shop):
    books, garden, users = taste_shop(products=10, users=40, picks=6, seed=5, then=Event.Kind.CART)
    train("item_cf", "trending")
    reader = users[1]
    shopper = Shopper(user_id=reader.pk)
    first = recommend_for(shopper, 5, engine="item_cf", use_cache=False)[0]
    seen = Event.objects.filter(user=reader).values_list("product_id", flat=True).first()

    profiles.mark_not_interested(shopper, product=first.product)
    profiles.mark_not_interested(shopper, product=first.product)  # idempotent
    assert NotInterested.objects.filter(user=reader).count() == 1
    assert first.product_id not in [r.product_id for r in recommend_for(shopper, 10, engine="item_cf")]

    profiles.mark_not_interested(shopper, product=type(first.product)._default_manager.get(pk=seen))
    assert seen not in [p["product_id"] for p in profiles.get_profile(shopper).data["shaping"]]
    dataset = training.build_dataset()
    pairs = set(zip(dataset.user_ids[dataset.user].tolist(), dataset.item_ids[dataset.item].tolist()))
    assert (str(reader.pk), seen) not in pairs  # the next training forgets it ...
    assert any(u == str(reader.pk) for u, _ in pairs)  # ... and nothing else of the shopper


def test_cold_start_orders_popular_products_by_the_categories_just_viewed(taste_shop):
    taste_shop(products=8, users=30, picks=5, seed=6, then=Event.Kind.PURCHASE)
    train("trending")
    newcomers = [make_product(f"New pot {i}", category="Garden") for i in range(2)]  # unknown to models
    client = shopper_client()
    session = client.session
    session.save()
    key = session.session_key
    Event.objects.bulk_create(Event(session_key=key, product=p, kind=Event.Kind.VIEW) for p in newcomers)
    recs = recommend_for(Shopper(session_key=key), 6, use_cache=False)
    assert [category_of(r) for r in recs[:3]] == ["Garden"] * 3
    assert recs[0].reason == "Popular in Garden, which you looked at"
    plain = recommend_for(Shopper(), 6, engine="trending", use_cache=False)
    assert plain[0].reason == "Trending now"  # without a history: plain trending


def test_nobody_reads_or_changes_another_shoppers_profile(catalogue, django_user_model):
    garden, books, _ = catalogue
    alice = django_user_model.objects.create_user("alice")
    bob = django_user_model.objects.create_user("bob")
    Event.objects.create(user=alice, product=garden[0], kind=Event.Kind.PURCHASE)
    Event.objects.create(user=bob, product=books[0], kind=Event.Kind.VIEW)
    alice_client, bob_client = shopper_client(alice), shopper_client(bob)
    made = alice_client.post(API + "me/not-interested/", {"product": books[1].pk}, content_type="application/json")
    assert made.status_code == 201

    mine = bob_client.get(API + "me/profile/").json()
    assert mine["shopper"] == str(bob.pk) and mine["categories"][0]["name"] == "Books"
    assert mine["not_interested"] == []
    assert bob_client.get(API + "me/not-interested/").json() == []
    assert bob_client.delete(API + f"me/not-interested/{made.json()['id']}/").status_code == 404
    assert NotInterested.objects.filter(user=alice).count() == 1
    anonymous = shopper_client().get(API + "me/profile/").json()
    assert anonymous["segment"] == "New shopper" and anonymous["activity"] == {}
    theirs = alice_client.get(API + "me/profile/").json()
    assert theirs["categories"][0]["name"] == "Garden" and len(theirs["not_interested"]) == 1

    profile = ShopperProfile.objects.get(user=alice)
    page = f"/admin/recommendations/shopperprofile/{profile.pk}/change/"
    assert bob_client.get(page).status_code == 302  # a shopper is sent to the admin login
    assert bob_client.get(f"/admin/recommendations/shopperprofile/user/{alice.pk}/").status_code == 302


@pytest.mark.parametrize(("payload", "field", "status"), [
    ({"product": "real", "category": "Books"}, "non_field_errors", 400),
    ({}, "non_field_errors", 400),
    ({"product": None, "category": "Books"}, "product", 400),
    ({"category": ""}, "category", 400),
    ({"product": UNKNOWN_PRODUCT}, "product", 404),  # well formed, but no such product
    ({"category": "No such aisle"}, "category", 404),
    ({"product": "not-a-key"}, "product", 400),
])
def test_bad_not_interested_payloads_get_a_400_naming_the_field(catalogue, django_user_model, payload, field,
                                                                 status):
    user = django_user_model.objects.create_user("u")
    if payload.get("product") == "real":
        payload = {**payload, "product": catalogue[0][0].pk}
    payload = fill_payload(payload, None)
    response = shopper_client(user).post(API + "me/not-interested/", payload, content_type="application/json")
    assert response.status_code == status and field in response.json(), response.content
    assert not NotInterested.objects.exists()


def test_an_anonymous_shopper_can_dismiss_and_it_follows_them_when_they_log_in(catalogue, django_user_model):
    garden, books, _ = catalogue
    client = shopper_client()
    assert client.post(API + "me/not-interested/", {"category": "Books"},
                       content_type="application/json").status_code == 201
    entry = NotInterested.objects.get()
    assert entry.user is None and entry.session_key
    user = django_user_model.objects.create_user("later")
    client.force_login(user)  # a real login: user_logged_in merges the session's data
    entry.refresh_from_db()
    assert entry.user == user and entry.session_key == ""
    assert profiles.dismissed(Shopper(user_id=user.pk)).categories == {"Books"}


def test_erasing_or_deleting_the_user_removes_profile_and_choices(catalogue, django_user_model):
    garden, _, _ = catalogue
    user = django_user_model.objects.create_user("gone")
    Event.objects.create(user=user, product=garden[0], kind=Event.Kind.VIEW)
    client = shopper_client(user)
    client.post(API + "me/not-interested/", {"category": "Garden"}, content_type="application/json")
    client.get(API + "me/profile/")
    exported = client.get(API + "me/data/").json()
    assert exported["profile"]["shopper"] == str(user.pk)
    assert exported["not_interested"][0]["category"] == "Garden"
    deleted = client.delete(API + "me/data/").json()["deleted"]
    assert deleted["profile"] == 1 and deleted["not_interested"] == 1
    assert not ShopperProfile.objects.exists() and not NotInterested.objects.exists()

    client.post(API + "me/not-interested/", {"category": "Garden"}, content_type="application/json")
    profiles.refresh(Shopper(user_id=user.pk))
    user.delete()
    assert not ShopperProfile.objects.exists() and not NotInterested.objects.exists()


def test_staff_see_a_profile_with_every_engines_list_side_by_side(taste_shop, django_user_model):
    books, garden, users = taste_shop(products=8, users=30, picks=5, seed=7, then=Event.Kind.CART)
    train("item_cf", "trending", "popular")
    staff = django_user_model.objects.create_superuser("boss", password="pw-boss-123")
    client = shopper_client(staff)
    response = client.get(f"/admin/recommendations/shopperprofile/user/{users[0].pk}/")
    assert response.status_code == 302
    page = client.get(response["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Garden fan" in html and 'id="rec-previews"' in html
    for engine in ("item_cf", "popular", "trending"):
        assert f'data-engine="{engine}"' in html
    assert str(garden[0]) in html or any(str(g) in html for g in garden)
    # People's words: no ISO timestamps or three-decimal raw scores on the page.
    content = html[html.index('id="content-main"'):html.index('id="footer"')]
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", content.replace('datetime="', "")), "raw timestamp"
    assert not re.search(r"\b\d+\.\d{3}\b", content), "raw score"
    assert re.search(r"(ago|just now)", content)
    user_page = client.get(f"/admin/auth/user/{users[0].pk}/change/").content.decode()
    if django_user_model._meta.label == "auth.User":
        assert f"/admin/recommendations/shopperprofile/user/{users[0].pk}/" in user_page
    listing = client.get("/admin/recommendations/shopperprofile/?q=s0").content.decode()
    assert "Garden fan" in listing
    dashboard = client.get("/admin/recommendations/modelversion/dashboard/").content.decode()
    assert 'id="rec-profiles-link"' in dashboard


def test_one_read_of_the_shopper_serves_every_engines_list_unchanged(taste_shop, django_user_model):
    """The admin profile's lists: a shared ``shopper_state`` (read once, products shared, candidates
    read a block at a time) gives exactly the lists separate calls give, with fewer queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from recommendations import serving

    books, garden, users = taste_shop(products=30, users=40, picks=8, seed=3, then=Event.Kind.CART)
    train("item_cf", "user_cf", "trending", "popular")
    NotInterested.objects.create(user=users[0], product_id=str(garden[1].pk))
    shopper = Shopper(user_id=users[0].pk)
    engines = ["item_cf", "popular", "trending", "user_cf"]

    def lists(**kwargs):
        return {e: [(r.product_id, r.score, r.engine, r.reason)
                    for r in recommend_for(shopper, 10, engine=e, use_cache=False, **kwargs)] for e in engines}

    with CaptureQueriesContext(connection) as separate:
        alone = lists()
    with CaptureQueriesContext(connection) as shared:
        together = lists(state=serving.shopper_state(shopper))
    assert together == alone and all(alone.values())
    assert str(garden[1].pk) not in {str(pk) for items in together.values() for pk, *_ in items}
    assert len(shared.captured_queries) < len(separate.captured_queries)


def test_the_list_names_shoppers_and_finds_them_by_name_or_email(taste_shop, django_user_model):
    _, _, users = taste_shop(products=6, users=4, picks=3, seed=5)
    named = users[0]
    fields = {f.name for f in django_user_model._meta.concrete_fields}
    if "first_name" in fields:
        named.first_name, named.last_name = "Ada", "Lovelace"
    else:  # a custom user model with one name field (tests.uuidshop's Customer)
        named.full_name = "Ada Lovelace"
    named.email = "ada@example.com"
    named.save()
    for user in users:
        profiles.refresh(Shopper(user_id=user.pk))
    client = shopper_client(django_user_model.objects.create_superuser("boss", password="pw-boss-123"))
    listing = client.get("/admin/recommendations/shopperprofile/").content.decode()
    assert "Ada Lovelace" in listing and "ada@example.com" in listing
    assert users[1].get_username() in listing  # no name: the username
    assert f">{named.pk}<" not in listing  # never a bare id
    assert re.search(r"(ago|just now)</time>", listing) and not re.search(r">\d{4}-\d\d-\d\d", listing)
    for query in ("Lovelace", "ada@example.com"):
        found = client.get(f"/admin/recommendations/shopperprofile/?q={query}").content.decode()
        assert "Ada Lovelace" in found and found.count('class="field-who"') == 1
    staged = client.get("/admin/recommendations/shopperprofile/?stage=Customer").content.decode()
    assert staged.count('class="field-who"') == ShopperProfile.objects.filter(segment__startswith="Customer").count()


def test_a_shopper_is_named_through_the_user_models_own_api():
    """A custom user model without ``username`` or names: its USERNAME_FIELD and email."""
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.db import models
    from django.test.utils import isolate_apps

    from recommendations.admin import shopper_identity

    with isolate_apps("recommendations"):
        class Customer(AbstractBaseUser):
            email = models.EmailField(unique=True)
            USERNAME_FIELD = EMAIL_FIELD = "email"

            class Meta:
                app_label = "recommendations"

        assert shopper_identity(Customer(email="kim@example.com"), "7") == ("kim@example.com", "")
    assert shopper_identity(None, "session:abcdef1234567") == ("Anonymous visitor", "session abcdef12…")


def test_a_training_brings_every_active_shoppers_profile_up_to_date(taste_shop):
    """What "Retrain" does (the train_engine task, here eager): afterwards every signed-in
    shopper with behaviour has a profile, not only the ones someone looked at; a later
    training recomputes only the outdated ones."""
    _, garden, users = taste_shop(products=6, users=12, picks=3, seed=8)
    profiles.refresh(Shopper(user_id=users[0].pk))
    version = tasks.queue("popular", triggered_by="test")  # eager Celery: trains, then refreshes
    assert version.status == "succeeded"
    assert ShopperProfile.objects.filter(user__isnull=False).count() == len(users)
    before = dict(ShopperProfile.objects.values_list("user_id", "computed_at"))
    Event.objects.create(user=users[3], product=garden[0], kind=Event.Kind.PURCHASE)
    assert profiles.shoppers_to_refresh() == [str(users[3].pk)]
    tasks.queue("popular", triggered_by="test")
    after = dict(ShopperProfile.objects.values_list("user_id", "computed_at"))
    assert [u for u in after if after[u] != before[u]] == [users[3].pk]


def test_training_all_engines_refreshes_the_stored_profiles(taste_shop, settings):
    _, _, users = taste_shop(products=6, users=6, picks=3, seed=8)
    assert not ShopperProfile.objects.exists()
    result = tasks.refresh_profiles.delay().get()
    assert result["shoppers"] == 6
    assert ShopperProfile.objects.count() == 6
    assert set(ShopperProfile.objects.values_list("user_id", flat=True)) == {u.pk for u in users}


def test_a_choice_retires_the_shoppers_precomputed_list(taste_shop):
    from django.test import override_settings

    from recommendations.models import PrecomputedList
    from tests.conftest import recs

    books, garden, users = taste_shop(products=10, users=20, picks=6, seed=9, then=Event.Kind.CART)
    train("item_cf", "trending")
    gardener = Shopper(user_id=users[0].pk)
    with override_settings(RECOMMENDATIONS=recs(SERVING_ENGINE="item_cf")):
        tasks.precompute_lists.delay("item_cf").get()
        assert PrecomputedList.objects.filter(shopper=gardener.data_key).exists()
        assert any(category_of(r) == "Garden" for r in recommend_for(gardener, 8))
        profiles.mark_not_interested(gardener, category="Garden")
        assert not PrecomputedList.objects.filter(shopper=gardener.data_key).exists()
        after = recommend_for(gardener, 8)
    assert after and all(category_of(r) != "Garden" for r in after)


def test_a_precomputed_list_stored_after_a_choice_still_obeys_it(taste_shop):
    """A precompute chunk computes a list, the shopper says "not interested", the chunk then
    stores the list it computed before: serving must still hide the category."""
    from django.test import override_settings

    from recommendations.models import PrecomputedList
    from tests.conftest import recs

    books, garden, users = taste_shop(products=10, users=20, picks=6, seed=9, then=Event.Kind.CART)
    train("item_cf", "trending")
    gardener = Shopper(user_id=users[0].pk)
    with override_settings(RECOMMENDATIONS=recs(SERVING_ENGINE="item_cf")):
        tasks.precompute_lists.delay("item_cf").get()
        stale = list(PrecomputedList.objects.filter(shopper=gardener.data_key).values(
            "shopper", "engine", "version_id", "items", "computed_at"))
        assert any(category_of(r) == "Garden" for r in recommend_for(gardener, 8))
        profiles.mark_not_interested(gardener, category="Garden")
        PrecomputedList.objects.bulk_create([PrecomputedList(**row) for row in stale])  # the late upsert
        after = recommend_for(gardener, 8)
    assert len(after) == 8 and all(category_of(r) != "Garden" for r in after)
