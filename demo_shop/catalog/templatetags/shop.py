"""Display helpers of the demo shop's templates."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

register = template.Library()

ENGINE_LABELS = {
    "hybrid": gettext_lazy("our blended recommender, which mixes what similar shoppers bought with product "
                           "similarity"),
    "item_cf": gettext_lazy("products that are bought and viewed together with ones you know"),
    "user_cf": gettext_lazy("what shoppers with tastes like yours chose"),
    "content": gettext_lazy("products whose description, category, brand and price resemble ones you liked"),
    "deep": gettext_lazy("a neural model of your tastes and of the products' features"),
    "sequence": gettext_lazy("what shoppers usually look at next, after what you just viewed"),
    "popular": gettext_lazy("what is popular with all our shoppers"),
    "trending": gettext_lazy("what is selling fast right now"),
    "history": gettext_lazy("products you looked at recently"),
}


@register.filter
def engine_label(engine: str) -> str:
    return str(ENGINE_LABELS.get(engine, engine or _("our recommendations")))


@register.simple_tag
def stars(average: float | None, count: int | None = None):
    """Five stars with the average filled in, readable by screen readers as a sentence."""
    if not average:
        return format_html('<span class="stars stars-none">{}</span>', _("Not rated yet"))
    filled = round(average)
    suffix = f" ({count})" if count else ""
    shown = number_format(round(average, 1), 1)  # number_format cuts a float's extra digits
    if count:
        label = ngettext("Rated %(rating)s out of 5 by %(count)d shopper",
                         "Rated %(rating)s out of 5 by %(count)d shoppers", count) % {"rating": shown, "count": count}
    else:
        label = _("Rated %(rating)s out of 5") % {"rating": shown}
    return format_html('<span class="stars" role="img" aria-label="{}"><span aria-hidden="true">{}{}</span>'
                       '<span class="stars-text" aria-hidden="true"> {}{}</span></span>',
                       label, "★" * filled, "☆" * (5 - filled), shown, suffix)
