"""Request and response shapes of the API (responses are built as plain dicts for speed; the
response serializers document them in the OpenAPI schema)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import products as catalogue
from ..conf import ENGINE_NAMES, app_settings, get_product_model
from ..models import Event, ModelVersion, Rating

MAX_OFFSET = 1_000_000  # beyond any shopper's history; larger values overflow database integers
EVENT_KINDS = {"view": Event.Kind.VIEW, "cart": Event.Kind.CART, "purchase": Event.Kind.PURCHASE}
EVENT_NAMES = {v: k for k, v in EVENT_KINDS.items()}


def product_field(**kwargs) -> serializers.PrimaryKeyRelatedField:
    return serializers.PrimaryKeyRelatedField(queryset=get_product_model()._default_manager.all(), **kwargs)


# -- query parameters ---------------------------------------------------------------------------
class ListParamsSerializer(serializers.Serializer):
    limit = serializers.IntegerField(required=False, min_value=1,
                                     help_text="How many items (1..MAX_LIMIT, default DEFAULT_LIMIT).")
    offset = serializers.IntegerField(required=False, min_value=0, max_value=MAX_OFFSET, default=0,
                                      help_text="Items to skip (own ratings and history only).")
    exclude = serializers.CharField(required=False, allow_blank=True,
                                    help_text="Comma-separated product ids to leave out.")
    max_per_category = serializers.IntegerField(required=False, min_value=1,
                                                help_text="At most this many items per category.")

    def validate_limit(self, value: int) -> int:
        if value > app_settings.MAX_LIMIT:
            raise serializers.ValidationError(f"Ensure this value is less than or equal to "
                                              f"{app_settings.MAX_LIMIT}.")
        return value

    def validate_exclude(self, value: str) -> list[str]:
        ids = [part.strip() for part in value.split(",") if part.strip()]
        if len(ids) > 200:
            raise serializers.ValidationError("At most 200 product ids can be excluded.")
        return ids


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
    quantity = serializers.IntegerField(min_value=1, max_value=10_000, default=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"] = product_field()


class EventResultSerializer(serializers.Serializer):
    recorded = serializers.BooleanField(help_text="False for bots and repeated views (not counted).")
    id = serializers.IntegerField(allow_null=True)


class RatingSerializer(serializers.ModelSerializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    product_name = serializers.SerializerMethodField()

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
    score = serializers.IntegerField(min_value=1, max_value=5)


class ClickSerializer(serializers.Serializer):
    recommendation_id = serializers.UUIDField(help_text="The list's recommendation (impression) id.")
    product = serializers.CharField(max_length=64, help_text="The id of the product followed.")


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

    def validate_category(self, value: str) -> str:
        if not value:
            return ""
        adapter = catalogue.product_adapter()
        products = adapter.filter_categories(adapter.model._default_manager.all(), [value])
        if products is None:
            raise serializers.ValidationError("This shop's products have no category.")
        if not products.exists():
            raise serializers.ValidationError(f"No product is in the category {value!r}.")
        return value

    def validate(self, attrs: dict) -> dict:
        if (attrs.get("product") is None) == (not attrs.get("category")):
            raise serializers.ValidationError({"non_field_errors": ["Give exactly one of product or category."]})
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
