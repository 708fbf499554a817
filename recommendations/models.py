"""Products, ratings and shopper behaviour.

The product model is swappable (``RECOMMENDATIONS_PRODUCT_MODEL``); ratings and events point at
whichever model is active. Events are the big table (tens of millions of rows): narrow columns,
a small-integer kind, and only the indexes that capture, training and serving query by.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .conf import app_settings


class AbstractProduct(models.Model):
    """Fields the engines read by default; a shop may inherit it or map its own fields."""

    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    category = models.CharField(_("category"), max_length=100, blank=True, db_index=True)
    brand = models.CharField(_("brand"), max_length=100, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    is_available = models.BooleanField(_("available"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(AbstractProduct):
    class Meta(AbstractProduct.Meta):
        swappable = "RECOMMENDATIONS_PRODUCT_MODEL"
        verbose_name = _("product")
        verbose_name_plural = _("products")


class Rating(models.Model):
    """A shopper's explicit 1-5 score; one per user and product, re-rating updates it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="product_ratings"
    )
    product = models.ForeignKey(
        app_settings.product_model, on_delete=models.CASCADE, related_name="ratings"
    )
    score = models.PositiveSmallIntegerField(_("score"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="recommendations_rating_unique"),
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="recommendations_rating_1_to_5"
            ),
        ]
        indexes = [models.Index(fields=["product", "score"], name="rec_rating_product_score")]

    def __str__(self) -> str:
        return f"{self.user_id} rated {self.product_id}: {self.score}"


class Event(models.Model):
    """One thing a shopper did with a product: viewed it, put it in the cart, bought it.

    Either ``user`` (signed in) or ``session_key`` (anonymous) identifies the shopper; on login
    the session's events are moved to the user.
    """

    class Kind(models.IntegerChoices):
        VIEW = 1, _("viewed")
        CART = 2, _("added to cart")
        PURCHASE = 3, _("purchased")

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="product_events",
    )
    session_key = models.CharField(_("session key"), max_length=40, blank=True, default="")
    product = models.ForeignKey(
        app_settings.product_model, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.PositiveSmallIntegerField(_("kind"), choices=Kind.choices)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2, null=True, blank=True,
                                     help_text=_("What one unit cost when bought (purchases only)."))
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(session_key=""),
                name="recommendations_event_has_shopper",
            ),
        ]
        indexes = [
            # A shopper's history (serving, dedup of repeated views, import idempotency).
            models.Index(fields=["user", "created_at"], name="rec_event_user_time"),
            models.Index(
                fields=["session_key", "created_at"],
                name="rec_event_session_time",
                condition=~Q(session_key=""),
            ),
            # Per-product counts (popularity, also-bought) and time windows (trending).
            models.Index(fields=["product", "kind"], name="rec_event_product_kind"),
            models.Index(fields=["created_at"], name="rec_event_time"),
        ]

    def __str__(self) -> str:
        who = f"user {self.user_id}" if self.user_id else f"session {self.session_key[:8]}"
        return f"{who} {self.get_kind_display()} {self.product_id}"


