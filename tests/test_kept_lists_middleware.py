"""``KeptListsMiddleware``: a kept list answered where the middleware stands, before the
middleware below it and DRF's dispatch, as the view answers it; nothing else answered there
(issue #21)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.test import override_settings
from django.urls import include, path, resolve

from recommendations.api import views
from recommendations.api.views import TrendingView
from recommendations.checks import check_middleware_order
from recommendations.models import Event, Impression
from tests.conftest import shopper_client, train, without_ids

pytestmark = [pytest.mark.usefixtures("isolated_serving"), pytest.mark.django_db]
API = "/api/recommendations/"
SESSION = "django.contrib.sessions.middleware.SessionMiddleware"
LOCALE = "django.middleware.locale.LocaleMiddleware"
AUTH = "django.contrib.auth.middleware.AuthenticationMiddleware"
KEPT = "recommendations.middleware.KeptListsMiddleware"
BELOW = "tests.test_kept_lists_middleware.RecordingMiddleware"
REST = ["django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware"]
#: A host's URLs with a list view of the app's wrapped in its own decorator, under the app's URLs.
urlpatterns = [
    path("api/recommendations/members/trending/", login_required(TrendingView.as_view())),
    path("api/recommendations/", include("recommendations.urls")),
]
below: list[str] = []


class RecordingMiddleware:
    """Stands below KeptListsMiddleware and notes every request that reaches it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        below.append(request.path)
        return self.get_response(request)


@pytest.fixture
def shop(taste_shop):
    below.clear()
    return taste_shop(products=12, users=30, picks=6, seed=5, then=Event.Kind.CART, prefix="k")


@pytest.mark.parametrize("list_path", ["for-you/?limit=5", "products/{pk}/similar/?limit=4", "trending/"])
def test_a_kept_list_is_answered_before_the_middleware_below_as_the_view_answers_it(shop, dispatches, list_path):
    books, garden, users = shop
    train("item_cf", "trending")
    url = API + list_path.format(pk=books[0].pk)
    with override_settings(MIDDLEWARE=[SESSION, AUTH, KEPT, BELOW, *REST]):
        client = shopper_client(users[1])
        first, kept = client.get(url), client.get(url)
    assert below == dispatches == [url.split("?")[0]]  # the first built by the view; the second kept
    assert first.status_code == kept.status_code == 200
    assert without_ids(kept.json()) == without_ids(first.json()) and kept.json()["results"]
    for header in ("Content-Type", "Vary", "Allow", "Content-Length"):
        assert kept.get(header) == first.get(header) or header == "Content-Length", header
    assert int(kept["Content-Length"]) == len(kept.content)
    shown = Impression.objects.get(pk=kept.json()["recommendation_id"])
    assert shown.user_id == users[1].pk and shown.pk != first.json()["recommendation_id"]


def test_other_requests_go_down_the_middleware_as_always(shop, dispatches):
    """An uncached list, another renderer, a write, a staff endpoint and the shop's own pages
    all reach the middleware below; a miss is read once, not again in the view."""
    books, garden, users = shop
    train("item_cf", "trending")
    with override_settings(MIDDLEWARE=[SESSION, AUTH, KEPT, BELOW, *REST]):
        client = shopper_client(users[1])
        client.get(API + "trending/")
        client.get(API + "trending/", HTTP_ACCEPT="text/html")
        client.post(API + "events/", {"event": "view", "product": str(books[2].pk)}, content_type="application/json")
        client.get(API + "models/")
        client.get("/login/")
    assert below == [API + "trending/", API + "trending/", API + "events/", API + "models/", "/login/"]


