"""Display helpers of the demo shop's templates."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

ENGINE_LABELS = {
    "hybrid": "our blended recommender, which mixes what similar shoppers bought with product similarity",
    "item_cf": "products that are bought and viewed together with ones you know",
    "user_cf": "what shoppers with tastes like yours chose",
    "content": "products whose description, category, brand and price resemble ones you liked",
    "deep": "a neural model of your tastes and of the products' features",
    "sequence": "what shoppers usually look at next, after what you just viewed",
    "popular": "what is popular with all our shoppers",
    "trending": "what is selling fast right now",
    "history": "products you looked at recently",
}


@register.filter
def engine_label(engine: str) -> str:
    return ENGINE_LABELS.get(engine, engine or "our recommendations")


@register.simple_tag
def stars(average: float | None, count: int | None = None):
    """Five stars with the average filled in, readable by screen readers as a sentence."""
    if not average:
        return mark_safe('<span class="stars stars-none">Not rated yet</span>')
    filled = round(average)
    suffix = f" ({count})" if count else ""
    label = f"Rated {average:.1f} out of 5" + (f" by {count} shopper{'s' if count != 1 else ''}" if count else "")
    return format_html('<span class="stars" role="img" aria-label="{}"><span aria-hidden="true">{}{}</span>'
                       '<span class="stars-text" aria-hidden="true"> {}{}</span></span>',
                       label, "★" * filled, "☆" * (5 - filled), f"{average:.1f}", suffix)
