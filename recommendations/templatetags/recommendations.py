"""``{% load recommendations %}``: recommendation widgets for a shop's templates.

Each tag renders ``recommendations/widgets/<tag>.html`` (override it in your templates) for the
shopper behind ``request`` in the context (signed in, or the anonymous session)::

    {% recommended_for_you limit=6 title="Picked for you" %}
    {% similar_products product limit=4 %}
    {% also_bought product %}
    {% trending_products limit=8 %}
    {% recently_viewed limit=5 %}

or, with ``as``, stores the list for the shop to render with its own product card: every item
carries the shop's own product instance (``item.product``, fetched in bulk) next to the
recommendation's fields, and ``{{ recs }}`` alone still renders the widget template::

    {% recommended_for_you limit=4 as recs %}
    {% for item in recs %}{% include "shop/product_card.html" with product=item.product %}{% endfor %}

A tag never breaks a page: with no model trained serving falls back to popularity, and any
unexpected error is logged and the widget renders nothing. Every list shown is stored as an
impression; product links go through the click redirect so the click is attributed to it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from inspect import getfullargspec, unwrap
from typing import Any, TypeVar

import django
from django import template
from django.db.models import Avg, Count
from django.template.base import FilterExpression, Parser, Token
from django.template.engine import Engine
from django.template.library import SimpleNode, parse_bits
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .. import presentation
from ..conf import app_settings
from ..models import Rating

register = template.Library()
logger = logging.getLogger("recommendations.templatetags")

#: One plain sentence per widget for its "Why these products?" panel.
EXPLANATIONS = {
    presentation.FOR_YOU: _("Picked from what you looked at, put in your cart and bought here."),
    presentation.SIMILAR: _("Products like this one: the same kind of thing, a similar brand or price."),
    presentation.ALSO_BOUGHT: _("Shoppers who bought this product also bought these."),
    presentation.TRENDING: _("What shoppers here are buying most right now."),
    presentation.RECENTLY_VIEWED: _("Products you looked at recently."),
}

TITLES = {
    presentation.FOR_YOU: pgettext_lazy("widget title", "Recommended for you"),
    presentation.SIMILAR: pgettext_lazy("widget title", "Similar products"),
    presentation.ALSO_BOUGHT: pgettext_lazy("widget title", "Customers also bought"),
    presentation.TRENDING: pgettext_lazy("widget title", "Trending now"),
    presentation.RECENTLY_VIEWED: pgettext_lazy("widget title", "Recently viewed"),
}


class WidgetList(list[dict[str, Any]]):
    """A widget's items (dicts; ``item.product`` is the shop's product), with the list's
    ``widget``, ``title`` and ``recommendation_id``; rendered where it is output (``{{ recs }}``
    or the tag without ``as``) by the widget's template."""

    def __init__(self, items: list[dict[str, Any]], data: dict[str, Any], context: template.Context,
                 template_name: str) -> None:
        super().__init__(items)
        self.widget, self.title = data["widget"], data["title"]
        self.recommendation_id, self.engine = data["recommendation_id"], data.get("engine", "")
        self._data, self._context, self._template_name = data, context, template_name

    def __html__(self) -> str:
        context = self._context
        new_context = context.new(self._data)
        csrf_token = context.get("csrf_token")
        if csrf_token is not None:
            new_context["csrf_token"] = csrf_token
        engine = context.template.engine if context.template is not None else Engine.get_default()
        return engine.get_template(self._template_name).render(new_context)

    __str__ = __html__


def _widget(context: template.Context, widget: str, limit: Any, title: str | None,
            product: Any = None, max_per_category: Any = None) -> WidgetList:
    data: dict[str, Any] = {"widget": widget, "title": title or TITLES[widget], "items": [],
                            "recommendation_id": None, "request": context.get("request"),
                            "explanation": EXPLANATIONS[widget], "reasons": [],
                            "card_template": app_settings.CARD_TEMPLATE}
    try:
        n = int(limit) if limit not in (None, "") else app_settings.DEFAULT_LIMIT
        n = max(1, min(n, app_settings.MAX_LIMIT))
        if widget not in (presentation.SIMILAR, presentation.ALSO_BOUGHT) or product not in (None, ""):
            cap = int(max_per_category) if max_per_category not in (None, "") else None
            shown = presentation.show(context.get("request"), widget, n, product=product or None,
                                      max_per_category=cap, personal_only=True)
            items = [{**item, "product": rec.product} for item, rec in zip(shown.items, shown.recommendations)]
            _add_ratings(items)
            _add_cart_links(items)
            data.update(items=items, recommendation_id=shown.recommendation_id, reasons=_reasons(items),
                        engine=shown.engine, variant=shown.variant)
    except Exception:  # noqa: BLE001  (a widget must never break the page)
        logger.exception("recommendations: the %s widget failed; rendering nothing", widget)
        data["items"] = []
    return WidgetList(data["items"], data, context, f"recommendations/widgets/{TAGS[widget]}.html")


