"""What recommendations did for the shop over a period: impressions, clicks, click-through,
add-to-carts, purchases and revenue attributed to the widgets, per widget, per engine and per
A/B variant, with a plain statement of whether a variant's difference is significant, and the
trend by day (the owner's section of the admin dashboard).

Attribution (last click, ``ATTRIBUTION_DAYS``, default 7): an add to cart or a purchase counts
for recommendations when the same shopper clicked that product in a widget (or added it to the
cart from the widget's card, which records a click) at most ``ATTRIBUTION_DAYS`` days before;
it is credited to the latest such click, so to that click's widget, engine and variant, and
counted once however many clicks precede it. Revenue is the purchase's quantity times its unit
price (stored with the purchase; the product's price now for purchases recorded without one).

The arithmetic (``attribute``, ``two_proportions``, ``summarise``) is pure and takes plain rows;
``shop_results`` reads the rows of a period from the database (one query per table) and calls it.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import products as catalogue
from .conf import app_settings
from .feedback import flush_impressions
from .models import Click, Event, Impression

DIMENSIONS = ("widget", "engine", "variant")
#: Significance level of the A/B statement (two-sided).
ALPHA = 0.05


@dataclass(frozen=True)
class ClickRow:
    shopper: str
    product: str
    at: datetime
    impression: Any
    widget: str = ""
    engine: str = ""
    variant: str = ""


@dataclass(frozen=True)
class EventRow:
    shopper: str
    product: str
    at: datetime
    kind: int
    quantity: int = 1
    unit_price: Decimal | None = None


@dataclass
class Attributed:
    event: EventRow
    click: ClickRow

    @property
    def revenue(self) -> Decimal:
        price = self.event.unit_price if self.event.unit_price is not None else Decimal(0)
        return price * self.event.quantity


def percent(share: float, decimals: int = 1) -> str:
    """A share as a percentage in the active locale's number format ("12.5%"); rounded first,
    since number_format cuts a float's extra digits."""
    return f"{number_format(round(100 * share, decimals), decimals)}%"


def product_key(value: Any) -> str:
    """One spelling for a product key, whether it came from a click (text) or an event (its
    type): UUIDs without dashes, lower case."""
    return str(value).replace("-", "").lower()


def attribute(clicks: Iterable[ClickRow], events: Iterable[EventRow], window: timedelta) -> list[Attributed]:
    """Each add to cart or purchase credited to the same shopper's latest click on the same
    product at most ``window`` before it; events with no such click are left out."""
    by_pair: dict[tuple[str, str], list[ClickRow]] = defaultdict(list)
    for click in clicks:
        by_pair[(click.shopper, click.product)].append(click)
    for rows in by_pair.values():
        rows.sort(key=lambda c: c.at)
    credited = []
    for event in events:
        rows = by_pair.get((event.shopper, event.product))
        if not rows:
            continue
        i = bisect.bisect_right([c.at for c in rows], event.at) - 1
        if i >= 0 and event.at - rows[i].at <= window:
            credited.append(Attributed(event, rows[i]))
    return credited


@dataclass
class Significance:
    """A two-proportion z-test of ``a`` against ``b`` (e.g. click-through of two variants)."""

    rate_a: float
    rate_b: float
    z: float
    p_value: float
    significant: bool
    statement: str = ""


def two_proportions(successes_a: int, trials_a: int, successes_b: int, trials_b: int, *,
                    name_a: str = "A", name_b: str = "B", measure: str = "click-through rate",
                    alpha: float = ALPHA) -> Significance | None:
    """The pooled two-proportion z-test, two-sided, and one sentence saying what it means;
    None when either side has no trials."""
    if trials_a <= 0 or trials_b <= 0:
        return None
    rate_a, rate_b = successes_a / trials_a, successes_b / trials_b
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    z = (rate_a - rate_b) / spread if spread > 0 else 0.0
    p_value = math.erfc(abs(z) / math.sqrt(2))
    significant = p_value < alpha
    values = {"a": name_a, "b": name_b, "measure": measure, "ra": percent(rate_a), "rb": percent(rate_b),
              "confidence": percent(1 - alpha, 0), "p": number_format(round(p_value, 3), 3)}
    if significant:
        better, worse = (name_a, name_b) if rate_a > rate_b else (name_b, name_a)
        values.update(better=better, worse=worse)
        statement = _("%(better)s has a higher %(measure)s than %(worse)s (%(ra)s for %(a)s, %(rb)s for "
                      "%(b)s), and the difference is significant: at %(confidence)s confidence it is not "
                      "chance (p = %(p)s).") % values
    else:
        statement = _("No significant difference in %(measure)s between %(a)s (%(ra)s) and %(b)s (%(rb)s) "
                      "yet: a gap this size could be chance (p = %(p)s). Keep the test running.") % values
    return Significance(rate_a, rate_b, z, p_value, significant, statement)


