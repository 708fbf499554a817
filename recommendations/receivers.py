"""Receivers connected in ``RecommendationsConfig.ready()``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import passwords, profiles, signals
from .capture import merge_anonymous_history, record_event
from .conf import app_settings
from .models import Event, Rating


@receiver(signals.product_viewed, dispatch_uid="recommendations.product_viewed")
def on_product_viewed(sender: Any, product: Any, request=None, user=None, **kwargs: Any) -> None:
    record_event(Event.Kind.VIEW, product, request=request, user=user)


@receiver(signals.product_added_to_cart, dispatch_uid="recommendations.product_added_to_cart")
def on_product_added_to_cart(sender: Any, product: Any, request=None, user=None,
                             quantity: int = 1, recommendation_id: Any = None, **kwargs: Any) -> None:
    record_event(Event.Kind.CART, product, request=request, user=user, quantity=quantity)
    if recommendation_id and request is not None:
        # Added straight from a widget's card: counts as a click on it (the shopper chose it there).
        from . import feedback
        from .serving import Shopper

        impression = feedback.get_impression(recommendation_id, Shopper.from_request(request))
        if impression is not None and feedback.in_impression(impression, product.pk):
            feedback.record_click(impression, product.pk)


@receiver(signals.product_purchased, dispatch_uid="recommendations.product_purchased")
def on_product_purchased(sender: Any, product: Any, request=None, user=None,
                         quantity: int = 1, price: Any = None, **kwargs: Any) -> None:
    record_event(Event.Kind.PURCHASE, product, request=request, user=user, quantity=quantity, price=price)


@receiver(user_logged_in, dispatch_uid="recommendations.merge_on_login")
def on_user_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None and merge_anonymous_history(request, user):
        from .serving import Shopper, invalidate

        invalidate(Shopper(user_id=user.pk))


@receiver(user_login_failed, dispatch_uid="recommendations.count_failed_password")
def on_user_login_failed(sender: Any, credentials: dict, request=None, **kwargs: Any) -> None:
    passwords.record_failure(request, passwords.username_of(credentials))


@receiver(user_logged_in, dispatch_uid="recommendations.forget_failed_passwords")
def on_user_logged_in_forget_failures(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    passwords.forget_failures(user.get_username())


@receiver(signals.event_recorded, dispatch_uid="recommendations.invalidate_on_event")
def on_event_recorded(sender: Any, event: Event, **kwargs: Any) -> None:
    from .serving import Shopper, invalidate

    invalidate(Shopper(user_id=event.user_id, session_key="" if event.user_id else event.session_key))


@receiver(post_save, sender=Rating, dispatch_uid="recommendations.invalidate_on_rating")
@receiver(post_delete, sender=Rating, dispatch_uid="recommendations.invalidate_on_rating_delete")
def on_rating_changed(sender: Any, instance: Rating, **kwargs: Any) -> None:
    from .serving import Shopper, invalidate

    invalidate(Shopper(user_id=instance.user_id))



def on_product_changed(sender: Any, **kwargs: Any) -> None:
    """A product saved or deleted: every process drops its serving product cache (so a product
    made unavailable is not shown from a cached list)."""
    from .serving import products_changed

    products_changed()


# The product model is swappable: connected by its label, resolved once the model is loaded.
post_save.connect(on_product_changed, sender=app_settings.product_model,
                  dispatch_uid="recommendations.product_saved")
post_delete.connect(on_product_changed, sender=app_settings.product_model,
                    dispatch_uid="recommendations.product_deleted")


@receiver(profiles.choices_changed, dispatch_uid="recommendations.choices_changed")
def on_choices_changed(sender: Any, shopper: Any, **kwargs: Any) -> None:
    from .serving import invalidate

    invalidate(shopper)
