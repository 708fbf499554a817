"""``me/profile/`` and ``me/not-interested/``: the current shopper's own profile, and the
products and categories they asked not to be shown. Nobody reads another shopper's."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from .. import profiles
from ..capture import anonymous_session_key
from ..serving import Shopper
from . import serializers as s
from .views import DENIED, ERRORS, THROTTLED, ShopperAPIView, validated


def profile_payload(shopper: Shopper) -> dict:
    stored = profiles.get_profile(shopper)
    data = stored.data if stored is not None else profiles.Profile(shopper=shopper.data_key).as_dict()
    choices = profiles.not_interested_entries(shopper)
    return {**data, "not_interested": s.NotInterestedSerializer(choices, many=True).data,
            "computed_at": stored.computed_at if stored is not None else None}


class MyProfileView(ShopperAPIView):
    @extend_schema(summary="What the shop knows about the current shopper, and what shapes their lists",
                   responses={200: s.ShopperProfileSerializer})
    def get(self, request):
        return Response(profile_payload(Shopper.from_request(request)), headers={"Cache-Control": "no-store"})


class NotInterestedListView(ShopperAPIView):
    throttle_scope = "recommendations.preferences"

    @extend_schema(summary="The current shopper's \"not interested\" products and categories",
                   responses={200: s.NotInterestedSerializer(many=True)})
    def get(self, request):
        choices = profiles.not_interested_entries(Shopper.from_request(request))
        return Response(s.NotInterestedSerializer(choices, many=True).data)

    @extend_schema(summary="Stop recommending a product or a category to the current shopper "
                   "(from the next request on)", request=s.NotInterestedChoiceSerializer,
                   responses={**DENIED, **THROTTLED, 201: s.NotInterestedSerializer,
                              200: s.NotInterestedSerializer, 400: ERRORS[400],
                              404: OpenApiResponse(description="No such product, or no product in that "
                                                               "category: the body names the field.")})
    def post(self, request):
        choice = validated(s.NotInterestedChoiceSerializer, request)
        shopper = Shopper.from_request(request)
        if not shopper.known:  # an anonymous visitor without a session yet: one to remember it by
            shopper = Shopper(session_key=anonymous_session_key(request))
        entry, created = profiles.mark_not_interested(
            shopper, product=choice.get("product"), category=choice.get("category", ""))
        return Response(s.NotInterestedSerializer(entry).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class NotInterestedDetailView(ShopperAPIView):
    throttle_scope = "recommendations.preferences"

    @extend_schema(summary="Undo one of the current shopper's \"not interested\" choices", request=None,
                   responses={**DENIED, **THROTTLED, 204: None,
                              404: OpenApiResponse(description="No such choice of yours.")})
    def delete(self, request, pk):
        try:
            entry_id = int(pk)
        except ValueError:
            raise Http404(_("No such choice of yours.")) from None
        if not profiles.undo_not_interested(Shopper.from_request(request), entry_id):
            raise Http404(_("No such choice of yours."))
        return Response(status=status.HTTP_204_NO_CONTENT)