def _empty_row(**key: str) -> dict[str, Any]:
    return {**key, "impressions": 0, "clicked_impressions": 0, "clicks": 0, "carts": 0, "purchases": 0,
            "revenue": Decimal(0)}


WIDGET_LABELS = {"for_you": gettext_lazy("Recommended for you"), "similar": gettext_lazy("Similar products"),
                 "also_bought": gettext_lazy("Customers also bought"), "trending": gettext_lazy("Trending"),
                 "recently_viewed": gettext_lazy("Recently viewed")}


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    row["ctr"] = row["clicked_impressions"] / row["impressions"] if row["impressions"] else 0.0
    row["ctr_percent"] = percent(row["ctr"])
    row["label"] = (WIDGET_LABELS.get(row["widget"], row["widget"]) if "widget" in row
                    else row.get("engine") or row.get("variant") or row.get("day", ""))
    row["conversion"] = row["purchases"] / row["clicks"] if row["clicks"] else 0.0
    row["revenue_per_impression"] = row["revenue"] / row["impressions"] if row["impressions"] else Decimal(0)
    return row


@dataclass
class ShopResults:
    since: datetime
    until: datetime
    window_days: int
    totals: dict[str, Any]
    by: dict[str, list[dict[str, Any]]]
    days: list[dict[str, Any]]
    ab: list[Significance] = field(default_factory=list)
    attributed: list[Attributed] = field(default_factory=list)

    @property
    def tables(self) -> list[tuple[str, str, list[dict[str, Any]]]]:
        """(title, first column, rows) per breakdown, the trend by day last (newest first)."""
        return [(_("By widget"), _("Widget"), self.by["widget"]), (_("By engine"), _("Engine"), self.by["engine"]),
                (_("By A/B variant"), _("Variant"), self.by["variant"]),
                (_("Day by day"), _("Day"), list(reversed(self.days)))]


def summarise(impressions: Iterable[dict[str, Any]], clicks: list[ClickRow], events: list[EventRow], *,
              since: datetime, until: datetime, window: timedelta) -> ShopResults:
    """Totals, rows per widget, engine and variant, one row per day, and the A/B statements, from
    the period's impressions (dicts with id, widget, engine, variant, created_at), their clicks
    and the shoppers' add-to-cart and purchase events."""
    impressions = list(impressions)
    totals = _empty_row()
    by: dict[str, dict[str, dict[str, Any]]] = {d: {} for d in DIMENSIONS}
    days: dict[date, dict[str, Any]] = {}
    start = timezone.localtime(since).date()
    for offset in range((timezone.localtime(until).date() - start).days + 1):
        day = start + timedelta(days=offset)
        days[day] = _empty_row(day=day.isoformat())

    def rows_for(source: dict[str, Any], at: datetime) -> list[dict[str, Any]]:
        found = [totals]
        for dimension in DIMENSIONS:
            value = source[dimension]
            if dimension == "variant" and not value:
                continue  # shown outside the A/B test
            found.append(by[dimension].setdefault(value, _empty_row(**{dimension: value})))
        day = days.get(timezone.localtime(at).date())
        if day is not None:
            found.append(day)
        return found

    clicked: dict[Any, int] = defaultdict(int)
    for click in clicks:
        clicked[click.impression] += 1
    for impression in impressions:
        for row in rows_for(impression, impression["created_at"]):
            row["impressions"] += 1
            row["clicked_impressions"] += 1 if clicked.get(impression["id"]) else 0
            row["clicks"] += clicked.get(impression["id"], 0)
    credited = attribute(clicks, events, window)
    for item in credited:
        source = {"widget": item.click.widget, "engine": item.click.engine, "variant": item.click.variant}
        for row in rows_for(source, item.event.at):
            if item.event.kind == Event.Kind.CART:
                row["carts"] += 1
            else:
                row["purchases"] += 1
                row["revenue"] += item.revenue
    listed = {d: sorted((_finish(r) for r in rows.values()), key=lambda r: (-r["impressions"], r[d]))
              for d, rows in by.items()}
    ab = []
    variants = listed["variant"]
    if len(variants) >= 2:
        a, b = variants[0], variants[1]
        for successes, trials, measure in (("clicked_impressions", "impressions", _("click-through rate")),
                                           ("purchases", "clicks", _("share of clicks that led to a purchase"))):
            test = two_proportions(a[successes], a[trials], b[successes], b[trials], name_a=a["variant"],
                                   name_b=b["variant"], measure=measure)
            if test is not None:
                ab.append(test)
    return ShopResults(since, until, int(window.days), _finish(totals), listed,
                       [_finish(d) for d in days.values()], ab, credited)


