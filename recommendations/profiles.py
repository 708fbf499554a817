"""Shopper profiles: what the shop knows about one shopper, in words a person can read, and
the shopper's "not interested" choices.

A profile is computed from the shopper's events and ratings (the same weights the engines
use), with what they marked "not interested" left out, and stored in ``ShopperProfile`` so
that staff can list shoppers by segment. It is recomputed when it is older than the shopper's
newest event or rating, when their "not interested" choices change, after every training (the
missing and outdated ones of every signed-in shopper with behaviour: ``tasks.train_engine`` and
``recommendations_train --sync``) and all of them by the ``refresh_profiles`` task that
``train_all`` queues.

"Not interested" reaches the recommendations on the very next request: the products and
categories are left out of the shopper's lists (``serving``) and out of the history folded in
at request time, and the next training leaves the shopper's events on them out
(``exclude_not_interested``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from django.core.cache import caches
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from . import products as catalogue
from .conf import app_settings
from .data import EVENT_NAMES, shopper_key
from .models import Event, NotInterested, PrecomputedList, Rating, ShopperProfile

#: sent with ``shopper=`` when a shopper's "not interested" choices change; the app's receiver
#: forgets their cached lists (``serving.invalidate``) so the next request leaves the choice out
choices_changed = Signal()

#: Events read per profile: the newest ones, so a decade-long customer costs what a month does.
MAX_EVENTS = 2000
TOP = 5
PRICE_BANDS = ("budget", "mid-range", "premium")
#: Where a shopper is, the first part of every segment (``segment``).
STAGES = ("New shopper", "Browser", "Considering", "Customer", "Loyal customer")
FAN_SUFFIX = " fan"
#: The stored (English) parts of a segment as staff and shoppers read them (``segment_text``).
STAGE_LABELS = {
    "New shopper": pgettext_lazy("shopper stage", "New shopper"),
    "Browser": pgettext_lazy("shopper stage", "Browser"),
    "Considering": pgettext_lazy("shopper stage", "Considering"),
    "Customer": pgettext_lazy("shopper stage", "Customer"),
    "Loyal customer": pgettext_lazy("shopper stage", "Loyal customer"),
}


def segment_text(segment: str) -> str:
    """A stored segment ("Customer · Books fan · bargain hunter") in the active language."""
    parts = []
    for part in (segment or "").split(" · "):
        if part in STAGE_LABELS:
            parts.append(str(STAGE_LABELS[part]))
        elif part == "bargain hunter":
            parts.append(pgettext("shopper segment", "bargain hunter"))
        elif part == "premium taste":
            parts.append(pgettext("shopper segment", "premium taste"))
        elif part.endswith(FAN_SUFFIX):
            parts.append(pgettext("shopper segment", "%(category)s fan") % {"category": part[: -len(FAN_SUFFIX)]})
        else:
            parts.append(part)
    return " · ".join(parts)


PRICE_BAND_LABELS = {"budget": pgettext_lazy("price band", "budget"),
                     "mid-range": pgettext_lazy("price band", "mid-range"),
                     "premium": pgettext_lazy("price band", "premium")}


def price_band_text(band: str | None) -> str:
    """A stored price band ("budget", "mid-range", "premium") in the active language."""
    return str(PRICE_BAND_LABELS.get(band, band or ""))


def why_text(why: str) -> str:
    """A stored "why" of a shaping product ("bought 2×, viewed 3×, rated 5★") in the active language."""
    words = {"bought": lambda n: _("bought %(n)s×") % {"n": n},
             "added to cart": lambda n: _("added to cart %(n)s×") % {"n": n},
             "viewed": lambda n: _("viewed %(n)s×") % {"n": n},
             "rated": lambda n: _("rated %(n)s") % {"n": n}}
    parts = []
    for part in (why or "").split(", "):
        verb, _space, count = part.rpartition(" ")
        parts.append(words[verb](count.rstrip("×")) if verb in words else part)
    return _(", ").join(parts)


# -- "not interested" -------------------------------------------------------------------------
@dataclass(frozen=True)
class Dismissed:
    """A shopper's "not interested" products (primary keys) and categories (as shown)."""

    products: frozenset = frozenset()
    categories: frozenset = frozenset()

    def __bool__(self) -> bool:
        return bool(self.products or self.categories)

    def hides(self, product: Any) -> bool:
        if product.pk in self.products:
            return True
        if self.categories:
            return any(category in self.categories for category in catalogue.info(product).categories)
        return False


