"""What the template tags and the REST API share: which serving call answers each widget, the
request-level business rules, the impression behind every list shown, and a product's public
fields read through the product adapter (``recommendations.products``)."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.signals import setting_changed
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from . import feedback, serving
from . import products as catalogue
from .capture import is_bot
from .conf import app_settings, get_product_model
from .models import Event
from .serving import Recommendation, Shopper

logger = logging.getLogger(__name__)

#: Widget names (also the ``widget`` of their impressions).
FOR_YOU, SIMILAR, ALSO_BOUGHT, TRENDING, RECENTLY_VIEWED = (
    "for_you", "similar", "also_bought", "trending", "recently_viewed")
WIDGETS = (FOR_YOU, SIMILAR, ALSO_BOUGHT, TRENDING, RECENTLY_VIEWED)


def public_fields(product: Any) -> dict[str, Any]:
    """What lists and histories show of a product of any product model, read through the
    product adapter: id, name, description, category (the first), categories, brand, price (a
    decimal string), image_url."""
    described = catalogue.info(product)
    return {"id": product.pk, "name": described.name, "description": described.description,
            "category": described.category or None, "categories": list(described.categories),
            "brand": described.brand or None, "price": None if described.price is None else str(described.price),
            "image_url": described.image_url}


def product_url(product: Any) -> str | None:
    return catalogue.info(product).url


_NO_ID = "00000000-0000-0000-0000-000000000000"


def _click_pattern() -> str | None:
    """The click link with a placeholder id, reversed once per URL configuration and script
    prefix instead of once per item (reverse() is a visible share of a cached list request)."""
    return _reverse_click_pattern(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@functools.lru_cache(maxsize=32)
def _reverse_click_pattern(prefix: str, urlconf: Any) -> str | None:
    try:
        return reverse("recommendations:click-redirect", args=[_NO_ID, 0], urlconf=urlconf)
    except NoReverseMatch:
        return None


def _clear_click_pattern(*, setting: str, **kwargs: Any) -> None:
    if setting == "ROOT_URLCONF":
        _reverse_click_pattern.cache_clear()


setting_changed.connect(_clear_click_pattern)


@dataclass
class ShownList:
    widget: str
    recommendations: list[Recommendation]
    recommendation_id: Any = None
    variant: str = ""
    engine: str = ""
    items: list[dict[str, Any]] = field(default_factory=list)


def _post_filter(recs: list[Recommendation], n: int, exclude: set[str],
                 max_per_category: int | None) -> list[Recommendation]:
    chosen, per_category = [], {}
    for rec in recs:
        if str(rec.product_id) in exclude:
            continue
        if max_per_category:
            category = serving._category(rec.product)
            if per_category.get(category, 0) >= max_per_category:
                continue
            per_category[category] = per_category.get(category, 0) + 1
        chosen.append(rec)
        if len(chosen) == n:
            break
    return chosen


def recently_viewed(shopper: Shopper, n: int, exclude: set[str]) -> list[Recommendation]:
    """The shopper's latest distinct viewed products, newest first."""
    if not shopper.known:
        return []
    ids: list[Any] = []
    rows = shopper.events().filter(kind=Event.Kind.VIEW).order_by("-created_at").values_list(
        "product_id", flat=True)[: max(n * 4, app_settings.HISTORY_LIMIT)]
    for pid in rows:
        if pid not in ids and str(pid) not in exclude:
            ids.append(pid)
    products = serving._products(ids)
    return [Recommendation(pid, 0.0, "history", "You viewed this", products[pid])
            for pid in ids if pid in products][:n]


#: Reasons that only say which list an item came from: true of everyone, so never shown under
#: "Recommended for you" (an anonymous visitor read "Trending now" there).
GENERIC_REASONS = frozenset({"Trending now", "Popular with shoppers", "New in the shop"})

