"""The REST API: lists for the current shopper and for a product, event capture for JavaScript
front ends, the shopper's own ratings and history, click feedback, and staff-only model versions.

Every list is computed by ``serving`` (through ``presentation``, shared with the template tags)
and stored as an impression whose id comes back as ``recommendation_id``.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.urls import NoReverseMatch, Resolver404, ResolverMatch, get_script_prefix, get_urlconf, resolve, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication, TokenAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from .. import feedback, presentation, serving, tasks, training
from .. import products as catalogue
from ..capture import is_bot, record_event
from ..conf import ENGINE_NAMES, app_settings, get_product_model
from ..models import ModelVersion, Rating
from ..serving import Shopper
from . import serializers as s
from .schema import RecommendationsAutoSchema
from .throttling import CsrfForSessionShoppersMixin, ReadRateThrottle, SafeAuthenticationMixin, WriteRateThrottle

logger = logging.getLogger(__name__)

ERRORS = {
    400: OpenApiResponse(description="Invalid parameter or payload: the body names the field."),
    404: OpenApiResponse(description="Unknown product (in the URL or the body): the body names it."),
}
DENIED = {403: OpenApiResponse(description="Invalid credentials, not signed in, not allowed (staff only), "
                                           "or a missing CSRF token.")}
# Authentication by which a request without an ``Authorization`` header is its session's user:
# the only ones a kept response is served under before DRF's dispatch.
KEPT_AUTHENTICATION = (SessionAuthentication, BasicAuthentication, TokenAuthentication)
THROTTLED = {415: OpenApiResponse(description="A body that is not JSON."),
             429: OpenApiResponse(description="Too many requests: retry after Retry-After seconds.")}


def list_params(request) -> dict[str, Any]:
    """Validated ``limit``, ``offset``, ``exclude``, ``max_per_category``. Plain valid values
    are read directly (building a serializer costs a visible share of a cached list request);
    anything else goes through ``ListParamsSerializer``, which names the field in a 400."""
    plain = _plain_list_params(request.query_params)
    if plain is not None:
        return plain
    params = s.ListParamsSerializer(data=request.query_params)
    params.is_valid(raise_exception=True)
    data = dict(params.validated_data)
    data.setdefault("limit", app_settings.DEFAULT_LIMIT)
    return data


_MINIMUM = {"limit": 1, "offset": 0, "max_per_category": 1}


def _plain_list_params(query: QueryDict) -> dict[str, Any] | None:
    """The parameters when every one is a plain valid value, else None (let the serializer judge)."""
    data: dict[str, Any] = {"offset": 0}
    for key, values in query.lists():
        value = values[-1]
        if key == "exclude":
            if "\x00" in value or value.count(",") >= s.MAX_EXCLUDED:
                return None
            data[key] = [part.strip() for part in value.split(",") if part.strip()]
        elif key in _MINIMUM:
            if not (value.isascii() and value.isdigit()) or int(value) < _MINIMUM[key]:
                return None
            data[key] = int(value)
    if (data.get("limit", 1) > app_settings.MAX_LIMIT or data.get("max_per_category", 1) > app_settings.MAX_LIMIT
            or data["offset"] > s.MAX_OFFSET):
        return None
    data.setdefault("limit", app_settings.DEFAULT_LIMIT)
    return data


def validated(serializer_class, request, **kwargs) -> dict[str, Any]:
    """The request body validated by ``serializer_class``: a 400 naming the fields, or a 404
    naming them when all that is wrong is that they name nothing that exists (an unknown
    product or category is not a malformed request)."""
    payload = serializer_class(data=request.data, **kwargs)
    if payload.is_valid():
        return payload.validated_data
    codes = {getattr(detail, "code", None) for details in payload.errors.values()
             for detail in (details if isinstance(details, list) else [details])}
    if codes <= s.NOT_FOUND_CODES:
        raise exceptions.NotFound(payload.errors)
    raise exceptions.ValidationError(payload.errors)


def get_product(pk: str, list_kind: str = ""):
    """The product named in a URL, from the serving product cache when it holds it (a cached
    "similar products" request then makes no database query; ``list_kind``: read with the
    products of its cached list of that kind when it does not); unknown -> 404."""
    model = get_product_model()
    try:
        key = None if "\x00" in pk else model._meta.pk.to_python(pk)
        product = None if key is None else (
            serving.list_subject(list_kind, key) if list_kind else serving.product_cache.get(key))
    except (ValueError, TypeError, OverflowError, DjangoValidationError):
        product = None
    if product is None:
        raise Http404(gettext("No product with id %(id)r.") % {"id": pk})
    return product


class ShopperAPIView(SafeAuthenticationMixin, CsrfForSessionShoppersMixin, APIView):
    """Open to anonymous shoppers (identified by their session) and signed-in ones. JSON bodies
    only; reads throttled per shopper and per address, writes per shopper and scope."""

    permission_classes = [AllowAny]
    parser_classes = [JSONParser]
    throttle_classes = [ReadRateThrottle, WriteRateThrottle]
    schema = RecommendationsAutoSchema()


class _ListView(ShopperAPIView):
    """A list, answered from its finished JSON when the cache holds it: a cached request then
    costs one cache read, the impression and the response, no serializer, renderer or product
    instances (``serving.cached_response``; the response's impression id is the one part
    that differs per request, stored as ``serving.RESPONSE_ID``). A plain ``GET`` whose answer is
    kept is served before DRF's dispatch (see ``_kept_before_dispatch``)."""

    widget = ""

    @classmethod
    def as_view(cls, **initkwargs):
        view = super().as_view(**initkwargs)
        _LIST_VIEWS.add(view)  # this function itself, not a host's wrapper of it
        return view

    def product(self, kwargs):
        return None

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and not hasattr(request, "_recommendations_missed"):  # not read yet
            kept = self._kept_before_dispatch(request, kwargs)
            if kept is not None:
                return kept
        return super().dispatch(request, *args, **kwargs)

    def _kept_before_dispatch(self, request, kwargs) -> HttpResponse | None:
        """The kept response, served without DRF's request wrapping, content negotiation,
        authenticators and rendering (about a fifth of a cached request's cost), or None (DRF
        then dispatches as always) unless every step DRF would take is known to come to the
        same answer here: the first renderer for ``Accept: */*`` (or its own media type, or no
        header) and no ``format``; plain valid parameters; authentication by the session (or
        by an ``Authorization`` header, when none is sent) of an active user or none; this
        view's own throttles."""
        renderer_class = self.renderer_classes[0]
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if (accept not in ("*/*", renderer_class.media_type) or api_settings.FORMAT_SUFFIX_KWARG in kwargs
                or (api_settings.URL_FORMAT_OVERRIDE or "format") in request.GET
                or "HTTP_AUTHORIZATION" in request.META or self.throttle_classes != ShopperAPIView.throttle_classes
                or not _kept_under(tuple(self.authentication_classes_in_use()))):
            return None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_active:
            return None  # DRF's SessionAuthentication would take them for anonymous
        params = _plain_list_params(request.GET)
        if params is None:
            return None
        shopper = Shopper.from_request(request)
        stored_as = self._stored_as(request, shopper, params, kwargs, renderer_class(), renderer_class.media_type)
        if stored_as is None:
            return None
        since = time.time()
        stored, token, signature = serving.cached_response(*stored_as)
        if stored is None:  # DRF's dispatch builds it, with what this read found (see ``get``)
            request._recommendations_missed = (stored_as, token, signature, since)
            return None
        # The write throttle lets every read through; a refused read is refused again, and
        # counted nowhere, by DRF's own check.
        if not ReadRateThrottle().allow_request(request, self, shopper):
            return None
        response = self._kept_response(shopper, stored, renderer_class.media_type)
        if response is not None:
            response["Allow"] = _allow_header(self)
            if len(self.renderer_classes) > 1:
                patch_vary_headers(response, ["Accept"])
        return response

    def _kept_response(self, shopper: Shopper, stored, media_type: str) -> HttpResponse | None:
        """The kept response with a new impression's id, or None if no impression was stored."""
        body, product_ids, engine, variant = stored
        shown_id = feedback.record_shown(shopper, self.widget, product_ids, engine, variant)
        if shown_id is None:
            return None
        content = body.replace(serving.RESPONSE_ID, str(shown_id).encode())
        response = HttpResponse(content, content_type=media_type)
        response["Content-Length"] = str(len(content))  # as CommonMiddleware would, wherever it stands
        return response

    def get(self, request, **kwargs):
        params = list_params(request)
        shopper = Shopper.from_request(request)
        stored_as = self._stored_as(request, shopper, params, kwargs, request.accepted_renderer,
                                    request.accepted_media_type)
        missed = getattr(request._request, "_recommendations_missed", None)
        if missed is not None and missed[0] == stored_as:  # read already, before DRF's dispatch
            token, signature, since = missed[1:]
        elif stored_as is not None:
            since = time.time()
            stored, token, signature = serving.cached_response(*stored_as)
            if stored is not None:
                response = self._kept_response(shopper, stored, request.accepted_renderer.media_type)
                if response is not None:
                    return response
        product = self.product(kwargs)
        shown = presentation.show(request, self.widget, params["limit"], product=product,
                                  exclude=params.get("exclude", ()),
                                  max_per_category=params.get("max_per_category"), shopper=shopper)
        data = {"recommendation_id": shown.recommendation_id, "widget": shown.widget,
                "engine": shown.engine, "variant": shown.variant, "results": shown.items}
        if stored_as is None or shown.recommendation_id is None:
            return Response(data)
        body = request.accepted_renderer.render(data, request.accepted_media_type, self.get_renderer_context())
        serving.store_response(
            *stored_as, (body.replace(str(shown.recommendation_id).encode(), serving.RESPONSE_ID),
                         [catalogue.json_key(rec.product_id) for rec in shown.recommendations],
                         shown.engine, shown.variant),
            token=token, signature=signature, since=since)
        return HttpResponse(body, content_type=request.accepted_renderer.media_type)

    def _stored_as(self, request, shopper: Shopper, params: dict[str, Any], kwargs, renderer,
                   media_type: str) -> tuple[str, str] | None:
        """``(cache entry, name)`` of this request's finished response, or None when it is not
        kept: a renderer other than plain JSON (the browsable API, an ``indent``), a bot (no
        impression), impressions off, or ranking hooks (which may answer differently each time)."""
        if (not isinstance(renderer, JSONRenderer) or media_type != renderer.media_type
                or not app_settings.RECORD_IMPRESSIONS or app_settings.RANKING_HOOKS or is_bot(request)):
            return None
        variant = ""
        if self.widget == presentation.FOR_YOU:
            if not shopper.known:
                return None
            key = shopper.cache_key
            arm = serving.assign_variant(shopper) if app_settings.AB_TEST else None
            variant = f"{arm.name}/{arm.engine}" if arm else ""
        elif self.widget == presentation.TRENDING:
            key = serving.TRENDING_KEY
        else:
            try:
                pk = get_product_model()._meta.pk.to_python(kwargs["pk"])
            except (ValueError, TypeError, OverflowError, DjangoValidationError):
                return None
            key = serving.list_key(self.widget, pk)
        excluded = ",".join(sorted(set(params.get("exclude", ()))))
        return key, (f"response:{self.widget}:{type(renderer).__qualname__}:{get_language()}:{get_script_prefix()}:"
                     f"{get_urlconf() or ''}:"
                     f"{params['limit']}:{params.get('max_per_category')}:{variant}:{excluded}")


