"""What every page of the demo shop shows: the category menu and the cart's item count."""

from django.http import HttpRequest

from .models import Category


def shop(request: HttpRequest) -> dict:
    cart = request.session.get("cart", {}) if hasattr(request, "session") else {}
    return {"menu_categories": Category.objects.order_by("name"), "cart_count": sum(cart.values())}
