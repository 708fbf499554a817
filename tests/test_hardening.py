"""What an outside security and fault test found (issue 17), each as it was reproduced: password
guessing without limit, read endpoints never throttled, NUL bytes, a schema that promised less
than the server enforces, staff URLs answering 500 for a non-numeric id."""

from __future__ import annotations

import base64
import logging

import pytest
from django.conf import settings
from django.test import Client, override_settings

from recommendations.models import Event, NotInterested, Rating
from tests.conftest import BROWSER_HEADERS, UNKNOWN_PRODUCT, fill_payload, make_product, shopper_client

pytestmark = pytest.mark.django_db
API = "/api/recommendations/"
BASIC = ["rest_framework.authentication.SessionAuthentication",
         "rest_framework.authentication.BasicAuthentication"]


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def with_basic():
    """A host that enables HTTP Basic on its API (the app recommends against it)."""
    return override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_AUTHENTICATION_CLASSES": BASIC})


# -- guessing passwords -----------------------------------------------------------------------------
def test_basic_password_guesses_are_refused_per_account_with_429_and_logged(django_user_model, caplog, frozen_clock):
    """The outside test: 8 wrong passwords for one user got 8 x 403 and the right one then worked."""
    django_user_model.objects.create_user("victim", password="the-right-one-1")
    guesser = Client(**BROWSER_HEADERS)
    with with_basic(), caplog.at_level(logging.WARNING, logger="recommendations"):
        codes = [guesser.get(API + "ratings/", HTTP_AUTHORIZATION=basic("victim", f"guess-{n}")).status_code
                 for n in range(8)]
        right = guesser.get(API + "ratings/", HTTP_AUTHORIZATION=basic("victim", "the-right-one-1"))
        # Another address is refused too: the limit is the account's.
        elsewhere = Client(REMOTE_ADDR="10.9.8.7", **BROWSER_HEADERS).get(
            API + "ratings/", HTTP_AUTHORIZATION=basic("victim", "the-right-one-1"))
    assert codes[:5] == [403] * 5 and codes[5:] == [429] * 3, codes
    assert right.status_code == 429 and int(right["Retry-After"]) > 0
    assert elsewhere.status_code == 429
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 5 and all("victim" in m for m in refusals), refusals


def test_basic_password_guesses_are_refused_per_address(django_user_model, frozen_clock):
    """Spraying one password over many accounts from one address: refused after the address's limit."""
    django_user_model.objects.create_user("someone", password="the-right-one-1")
    sprayer = Client(REMOTE_ADDR="10.1.2.3", **BROWSER_HEADERS)
    with with_basic():
        codes = [sprayer.get(API + "ratings/", HTTP_AUTHORIZATION=basic(f"user{n}", "Summer2026!")).status_code
                 for n in range(21)]
        right = sprayer.get(API + "ratings/", HTTP_AUTHORIZATION=basic("someone", "the-right-one-1"))
        other = Client(REMOTE_ADDR="10.1.2.4", **BROWSER_HEADERS).get(
            API + "ratings/", HTTP_AUTHORIZATION=basic("someone", "the-right-one-1"))
    assert codes[:20] == [403] * 20 and codes[20] == 429, codes
    assert right.status_code == 429 and int(right["Retry-After"]) > 0
    assert other.status_code == 200  # the account itself is not locked


def test_token_obtain_is_throttled_like_any_password_check(django_user_model, frozen_clock):
    django_user_model.objects.create_user("victim", password="the-right-one-1")
    django_user_model.objects.create_user("bystander", password="the-right-one-2")
    client = Client(**BROWSER_HEADERS)
    codes = [client.post("/api/token/", {"username": "victim", "password": f"guess-{n}"},
                         content_type="application/json").status_code for n in range(6)]
    right = client.post("/api/token/", {"username": "victim", "password": "the-right-one-1"},
                        content_type="application/json")
    assert codes == [401] * 5 + [429], codes
    assert right.status_code == 429 and int(right["Retry-After"]) > 0
    ok = client.post("/api/token/", {"username": "bystander", "password": "the-right-one-2"},
                     content_type="application/json")
    assert ok.status_code == 200
    token = ok.json()["token"]
    mine = Client(**BROWSER_HEADERS).get(API + "ratings/", HTTP_AUTHORIZATION=f"Token {token}")
    assert mine.status_code == 200 and mine.json()["count"] == 0


def test_the_recommended_settings_do_not_accept_basic_credentials(django_user_model):
    """tests.settings follows the app's recommended REST_FRAMEWORK: session and token only."""
    django_user_model.objects.create_user("alice", password="the-right-one-1")
    response = Client(**BROWSER_HEADERS).get(API + "ratings/", HTTP_AUTHORIZATION=basic("alice", "the-right-one-1"))
    assert response.status_code == 403


