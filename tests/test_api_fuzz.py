"""Schema-driven fuzzing of the API (schemathesis, all of its checks): every operation of the
app's own OpenAPI schema is called with generated valid and invalid input, as an anonymous
visitor and as a signed-in shopper. No response may be a server error or disagree with the
schema, schema-valid input must be accepted and schema-invalid input refused. The cases are
derandomized (the same in every run); ``bench/fuzz.py`` explores with fresh random cases."""

from __future__ import annotations

import pytest
import schemathesis
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, settings

from recommendations.models import Event
from tests.conftest import make_product

# Every check schemathesis has: no server error; documented status codes, content types,
# headers and bodies; schema-valid input accepted (2xx, or 404 for a well-formed id that names
# nothing, 403 or 429); schema-invalid input refused; unsupported methods answered 405; ...
CHECKS = None
CSRF = "fuzzcsrftoken" + "x" * 19  # the cookie and the header must match
HEADERS = {"User-Agent": "Mozilla/5.0 fuzz", "X-CSRFToken": CSRF}
#: Cases per operation and identity (anonymous, signed in), the same in every run. No shrinking: a
#: failure is reported as found, so a failing run takes no longer than a passing one (about 75 s
#: per pass on a loaded CI machine); shrink locally with ``phases`` left at hypothesis' default.
EXAMPLES = 25
anonymous = schemathesis.openapi.from_wsgi("/api/recommendations/schema/?format=json", get_wsgi_application())
signed_in = schemathesis.openapi.from_wsgi("/api/recommendations/schema/?format=json", get_wsgi_application())
SESSION: dict[str, str] = {}


@signed_in.auth(refresh_interval=None)
class SessionCookie:
    """The signed-in shopper's session, set on every case as the schema's ``cookieAuth``."""

    def get(self, case, context):
        return SESSION.get("key", "")

    def set(self, case, data, context):
        case.cookies = {**(case.cookies or {}), "csrftoken": CSRF, "sessionid": data}


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
    SESSION["key"] = make_fuzz_shop()
    yield SESSION["key"]
    SESSION.clear()


FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                phases=[Phase.explicit, Phase.generate])


@anonymous.parametrize()
@FUZZ
@pytest.mark.django_db
def test_every_check_passes_for_an_anonymous_visitor(case, shop):
    case.call_and_validate(headers=HEADERS, cookies={"csrftoken": CSRF}, checks=CHECKS)


@signed_in.parametrize()
@FUZZ
@pytest.mark.django_db
def test_every_check_passes_for_a_signed_in_shopper(case, shop):
    response = case.call_and_validate(headers=HEADERS, checks=CHECKS)
    if case.operation.label == "GET /api/recommendations/ratings/" and (case.cookies or {}).get("sessionid"):
        assert response.status_code != 403, "the session signs the shopper in"  # (negative cases drop it)
