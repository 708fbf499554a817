"""The test host shop: the app pointed at the shop's own ``hostshop.Item`` model."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS[:-1], "tests.hostshop", "recommendations"]

# --- the lines docs/integration.md tells a shop to add (a test keeps them identical) ---
RECOMMENDATIONS_PRODUCT_MODEL = "hostshop.Item"
RECOMMENDATIONS = {
    "PRODUCT_FIELDS": {
        "name": "title",
        "description": "blurb",
        "category": "department__label",
        "brand": "maker",
        "price": "cost",
        "available": "active",
    },
}
