"""Every capture path, run against the app's own product model (tests.settings) and a shop's
own model (tests.hostshop.settings)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from celery import Celery, current_app
from django.contrib.sessions.backends.db import SessionStore
from django.db import IntegrityError, transaction
from django.test import RequestFactory, override_settings
from kombu.exceptions import OperationalError

from recommendations.capture import record_event
from recommendations.models import Event, Rating
from recommendations.signals import (
    event_recorded,
    product_added_to_cart,
    product_purchased,
    product_viewed,
)
from tests.conftest import recs

pytestmark = pytest.mark.django_db
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36"


@pytest.fixture
def rf_request():
    def build(user=None, user_agent=CHROME):
        request = RequestFactory().get("/", HTTP_USER_AGENT=user_agent)
        request.session = SessionStore()
        if user is not None:
            request.user = user
        else:
            from django.contrib.auth.models import AnonymousUser

            request.user = AnonymousUser()
        return request

    return build


def test_view_signal_records_signed_in_shopper(product, shopper, rf_request):
    product_viewed.send(sender=None, request=rf_request(shopper), product=product)
    event = Event.objects.get()
    assert (event.user, event.session_key, event.product_id, event.kind, event.quantity) == (
        shopper, "", product.pk, Event.Kind.VIEW, 1)


def test_view_signal_records_anonymous_session(product, rf_request):
    request = rf_request()
    product_viewed.send(sender=None, request=request, product=product)
    event = Event.objects.get()
    assert event.user is None
    assert event.session_key and event.session_key == request.session.session_key


def test_cart_and_purchase_signals_store_quantity(product, shopper, rf_request):
    product_added_to_cart.send(sender=None, request=rf_request(shopper), product=product, quantity=2)
    product_purchased.send(sender=None, user=shopper, product=product, quantity=3)
    rows = list(Event.objects.order_by("id").values_list("kind", "quantity", "user"))
    assert rows == [(Event.Kind.CART, 2, shopper.pk), (Event.Kind.PURCHASE, 3, shopper.pk)]


def test_purchase_with_bad_quantity_is_refused(product, shopper):
    with pytest.raises(ValueError, match="quantity"):
        product_purchased.send(sender=None, user=shopper, product=product, quantity=0)
    assert not Event.objects.exists()


def test_event_recorded_signal_fires_after_storing(product, shopper):
    seen = []

    def listener(sender, event, **kwargs):
        seen.append(Event.objects.filter(pk=event.pk).exists())

    event_recorded.connect(listener)
    try:
        product_purchased.send(sender=None, user=shopper, product=product)
    finally:
        event_recorded.disconnect(listener)
    assert seen == [True]


def test_mixin_records_view_on_detail_page(client, product):
    response = client.get(f"/products/{product.pk}/", HTTP_USER_AGENT=CHROME)
    assert response.status_code == 200
    assert Event.objects.filter(product=product, kind=Event.Kind.VIEW).count() == 1


def test_mixin_ignores_missing_product(client, product):
    missing = uuid.uuid4() if isinstance(product.pk, uuid.UUID) else product.pk + 999
    assert client.get(f"/products/{missing}/").status_code == 404
    assert not Event.objects.exists()


@pytest.mark.parametrize("agent", [
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "python-requests/2.32",
])
def test_bots_are_not_counted(client, product, agent):
    client.get(f"/products/{product.pk}/", HTTP_USER_AGENT=agent)
    assert not Event.objects.exists()


def test_repeated_view_within_window_counts_once(product, shopper, rf_request):
    for _ in range(3):
        product_viewed.send(sender=None, request=rf_request(shopper), product=product)
    assert Event.objects.count() == 1
    Event.objects.update(created_at=Event.objects.get().created_at - timedelta(minutes=31))
    product_viewed.send(sender=None, request=rf_request(shopper), product=product)
    assert Event.objects.count() == 2


def test_repeated_anonymous_view_counts_once_per_session(client, product):
    for _ in range(2):
        client.get(f"/products/{product.pk}/", HTTP_USER_AGENT=CHROME)
    assert Event.objects.count() == 1


def test_repeated_cart_adds_all_count(product, shopper):
    for _ in range(2):
        product_added_to_cart.send(sender=None, user=shopper, product=product)
    assert Event.objects.count() == 2


def test_dedup_window_zero_counts_every_view(product, shopper, rf_request):
    with override_settings(RECOMMENDATIONS=recs(VIEW_DEDUP_SECONDS=0)):
        for _ in range(3):
            product_viewed.send(sender=None, request=rf_request(shopper), product=product)
    assert Event.objects.count() == 3


def test_login_moves_anonymous_history_to_user(client, product_factory, shopper):
    first, second = product_factory(), product_factory()
    client.get(f"/products/{first.pk}/", HTTP_USER_AGENT=CHROME)
    client.get(f"/products/{second.pk}/", HTTP_USER_AGENT=CHROME)
    assert Event.objects.filter(user__isnull=True).count() == 2
    response = client.post("/login/", {"username": "shopper", "password": "pw-shopper-1"})
    assert response.status_code == 302
    assert set(Event.objects.values_list("user", flat=True)) == {shopper.pk}
    # Browsing on after login is recorded for the user, not the old session.
    third = product_factory()
    client.get(f"/products/{third.pk}/", HTTP_USER_AGENT=CHROME)
    assert Event.objects.filter(user=shopper).count() == 3


def test_login_does_not_take_other_sessions_events(client, product, shopper, rf_request):
    other = rf_request()
    product_viewed.send(sender=None, request=other, product=product)
    client.post("/login/", {"username": "shopper", "password": "pw-shopper-1"})
    assert Event.objects.get().user is None


def test_deleting_user_deletes_their_behaviour(product, shopper, django_user_model):
    other = django_user_model.objects.create_user("other")
    for who in (shopper, other):
        product_purchased.send(sender=None, user=who, product=product)
        Rating.objects.create(user=who, product=product, score=4)
    shopper.delete()
    assert list(Event.objects.values_list("user", flat=True)) == [other.pk]
    assert list(Rating.objects.values_list("user", flat=True)) == [other.pk]


def test_rating_is_one_per_user_and_product_and_1_to_5(product, shopper):
    Rating.objects.create(user=shopper, product=product, score=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(user=shopper, product=product, score=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.filter(user=shopper).update(score=6)
    Rating.objects.update_or_create(user=shopper, product=product, defaults={"score": 5})
    assert Rating.objects.get().score == 5


def test_event_without_shopper_is_not_stored(product):
    assert record_event(Event.Kind.PURCHASE, product) is None
    assert not Event.objects.exists()


def test_capture_works_with_broker_down(product, shopper, rf_request):
    previous = current_app._get_current_object()
    dead = Celery("dead-broker", broker="redis://127.0.0.1:1/0", set_as_current=True)
    dead.conf.broker_transport_options = {"max_retries": 0}
    try:
        # The broker really is unreachable: sending a task fails...
        with pytest.raises(OperationalError):
            dead.send_task("anything", retry=False)
        # ...and capture goes on storing events.
        product_viewed.send(sender=None, request=rf_request(shopper), product=product)
        product_purchased.send(sender=None, user=shopper, product=product)
    finally:
        previous.set_current()
    assert Event.objects.count() == 2
