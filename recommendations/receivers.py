"""Receivers connected in ``RecommendationsConfig.ready()``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import signals
from .capture import merge_anonymous_history, record_event
from .models import Event


@receiver(signals.product_viewed, dispatch_uid="recommendations.product_viewed")
def on_product_viewed(sender: Any, product: Any, request=None, user=None, **kwargs: Any) -> None:
    record_event(Event.Kind.VIEW, product, request=request, user=user)


@receiver(signals.product_added_to_cart, dispatch_uid="recommendations.product_added_to_cart")
def on_product_added_to_cart(sender: Any, product: Any, request=None, user=None,
                             quantity: int = 1, **kwargs: Any) -> None:
    record_event(Event.Kind.CART, product, request=request, user=user, quantity=quantity)


@receiver(signals.product_purchased, dispatch_uid="recommendations.product_purchased")
def on_product_purchased(sender: Any, product: Any, request=None, user=None,
                         quantity: int = 1, **kwargs: Any) -> None:
    record_event(Event.Kind.PURCHASE, product, request=request, user=user, quantity=quantity)


@receiver(user_logged_in, dispatch_uid="recommendations.merge_on_login")
def on_user_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None:
        merge_anonymous_history(request, user)