#: Serving writes reasons in English (they are cached and precomputed once for every language);
#: shoppers read them through ``reason_text`` in the active language.
_REASON_PATTERNS = [
    (re.compile(r"Because you viewed (?P<name>.+)", re.S),
     lambda: pgettext("reason", "Because you viewed %(name)s")),
    (re.compile(r"Because you added (?P<name>.+)", re.S),
     lambda: pgettext("reason", "Because you added %(name)s")),
    (re.compile(r"Because you bought (?P<name>.+)", re.S),
     lambda: pgettext("reason", "Because you bought %(name)s")),
    (re.compile(r"Popular in (?P<name>.+), which you looked at", re.S),
     lambda: pgettext("reason", "Popular in %(name)s, which you looked at")),
    (re.compile(r"Similar to (?P<name>.+)", re.S), lambda: pgettext("reason", "Similar to %(name)s")),
    (re.compile(r"Often bought with (?P<name>.+)", re.S), lambda: pgettext("reason", "Often bought with %(name)s")),
    (re.compile(r"More in (?P<name>.+)", re.S), lambda: pgettext("reason", "More in %(name)s")),
]

_FIXED_REASONS: dict[str, Callable[[], str]] = {
    "Trending now": lambda: pgettext("reason", "Trending now"),
    "Popular with shoppers": lambda: pgettext("reason", "Popular with shoppers"),
    "New in the shop": lambda: pgettext("reason", "New in the shop"),
    "You viewed this": lambda: pgettext("reason", "You viewed this"),
    "a product": lambda: _("a product"),
}


def reason_text(reason: str) -> str:
    """A reason as serving wrote it (English), in the active language; one it does not know
    (a shop's own hook may write any) as written."""
    if not reason:
        return reason
    if reason in _FIXED_REASONS:
        return _FIXED_REASONS[reason]()
    for pattern, text in _REASON_PATTERNS:
        if found := pattern.fullmatch(reason):
            name = found["name"]
            return text() % {"name": _("a product") if name == "a product" else name}
    return reason


_PAGE_ATTRIBUTE = "_recommendations_on_page"


def on_page(request: Any) -> set[str]:
    """The products already on this page (as strings): shown by earlier widgets, the page's own
    product, and what the shop marked with ``mark_on_page``. Widgets rendered later leave them
    out and show their next-best items, so one page never shows a product twice."""
    if request is None:
        return set()
    registry = getattr(request, _PAGE_ATTRIBUTE, None)
    if registry is None:
        registry = set()
        try:
            setattr(request, _PAGE_ATTRIBUTE, registry)
        except AttributeError:  # an object that takes no attributes: nothing to remember
            pass
    return registry


def mark_on_page(request: Any, product_ids: Iterable[Any]) -> None:
    """Tell the widgets rendered after this that the page shows ``product_ids`` already."""
    on_page(request).update(str(pk) for pk in product_ids)


def _personal(recs: list[Recommendation]) -> list[Recommendation]:
    """A "for you" list without reasons that are true of everyone, or nothing when no item in
    it comes from the shopper's own activity (a personal widget showing the trending list)."""
    for rec in recs:
        if rec.reason in GENERIC_REASONS:
            rec.reason = ""
    if all(rec.engine in serving.POPULARITY_ENGINES and not rec.reason for rec in recs):
        return []
    return recs


