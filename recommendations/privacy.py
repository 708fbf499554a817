"""A shopper's own data: export it (JSON) and erase it.

Erasing deletes their events, ratings, impressions (with their clicks), profile, "not
interested" choices, cached and precomputed lists. Trained models still hold what they learned
until the next training, which no longer sees the data; deleting the user account does the
same through the foreign keys' cascade.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from .data import EVENT_NAMES
from .models import Click, Impression, Rating, ShopperProfile
from .profiles import owned_choices
from .serving import Shopper, invalidate


def _impressions(shopper: Shopper):
    if shopper.user_id is not None:
        return Impression.objects.filter(user_id=shopper.user_id)
    return Impression.objects.filter(session_key=shopper.session_key, user__isnull=True)


def export(shopper: Shopper) -> dict[str, Any]:
    """Everything stored about the shopper, as plain JSON-ready data."""
    if not shopper.known:
        return {"events": [], "ratings": [], "impressions": [], "clicks": [], "profile": None,
                "not_interested": []}
    events = [{"product_id": pid, "event": EVENT_NAMES[kind], "quantity": qty, "created_at": at.isoformat()}
              for pid, kind, qty, at in shopper.events().order_by("created_at", "id").values_list(
                  "product_id", "kind", "quantity", "created_at")]
    ratings = [] if shopper.user_id is None else [
        {"product_id": pid, "score": score, "created_at": c.isoformat(), "updated_at": u.isoformat()}
        for pid, score, c, u in Rating.objects.filter(user_id=shopper.user_id).order_by("created_at", "id")
        .values_list("product_id", "score", "created_at", "updated_at")]
    impressions = _impressions(shopper)
    shown = [{"id": str(i), "widget": w, "engine": e, "products": p, "created_at": at.isoformat()}
             for i, w, e, p, at in impressions.order_by("created_at").values_list(
                 "id", "widget", "engine", "product_ids", "created_at")]
    clicks = [{"impression": str(i), "product_id": p, "created_at": at.isoformat()}
              for i, p, at in Click.objects.filter(impression__in=impressions).order_by("created_at")
              .values_list("impression_id", "product_id", "created_at")]
    profile = ShopperProfile.objects.filter(shopper=shopper.data_key).values_list("data", flat=True).first()
    dismissed = [{"product_id": e.product_id, "category": e.category, "created_at": e.created_at.isoformat()}
                 for e in owned_choices(shopper).order_by("created_at", "id")]
    return {"exported_at": timezone.now().isoformat(), "shopper": shopper.data_key, "events": events,
            "ratings": ratings, "impressions": shown, "clicks": clicks, "profile": profile,
            "not_interested": dismissed}


def erase(shopper: Shopper) -> dict[str, int]:
    """Delete the shopper's behaviour data; returns how many rows of each kind went."""
    if not shopper.known:
        return {"events": 0, "ratings": 0, "impressions": 0, "profile": 0, "not_interested": 0}
    with transaction.atomic():
        counts = {
            "events": shopper.events().delete()[0],
            "ratings": Rating.objects.filter(user_id=shopper.user_id).delete()[0] if shopper.user_id else 0,
            "impressions": _impressions(shopper).delete()[1].get(Impression._meta.label, 0),
            "profile": ShopperProfile.objects.filter(shopper=shopper.data_key).delete()[0],
            "not_interested": owned_choices(shopper).delete()[0],
        }
    invalidate(shopper)
    return counts
