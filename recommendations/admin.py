"""Admin for products (when the app's own model is active), ratings and events, and for the
training pipeline: model versions (retrain, force-activate), the metrics dashboard with its
progress endpoint, precomputed lists and impressions; shopper profiles with a preview of each
shopper's list from every engine.

Events is the big table: related objects are joined in one query, foreign keys use raw ids
rather than giant select boxes, and counting uses the planner's estimate on PostgreSQL.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property

from . import profiles, serving
from .conf import app_settings
from .dashboard import ModelVersionAdmin
from .models import Event, Impression, ModelVersion, NotInterested, PrecomputedList, Product, Rating, ShopperProfile
from .serving import Shopper

PREVIEW_LENGTH = 10


class EstimatedCountPaginator(Paginator):
    """Uses PostgreSQL's row estimate for an unfiltered huge table instead of COUNT(*)."""

    threshold = 100_000

    @cached_property
    def count(self) -> int:
        query = getattr(self.object_list, "query", None)
        if query is not None and not query.where:
            connection = connections[self.object_list.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s",
                                   [self.object_list.model._meta.db_table])
                    row = cursor.fetchone()
                if row and row[0] > self.threshold:
                    return int(row[0])
        return super().count


def _get_or_404(model, pk: str):
    """The row whose primary key is ``pk`` as written in a URL; 404 when there is none, or when
    ``pk`` is no key of that type at all (``user/change/``)."""
    try:
        key = model._meta.pk.to_python(pk)
    except (ValidationError, ValueError, TypeError):
        raise Http404(f"No {model._meta.verbose_name} {pk!r}.") from None
    return get_object_or_404(model, pk=key)


if app_settings.product_model == "recommendations.Product":

    @admin.register(Product)
    class ProductAdmin(admin.ModelAdmin):
        list_display = ["name", "category", "brand", "price", "is_available"]
        list_filter = ["is_available", "category"]
        search_fields = ["name", "brand", "category"]


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ["user", "product", "score", "updated_at"]
    list_filter = ["score"]
    list_select_related = ["user", "product"]
    raw_id_fields = ["user", "product"]
    search_fields = ["user__username", "=product__pk"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "user", "short_session", "product", "quantity"]
    list_filter = ["kind"]
    list_select_related = ["user", "product"]
    raw_id_fields = ["user", "product"]
    search_fields = ["=user__username", "=session_key", "=product__pk"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ["-id"]

    @admin.display(description="session")
    def short_session(self, obj: Event) -> str:
        return obj.session_key[:8]


admin.site.register(ModelVersion, ModelVersionAdmin)


@admin.register(PrecomputedList)
class PrecomputedListAdmin(admin.ModelAdmin):
    list_display = ["shopper", "engine", "version", "length", "computed_at"]
    list_filter = ["engine"]
    list_select_related = ["version"]
    search_fields = ["=shopper"]
    readonly_fields = ["shopper", "engine", "version", "items", "computed_at"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="products")
    def length(self, obj: PrecomputedList) -> int:
        return len(obj.items or [])


@admin.register(Impression)
class ImpressionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "widget", "engine", "variant", "user", "short_session", "shown",
                    "n_clicks"]
    list_filter = ["widget", "engine", "variant"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    search_fields = ["=user__username", "=session_key"]
    readonly_fields = ["id", "user", "session_key", "widget", "engine", "variant", "product_ids",
                       "created_at"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ["-created_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(click_count=Count("clicks"))

    @admin.display(description="session")
    def short_session(self, obj: Impression) -> str:
        return obj.session_key[:8]

    @admin.display(description="products shown")
    def shown(self, obj: Impression) -> int:
        return len(obj.product_ids or [])

    @admin.display(description="clicks", ordering="click_count")
    def n_clicks(self, obj: Impression) -> int:
        return obj.click_count


@admin.register(ShopperProfile)
class ShopperProfileAdmin(admin.ModelAdmin):
    """Read-only profiles: the list filters shoppers by segment; a profile's page shows what
    the shop knows about them and a preview of their list from every active engine."""

    list_display = ["shopper", "user", "segment", "last_seen", "computed_at"]
    list_filter = ["segment"]
    list_select_related = ["user"]
    search_fields = ["=shopper", "user__username", "user__email"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        extra = [path("user/<str:user_id>/", self.admin_site.admin_view(self.for_user_view),
                      name="recommendations_shopperprofile_user")]
        return extra + super().get_urls()

    def for_user_view(self, request: HttpRequest, user_id: str) -> HttpResponse:
        """The profile of a user (computed now if they have none yet): the link from the user."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        user = _get_or_404(get_user_model(), user_id)
        stored = profiles.get_profile(Shopper(user_id=user.pk))
        return HttpResponseRedirect(reverse(f"{self.admin_site.name}:recommendations_shopperprofile_change",
                                            args=[stored.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        stored = _get_or_404(ShopperProfile, object_id)
        shopper = Shopper.from_data_key(stored.shopper)
        stored = profiles.get_profile(shopper) or stored  # fresh if they did something since
        previews = []
        for engine in sorted(ModelVersion.objects.filter(is_active=True).values_list("engine", flat=True)):
            previews.append({"engine": engine, "items": serving.recommend_for(
                shopper, PREVIEW_LENGTH, engine=engine, use_cache=False)})
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": f"Shopper {stored.user or stored.shopper}",
            "opts": opts,
            "app_label": opts.app_label,
            "profile": stored,
            "data": stored.data,
            "not_interested": profiles.not_interested_entries(shopper),
            "engines": [p["engine"] for p in previews],
            "preview_rows": [(rank + 1, [(p["engine"], p["items"][rank] if rank < len(p["items"]) else None)
                                         for p in previews]) for rank in range(PREVIEW_LENGTH)],
            "dashboard_url": reverse(f"{self.admin_site.name}:recommendations_dashboard"),
            "changelist_url": reverse(f"{self.admin_site.name}:recommendations_shopperprofile_changelist"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/recommendations/shopperprofile/profile.html", context)


@admin.register(NotInterested)
class NotInterestedAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "short_session", "product", "category"]
    list_select_related = ["user", "product"]
    raw_id_fields = ["user", "product"]
    search_fields = ["=user__username", "=session_key", "category"]

    @admin.display(description="session")
    def short_session(self, obj: NotInterested) -> str:
        return obj.session_key[:8]