#: The view functions ``_ListView.as_view`` made: ``kept_list_response`` answers for these only,
#: never for a host's decorated wrapper of one (its decorator, e.g. ``login_required``, must run).
_LIST_VIEWS: set = set()


def kept_list_response(request: HttpRequest) -> HttpResponse | None:
    """The kept answer to a plain ``GET`` of one of the app's lists, for ``KeptListsMiddleware``
    (which answers it without the rest of the middleware, URL resolution's view middleware and
    DRF's wrapper): the view's own ``_kept_before_dispatch``, or None for any other request.
    Only requests under the app's URLs (those of its ``recommendations`` namespace) are resolved,
    so the shop's own pages pay one prefix comparison; a request without ``request.user``
    (the middleware placed before ``AuthenticationMiddleware``) is never answered."""
    if request.method != "GET" or not hasattr(request, "user"):
        return None
    urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
    prefix = _lists_path(urlconf)
    if prefix is None or not request.path.startswith(prefix):
        return None
    match = _list_view_match(urlconf, request.path_info)
    if match is None:
        return None
    view = match.func.view_class(**match.func.view_initkwargs)
    view.setup(request, **match.kwargs)
    request.resolver_match = match
    return view._kept_before_dispatch(request, view.kwargs)


@functools.lru_cache(maxsize=32)
def _lists_path(urlconf: Any) -> str | None:
    """The path under which ``urlconf`` serves the app's lists (``trending/``'s parent, with the
    script prefix of the first request: a request under another prefix is simply not answered by
    ``kept_list_response``), or None if it does not include them."""
    try:
        return reverse("recommendations:trending", urlconf=urlconf).removesuffix("trending/")
    except NoReverseMatch:
        return None