def owned_choices(shopper) -> Any:
    """The shopper's own "not interested" rows (a queryset)."""
    if shopper.user_id is not None:
        return NotInterested.objects.filter(user_id=shopper.user_id)
    return NotInterested.objects.filter(session_key=shopper.session_key, user__isnull=True)


def dismissed(shopper) -> Dismissed:
    """The shopper's "not interested" choices (one query; none for an unknown shopper)."""
    if not shopper.known:
        return Dismissed()
    products, categories = set(), set()
    for product_id, category in owned_choices(shopper).values_list("product_id", "category"):
        if product_id is not None:
            products.add(product_id)
        else:
            categories.add(category)
    return Dismissed(frozenset(products), frozenset(categories))


def not_interested_entries(shopper) -> list[NotInterested]:
    return list(owned_choices(shopper).select_related("product")) if shopper.known else []


def mark_not_interested(shopper, *, product: Any = None, category: str = "") -> tuple[NotInterested, bool]:
    """Record a "not interested" choice; returns (entry, created). Idempotent."""
    if not shopper.known:
        raise ValueError("an unknown shopper has nothing to shape")
    if (product is None) == (not category):
        raise ValueError("give exactly one of a product or a category")
    lookup = {"product": product} if product is not None else {"category": category, "product__isnull": True}
    try:
        with transaction.atomic():
            entry, created = owned_choices(shopper).get_or_create(
                **lookup, defaults={"user_id": shopper.user_id, "session_key": "" if shopper.user_id
                                    else shopper.session_key})
    except IntegrityError:  # a concurrent identical request won the race
        entry, created = owned_choices(shopper).get(**lookup), False
    _changed(shopper)
    return entry, created


def undo_not_interested(shopper, entry_id: Any) -> bool:
    """Forget one of the shopper's own choices; False when it is not theirs or not there."""
    if not shopper.known:
        return False
    deleted, _ = owned_choices(shopper).filter(pk=entry_id).delete()
    if deleted:
        _changed(shopper)
    return bool(deleted)


def _changed(shopper) -> None:
    ShopperProfile.objects.filter(shopper=shopper.data_key).delete()
    PrecomputedList.objects.filter(shopper=shopper.data_key).delete()  # made before the choice
    choices_changed.send(sender=ShopperProfile, shopper=shopper)


def exclude_not_interested(events: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """Training data without the events a shopper marked "not interested" (frames in the
    import format, as ``data.load_frames`` returns them)."""
    rows = list(NotInterested.objects.values_list("user_id", "session_key", "product_id", "category"))
    if not rows or events.empty:
        return events
    by_product = {(shopper_key(u, s), str(p)) for u, s, p, _ in rows if p is not None}
    by_category = {(shopper_key(u, s), c) for u, s, p, c in rows if p is None}
    # Only the few shoppers who made a choice are looked at row by row.
    users = events["user_id"].astype(str)
    involved = np.flatnonzero(users.isin({key for key, _ in by_product | by_category}).to_numpy())
    if not len(involved):
        return events
    items = events["product_id"].astype(str).to_numpy()[involved]
    categories_of = {str(pk): (list(c) if isinstance(c, (list, tuple)) else [str(c)])
                     for pk, c in zip(products["product_id"], products["category"])}
    keep = np.ones(len(events), dtype=bool)
    keep[involved] = [(u, i) not in by_product and not any((u, c) in by_category for c in categories_of.get(i, ()))
                      for u, i in zip(users.to_numpy()[involved], items)]
    return events[keep]


# -- the profile ------------------------------------------------------------------------------
@dataclass
class Profile:
    shopper: str
    segment: str = "New shopper"
    activity: dict[str, Any] = field(default_factory=dict)
    categories: list[dict[str, Any]] = field(default_factory=list)
    brands: list[dict[str, Any]] = field(default_factory=list)
    price: dict[str, Any] | None = None
    shaping: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"shopper": self.shopper, "segment": self.segment, "activity": self.activity,
                "categories": self.categories, "brands": self.brands, "price": self.price,
                "shaping": self.shaping}


def _decay(when: datetime, now: datetime) -> float:
    half_life = app_settings.TIME_DECAY_HALF_LIFE_DAYS
    if not half_life:
        return 1.0
    return 0.5 ** (max(0.0, (now - when).total_seconds()) / 86400.0 / half_life)


