"""Recording behaviour: the one function every capture path ends in.

Capture writes one row to the database and nothing else — no broker, no cache round trip — so
it is cheap and keeps working when Celery or Redis are down.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import connections, router, transaction
from django.http import HttpRequest
from django.utils import timezone

from . import products as catalogue
from .conf import app_settings
from .data import shopper_key
from .models import Event, NotInterested, ShopperProfile
from .signals import event_recorded

logger = logging.getLogger(__name__)

#: Session entry remembering the anonymous shopper's key across login (which cycles the key).
ANONYMOUS_KEY_SESSION_ENTRY = "recommendations_shopper"


def is_bot(request: HttpRequest | None) -> bool:
    if request is None:
        return False
    pattern = app_settings.bot_user_agent_re
    user_agent = request.META.get("HTTP_USER_AGENT", "")
    return bool(pattern and user_agent and pattern.search(user_agent))


def anonymous_session_key(request: HttpRequest) -> str:
    """The session key that identifies an anonymous shopper, creating the session if needed."""
    session = request.session
    key = session.get(ANONYMOUS_KEY_SESSION_ENTRY)
    if not key:
        if not session.session_key:
            session.save()
        key = session.session_key
        session[ANONYMOUS_KEY_SESSION_ENTRY] = key
    return key


def shopper_for(request: HttpRequest | None, user: Any = None) -> tuple[Any, str]:
    """(user or None, session key or '') for the shopper behind a request."""
    if user is None and request is not None:
        request_user = getattr(request, "user", None)
        if request_user is not None and request_user.is_authenticated:
            user = request_user
    if user is not None and getattr(user, "is_authenticated", True):
        return user, ""
    if request is not None and hasattr(request, "session"):
        return None, anonymous_session_key(request)
    return None, ""


def record_event(
    kind: int,
    product: Any,
    *,
    request: HttpRequest | None = None,
    user: Any = None,
    quantity: int = 1,
    price: Any = None,
) -> Event | None:
    """Store one event; returns it, or None when it is not counted (bot, repeat view, nobody).
    A purchase keeps its unit price (``price``, else the product's price now) for the revenue
    the owner's dashboard attributes to recommendations."""
    if is_bot(request):
        return None
    shopper, session_key = shopper_for(request, user)
    if shopper is None and not session_key:
        logger.warning("recommendations: %s event for %r has no user or session; not recorded",
                       Event.Kind(kind).label, product)
        return None
    if quantity is None or int(quantity) < 1:
        raise ValueError(f"quantity must be a positive integer, got {quantity!r}")
    now = timezone.now()
    if kind == Event.Kind.VIEW and app_settings.VIEW_DEDUP_SECONDS:
        recent = Event.objects.filter(
            product=product, kind=Event.Kind.VIEW,
            created_at__gte=now - timedelta(seconds=app_settings.VIEW_DEDUP_SECONDS),
        )
        recent = recent.filter(user=shopper) if shopper is not None else recent.filter(
            session_key=session_key, user__isnull=True)
        if recent.exists():
            return None
    unit_price = None
    if kind == Event.Kind.PURCHASE:
        unit_price = catalogue.parse_price(price if price is not None else catalogue.info(product).price)
    event = Event(user=shopper, session_key=session_key, product=product, kind=kind,
                  quantity=int(quantity), unit_price=unit_price, created_at=now)
    _store(event)
    event_recorded.send(sender=Event, event=event, request=request)
    return event


def _store(event: Event) -> None:
    """Insert one event. On PostgreSQL, outside a surrounding transaction, the commit does not
    wait for the disk flush (``synchronous_commit = off`` for this transaction only): a crash
    can lose the last fraction of a second of behaviour, never corrupt it, and a request no
    longer pays an fsync for a page view (see docs/benchmarks.md)."""
    connection = connections[router.db_for_write(Event)]
    if (app_settings.CAPTURE_ASYNC_COMMIT and connection.vendor == "postgresql"
            and connection.get_autocommit()):
        with transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            event.save(using=connection.alias, force_insert=True)
    else:
        event.save(force_insert=True)


def merge_anonymous_history(request: HttpRequest, user: Any) -> int:
    """Give the events of the session a visitor browsed anonymously to the user who just
    logged in; returns how many moved."""
    session = getattr(request, "session", None)
    key = session.pop(ANONYMOUS_KEY_SESSION_ENTRY, None) if session is not None else None
    if not key:
        return 0
    moved = Event.objects.filter(session_key=key, user__isnull=True).update(user=user)
    NotInterested.objects.filter(session_key=key, user__isnull=True).update(user=user, session_key="")
    # Both profiles are out of date: the session's is gone, the user's gained older events.
    ShopperProfile.objects.filter(shopper__in=[shopper_key(None, key), shopper_key(user.pk)]).delete()
    return moved
