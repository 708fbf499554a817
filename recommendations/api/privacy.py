"""``me/data/``: a shopper downloads (GET) or erases (DELETE) what the app stores about them."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from .. import privacy
from ..serving import Shopper
from .views import ShopperAPIView


class MyDataView(ShopperAPIView):
    throttle_scope = "recommendations.privacy"

    @extend_schema(summary="Export everything stored about the current shopper (JSON)",
                   responses={200: OpenApiResponse(description="events, ratings, impressions, clicks")})
    def get(self, request):
        data = privacy.export(Shopper.from_request(request))
        return Response(data, headers={"Content-Disposition": 'attachment; filename="my-shopping-data.json"',
                                       "Cache-Control": "no-store"})

    @extend_schema(summary="Erase the current shopper's events, ratings and recommendation history",
                   request=None, responses={200: OpenApiResponse(description="rows deleted per kind"),
                                            403: OpenApiResponse(description="A missing CSRF token.")})
    def delete(self, request):
        return Response({"deleted": privacy.erase(Shopper.from_request(request))})
