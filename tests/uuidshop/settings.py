"""The second host shop: UUID product keys, a custom user model without ``username``, categories
many-to-many, prices from related rows and a product adapter of its own."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS[:-1], "tests.uuidshop", "recommendations"]
AUTH_USER_MODEL = "uuidshop.Customer"

RECOMMENDATIONS_PRODUCT_MODEL = "uuidshop.Article"
RECOMMENDATIONS = {
    "PRODUCT_ADAPTER": "tests.uuidshop.adapter.ArticleAdapter",
    "PRODUCT_FIELDS": {
        "name": "headline",
        "description": "body",
        "category": "sections__name",    # many-to-many: every section, a list
        "brand": "maker__name",
        "price": "offers__price",        # many offers: the lowest
        "available": None,               # ArticleAdapter.is_available
    },
}
