"""Admin for products (when the app's own model is active), ratings and events, and for the
training pipeline: model versions (retrain, force-activate), the metrics dashboard with its
progress endpoint, precomputed lists and impressions; shopper profiles with a preview of each
shopper's list from every engine.

Events is the big table: related objects are joined in one query, foreign keys use raw ids
rather than giant select boxes, and counting uses the planner's estimate on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from . import profiles, serving
from .conf import app_settings
from .dashboard import ModelVersionAdmin
from .data import SESSION_PREFIX
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


def user_lookups(prefix: str = "user__") -> list[str]:
    """Search lookups for the user model in use: its USERNAME_FIELD and email field (a custom
    user model may have no ``username``)."""
    user_model = get_user_model()
    names = [user_model.USERNAME_FIELD, user_model.get_email_field_name()]
    fields = {f.name for f in user_model._meta.concrete_fields}
    return [f"{prefix}{name}" for name in dict.fromkeys(names) if name in fields]


class UserSearchMixin:
    """``search_fields`` plus the user's username and email field (exact with ``exact_user``)."""

    exact_user = True

    def get_search_fields(self, request):
        lookups = user_lookups()
        return [*(f"={lookup}" if self.exact_user else lookup for lookup in lookups), *self.search_fields]


def _get_or_404(queryset, pk: str):
    """The row of ``queryset`` (or a model) whose primary key is ``pk`` as written in a URL; 404
    when there is none, or when ``pk`` is no key of that type at all (``user/change/``)."""
    model = getattr(queryset, "model", queryset)
    try:
        key = model._meta.pk.to_python(pk)
    except (ValidationError, ValueError, TypeError):
        raise Http404(gettext("No %(model)s %(key)r.") % {"model": model._meta.verbose_name, "key": pk}) from None
    return get_object_or_404(queryset, pk=key)


if app_settings.product_model == "recommendations.Product":

    @admin.register(Product)
    class ProductAdmin(admin.ModelAdmin):
        list_display = ["name", "category", "brand", "price", "is_available"]
        list_filter = ["is_available", "category"]
        search_fields = ["name", "brand", "category"]