def shop_results(since: datetime | None = None, until: datetime | None = None, *, days: int = 30) -> ShopResults:
    """The period's results, read from the database: impressions shown in ``[since, until)``
    (default: the last ``days`` days), their clicks, and the add-to-carts and purchases of the
    clicked products by the same shoppers within the attribution window of a click."""
    flush_impressions()
    until = until or timezone.now()
    since = since or until - timedelta(days=days)
    window = timedelta(days=app_settings.ATTRIBUTION_DAYS)
    impressions = list(Impression.objects.filter(created_at__gte=since, created_at__lt=until)
                       .values("id", "widget", "engine", "variant", "created_at", "user_id", "session_key"))
    shown = {row["id"]: row for row in impressions}
    clicks = []
    for impression_id, product_id, at in (Click.objects.filter(impression__created_at__gte=since,
                                                               impression__created_at__lt=until)
                                          .values_list("impression_id", "product_id", "created_at")):
        row = shown.get(impression_id)
        if row is None:
            continue
        shopper = f"u{row['user_id']}" if row["user_id"] is not None else f"s{row['session_key']}"
        clicks.append(ClickRow(shopper, product_key(product_id), at, impression_id,
                               row["widget"], row["engine"], row["variant"]))
    events: list[EventRow] = []
    if clicks:
        users = {c.shopper[1:] for c in clicks if c.shopper.startswith("u")}
        sessions = {c.shopper[1:] for c in clicks if c.shopper.startswith("s") and c.shopper != "s"}
        clicked_products = {c.product for c in clicks}
        first = min(c.at for c in clicks)
        rows = (Event.objects.filter(kind__in=(Event.Kind.CART, Event.Kind.PURCHASE), created_at__gte=first,
                                     created_at__lte=until + window)
                .filter(_shoppers(users, sessions))
                .values_list("user_id", "session_key", "product_id", "created_at", "kind", "quantity", "unit_price"))
        missing_price = set()
        for user_id, session_key, product_id, at, kind, quantity, unit_price in rows:
            key = product_key(product_id)
            if key not in clicked_products:
                continue
            shopper = f"u{user_id}" if user_id is not None else f"s{session_key}"
            events.append(EventRow(shopper, key, at, kind, quantity, unit_price))
            if kind == Event.Kind.PURCHASE and unit_price is None:
                missing_price.add(product_id)
        if missing_price:  # purchases recorded before prices were kept: the price now
            prices = {product_key(pk): catalogue.info(p).price for pk, p in catalogue.fetch(missing_price).items()}
            events = [EventRow(e.shopper, e.product, e.at, e.kind, e.quantity,
                               e.unit_price if e.unit_price is not None or e.kind != Event.Kind.PURCHASE
                               else catalogue.parse_price(prices.get(e.product))) for e in events]
    return summarise(impressions, clicks, events, since=since, until=until, window=window)


def _shoppers(users: set[str], sessions: set[str]) -> Q:
    condition = Q(pk__in=[])
    if users:
        condition |= Q(user_id__in=[int(u) if u.isdigit() else u for u in users])
    if sessions:
        condition |= Q(user__isnull=True, session_key__in=sessions)
    return condition
