"""Request and response shapes of the API (responses are built as plain dicts for speed; the
response serializers document them in the OpenAPI schema)."""

from __future__ import annotations

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from .. import products as catalogue
from ..conf import ENGINE_NAMES, app_settings, get_product_model
from ..models import Event, ModelVersion, Rating

MAX_OFFSET = 1_000_000  # beyond any shopper's history; larger values overflow database integers
MAX_EXCLUDED = 200
EVENT_KINDS = {"view": Event.Kind.VIEW, "cart": Event.Kind.CART, "purchase": Event.Kind.PURCHASE}
EVENT_NAMES = {v: k for k, v in EVENT_KINDS.items()}
#: What is "not found" rather than "invalid": a request naming only such things is a 404.
NOT_FOUND_CODES = {"does_not_exist", "not_found"}


class NoNulValidator(RegexValidator):
    """No NUL character (PostgreSQL cannot store or compare one); a regex, so that the OpenAPI
    schema states it as a ``pattern``."""

    regex = r"\A[^\x00]*\Z"
    message = _("Null characters are not allowed.")
    code = "null_characters_not_allowed"


class Text(serializers.CharField):
    """A JSON string (never a number or a boolean turned into one) without NUL characters or lone
    surrogates; kept as sent (no trimming), so that what the schema accepts is what is checked."""

    default_error_messages = {"invalid": _("Not a valid string.")}

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        self.validators = [NoNulValidator() if isinstance(v, ProhibitNullCharactersValidator) else v
                           for v in self.validators]

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictInteger(serializers.IntegerField):
    """A JSON integer: a string, a boolean or a fraction is refused, as the schema says."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | float) or (
                isinstance(data, float) and not data.is_integer()):
            self.fail("invalid")
        return super().to_internal_value(data)


class QueryInteger(serializers.IntegerField):
    """An integer query parameter: ``?limit=`` (blank) is refused rather than taken as absent."""

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        return "" if value is empty and self.field_name in dictionary else value


class ProductField(serializers.PrimaryKeyRelatedField):
    """A product's primary key of the type the product model uses (an integer key does not
    accept a numeric string); an unknown one fails with the code ``does_not_exist``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", get_product_model()._default_manager.all())
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        key = get_product_model()._meta.pk
        while key.is_relation:  # a key that is a one-to-one link: the linked model's key
            key = key.target_field
        if isinstance(data, bool) or not isinstance(data, int if isinstance(key, models.IntegerField) else str):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", pk_value=data.replace("\x00", "\\x00"))
        return super().to_internal_value(data)


EXCLUDE_PATTERN = rf"\A[^,\x00]*(?:,[^,\x00]*){{0,{MAX_EXCLUDED - 1}}}\Z"


class ExcludeField(Text):
    """Comma-separated product ids to leave out: at most ``MAX_EXCLUDED`` of them (blank: none)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", f"Comma-separated product ids to leave out (at most {MAX_EXCLUDED}).")
        kwargs.setdefault("validators", [RegexValidator(
            EXCLUDE_PATTERN, message=format_lazy(_("At most {n} comma-separated product ids, without NUL characters."),
                                                 n=MAX_EXCLUDED))])
        super().__init__(**kwargs)


def product_field(**kwargs) -> ProductField:
    return ProductField(**kwargs)


# -- query parameters ---------------------------------------------------------------------------
class ListParamsSerializer(serializers.Serializer):
    """The query parameters of lists and pages. Built per instance, so that the schema states
    the bounds in force (``MAX_LIMIT`` is a setting); ``names`` picks the ones an endpoint has."""

    names = ("limit", "offset", "exclude", "max_per_category")

    def get_fields(self):
        fields = {
            "limit": QueryInteger(
                required=False, min_value=1, max_value=app_settings.MAX_LIMIT,
                help_text=f"How many items (1..{app_settings.MAX_LIMIT}, default {app_settings.DEFAULT_LIMIT})."),
            "offset": QueryInteger(required=False, min_value=0, max_value=MAX_OFFSET, default=0,
                                   help_text="Items to skip."),
            "exclude": ExcludeField(required=False, allow_blank=True),
            "max_per_category": QueryInteger(required=False, min_value=1, max_value=app_settings.MAX_LIMIT,
                                             help_text="At most this many items per category."),
        }
        return {name: fields[name] for name in self.names}

    def validate_exclude(self, value: str) -> list[str]:
        return [part.strip() for part in value.split(",") if part.strip()]


class ItemListParamsSerializer(ListParamsSerializer):
    names = ("limit", "exclude", "max_per_category")


class PageParamsSerializer(ListParamsSerializer):
    names = ("limit", "offset")


# -- responses ------------------------------------------------------------------------------------
@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class ProductPkField(serializers.Field):
    """A product's primary key as the product model has it: an integer, or a string (UUID, code)."""

    def to_representation(self, value):
        return value


