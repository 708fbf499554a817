"""Oscar's signals forwarded to capture: what a shop would otherwise write as glue."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from oscar.apps.basket.signals import basket_addition
from oscar.apps.catalogue.signals import product_viewed
from oscar.apps.checkout.signals import post_checkout
from oscar.core.loading import get_model

from ... import signals
from ...models import Rating
from ...receivers import on_product_changed

ProductReview = get_model("reviews", "ProductReview")
StockRecord = get_model("partner", "StockRecord")


@receiver(product_viewed, dispatch_uid="recommendations.oscar.product_viewed")
def on_product_viewed(sender: Any, product: Any, user: Any = None, request: Any = None, **kwargs: Any) -> None:
    signals.product_viewed.send(sender=type(product), product=product, request=request)


@receiver(basket_addition, dispatch_uid="recommendations.oscar.basket_addition")
def on_basket_addition(sender: Any, product: Any, user: Any = None, request: Any = None, **kwargs: Any) -> None:
    """Oscar's signal has no quantity: it is the quantity posted (validated by Oscar's form),
    else that of the basket line the view just created."""
    signals.product_added_to_cart.send(sender=type(product), product=product, request=request,
                                       quantity=_added_quantity(sender, request))


def _added_quantity(view: Any, request: Any) -> int:
    try:
        quantity = int((request.POST if request is not None else {}).get("quantity", ""))
    except (TypeError, ValueError):
        quantity = 0
    if quantity < 1:
        line = getattr(view, "line", None)
        quantity = line.quantity if line is not None and getattr(view, "line_created", False) else 1
    return quantity


@receiver(post_checkout, dispatch_uid="recommendations.oscar.post_checkout")
def on_post_checkout(sender: Any, order: Any, user: Any = None, request: Any = None, **kwargs: Any) -> None:
    """Every line of the placed order is a purchase, by the shopper who checked out."""
    for line in order.lines.select_related("product"):
        if line.product is not None:
            signals.product_purchased.send(sender=type(line.product), product=line.product, request=request,
                                           user=order.user, quantity=line.quantity)


@receiver(post_save, sender=ProductReview, dispatch_uid="recommendations.oscar.review_saved")
def on_review_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """A signed-in shopper's review is their rating of the product (Oscar's 0-5 stars; 0 counts
    as 1). Unapproved reviews count too: the shopper said what they think."""
    if raw or instance.user_id is None or instance.product_id is None:
        return
    Rating.objects.update_or_create(user_id=instance.user_id, product_id=instance.product_id,
                                    defaults={"score": min(5, max(1, int(instance.score))),
                                              "updated_at": timezone.now()})


@receiver(post_delete, sender=ProductReview, dispatch_uid="recommendations.oscar.review_deleted")
def on_review_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.user_id is not None and instance.product_id is not None:
        Rating.objects.filter(user_id=instance.user_id, product_id=instance.product_id).delete()


# A stock record's price or stock is part of what lists show: drop cached products on change.
post_save.connect(on_product_changed, sender=StockRecord, dispatch_uid="recommendations.oscar.stock_saved")
post_delete.connect(on_product_changed, sender=StockRecord, dispatch_uid="recommendations.oscar.stock_deleted")
