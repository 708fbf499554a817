"""Authentication for API clients that resists password guessing (see
:mod:`recommendations.passwords`): session authentication for the shop's own pages, token
authentication for other clients, and HTTP Basic only where a host insists.

The recommended ``REST_FRAMEWORK`` settings (docs/settings.md)::

    INSTALLED_APPS += ["rest_framework.authtoken"]
    REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ]}
    urlpatterns += [path("api/token/", ObtainTokenView.as_view())]
"""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import BasicAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import passwords
from .schema import RecommendationsAutoSchema
from .serializers import CredentialsSerializer


class PasswordGuessThrottled(exceptions.Throttled):
    default_detail = _("Too many failed sign-in attempts.")
    extra_detail_singular = _("Try again in {wait} second.")
    extra_detail_plural = _("Try again in {wait} seconds.")


def refuse_if_locked(request, username: str) -> None:
    """Raise a 429 (with ``Retry-After``) while ``username`` or the client's address is locked."""
    wait = passwords.refusal(request, username)
    if wait is not None:
        raise PasswordGuessThrottled(wait)


class ThrottledBasicAuthentication(BasicAuthentication):
    """DRF's Basic authentication, refusing checks for a locked account or address (429)."""

    def authenticate_credentials(self, userid, password, request=None):
        refuse_if_locked(request, userid)
        return super().authenticate_credentials(userid, password, request)


class ObtainTokenView(APIView):
    """POST a username and password, get the account's API token (``rest_framework.authtoken``
    must be installed); refused with 429 while the account or the address is locked."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    throttle_classes: list = []

    schema = RecommendationsAutoSchema()

    def get_authenticate_header(self, request) -> str:
        return 'Token realm="api"'  # a 401 says which credentials the token stands for

    @extend_schema(
        summary="Exchange a username and password for an API token", request=CredentialsSerializer,
        responses={200: inline_serializer("Token", {"token": serializers.CharField()}),
                   400: OpenApiResponse(description="A field missing or malformed: the body names it."),
                   401: OpenApiResponse(description="Wrong username or password (or an inactive account)."),
                   429: OpenApiResponse(description="Too many failed attempts for the account or from "
                                                    "this address: retry after Retry-After seconds.")})
    def post(self, request):
        from rest_framework.authtoken.models import Token  # only where rest_framework.authtoken is installed

        username = request.data.get("username") if isinstance(request.data, dict) else None
        refuse_if_locked(request, str(username or ""))
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(request=request, **credentials.validated_data)  # a failure is counted
        if user is None:
            raise exceptions.AuthenticationFailed(_("Unable to log in with the username and password given."))
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