@functools.lru_cache(maxsize=4096)
def _list_view_match(urlconf: Any, path_info: str) -> ResolverMatch | None:
    """``path_info``'s match if it is one of the app's list views, else None: each path is
    resolved once per URL configuration, not on every request, so a shop with many URL patterns
    before the app's does not walk them for every kept list (Django resolves a path the same way
    every time under one configuration; the shared match is only read)."""
    try:
        match = resolve(path_info, urlconf)
    except Resolver404:
        return None
    return match if match.func in _LIST_VIEWS and not match.args else None


@functools.cache
def _kept_under(authentication_classes: tuple[type, ...]) -> bool:
    return all(issubclass(cls, KEPT_AUTHENTICATION) for cls in authentication_classes)


_ALLOW: dict[type, str] = {}


def _allow_header(view: APIView) -> str:
    """The ``Allow`` header DRF gives the view's responses (the same for every instance)."""
    if type(view) not in _ALLOW:
        _ALLOW[type(view)] = ", ".join(view.allowed_methods)
    return _ALLOW[type(view)]


class ForYouView(_ListView):
    widget = presentation.FOR_YOU

    @extend_schema(summary="Recommended for the current shopper", parameters=[s.ItemListParamsSerializer],
                   responses={200: s.RecommendationListSerializer, 400: ERRORS[400]})
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class TrendingView(_ListView):
    widget = presentation.TRENDING

    @extend_schema(summary="Trending products", parameters=[s.ItemListParamsSerializer],
                   responses={200: s.RecommendationListSerializer, 400: ERRORS[400]})
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class SimilarView(_ListView):
    widget = presentation.SIMILAR

    def product(self, kwargs):
        return get_product(kwargs["pk"], self.widget)

    @extend_schema(summary="Products similar to a product", parameters=[s.ItemListParamsSerializer],
                   responses={200: s.RecommendationListSerializer, **ERRORS})
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class AlsoBoughtView(SimilarView):
    widget = presentation.ALSO_BOUGHT

    @extend_schema(summary="Customers who bought a product also bought", parameters=[s.ItemListParamsSerializer],
                   responses={200: s.RecommendationListSerializer, **ERRORS})
    def get(self, request, **kwargs):
        return super().get(request, **kwargs)


