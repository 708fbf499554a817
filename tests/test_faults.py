"""Faults a shop will meet, caused for real (no mocks): Redis (the cache) unreachable, the
Celery broker unreachable. Shoppers keep browsing and being recorded; staff are told clearly."""

from __future__ import annotations

import json

import pytest
from celery import current_app
from django.template import Context, Template
from django.test import RequestFactory
from django.test.utils import override_settings

from recommendations import training
from recommendations.models import Event, ModelVersion
from recommendations.products import json_key
from recommendations.serving import Shopper, recommend_for, similar_products, trending
from recommendations.signals import product_purchased, product_viewed
from tests.conftest import BROWSER_HEADERS, shopper_client, train

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_serving")]
API = "/api/recommendations/"
DEAD_REDIS = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": "redis://127.0.0.1:1/0"}}  # nothing listens on port 1


@pytest.fixture
def shop(taste_shop):
    return taste_shop(products=12, users=40, picks=6, seed=3, then=Event.Kind.CART, prefix="s")


def product_page(product) -> str:
    from django.conf import settings
    from django.urls import reverse

    name = "catalog:product" if settings.ROOT_URLCONF == "demo_shop.urls" else "product-detail"
    return reverse(name, args=[product.pk])


def test_with_the_cache_down_capture_lists_widgets_and_api_still_work(shop):
    books, garden, users = shop
    train("item_cf", "trending", "popular")
    reader = users[1]  # a books shopper
    with override_settings(CACHES=DEAD_REDIS):
        from django.core.cache import cache

        with pytest.raises(Exception, match="(?i)connect"):
            cache.get("proof-that-redis-is-down")

        request = RequestFactory().get("/", **BROWSER_HEADERS)
        request.user = reader
        request.session = {}
        before = Event.objects.count()
        product_viewed.send(sender=None, request=request, product=books[0])
        product_purchased.send(sender=None, user=reader, product=books[1])
        assert Event.objects.count() == before + 2  # capture never needs the cache

        assert len(recommend_for(Shopper(user_id=reader.pk), 5)) == 5
        assert len(similar_products(books[0], 4)) == 4 and len(trending(4)) == 4
        html = Template("{% load recommendations %}{% recommended_for_you limit=4 %}").render(
            Context({"request": request}))
        assert html.count('class="recommendations-item card"') == 4

        client = shopper_client()
        client.force_login(reader)
        page = client.get(product_page(books[2]))  # a shop page (the demo's has widgets), recording a view
        assert page.status_code == 200 and Event.objects.filter(user=reader, product=books[2]).exists()
        response = client.get(API + "for-you/?limit=4")
        assert response.status_code == 200 and len(response.json()["results"]) == 4
        assert client.post(API + "events/", {"product": garden[0].pk, "event": "view"},
                           content_type="application/json").status_code in (201, 202)
        assert Event.objects.filter(user=reader, product=garden[0]).exists()


def test_with_the_broker_down_a_retrain_fails_clearly_and_the_active_model_keeps_serving(shop, django_user_model):
    books, garden, users = shop
    active = training.run_sync("item_cf")
    app = current_app._get_current_object()
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url", "broker_transport_options",
                                      "broker_connection_retry", "broker_connection_max_retries")}
    app.conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:1/0",
                    broker_transport_options={"max_retries": 0}, broker_connection_retry=False,
                    broker_connection_max_retries=0)
    app.__dict__.pop("amqp", None), app.__dict__.pop("pool", None)  # reconnect with the new URL
    try:
        staff = django_user_model.objects.create_user("staff", is_staff=True)
        client = shopper_client()
        client.force_login(staff)
        response = client.post(API + "models/retrain/", {"engine": "item_cf"}, content_type="application/json")
    finally:
        app.conf.update(saved)
        app.__dict__.pop("amqp", None), app.__dict__.pop("pool", None)
    assert response.status_code == 503, response.content
    assert "broker" in response.json()["detail"]
    failed = ModelVersion.objects.exclude(pk=active.pk).get()
    assert failed.status == ModelVersion.Status.FAILED and "not started" in failed.error
    assert ModelVersion.objects.get(is_active=True).pk == active.pk
    assert recommend_for(Shopper(user_id=users[1].pk), 5, engine="item_cf")[0].engine == "item_cf"


def test_an_oversize_body_is_refused_and_nothing_is_stored(shop):
    books, garden, users = shop
    client = shopper_client()
    client.force_login(users[1])
    before = Event.objects.count()
    body = json.dumps({"product": json_key(books[0].pk), "event": "view", "padding": "x" * 3_000_000})
    response = client.post(API + "events/", body, content_type="application/json")
    assert response.status_code in (400, 413), response.status_code
    assert Event.objects.count() == before


def test_basic_credentials_with_a_nul_byte_are_refused_not_a_server_error(shop):
    import base64

    token = base64.b64encode(b"ev\x00il:secret").decode()
    response = shopper_client().get(API + "ratings/", HTTP_AUTHORIZATION=f"Basic {token}")
    assert response.status_code in (401, 403), response.status_code
