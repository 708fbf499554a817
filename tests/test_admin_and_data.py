"""Admin pages stay at a fixed number of queries however many rows they list; the ORM bridge
returns what was stored."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recommendations.conf import app_settings
from recommendations.data import load_frames
from recommendations.models import Event, Rating

#: The app's own product admin exists only while its own product model is the active one.
OWN_PRODUCT_MODEL = app_settings.product_model == "recommendations.Product"


def _fill(product_factory, django_user_model, n):
    users = [django_user_model.objects.create_user(f"u{i}-{n}") for i in range(n)]
    products = [product_factory() for _ in range(n)]
    Event.objects.bulk_create(
        Event(user=u, product=p, kind=Event.Kind.PURCHASE) for u, p in zip(users, products))
    Rating.objects.bulk_create(Rating(user=u, product=p, score=4) for u, p in zip(users, products))


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["event", "rating"] + (["product"] if OWN_PRODUCT_MODEL else []))
def test_changelists_have_no_n_plus_one(admin_client, product_factory, django_user_model, page):
    url = f"/admin/recommendations/{page}/"
    _fill(product_factory, django_user_model, 3)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    _fill(product_factory, django_user_model, 30)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(many) == len(few)


@pytest.mark.django_db
def test_event_admin_search_by_session(admin_client, product):
    Event.objects.create(session_key="abc123session", product=product, kind=Event.Kind.VIEW)
    response = admin_client.get("/admin/recommendations/event/", {"q": "abc123session"})
    assert b"abc123se" in response.content


@pytest.mark.django_db
def test_load_frames_round_trip(product_factory, shopper):
    book = product_factory("Dune", category="Books")
    Event.objects.create(user=shopper, product=book, kind=Event.Kind.PURCHASE, quantity=2)
    Event.objects.create(session_key="anon1", product=book, kind=Event.Kind.VIEW)
    Rating.objects.create(user=shopper, product=book, score=5)
    events, products = load_frames()
    rows = sorted(events[["user_id", "event", "value"]].itertuples(index=False, name=None))
    assert rows == [(str(shopper.pk), "purchase", 2.0), (str(shopper.pk), "rating", 5.0),
                    ("session:anon1", "view", 1.0)]
    assert products.to_dict("records") == [{
        "product_id": book.pk, "name": "Dune", "description": "", "category": ["Books"],
        "brand": "Acme", "price": 9.99}]
    only_users, _ = load_frames(include_anonymous=False)
    assert "session:anon1" not in set(only_users["user_id"])
