"""Public signals a shop sends from its own views and checkout.

Each takes ``product`` (an instance of the product model) and either ``request`` (the shopper
is read from it: the signed-in user, or the session for anonymous visitors) or ``user``.
``product_added_to_cart`` and ``product_purchased`` also take ``quantity`` (default 1);
``product_purchased`` takes ``price`` (the unit price paid; default: the product's price now),
and ``product_added_to_cart`` ``recommendation_id`` (the widget's list the product was added
from: it counts as a click on it)::

    from recommendations.signals import product_purchased
    product_purchased.send(sender=Order, request=request, product=line.product, quantity=line.qty)

``event_recorded`` is sent by the app after it stored an event (``event``), so caches and
precomputed lists can react.
"""

from django.dispatch import Signal

product_viewed = Signal()
product_added_to_cart = Signal()
product_purchased = Signal()
event_recorded = Signal()