class ModelVersion(models.Model):
    """One training run of one engine: what it was trained on, how good it is, where its
    artifact lives, and whether it is the version serving shoppers."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    engine = models.CharField(_("engine"), max_length=32, db_index=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(_("stage"), max_length=64, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress %"), default=0)
    error = models.TextField(_("error"), blank=True)
    triggered_by = models.CharField(_("triggered by"), max_length=150, blank=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    n_users = models.PositiveIntegerField(_("users"), default=0)
    n_products = models.PositiveIntegerField(_("products"), default=0)
    n_events = models.PositiveBigIntegerField(_("events"), default=0)
    metrics = models.JSONField(_("validation metrics"), default=dict, blank=True)
    tuning = models.JSONField(
        _("self-tuning"), default=dict, blank=True,
        help_text=_("The hyperparameter chosen on validation folds of the shop's data, and every trial."))
    fit_seconds = models.FloatField(_("fit seconds"), null=True, blank=True)
    total_seconds = models.FloatField(_("total seconds"), null=True, blank=True)
    peak_memory_mb = models.FloatField(_("peak memory (MB)"), null=True, blank=True)
    artifact = models.CharField(_("artifact"), max_length=255, blank=True,
                                help_text=_("Path in the artifact storage."))
    is_active = models.BooleanField(_("active"), default=False)
    activation_note = models.CharField(_("activation"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        _("last heartbeat"), null=True, blank=True,
        help_text=_("Renewed every few seconds while the training runs; a run whose heartbeat "
                    "stopped lost its worker."))
    activated_at = models.DateTimeField(_("live since"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=255, blank=True,
                              help_text=_("Host and process that ran the training."))

    class Meta:
        verbose_name = _("model version")
        verbose_name_plural = _("model versions")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["engine"], condition=Q(is_active=True),
                                    name="recommendations_one_active_version_per_engine"),
        ]

    def __str__(self) -> str:
        return f"{self.engine} v{self.pk} ({self.status})"

    @property
    def ndcg(self) -> float | None:
        return self.metrics.get("ndcg@10")


class PrecomputedList(models.Model):
    """A shopper's "recommended for you" list computed ahead of time by a precompute worker,
    valid while its model version is the active one."""

    shopper = models.CharField(_("shopper"), max_length=80)
    engine = models.CharField(_("engine"), max_length=32)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="precomputed")
    items = models.JSONField(_("items"), default=list, help_text=_("[[product_id, score], ...]"))
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("precomputed list")
        verbose_name_plural = _("precomputed lists")
        constraints = [
            models.UniqueConstraint(fields=["shopper", "engine"], name="recommendations_precomputed_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.engine} list for {self.shopper}"


class Impression(models.Model):
    """One recommendation list shown to a shopper; its id travels with the list so that
    clicks can be attributed to the engine, widget and A/B variant that produced it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                             blank=True, related_name="recommendation_impressions")
    session_key = models.CharField(_("session key"), max_length=40, blank=True, default="")
    widget = models.CharField(_("widget"), max_length=32)
    engine = models.CharField(_("engine"), max_length=32)
    variant = models.CharField(_("A/B variant"), max_length=32, blank=True)
    product_ids = models.JSONField(_("products shown"), default=list)
    created_at = models.DateTimeField(_("shown"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("impression")
        verbose_name_plural = _("impressions")
        indexes = [models.Index(fields=["engine", "widget", "created_at"], name="rec_impr_engine_widget")]

    def __str__(self) -> str:
        return f"{self.widget}/{self.engine} {self.id}"


class Click(models.Model):
    """A shopper followed a recommended product from an impression."""

    impression = models.ForeignKey(Impression, on_delete=models.CASCADE, related_name="clicks")
    product_id = models.CharField(_("product"), max_length=64)
    created_at = models.DateTimeField(_("clicked"), default=timezone.now)

    class Meta:
        verbose_name = _("click")
        verbose_name_plural = _("clicks")
        constraints = [
            models.UniqueConstraint(fields=["impression", "product_id"], name="recommendations_click_once"),
        ]

    def __str__(self) -> str:
        return f"click on {self.product_id} from {self.impression_id}"


class ShopperProfile(models.Model):
    """A readable summary of one shopper's tastes, stored so staff can list and filter
    shoppers by segment; recomputed whenever it is older than the shopper's newest behaviour
    (see ``recommendations.profiles``)."""

    shopper = models.CharField(_("shopper"), max_length=80, unique=True)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                                blank=True, related_name="shopper_profile")
    segment = models.CharField(_("segment"), max_length=120, blank=True, db_index=True)
    data = models.JSONField(_("profile"), default=dict, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("shopper profile")
        verbose_name_plural = _("shopper profiles")
        ordering = ["-last_seen", "-id"]

    def __str__(self) -> str:
        return f"profile of {self.user.get_username() if self.user_id is not None else self.shopper}"


class NotInterested(models.Model):
    """A shopper asked not to be shown a product, or a whole category, again: it is left out of
    their lists and of what shapes them (history folded in at request time, the next training)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True,
                             blank=True, related_name="not_interested")
    session_key = models.CharField(_("session key"), max_length=40, blank=True, default="")
    product = models.ForeignKey(app_settings.product_model, on_delete=models.CASCADE, null=True,
                                blank=True, related_name="+")
    category = models.CharField(_("category"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("not interested")
        verbose_name_plural = _("not interested")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(session_key=""),
                                   name="recommendations_not_interested_has_shopper"),
            models.CheckConstraint(condition=Q(product__isnull=True) ^ Q(category=""),
                                   name="recommendations_not_interested_product_xor_category"),
        ]
        indexes = [
            models.Index(fields=["user"], name="rec_notint_user"),
            models.Index(fields=["session_key"], name="rec_notint_session", condition=~Q(session_key="")),
        ]

    def __str__(self) -> str:
        what = f"product {self.product_id}" if self.product_id else f"category {self.category}"
        return f"{self.user_id or self.session_key[:8]} not interested in {what}"
