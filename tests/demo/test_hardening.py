"""The demo shop against what the outside security and fault test found (issue 17): its log-in
forms resist password guessing, its API takes session and token authentication but not Basic,
and no form or query parameter with a NUL byte reaches the database."""

from __future__ import annotations

import base64
import logging

import pytest
from django.test import Client

from demo_shop.catalog.models import Category, Product
from recommendations.models import NotInterested

pytestmark = pytest.mark.django_db
CHROME = {"HTTP_USER_AGENT": "Mozilla/5.0 Chrome/156.0"}
API = "/api/recommendations/"


@pytest.fixture
def books(db):
    category = Category.objects.create(name="Books", slug="books")
    return [Product.objects.create(title=f"Book {n}", category=category, unit_price=10) for n in range(3)]


@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_log_in_forms_refuse_guesses_with_429_after_a_few(login_url, django_user_model, caplog, frozen_clock):
    django_user_model.objects.create_user("alice", password="the-right-one-1", is_staff=True)
    guesser = Client(**CHROME)
    with caplog.at_level(logging.WARNING, logger="recommendations"):
        codes = [guesser.post(login_url, {"username": "alice", "password": f"guess-{n}"}).status_code
                 for n in range(7)]
        right = guesser.post(login_url, {"username": "alice", "password": "the-right-one-1"})
    assert codes == [200] * 5 + [429] * 2, codes  # 200: the form again, with its error
    assert right.status_code == 429 and int(right["Retry-After"]) > 0
    assert "_auth_user_id" not in guesser.session
    assert b"Too many failed" in right.content
    assert sum("refused" in r.getMessage() and "alice" in r.getMessage() for r in caplog.records) == 3
    # Someone else, elsewhere, logs in as usual.
    django_user_model.objects.create_user("bob", password="the-right-one-2", is_staff=True)
    other = Client(REMOTE_ADDR="10.0.0.2", **CHROME)
    assert other.post(login_url, {"username": "bob", "password": "the-right-one-2"}).status_code == 302


def test_the_demo_api_takes_session_and_token_but_not_basic(django_user_model, books):
    alice = django_user_model.objects.create_user("alice", password="the-right-one-1")
    credentials = base64.b64encode(b"alice:the-right-one-1").decode()
    assert Client(**CHROME).get(API + "ratings/", HTTP_AUTHORIZATION=f"Basic {credentials}").status_code == 403
    token = Client(**CHROME).post("/api/token/", {"username": "alice", "password": "the-right-one-1"},
                                  content_type="application/json").json()["token"]
    assert Client(**CHROME).get(API + "ratings/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    session = Client(**CHROME)
    session.force_login(alice)
    assert session.get(API + "ratings/").status_code == 200


def test_a_nul_byte_in_the_search_is_a_400(client, books):
    """The outside test: ``GET /search/?q=a%00b`` answered 500 on PostgreSQL."""
    response = client.get("/search/?q=a%00b", **CHROME)
    assert response.status_code == 400


def test_a_nul_byte_in_the_not_interested_form_is_refused(client, books):
    """The outside test: the "not interested" form with ``category=Bo%00oks`` answered 500."""
    response = client.post("/accounts/not-interested/", {"category": "Bo\x00oks"}, **CHROME)
    assert response.status_code == 400
    assert not NotInterested.objects.exists()


@pytest.mark.parametrize("method, url, data", [
    ("get", "/products/?sort=%00&page=%00", None),
    ("get", "/category/books/?page=1%00", None),
    ("get", "/accounts/login/?next=/%00", None),
    ("get", "/admin/catalog/product/?q=%00", None),
    ("get", "/admin/recommendations/event/?q=a%00", None),
    ("post", "/accounts/signup/", {"username": "nul\x00", "password1": "a-Long-pass-42",
                                   "password2": "a-Long-pass-42"}),
    ("post", "/accounts/login/", {"username": "al\x00ice", "password": "x"}),
    ("post", "/cart/1/", {"quantity": "1\x00"}),
])
def test_nul_bytes_anywhere_in_the_demo_are_refused(admin_client, method, url, data):
    send = getattr(admin_client, method)
    response = send(url, data, **CHROME) if data else send(url, **CHROME)
    assert response.status_code == 400, (url, response.status_code)
