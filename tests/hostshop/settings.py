"""The test host shop: the app pointed at the shop's own ``hostshop.Item`` model, configured with
exactly the settings docs/integration.md gives (a test keeps them identical)."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS
from tests.settings import REST_FRAMEWORK as SUITE_REST_FRAMEWORK

GUIDE_APPS = ["rest_framework", "rest_framework.authtoken", "drf_spectacular", "drf_spectacular_sidecar",
              "recommendations"]
INSTALLED_APPS = [*(app for app in INSTALLED_APPS if app not in GUIDE_APPS), "tests.hostshop"]

# --- the lines docs/integration.md tells a shop to add ---
INSTALLED_APPS += ["rest_framework", "rest_framework.authtoken", "drf_spectacular", "drf_spectacular_sidecar",
                   "recommendations"]
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication",
                                       "rest_framework.authentication.TokenAuthentication"],  # not Basic
}
SPECTACULAR_SETTINGS = {"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR"}
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
# --- end of the guide's lines; the suite's write rates stay as everywhere else ---
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = SUITE_REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
