"""The serving floor bench/load.py measures the app against: the cheapest Django REST framework
endpoints that do what a cached recommendation list does, served by the same gunicorn, database,
Redis and session engine as the shop (``bench/floor_settings.py``).

* ``floor/anonymous/``: a Redis-cached list of 10 products through a DRF ``Response``; no
  session, no authentication, no database (the floor of ``similar/`` and ``trending/``).
* ``floor/signed-in/``: the same list for a signed-in user only, by the mechanisms the demo
  shop's API uses: ``SessionMiddleware`` (the shop's ``SESSION_ENGINE``, ``cached_db`` on Redis),
  ``AuthenticationMiddleware`` (the user row read from PostgreSQL), DRF's
  ``SessionAuthentication`` and ``IsAuthenticated`` (403 without a session): the floor of
  ``for-you/``. The shop's session cookies work here unchanged (same database and cache). The
  two middlewares wrap this view alone, so the anonymous endpoint pays for neither.

The list is ``../shared/bench/ceiling_app.py``'s, so figures compare with earlier ones.
"""

from __future__ import annotations

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.cache import cache
from django.urls import path
from django.utils.decorators import decorator_from_middleware
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

KEY = "bench:floor:list"
PAYLOAD = [{"id": i, "name": f"Product {i}", "price": "9.99", "score": 0.5, "reason": "Because you viewed X"}
           for i in range(10)]


def cached_list() -> list[dict]:
    found = cache.get(KEY)
    if found is None:  # the first request after the benchmark emptied Redis
        cache.set(KEY, PAYLOAD, None)
        found = PAYLOAD
    return found


@api_view(["GET"])
@authentication_classes([])
@permission_classes([])
def anonymous(request):
    return Response(cached_list())


@decorator_from_middleware(SessionMiddleware)
@decorator_from_middleware(AuthenticationMiddleware)
@api_view(["GET"])
@authentication_classes([SessionAuthentication])
@permission_classes([IsAuthenticated])
def signed_in(request):
    return Response(cached_list())


urlpatterns = [path("floor/anonymous/", anonymous), path("floor/signed-in/", signed_in)]
