"""Schema-driven fuzzing of the API (schemathesis): every operation of the app's own OpenAPI
schema is called with generated valid and invalid input, as an anonymous visitor and as a
signed-in shopper; no response may be a server error or disagree with the schema. The cases are
derandomized (the same in every run); ``bench/fuzz.py`` explores with fresh random cases."""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from recommendations.models import Event
from tests.conftest import make_product

# No server error, documented status codes, content types, headers and bodies. Not checked:
# "schema-valid input is accepted" (a well-formed but unknown recommendation id is a 400) and
# "invalid input is rejected" (a blank query parameter, ``?limit=``, means its default).
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_headers_conformance,
          schemathesis.checks.response_schema_conformance]
CSRF = "fuzzcsrftoken" + "x" * 19  # the cookie and the header must match
schema = schemathesis.openapi.from_wsgi("/api/recommendations/schema/?format=json", get_wsgi_application())


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Called as a plain WSGI app, Django would close the test's database connection at each
    request's start and end (PostgreSQL); its test client unhooks that the same way."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def make_fuzz_shop() -> str:
    """Three products and a shopper who bought one; returns the shopper's session key."""
    products = [make_product(f"Fuzz {i}") for i in range(3)]
    user = get_user_model().objects.create_user("fuzzer")
    Event.objects.create(user=user, product=products[0], kind=Event.Kind.PURCHASE)
    session = SessionStore()
    session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: user.get_session_auth_hash()})
    session.save()
    return session.session_key


@pytest.fixture
def shop(db):
    return make_fuzz_shop()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@pytest.mark.django_db
def test_no_server_error_and_every_response_matches_the_schema(case, shop):
    headers = {"User-Agent": "Mozilla/5.0 fuzz", "X-CSRFToken": CSRF}
    for cookies in ({"csrftoken": CSRF}, {"csrftoken": CSRF, "sessionid": shop}):  # anonymous, signed in
        case.call_and_validate(headers=headers, cookies=cookies)