@admin.register(Rating)
class RatingAdmin(UserSearchMixin, admin.ModelAdmin):
    list_display = ["user", "product", "score", "updated_at"]
    list_filter = ["score"]
    list_select_related = ["user", "product"]
    raw_id_fields = ["user", "product"]
    exact_user = False
    search_fields = ["=product__pk"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(Event)
class EventAdmin(UserSearchMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "user", "short_session", "product", "quantity"]
    list_filter = ["kind"]
    list_select_related = ["user", "product"]
    raw_id_fields = ["user", "product"]
    search_fields = ["=session_key", "=product__pk"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    ordering = ["-id"]

    @admin.display(description=_("session"))
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

    @admin.display(description=_("products"))
    def length(self, obj: PrecomputedList) -> int:
        return len(obj.items or [])


@admin.register(Impression)
class ImpressionAdmin(UserSearchMixin, admin.ModelAdmin):
    list_display = ["created_at", "widget", "engine", "variant", "user", "short_session", "shown",
                    "n_clicks"]
    list_filter = ["widget", "engine", "variant"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    search_fields = ["=session_key"]
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

    @admin.display(description=_("session"))
    def short_session(self, obj: Impression) -> str:
        return obj.session_key[:8]

    @admin.display(description=_("products shown"))
    def shown(self, obj: Impression) -> int:
        return len(obj.product_ids or [])

    @admin.display(description=_("clicks"), ordering="click_count")
    def n_clicks(self, obj: Impression) -> int:
        return obj.click_count


def _moment(value: Any) -> datetime | None:
    """A stored moment (a datetime, or an ISO string from a profile's JSON) as an aware datetime."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def ago(value: Any, depth: int = 1) -> str:
    """"3 days ago", "just now" or "–"."""
    moment = _moment(value)
    if moment is None:
        return "–"
    if timezone.now() - moment < timedelta(minutes=1):
        return gettext("just now")
    return gettext("%(time)s ago") % {"time": timesince(moment, depth=depth)}


def human_moment(value: Any) -> str:
    """"3 days ago" in a <time> element whose title is the date and time (the raw value is
    in its ``datetime`` attribute, for machines)."""
    moment = _moment(value)
    if moment is None:
        return "–"
    return format_html('<time datetime="{}" title="{}">{}</time>', moment.isoformat(),
                       date_format(timezone.localtime(moment), "DATETIME_FORMAT"), ago(moment))


def shopper_identity(user: Any, shopper_key: str) -> tuple[str, str]:
    """(name, detail) for a person: the user's full name and their email or username (through
    the user model's own API, whatever its fields), or an anonymous session's key prefix."""
    if user is None:
        return gettext("Anonymous visitor"), gettext("session %(key)s…") % {
            "key": shopper_key.removeprefix(SESSION_PREFIX)[:8]}
    username = user.get_username()
    full_name = (user.get_full_name() or "").strip() if callable(getattr(user, "get_full_name", None)) else ""
    email_field = user.get_email_field_name() if hasattr(user, "get_email_field_name") else "email"
    email = getattr(user, email_field, "") or ""
    detail = email if email and email != username else ""
    if full_name:
        return full_name, detail or username
    return username, detail


class StageFilter(admin.SimpleListFilter):
    """Where shoppers are, the first part of their segment."""

    title = _("stage")
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return [(stage, profiles.STAGE_LABELS[stage]) for stage in profiles.STAGES]

    def queryset(self, request, queryset):
        if self.value() in profiles.STAGES:
            return queryset.filter(segment__startswith=self.value())
        return queryset


class FanFilter(admin.SimpleListFilter):
    """The category a shopper is a fan of (half or more of what they engage with)."""

    title = _("fan of")
    parameter_name = "fan"

    def lookups(self, request, model_admin):
        names = set()
        for segment in ShopperProfile.objects.order_by("segment").values_list("segment", flat=True).distinct():
            names.update(part[: -len(profiles.FAN_SUFFIX)] for part in segment.split(" · ")
                         if part.endswith(profiles.FAN_SUFFIX))
        return [(name, name) for name in sorted(names)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(segment__contains=f" · {self.value()}{profiles.FAN_SUFFIX}")
        return queryset


@admin.register(ShopperProfile)
class ShopperProfileAdmin(admin.ModelAdmin):
    """Read-only profiles: the list names each shopper and filters them by stage and favourite
    category; a profile's page shows what the shop knows about them and their list from every
    active engine, side by side."""

    list_display = ["who", "segment_display", "activity", "last_seen_display", "computed_display"]
    list_display_links = ["who"]
    list_filter = [StageFilter, FanFilter]
    list_select_related = ["user"]
    list_per_page = 50
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_search_fields(self, request) -> list[str]:
        """The shopper key, and the user model's username, email and name fields that exist
        (a custom user model may have no ``username`` or names)."""
        user_model = get_user_model()
        fields = ["=shopper"]
        names = [user_model.USERNAME_FIELD, getattr(user_model, "EMAIL_FIELD", "email"), "first_name", "last_name",
                 "full_name"]
        concrete = {f.name for f in user_model._meta.concrete_fields}
        fields += [f"user__{name}" for name in dict.fromkeys(names) if name in concrete]
        return fields

    @admin.display(description=_("shopper"), ordering=f"user__{get_user_model().USERNAME_FIELD}")
    def who(self, obj: ShopperProfile) -> str:
        name, detail = shopper_identity(obj.user, obj.shopper)
        if detail:
            return format_html('{}<br><span class="quiet">{}</span>', name, detail)
        return name

    @admin.display(description=_("segment"), ordering="segment")
    def segment_display(self, obj: ShopperProfile) -> str:
        return profiles.segment_text(obj.segment)

    @admin.display(description=_("activity"))
    def activity(self, obj: ShopperProfile) -> str:
        return activity_summary((obj.data or {}).get("activity") or {})

    @admin.display(description=_("last seen"), ordering="last_seen")
    def last_seen_display(self, obj: ShopperProfile) -> str:
        return human_moment(obj.last_seen)

    @admin.display(description=_("computed"), ordering="computed_at")
    def computed_display(self, obj: ShopperProfile) -> str:
        return human_moment(obj.computed_at)

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
        stored = _get_or_404(ShopperProfile.objects.select_related("user"), object_id)
        shopper = Shopper.from_data_key(stored.shopper)
        stored = profiles.get_profile(shopper) or stored  # fresh if they did something since
        data = stored.data or {}
        activity = data.get("activity") or {}
        shaping = data.get("shaping") or []
        shaping_total = sum(max(0.0, p.get("weight") or 0.0) for p in shaping)
        previews = []
        state = serving.shopper_state(shopper)  # read once for every engine's list
        for engine in sorted(ModelVersion.objects.filter(is_active=True).values_list("engine", flat=True)):
            items = serving.recommend_for(shopper, PREVIEW_LENGTH, engine=engine, use_cache=False, state=state)
            top = max((r.score for r in items if r.score is not None), default=0) or 0
            previews.append({"engine": engine, "items": [
                {"product": r.product if r.product is not None else r.product_id,
                 "fallback": r.engine if r.engine != engine else "",
                 "relative": round(100 * r.score / top) if top > 0 and r.score is not None else None}
                for r in items]})
        name, detail = shopper_identity(stored.user, stored.shopper)
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": name,
            "subtitle": detail,
            "opts": opts,
            "app_label": opts.app_label,
            "profile": stored,
            "segment": profiles.segment_text(stored.segment),
            "price_band": profiles.price_band_text((data.get("price") or {}).get("band")),
            "data": data,
            "activity": activity,
            "first_seen": _moment(activity.get("first_seen")),
            "first_seen_ago": ago(activity.get("first_seen"), depth=2),
            "last_seen": _moment(activity.get("last_seen")),
            "last_seen_ago": ago(activity.get("last_seen"), depth=2),
            "computed_ago": ago(stored.computed_at),
            "shaping": [{**p, "why": profiles.why_text(p.get("why", "")),
                         "share": round(100 * max(0.0, p.get("weight") or 0.0) / shaping_total)
                         if shaping_total else 0} for p in shaping],
            "not_interested": profiles.not_interested_entries(shopper),
            "previews": previews,
            "user_change_url": _user_change_url(self.admin_site, stored.user),
            "dashboard_url": reverse(f"{self.admin_site.name}:recommendations_dashboard"),
            "changelist_url": reverse(f"{self.admin_site.name}:recommendations_shopperprofile_changelist"),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/recommendations/shopperprofile/profile.html", context)


def activity_summary(activity: dict[str, Any]) -> str:
    """"25 purchases · 3 in cart · 120 views · 4 ratings", leaving out what they never did."""
    texts = {"purchases": lambda n: ngettext("%(n)s purchase", "%(n)s purchases", n),
             "carts": lambda n: ngettext("%(n)s added to cart", "%(n)s added to cart", n),
             "views": lambda n: ngettext("%(n)s view", "%(n)s views", n),
             "ratings": lambda n: ngettext("%(n)s rating", "%(n)s ratings", n)}
    parts = []
    for key, text in texts.items():
        count = activity.get(key) or 0
        if count:
            parts.append(text(count) % {"n": number_format(count, force_grouping=True)})
    return " · ".join(parts) or gettext("nothing yet")


def _user_change_url(site: admin.AdminSite, user: Any) -> str:
    if user is None or not site.is_registered(type(user)):
        return ""
    opts = user._meta
    return reverse(f"{site.name}:{opts.app_label}_{opts.model_name}_change", args=[user.pk])


@admin.register(NotInterested)
class NotInterestedAdmin(UserSearchMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "short_session", "product", "category"]
    list_select_related = ["user", "product"]
    raw_id_fields = ["user", "product"]
    search_fields = ["=session_key", "category"]

    @admin.display(description=_("session"))
    def short_session(self, obj: NotInterested) -> str:
        return obj.session_key[:8]
