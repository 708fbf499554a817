"""``{% load recommendations %}``: recommendation widgets for a shop's templates.

Each tag renders ``recommendations/widgets/<tag>.html`` (override it in your templates) for the
shopper behind ``request`` in the context (signed in, or the anonymous session)::

    {% recommended_for_you limit=6 title="Picked for you" %}
    {% similar_products product limit=4 %}
    {% also_bought product %}
    {% trending_products limit=8 %}
    {% recently_viewed limit=5 %}

A tag never breaks a page: with no model trained serving falls back to popularity, and any
unexpected error is logged and the widget renders nothing. Every list shown is stored as an
impression; product links go through the click redirect so the click is attributed to it.
"""

from __future__ import annotations

import logging
from typing import Any

from django import template

from .. import presentation

register = template.Library()
logger = logging.getLogger("recommendations.templatetags")

TITLES = {
    presentation.FOR_YOU: "Recommended for you",
    presentation.SIMILAR: "Similar products",
    presentation.ALSO_BOUGHT: "Customers also bought",
    presentation.TRENDING: "Trending now",
    presentation.RECENTLY_VIEWED: "Recently viewed",
}


def _widget(context: template.Context, widget: str, limit: Any, title: str | None,
            product: Any = None, max_per_category: Any = None) -> dict[str, Any]:
    data: dict[str, Any] = {"widget": widget, "title": title or TITLES[widget], "items": [],
                            "recommendation_id": None, "request": context.get("request")}
    try:
        from ..conf import app_settings

        n = int(limit) if limit not in (None, "") else app_settings.DEFAULT_LIMIT
        n = max(1, min(n, app_settings.MAX_LIMIT))
        if widget in (presentation.SIMILAR, presentation.ALSO_BOUGHT) and product in (None, ""):
            return data
        cap = int(max_per_category) if max_per_category not in (None, "") else None
        shown = presentation.show(context.get("request"), widget, n, product=product or None,
                                  max_per_category=cap)
        data.update(items=shown.items, recommendation_id=shown.recommendation_id,
                    engine=shown.engine, variant=shown.variant)
    except Exception:  # noqa: BLE001  (a widget must never break the page)
        logger.exception("recommendations: the %s widget failed; rendering nothing", widget)
        data["items"] = []
    return data


@register.inclusion_tag("recommendations/widgets/recommended_for_you.html", takes_context=True)
def recommended_for_you(context, limit=None, title=None, max_per_category=None):
    return _widget(context, presentation.FOR_YOU, limit, title, max_per_category=max_per_category)


@register.inclusion_tag("recommendations/widgets/similar_products.html", takes_context=True)
def similar_products(context, product, limit=None, title=None, max_per_category=None):
    return _widget(context, presentation.SIMILAR, limit, title, product, max_per_category)


@register.inclusion_tag("recommendations/widgets/also_bought.html", takes_context=True)
def also_bought(context, product, limit=None, title=None, max_per_category=None):
    return _widget(context, presentation.ALSO_BOUGHT, limit, title, product, max_per_category)


@register.inclusion_tag("recommendations/widgets/trending_products.html", takes_context=True)
def trending_products(context, limit=None, title=None, max_per_category=None):
    return _widget(context, presentation.TRENDING, limit, title, max_per_category=max_per_category)


@register.inclusion_tag("recommendations/widgets/recently_viewed.html", takes_context=True)
def recently_viewed(context, limit=None, title=None, max_per_category=None):
    return _widget(context, presentation.RECENTLY_VIEWED, limit, title, max_per_category=max_per_category)