class RecommendedItemSerializer(serializers.Serializer):
    id = ProductPkField(help_text="The product's primary key.")
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    category = serializers.CharField(allow_null=True, help_text="The product's first category.")
    categories = serializers.ListField(child=serializers.CharField(), help_text="Every category of the product.")
    brand = serializers.CharField(allow_null=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    image_url = serializers.CharField(allow_null=True, help_text="The product's picture, if the shop has one.")
    url = serializers.CharField(allow_null=True, help_text="The product page, if the model has one.")
    click_url = serializers.CharField(allow_null=True,
                                      help_text="Link through this to record the click, then land on url.")
    score = serializers.FloatField()
    engine = serializers.CharField()
    reason = serializers.CharField()
    recommendation_id = serializers.UUIDField(allow_null=True)


class RecommendationListSerializer(serializers.Serializer):
    recommendation_id = serializers.UUIDField(
        allow_null=True, help_text="The impression id of this list; send it with clicks (null for bots).")
    widget = serializers.CharField()
    engine = serializers.CharField(help_text="The engine behind most of the items.")
    variant = serializers.CharField(help_text="The shopper's A/B variant ('' outside the test).")
    results = RecommendedItemSerializer(many=True)


class ProductSummarySerializer(serializers.Serializer):
    id = ProductPkField()
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    categories = serializers.ListField(child=serializers.CharField())
    brand = serializers.CharField(allow_null=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    image_url = serializers.CharField(allow_null=True)


class HistoryItemSerializer(serializers.Serializer):
    product = ProductSummarySerializer(allow_null=True)
    product_id = ProductPkField()
    event = serializers.ChoiceField(choices=list(EVENT_KINDS))
    quantity = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class PageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = HistoryItemSerializer(many=True)


# -- writes -------------------------------------------------------------------------------------
class EventSerializer(serializers.Serializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Event.objects.none())  # set in __init__
    event = serializers.ChoiceField(choices=list(EVENT_KINDS))
    quantity = StrictInteger(min_value=1, max_value=10_000, default=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"] = product_field()


class EventResultSerializer(serializers.Serializer):
    recorded = serializers.BooleanField(help_text="False for bots and repeated views (not counted).")
    id = serializers.IntegerField(allow_null=True)


class RatingSerializer(serializers.ModelSerializer):
    score = StrictInteger(min_value=1, max_value=5)
    product_name = serializers.SerializerMethodField()
    serializer_related_field = ProductField

    class Meta:
        model = Rating
        fields = ["id", "product", "product_name", "score", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators = []  # (user, product) uniqueness is handled by the upsert

    def get_product_name(self, obj: Rating) -> str:
        return catalogue.info(obj.product).name


class RatingPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = RatingSerializer(many=True)


class RatingScoreSerializer(serializers.Serializer):
    score = StrictInteger(min_value=1, max_value=5)


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 64, "pattern": "^[^\\u0000]*$"}]})
class ClickedProductField(serializers.Field):
    """The id of a product in the list, as the list gave it (an integer or a string)."""

    default_error_messages = {"invalid": _("A product id (an integer or a string of at most 64 characters)."),
                              "null_characters_not_allowed": NoNulValidator.message}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | str) or len(str(data)) > 64:
            self.fail("invalid")
        if "\x00" in str(data):
            self.fail("null_characters_not_allowed")
        return str(data)


