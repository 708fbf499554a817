"""Oscar's catalogue described to the app: categories (a child product has its parent's), the
price and availability Oscar's own pricing strategy gives (stock records), Oscar's product URLs
and primary images. Everything is fetched in bulk by ``get_queryset``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from oscar.core.loading import get_class, get_model

from ...products import ProductAdapter

Product = get_model("catalogue", "Product")
Selector = get_class("partner.strategy", "Selector")


class OscarProductAdapter(ProductAdapter):
    """Subclass it to change what is shown, e.g. another strategy (``strategy()``) or a brand
    from a product attribute (``brand()``)."""

    def __init__(self) -> None:
        super().__init__()
        self._strategy = None

    def strategy(self) -> Any:
        """The pricing strategy for lists (Oscar's ``Selector`` without a request: the default one)."""
        if self._strategy is None:
            self._strategy = Selector().strategy()
        return self._strategy

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().select_related("product_class", "parent__product_class").prefetch_related(
            "categories", "parent__categories", "images", "parent__images", "stockrecords", "children__stockrecords")

    def filter_categories(self, queryset: QuerySet, categories) -> QuerySet:
        names = list(categories)
        return queryset.filter(Q(categories__name__in=names) | Q(parent__categories__name__in=names)).distinct()

    def name(self, product: Any) -> str:
        return product.get_title()

    def description(self, product: Any) -> str:
        return product.description or (product.parent.description if product.parent_id else "")

    def categories(self, product: Any) -> list[str]:
        source = product.parent if product.is_child else product
        return [category.name for category in source.categories.all()]

    def _purchase_info(self, product: Any) -> Any:
        cached = getattr(product, "_recommendations_purchase_info", None)
        if cached is None:
            strategy = self.strategy()
            cached = strategy.fetch_for_parent(product) if product.is_parent else strategy.fetch_for_product(product)
            product._recommendations_purchase_info = cached
        return cached

    def price(self, product: Any) -> Any:
        price = self._purchase_info(product).price
        if not price.exists:
            return None
        return price.incl_tax if price.is_tax_known else price.excl_tax

    def is_available(self, product: Any) -> bool:
        return product.is_public and self._purchase_info(product).availability.is_available_to_buy

    def image_url(self, product: Any) -> str | None:
        image = product.primary_image()
        if isinstance(image, dict):  # Oscar's placeholder when the product has no image
            return None
        try:
            return image.original.url
        except ValueError:
            return None