# -- read endpoints are throttled ---------------------------------------------------------------------
def test_reads_are_throttled_per_shopper_at_the_default_rate(django_user_model, frozen_clock):
    for n in range(3):
        make_product(f"Read {n}")
    reader = shopper_client(django_user_model.objects.create_user("reader"))
    codes = [reader.get(API + "trending/?limit=2").status_code for _ in range(121)]
    assert codes[:120] == [200] * 120 and codes[120] == 429
    refused = reader.get(API + "for-you/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    # Another shopper at the same address still reads.
    assert shopper_client(django_user_model.objects.create_user("other")).get(API + "trending/").status_code == 200


def test_reads_are_throttled_per_address(django_user_model, frozen_clock):
    make_product("Read")
    with override_settings(RECOMMENDATIONS={**getattr(settings, "RECOMMENDATIONS", {}),
                                            "THROTTLE_RATES": {"recommendations.reads.address": "6/min"}}):
        shoppers = [Client(REMOTE_ADDR="10.5.5.5", **BROWSER_HEADERS) for _ in range(3)]
        for n, client in enumerate(shoppers):
            client.force_login(django_user_model.objects.create_user(f"nat{n}"))
        codes = [client.get(API + "trending/").status_code for _ in range(2) for client in shoppers]
        assert codes == [200] * 6
        assert shoppers[0].get(API + "trending/").status_code == 429
        assert Client(REMOTE_ADDR="10.5.5.6", **BROWSER_HEADERS).get(API + "trending/").status_code == 200


# -- NUL and other characters the database cannot store ----------------------------------------------
@pytest.mark.parametrize("query", ["exclude=a%00b", "limit=1%00", "max_per_category=%002", "exclude=%00"])
def test_nul_in_a_list_parameter_is_400_naming_it(query):
    make_product("Plain")
    response = shopper_client().get(API + f"trending/?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()


def test_nul_in_a_click_link_is_404_not_500(product):
    response = shopper_client().get(API + "r/6b1f3f1e-1111-4a4a-9b9b-123456789abc/1%00/")
    assert response.status_code in (400, 404)  # 400 where RefuseUnstorableInputMiddleware is on


@pytest.mark.parametrize("payload", [{"category": "Bo\x00oks"}, {"category": "Bo\ud800oks"}])
def test_unstorable_text_in_a_not_interested_body_is_400(payload):
    make_product("A book", category="Books")
    response = shopper_client().post(API + "me/not-interested/", payload, content_type="application/json")
    assert response.status_code == 400 and "category" in response.json()
    assert not NotInterested.objects.exists()


@pytest.mark.parametrize("page", ["event", "rating", "impression", "shopperprofile", "notinterested",
                                  "modelversion", "precomputedlist"])
def test_nul_in_an_admin_search_is_not_a_server_error(admin_client, page):
    response = admin_client.get(f"/admin/recommendations/{page}/", {"q": "a\x00b"})
    assert response.status_code in (200, 400)


# -- staff URLs with a non-numeric id --------------------------------------------------------------------
@pytest.mark.parametrize("url", ["shopperprofile/user/change/", "shopperprofile/user/x1/",
                                 "shopperprofile/abc/change/", "modelversion/abc/change/"])
def test_a_non_numeric_id_in_a_staff_url_is_404(admin_client, url):
    response = admin_client.get(f"/admin/recommendations/{url}")
    assert response.status_code in (302, 404), response.status_code
    if response.status_code == 302:  # Django's own change view: back to the index, with a message
        assert response["Location"].startswith("/admin/")


# -- the schema states what the server checks -----------------------------------------------------------
def schema() -> dict:
    return Client().get(API + "schema/?format=json").json()


def parameter(operation: dict, name: str) -> dict:
    return next(p for p in operation["parameters"] if p["name"] == name)["schema"]


def test_the_schema_states_the_bounds_of_list_parameters():
    from recommendations.conf import app_settings

    paths = schema()["paths"]
    for path in ("for-you/", "trending/", "products/{id}/similar/", "products/{id}/also-bought/"):
        get = paths[API + path]["get"]
        assert parameter(get, "limit") == {"type": "integer", "minimum": 1, "maximum": app_settings.MAX_LIMIT}
        assert parameter(get, "max_per_category")["minimum"] == 1
        assert "pattern" in parameter(get, "exclude")
        assert "429" in get["responses"]
    for path in ("me/history/", "ratings/"):
        get = paths[API + path]["get"]
        assert parameter(get, "offset")["minimum"] == 0 and parameter(get, "offset")["maximum"] > 0
    assert "404" in paths[API + "events/"]["post"]["responses"]  # an unknown product


def test_the_schema_requires_a_product_or_a_category_to_not_interested():
    components = schema()["components"]["schemas"]
    post = schema()["paths"][API + "me/not-interested/"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in body:
        body = components[body["$ref"].split("/")[-1]]
    assert post["requestBody"].get("required") is True
    assert {tuple(branch["required"]) for branch in body["oneOf"]} == {("product",), ("category",)}
    empty = shopper_client().post(API + "me/not-interested/", {}, content_type="application/json")
    assert empty.status_code == 400


@pytest.mark.parametrize("path, payload", [
    ("events/", {"product": UNKNOWN_PRODUCT, "event": "view"}),
    ("ratings/", {"product": UNKNOWN_PRODUCT, "score": 3}),
    ("me/not-interested/", {"product": UNKNOWN_PRODUCT}),
    ("me/not-interested/", {"category": "No such category"}),
])
def test_an_unknown_product_or_category_in_a_body_is_404_naming_the_field(django_user_model, path, payload):
    make_product("Known")
    client = shopper_client(django_user_model.objects.create_user("writer"))
    response = client.post(API + path, fill_payload(payload, None), content_type="application/json")
    assert response.status_code == 404 and set(payload) - {"event", "score"} <= set(response.json())
    assert not Event.objects.exists() and not Rating.objects.exists() and not NotInterested.objects.exists()


def test_a_hosts_own_views_can_use_the_throttled_basic_authentication(django_user_model, rf, frozen_clock):
    from rest_framework.exceptions import AuthenticationFailed, Throttled
    from rest_framework.request import Request

    from recommendations.api.authentication import ThrottledBasicAuthentication

    django_user_model.objects.create_user("victim", password="the-right-one-1")

    def authenticate(password: str):
        request = Request(rf.get("/", HTTP_AUTHORIZATION=basic("victim", password)))
        return ThrottledBasicAuthentication().authenticate(request)

    for n in range(5):
        with pytest.raises(AuthenticationFailed):
            authenticate(f"guess-{n}")
    with pytest.raises(Throttled) as refused:
        authenticate("the-right-one-1")
    assert refused.value.wait > 0
