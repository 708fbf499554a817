"""Drop-in capture for a shop's own views."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from .signals import product_viewed


class TrackProductViewMixin:
    """Records a view each time a ``DetailView`` of the product model renders successfully::

        class ProductDetail(TrackProductViewMixin, DetailView):
            model = Product
    """

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)  # type: ignore[misc]
        if response.status_code == 200 and getattr(self, "object", None) is not None:
            product_viewed.send(sender=type(self), request=request, product=self.object)
        return response
