"""How the UUID shop describes its articles: the shorthand for sections (many-to-many) and the
price (the cheapest offer), code of its own for availability and the cover picture."""

from django.db.models import Sum

from recommendations.products import FieldMappingAdapter


class ArticleAdapter(FieldMappingAdapter):
    def get_queryset(self):
        return super().get_queryset().annotate(stock=Sum("offers__stock"))

    def is_available(self, product) -> bool:
        return product.published and bool(product.stock)

    def image_url(self, product) -> str | None:
        return f"/media/covers/{product.cover}" if product.cover else None