def catalogue_price_bands() -> tuple[float, float] | None:
    """Terciles of the catalogue's prices (cached for an hour): the edges between budget,
    mid-range and premium, relative to this shop rather than to absolute amounts."""
    cache = caches[app_settings.CACHE_ALIAS]
    key = "recommendations:price-bands"
    try:
        cached = cache.get(key)
    except Exception:  # noqa: BLE001 - a cache outage costs a query, not the page
        cached = None
    if cached is not None:
        return tuple(cached) if cached else None
    prices = pd.Series(catalogue.product_adapter().prices(), dtype=float).dropna()
    bands = [float(prices.quantile(1 / 3)), float(prices.quantile(2 / 3))] if len(prices) >= 3 else []
    try:
        cache.set(key, bands, 3600)
    except Exception:  # noqa: BLE001
        pass
    return tuple(bands) if bands else None


def _shares(weights: Counter) -> list[dict[str, Any]]:
    """The top names by share of positive weight; a trace (under 1 %) is not a taste."""
    total = sum(w for w in weights.values() if w > 0)
    return [{"name": name, "share": round(w / total, 3)} for name, w in weights.most_common(TOP)
            if total > 0 and w / total >= 0.01]


def _describe(counts: Counter) -> str:
    words = {"purchase": "bought", "cart": "added to cart", "view": "viewed", "rating": "rated"}
    parts = []
    for kind in ("purchase", "cart", "view", "rating"):
        if counts[kind]:
            parts.append(f"{words[kind]} {counts[kind]}×" if kind != "rating" else f"rated {counts[kind]}★")
    return ", ".join(parts)


def compute(shopper) -> Profile:
    """The profile from the shopper's events and ratings, "not interested" left out."""
    profile = Profile(shopper=shopper.data_key)
    if not shopper.known:
        return profile
    now = timezone.now()
    weights = app_settings.EVENT_WEIGHTS
    rows = list(shopper.events().order_by("-created_at").values_list(
        "product_id", "kind", "quantity", "created_at")[:MAX_EVENTS])
    ratings = list(Rating.objects.filter(user_id=shopper.user_id).values_list(
        "product_id", "score", "updated_at")) if shopper.user_id is not None else []
    ids = {r[0] for r in rows} | {r[0] for r in ratings}
    products = catalogue.fetch(ids)
    hidden = dismissed(shopper)

    kinds: Counter = Counter()
    per_product: Counter = Counter()
    what: dict[Any, Counter] = {}
    times = []
    for product_id, kind, _quantity, created in rows:
        name = EVENT_NAMES[kind]
        kinds[name] += 1
        times.append(created)
        product = products.get(product_id)
        if product is None or hidden.hides(product):
            continue
        per_product[product_id] += weights.get(name, 0.0) * _decay(created, now)
        what.setdefault(product_id, Counter())[name] += 1
    for product_id, score, updated in ratings:
        kinds["rating"] += 1
        times.append(updated)
        product = products.get(product_id)
        if product is None or hidden.hides(product):
            continue
        # 3 stars is neutral; 1-2 stars count against (a shopper who hated it is not a fan).
        per_product[product_id] += weights.get("rating", 0.0) * (score - 3) / 2 * _decay(updated, now)
        what.setdefault(product_id, Counter())["rating"] = score

    profile.activity = {
        "views": kinds["view"], "carts": kinds["cart"], "purchases": kinds["purchase"],
        "ratings": kinds["rating"], "products": len(ids),
        "first_seen": min(times).isoformat() if times else None,
        "last_seen": max(times).isoformat() if times else None,
    }
    categories: Counter = Counter()
    brands: Counter = Counter()
    priced: list[tuple[float, float]] = []
    for product_id, weight in per_product.items():
        if weight <= 0:
            continue
        described = catalogue.info(products[product_id])
        for category in described.categories:  # a product in several shares its weight
            categories[category] += weight / len(described.categories)
        if described.brand:
            brands[described.brand] += weight
        if described.price is not None:
            priced.append((float(described.price), weight))
    profile.categories = _shares(categories)
    profile.brands = _shares(brands)
    profile.price = _price_profile(priced)
    profile.shaping = [
        {"product_id": catalogue.json_key(pid), "name": catalogue.info(products[pid]).name, "weight": round(w, 3),
         "why": _describe(what[pid])}
        for pid, w in per_product.most_common(TOP) if w > 0]
    profile.segment = segment(profile)
    return profile