class EventView(ShopperAPIView):
    throttle_scope = "recommendations.events"

    @extend_schema(summary="Record a view, add-to-cart or purchase by the current shopper",
                   request=s.EventSerializer,
                   responses={**DENIED, **THROTTLED, 201: s.EventResultSerializer, 200: s.EventResultSerializer,
                              **ERRORS})
    def post(self, request):
        data = validated(s.EventSerializer, request)
        event = record_event(s.EVENT_KINDS[data["event"]], data["product"], request=request,
                             quantity=data["quantity"])
        if event is None:
            return Response({"recorded": False, "id": None}, status=status.HTTP_200_OK)
        return Response({"recorded": True, "id": event.pk}, status=status.HTTP_201_CREATED)


class HistoryView(ShopperAPIView):
    @extend_schema(summary="The current shopper's own history (newest first)",
                   parameters=[s.PageParamsSerializer], responses={200: s.PageSerializer, 400: ERRORS[400]})
    def get(self, request):
        params = list_params(request)
        shopper = Shopper.from_request(request)
        if not shopper.known:
            return Response({"count": 0, "results": []})
        events = shopper.events().order_by("-created_at", "-id")
        start = params["offset"]
        rows = list(events.values_list("product_id", "kind", "quantity", "created_at")[
            start:start + params["limit"]])
        products = catalogue.fetch({r[0] for r in rows})
        results = [{"product": presentation.public_fields(products[pid]) if pid in products else None,
                    "product_id": pid, "event": s.EVENT_NAMES[kind], "quantity": quantity,
                    "created_at": created} for pid, kind, quantity, created in rows]
        return Response({"count": events.count(), "results": results})