def test_a_hosts_own_wrapper_of_a_list_view_is_never_answered_past_its_decorator(shop):
    train("trending")
    with override_settings(MIDDLEWARE=[SESSION, AUTH, KEPT, BELOW, *REST], ROOT_URLCONF=__name__, LOGIN_URL="/in/"):
        client = shopper_client()
        assert [client.get(API + "trending/").status_code for _ in range(2)] == [200, 200]
        members = [client.get(API + "members/trending/") for _ in range(2)]
    assert [r.status_code for r in members] == [302, 302]  # login_required ran both times
    assert below.count(API + "members/trending/") == 2


def test_each_path_is_resolved_once_per_url_configuration(shop, monkeypatch):
    """A shop's URL patterns are walked once per path, not for every kept list, and a new URL
    configuration is followed (its own views, a host's wrapper included, are found again)."""
    train("trending")
    resolved = []
    monkeypatch.setattr(views, "resolve", lambda *args: resolved.append(args) or resolve(*args))
    views._list_view_match.cache_clear()
    with override_settings(MIDDLEWARE=[SESSION, AUTH, KEPT, BELOW, *REST]):
        client = shopper_client()
        assert [client.get(API + "trending/").status_code for _ in range(3)] == [200] * 3
        assert resolved == [(API + "trending/", settings.ROOT_URLCONF)]
        with override_settings(ROOT_URLCONF=__name__, LOGIN_URL="/in/"):
            assert [client.get(API + "trending/").status_code for _ in range(2)] == [200] * 2
            assert [client.get(API + "members/trending/").status_code for _ in range(2)] == [302] * 2
    assert resolved[1:] == [(API + "trending/", __name__), (API + "members/trending/", __name__)]
    assert below.count(API + "trending/") == 2  # each configuration's first answer was the view's


def test_above_authentication_it_answers_nothing_and_the_check_says_so(shop, dispatches):
    books, garden, users = shop
    train("trending")
    misplaced = [SESSION, KEPT, BELOW, AUTH, *REST]
    with override_settings(MIDDLEWARE=misplaced):
        client = shopper_client(users[1])
        answers = [client.get(API + "trending/") for _ in range(2)]
        errors = check_middleware_order()
    assert [r.status_code for r in answers] == [200, 200]
    assert below == [API + "trending/"] * 2 and len(dispatches) == 1  # the view's own fast path kept it
    assert [e.id for e in errors] == ["recommendations.E041"] and "AuthenticationMiddleware" in errors[0].msg


@pytest.mark.parametrize("middleware, problems", [
    ([SESSION, LOCALE, AUTH, KEPT, *REST], []),
    ([SESSION, AUTH, KEPT, *REST], []),  # no LocaleMiddleware: one language
    ([*REST], []),  # not installed
    ([SESSION, KEPT, LOCALE, AUTH, *REST], ["AuthenticationMiddleware", "LocaleMiddleware"]),
    ([SESSION, AUTH, KEPT, LOCALE, *REST], ["LocaleMiddleware"]),
    ([SESSION, KEPT, *REST], ["AuthenticationMiddleware"]),
])
def test_the_order_check(middleware, problems):
    with override_settings(MIDDLEWARE=middleware):
        errors = check_middleware_order()
    assert [e.id for e in errors] == ["recommendations.E041"] * len(problems)
    assert all(name in e.msg for name, e in zip(problems, errors))


def test_each_language_is_answered_its_own_kept_list(shop):
    train("trending")
    languages = [("en", "English"), ("zh-hans", "简体中文")]
    with override_settings(MIDDLEWARE=[SESSION, LOCALE, AUTH, KEPT, BELOW, *REST], LANGUAGES=languages,
                           LANGUAGE_CODE="en"):
        client = shopper_client()
        answers = {language: [client.get(API + "trending/", HTTP_ACCEPT_LANGUAGE=language) for _ in range(2)]
                   for language in ("zh-hans", "en")}
    assert below == [API + "trending/"] * 2  # one built per language, the second of each kept
    for language, (first, kept) in answers.items():
        assert first["Content-Language"] == kept["Content-Language"] == language
        assert without_ids(kept.json()) == without_ids(first.json())