def _reasons(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The list's reasons, each once with the names of the products it explains, in order."""
    grouped: dict[str, list[str]] = {}
    for item in items:
        if item.get("reason"):
            grouped.setdefault(item["reason"], []).append(item["name"])
    return [{"reason": reason, "names": names} for reason, names in grouped.items()]


def _add_ratings(items: list[dict[str, Any]]) -> None:
    """``rating`` (the average, one decimal) and ``rating_count`` per item: one query."""
    rows = (Rating.objects.filter(product_id__in=[item["id"] for item in items]).values("product_id")
            .annotate(average=Avg("score"), count=Count("id")).order_by())
    found = {str(row["product_id"]): row for row in rows}
    for item in items:
        row = found.get(str(item["id"]))
        item["rating"] = round(float(row["average"]), 1) if row else None
        item["rating_count"] = row["count"] if row else 0


def _add_cart_links(items: list[dict[str, Any]]) -> None:
    """``add_to_cart_url`` per item when the shop names its add-to-cart view (ADD_TO_CART_URL)."""
    name = app_settings.ADD_TO_CART_URL
    for item in items:
        try:
            item["add_to_cart_url"] = reverse(name, args=[item["id"]]) if name else None
        except NoReverseMatch:
            item["add_to_cart_url"] = None


@register.simple_tag(takes_context=True)
def not_on_page(context: template.Context, products: Any, limit: Any = None) -> list[Any]:
    """The shop's own products (any iterable of instances) that no widget above has shown on
    this page, at most ``limit``; they count as shown for the widgets below. For a grid of the
    shop's own next to the widgets::

        {% not_on_page best_sellers limit=8 as picks %}
    """
    request = context.get("request")
    shown = presentation.on_page(request)
    kept = [p for p in products if str(p.pk) not in shown]
    kept = kept[: int(limit)] if limit not in (None, "") else kept
    presentation.mark_on_page(request, (p.pk for p in kept))
    return kept


class WidgetNode(SimpleNode):
    """``simple_tag``'s node, rendering the list as HTML where it is output (autoescape off too)."""

    def render(self, context: template.Context) -> str:
        output = super().render(context)
        return output if isinstance(output, str) else output.__html__()


Tag = TypeVar("Tag", bound=Callable[..., WidgetList])
# Django 6.0 dropped parse_bits()'s takes_context argument (callers now strip "context" first).
_parse_bits: Callable[..., tuple[list[FilterExpression], dict[str, FilterExpression]]] = parse_bits
_CONTEXT_ARGUMENT: tuple[bool, ...] = (False,) if django.VERSION < (6, 0) else ()


def widget_tag(func: Tag) -> Tag:
    """Register ``func`` as a tag taking ``simple_tag``'s arguments and an optional ``as name``."""
    params, varargs, varkw, defaults, kwonly, kwonly_defaults, _ = getfullargspec(unwrap(func))
    params = params[1:]  # the first is ``context``, filled in by the node

    def compile_func(parser: Parser, token: Token) -> WidgetNode:
        bits = token.split_contents()[1:]
        target_var = None
        if len(bits) >= 2 and bits[-2] == "as":
            target_var, bits = bits[-1], bits[:-2]
        args, kwargs = _parse_bits(parser, bits, params, varargs, varkw, defaults, kwonly, kwonly_defaults,
                                   *_CONTEXT_ARGUMENT, func.__name__)
        return WidgetNode(func, True, args, kwargs, target_var)

    register.tag(func.__name__, compile_func)
    return func


TAGS = {presentation.FOR_YOU: "recommended_for_you", presentation.SIMILAR: "similar_products",
        presentation.ALSO_BOUGHT: "also_bought", presentation.TRENDING: "trending_products",
        presentation.RECENTLY_VIEWED: "recently_viewed"}


@widget_tag
def recommended_for_you(context: template.Context,
                        limit: Any = None, title: str | None = None, max_per_category: Any = None) -> WidgetList:
    return _widget(context, presentation.FOR_YOU, limit, title, max_per_category=max_per_category)


@widget_tag
def similar_products(context: template.Context, product: Any,
                     limit: Any = None, title: str | None = None, max_per_category: Any = None) -> WidgetList:
    return _widget(context, presentation.SIMILAR, limit, title, product, max_per_category)


@widget_tag
def also_bought(context: template.Context, product: Any,
                limit: Any = None, title: str | None = None, max_per_category: Any = None) -> WidgetList:
    return _widget(context, presentation.ALSO_BOUGHT, limit, title, product, max_per_category)


@widget_tag
def trending_products(context: template.Context,
                      limit: Any = None, title: str | None = None, max_per_category: Any = None) -> WidgetList:
    return _widget(context, presentation.TRENDING, limit, title, max_per_category=max_per_category)


@widget_tag
def recently_viewed(context: template.Context,
                    limit: Any = None, title: str | None = None, max_per_category: Any = None) -> WidgetList:
    return _widget(context, presentation.RECENTLY_VIEWED, limit, title, max_per_category=max_per_category)