class RatingListView(ShopperAPIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "recommendations.ratings"

    @extend_schema(summary="The signed-in shopper's own ratings", parameters=[s.PageParamsSerializer],
                   operation_id="ratings_list",
                   responses={**DENIED, 200: s.RatingPageSerializer, 400: ERRORS[400]})
    def get(self, request):
        params = list_params(request)
        ratings = Rating.objects.filter(user=request.user).select_related("product").order_by(
            "-updated_at", "-id")
        start = params["offset"]
        page = list(ratings[start:start + params["limit"]])
        products = catalogue.fetch({r.product_id for r in page})  # the names, in bulk
        for rating in page:
            rating.product = products.get(rating.product_id, rating.product)
        return Response({"count": ratings.count(),
                         "results": s.RatingSerializer(page, many=True).data})

    @extend_schema(summary="Rate a product 1-5 (creates, or updates the existing rating)",
                   request=s.RatingSerializer,
                   responses={**DENIED, **THROTTLED, 201: s.RatingSerializer, 200: s.RatingSerializer,
                              **ERRORS})
    def post(self, request):
        data = validated(s.RatingSerializer, request)
        rating, created = Rating.objects.update_or_create(
            user=request.user, product=data["product"],
            defaults={"score": data["score"], "updated_at": timezone.now()})
        return Response(s.RatingSerializer(rating).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class RatingDetailView(ShopperAPIView):
    permission_classes = [IsAuthenticated]
    throttle_scope = "recommendations.ratings"

    def get_object(self, pk) -> Rating:
        try:
            return Rating.objects.select_related("product").get(pk=int(pk), user=self.request.user)
        except (Rating.DoesNotExist, ValueError):
            raise Http404(gettext("No such rating of yours.")) from None

    @extend_schema(summary="One of the shopper's own ratings",
                   responses={**DENIED, 200: s.RatingSerializer,
                              404: OpenApiResponse(description="No such rating of yours.")})
    def get(self, request, pk):
        return Response(s.RatingSerializer(self.get_object(pk)).data)

    @extend_schema(summary="Change the score of one's own rating", request=s.RatingScoreSerializer,
                   responses={**DENIED, **THROTTLED, 200: s.RatingSerializer, **ERRORS})
    def put(self, request, pk):
        rating = self.get_object(pk)
        change = validated(s.RatingScoreSerializer, request, partial=request.method == "PATCH")
        if "score" not in change:  # a PATCH that changes nothing
            return Response(s.RatingSerializer(rating).data)
        rating.score = change["score"]
        rating.updated_at = timezone.now()
        rating.save(update_fields=["score", "updated_at"])
        return Response(s.RatingSerializer(rating).data)

    patch = put

    @extend_schema(summary="Delete one's own rating", responses={**DENIED, **THROTTLED, 204: None, 404: ERRORS[404]})
    def delete(self, request, pk):
        self.get_object(pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class ClickView(ShopperAPIView):
    throttle_scope = "recommendations.clicks"

    @extend_schema(summary="Record that the shopper followed a recommended product",
                   request=s.ClickSerializer,
                   responses={**DENIED, **THROTTLED, 201: None, 200: None, 400: ERRORS[400],
                              404: OpenApiResponse(description="No such list shown to you, or the product was "
                                                               "not in it: the body names the field.")})
    def post(self, request):
        data = validated(s.ClickSerializer, request)
        impression = feedback.get_impression(data["recommendation_id"], Shopper.from_request(request))
        if impression is None:
            raise exceptions.NotFound(
                {"recommendation_id": [gettext("Unknown recommendation id (or not a list shown to you).")]})
        if not feedback.in_impression(impression, data["product"]):
            raise exceptions.NotFound({"product": [gettext("This product was not in that list.")]})
        _, created = feedback.record_click(impression, data["product"])
        return Response({"recorded": created},
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ModelVersionListView(SafeAuthenticationMixin, APIView):
    permission_classes = [IsAdminUser]
    throttle_classes = [ReadRateThrottle]
    schema = RecommendationsAutoSchema()

    @extend_schema(summary="Model versions, newest first (staff only)",
                   parameters=[OpenApiParameter("engine", str, enum=list(ENGINE_NAMES)), s.PageParamsSerializer],
                   responses={**DENIED, 200: s.ModelVersionSerializer(many=True)})
    def get(self, request):
        params = list_params(request)
        versions = ModelVersion.objects.all()
        engine = request.query_params.get("engine")
        if engine is not None:
            if engine not in ENGINE_NAMES:
                raise exceptions.ValidationError(
                    {"engine": [gettext("Not one of %(engines)s.") % {"engines": ", ".join(ENGINE_NAMES)}]})
            versions = versions.filter(engine=engine)
        start = params["offset"]
        page = versions[start:start + params["limit"]]
        return Response({"count": versions.count(),
                         "results": s.ModelVersionSerializer(page, many=True).data})


class RetrainView(SafeAuthenticationMixin, APIView):
    permission_classes = [IsAdminUser]
    parser_classes = [JSONParser]
    throttle_classes = [WriteRateThrottle]
    schema = RecommendationsAutoSchema()
    throttle_scope = "recommendations.retrain"

    @extend_schema(summary="Queue a training of an engine (staff only)", request=s.RetrainSerializer,
                   responses={**DENIED, **THROTTLED, 202: s.ModelVersionSerializer, 400: ERRORS[400],
                              409: OpenApiResponse(description="A training of this engine is already "
                                                               "queued or running."),
                              503: OpenApiResponse(description="The task broker cannot be reached.")})
    def post(self, request):
        data = validated(s.RetrainSerializer, request)
        training.fail_stale_runs()
        busy = training.busy_version(data["engine"])
        if busy is not None:  # as the dashboard's Retrain: one run of an engine at a time
            return Response({"detail": f"v{busy.pk} of {busy.engine} is already {busy.status}; no second "
                                       "training was started.",
                             "version": s.ModelVersionSerializer(busy).data},
                            status=status.HTTP_409_CONFLICT)
        try:
            version = tasks.queue(data["engine"], triggered_by=request.user.get_username(),
                                     force=data["force"])
        except DatabaseError:
            raise
        except training.NoBrokerConfigured as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        except Exception as exc:  # noqa: BLE001  (queue raises only when the broker is unreachable)
            logger.error("recommendations: could not queue %s training: %s", data["engine"], exc)
            return Response(
                {"detail": gettext("The training could not be queued: the task broker (Celery) cannot be "
                             "reached (%(error)s). Nothing was started and the active model keeps "
                             "serving; start the broker and a worker, then retry.")
                           % {"error": f"{type(exc).__name__}: {exc}"}},
                status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(s.ModelVersionSerializer(version).data, status=status.HTTP_202_ACCEPTED)