class ClickSerializer(serializers.Serializer):
    recommendation_id = serializers.UUIDField(help_text="The list's recommendation (impression) id.")
    product = ClickedProductField(help_text="The id of the product followed.")


class RetrainSerializer(serializers.Serializer):
    engine = serializers.ChoiceField(choices=list(ENGINE_NAMES))
    force = serializers.BooleanField(default=False,
                                     help_text="Activate even if validation is worse than the active one.")


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "engine", "status", "stage", "progress", "is_active", "activation_note",
                  "metrics", "params", "n_users", "n_products", "n_events", "fit_seconds",
                  "total_seconds", "peak_memory_mb", "error", "triggered_by", "task_id",
                  "created_at", "started_at", "finished_at"]
        read_only_fields = fields


# -- shopper profile ------------------------------------------------------------------------------
class NotInterestedSerializer(serializers.Serializer):
    """One "not interested" choice: a product or a whole category (exactly one)."""

    id = serializers.IntegerField(read_only=True)
    product = product_field(required=False, allow_null=True,
                            help_text="A product to stop recommending (its primary key).")
    category = serializers.CharField(required=False, allow_blank=True, max_length=255,
                                     help_text="A category to stop recommending, as products show it.")
    created_at = serializers.DateTimeField(read_only=True)


class NotInterestedChoiceSerializer(serializers.Serializer):
    """A new "not interested" choice: exactly one of ``product`` and ``category``."""

    #: Stated in the schema as ``oneOf`` (see ``schema.RecommendationsAutoSchema``).
    one_of_required = (("product",), ("category",))

    product = product_field(required=False, help_text="A product to stop recommending (its primary key).")
    category = Text(required=False, min_length=1, max_length=255,
                    help_text="A category to stop recommending, exactly as products show it.")

    def validate_category(self, value: str) -> str:
        adapter = catalogue.product_adapter()
        products = adapter.filter_categories(adapter.model._default_manager.all(), [value])
        if products is None:
            raise serializers.ValidationError(_("This shop's products have no category."), code="not_found")
        if not products.exists():
            raise serializers.ValidationError(_("No product is in the category %(category)r.") % {"category": value},
                                                  code="not_found")
        return value

    def validate(self, attrs: dict) -> dict:
        if ("product" in attrs) == ("category" in attrs):
            raise serializers.ValidationError({"non_field_errors": [_("Give exactly one of product or category.")]})
        return attrs


class ShopperProfileSerializer(serializers.Serializer):
    shopper = serializers.CharField(help_text="The shopper's key: a user id, or session:<key>.")
    segment = serializers.CharField(help_text="A short label, e.g. 'Loyal customer · Garden fan'.")
    activity = serializers.DictField(help_text="Counts by event type, products, first and last seen.")
    categories = serializers.ListField(child=serializers.DictField(),
                                       help_text="Top categories: {name, share} (share of engagement).")
    brands = serializers.ListField(child=serializers.DictField(), help_text="Top brands: {name, share}.")
    price = serializers.DictField(allow_null=True, help_text="{typical, low, high, band}; band is "
                                  "budget, mid-range or premium relative to this shop's prices.")
    shaping = serializers.ListField(child=serializers.DictField(), help_text="The products that weigh most "
                                    "in the shopper's recommendations: {product_id, name, weight, why}.")
    not_interested = NotInterestedSerializer(many=True)
    computed_at = serializers.DateTimeField(allow_null=True)


# -- tokens -------------------------------------------------------------------------------------
class CredentialsSerializer(serializers.Serializer):
    username = Text(min_length=1, max_length=150)
    password = Text(min_length=1, max_length=4096, style={"input_type": "password"})
