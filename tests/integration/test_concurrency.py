"""Concurrent writes on PostgreSQL, from real threads with their own connections: the same
shopper rating the same product many times at once leaves one consistent row."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.test import Client

from recommendations.models import Rating
from tests.conftest import make_product

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
API = "/api/recommendations/"


def test_concurrent_ratings_of_one_product_leave_one_consistent_row(services, django_user_model, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"recommendations.ratings": None}}
    product = make_product("Contested")
    shopper = django_user_model.objects.create_user("rater")
    rounds, threads = 5, 8
    start = threading.Barrier(threads)

    def rate(score: int) -> list[int]:
        client = Client(HTTP_USER_AGENT="Mozilla/5.0 Chrome/156.0")
        client.force_login(shopper)
        codes = []
        try:
            for _ in range(rounds):
                start.wait(timeout=30)
                codes.append(client.post(API + "ratings/", {"product": product.pk, "score": score},
                                         content_type="application/json").status_code)
        finally:
            connections.close_all()
        return codes

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(rate, [1 + i % 5 for i in range(threads)]))
    codes = [c for per_thread in results for c in per_thread]
    assert len(codes) == rounds * threads and set(codes) <= {200, 201}, codes
    assert codes.count(201) == 1  # exactly one request created it; every other one updated it
    [row] = Rating.objects.filter(user=shopper, product=product)
    assert row.score in {1 + i % 5 for i in range(threads)} and row.updated_at >= row.created_at