def _price_profile(priced: list[tuple[float, float]]) -> dict[str, Any] | None:
    """The weighted median price of what the shopper engaged with, and its band in this shop."""
    if not priced:
        return None
    priced.sort()
    total = sum(w for _, w in priced)
    running, typical = 0.0, priced[-1][0]
    for price, weight in priced:
        running += weight
        if running >= total / 2:
            typical = price
            break
    out: dict[str, Any] = {"typical": round(typical, 2), "low": round(priced[0][0], 2),
                           "high": round(priced[-1][0], 2), "band": None}
    edges = catalogue_price_bands()
    if edges:
        out["band"] = PRICE_BANDS[(typical > edges[0]) + (typical > edges[1])]
    return out


def segment(profile: Profile) -> str:
    """A short label: where the shopper is (new, browsing, considering, customer, loyal) and,
    when one stands out, what they are into and at what price."""
    a = profile.activity
    if not a or not (a.get("views") or a.get("carts") or a.get("purchases") or a.get("ratings")):
        return "New shopper"
    if a["purchases"] >= 3:
        stage = "Loyal customer"
    elif a["purchases"]:
        stage = "Customer"
    elif a["carts"]:
        stage = "Considering"
    elif a["views"] + a["ratings"] < 3:
        stage = "New shopper"
    else:
        stage = "Browser"
    parts = [stage]
    if profile.categories and profile.categories[0]["share"] >= 0.5:
        parts.append(f"{profile.categories[0]['name']}{FAN_SUFFIX}")
    band = (profile.price or {}).get("band")
    if band == "budget":
        parts.append("bargain hunter")
    elif band == "premium":
        parts.append("premium taste")
    return " · ".join(parts)


def _newest_activity(shopper) -> datetime | None:
    newest = shopper.events().aggregate(at=Max("created_at"))["at"]
    if shopper.user_id is not None:
        rated = Rating.objects.filter(user_id=shopper.user_id).aggregate(at=Max("updated_at"))["at"]
        newest = max(filter(None, (newest, rated)), default=None)
    return newest


def refresh(shopper) -> ShopperProfile:
    """Compute and store the shopper's profile now."""
    profile = compute(shopper)
    last_seen = profile.activity.get("last_seen")
    values = {"user_id": shopper.user_id, "segment": profile.segment, "data": profile.as_dict(),
              "last_seen": datetime.fromisoformat(last_seen) if last_seen else None,
              "computed_at": timezone.now()}
    stored, _ = ShopperProfile.objects.update_or_create(shopper=shopper.data_key, defaults=values)
    return stored


def shoppers_to_refresh(*, stale_only: bool = True) -> list[str]:
    """Data keys of the signed-in shoppers with events or ratings (the ones training learns
    from) whose stored profile is missing or, with ``stale_only``, older than their newest
    event or rating; every such shopper without it. Three grouped queries, whatever the number
    of shoppers."""
    newest: dict[Any, datetime] = dict(
        Event.objects.filter(user__isnull=False).values_list("user_id").annotate(at=Max("created_at")))
    for user_id, at in Rating.objects.values_list("user_id").annotate(at=Max("updated_at")):
        newest[user_id] = max(at, newest.get(user_id, at))
    computed = dict(ShopperProfile.objects.filter(user__isnull=False).values_list("user_id", "computed_at"))
    return [shopper_key(user_id) for user_id, at in sorted(newest.items(), key=lambda item: str(item[0]))
            if not stale_only or user_id not in computed or at > computed[user_id]]


def get_profile(shopper) -> ShopperProfile | None:
    """The shopper's stored profile, recomputed first when their behaviour is newer."""
    if not shopper.known:
        return None
    stored = ShopperProfile.objects.filter(shopper=shopper.data_key).first()
    if stored is not None:
        newest = _newest_activity(shopper)
        if newest is None or newest <= stored.computed_at:
            return stored
    return refresh(shopper)


def category_affinity(products: Any) -> dict[str, float]:
    """Share of each category among ``products`` (instances already fetched, e.g. those of the
    shopper's recent history): how the cold-start path orders popular products for a shopper
    the models do not know yet."""
    counts: Counter = Counter()
    for product in products:
        categories = catalogue.info(product).categories
        for category in categories:
            counts[category] += 1 / len(categories)
    total = sum(counts.values())
    return {c: n / total for c, n in counts.items()} if total else {}