def compute(widget: str, shopper: Shopper, n: int, *, product: Any = None, exclude=(),
            max_per_category: int | None = None, personal_only: bool = False) -> tuple[list[Recommendation], str]:
    """The list a widget shows, and the A/B variant behind it ('' outside the test). With
    ``personal_only`` (the template tags), a "for you" list with nothing personal in it is
    empty, and its reasons that are true of everyone are dropped."""
    exclude = {str(e) for e in exclude}
    if product is not None:
        exclude.add(str(product.pk))
    variant = ""
    if widget == FOR_YOU:
        arm = serving.assign_variant(shopper)
        variant = arm.name if arm else ""
        model_pk = get_product_model()._meta.pk
        excluded_pks = set()
        for value in exclude:
            try:
                excluded_pks.add(model_pk.to_python(value))
            except Exception:  # noqa: BLE001  (not a valid key: nothing to exclude)
                continue
        recs = serving.recommend_for(shopper, n, exclude=excluded_pks, max_per_category=max_per_category)
        recs = _post_filter(recs, n, exclude, None)
        return (_personal(recs) if personal_only else recs), variant
    if widget == RECENTLY_VIEWED:
        return recently_viewed(shopper, n, exclude), variant
    # Item lists and trending: fetch more when request rules will drop some.
    fetch = n
    if exclude or max_per_category:
        fetch = min(app_settings.MAX_LIMIT, n * (3 if max_per_category else 1) + len(exclude))
    if widget == SIMILAR:
        recs = serving.similar_products(product, fetch)
    elif widget == ALSO_BOUGHT:
        recs = serving.also_bought(product, fetch)
    elif widget == TRENDING:
        recs = serving.trending(fetch)
    else:
        raise ValueError(f"unknown widget {widget!r}")
    return _post_filter(recs, n, exclude, max_per_category), variant


def show(request: Any, widget: str, n: int | None = None, *, product: Any = None, exclude=(),
         max_per_category: int | None = None, shopper: Shopper | None = None,
         personal_only: bool = False) -> ShownList:
    """Compute a widget's list for the shopper behind ``request`` and record its impression
    (not for bots). Items carry the product's public fields, its URL and the click link. What
    earlier widgets of the same request showed is left out (``on_page``)."""
    n = n or app_settings.DEFAULT_LIMIT
    if shopper is None:
        shopper = Shopper.from_request(request) if request is not None else Shopper()
    page = on_page(request)
    recs, variant = compute(widget, shopper, n, product=product, exclude={*map(str, exclude), *page},
                            max_per_category=max_per_category, personal_only=personal_only)
    page.update(str(rec.product_id) for rec in recs)
    if product is not None:
        page.add(str(product.pk))
    engine = feedback.dominant_engine(recs)
    impression_id = None
    if recs and not is_bot(request):
        impression_id = feedback.record_shown(shopper, widget, [catalogue.json_key(rec.product_id) for rec in recs],
                                              engine, variant)
    shown = ShownList(widget, recs, impression_id, variant, engine)
    recommendation_id = str(shown.recommendation_id) if shown.recommendation_id else None
    link = _click_links(recommendation_id)
    payload = serving.product_cache.payload
    shown.items = [{**(fields := payload(rec.product, product_payload)), "score": round(rec.score, 6),
                    "engine": rec.engine, "reason": reason_text(rec.reason), "recommendation_id": recommendation_id,
                    "click_url": link(rec.product_id) if fields["url"] else None} for rec in recs]
    return shown


def _click_links(recommendation_id: str | None) -> Callable[[Any], str | None]:
    """``click_url`` of one list's items: the redirect that records a click and sends the
    shopper on to the product page (None where the host did not include recommendations.urls).
    The part the items share is built once per list (a list's items are a visible share of a
    cached list request)."""
    pattern = _click_pattern() if recommendation_id else None
    if pattern is None:
        return lambda product_id: None
    if not pattern.endswith("/0/"):  # a URL the placeholder does not fit: reversed per item
        return lambda product_id: reverse("recommendations:click-redirect", args=[recommendation_id, product_id])
    prefix = pattern[:-2].replace(_NO_ID, recommendation_id, 1)
    return lambda product_id: prefix + (str(product_id) if type(product_id) is int
                                        else quote(str(product_id), safe="")) + "/"


def product_payload(product: Any) -> dict[str, Any]:
    """What every list shows of a product: its public fields and its URL (memoised per cached
    product, since reversing a URL per item is a visible share of a request)."""
    return {**public_fields(product), "url": product_url(product)}
