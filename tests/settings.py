"""Test settings: the app with its default product model. ``DATABASE_URL`` selects PostgreSQL."""

import os

import dj_database_url

SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the docs page's Swagger UI, served locally (no CDN)
    "recommendations",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": dj_database_url.config(default="sqlite:///:memory:")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "static/"
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # The app's recommended authentication: session and token, not HTTP Basic.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication",
                                       "rest_framework.authentication.TokenAuthentication"],
    # Write endpoints' rates per shopper; these override RECOMMENDATIONS["THROTTLE_RATES"].
    "DEFAULT_THROTTLE_RATES": {"recommendations.events": "1000/min"},
}
# The docs page loads Swagger UI from drf-spectacular-sidecar's static files, not a CDN.
SPECTACULAR_SETTINGS = {"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR"}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = "CELERY_BROKER_URL" not in os.environ
TEMPLATES[0]["DIRS"] = [os.path.join(os.path.dirname(__file__), "templates")]

# Training and precomputation go to their own queues, as in production.
from recommendations.conf import CELERY_TASK_ROUTES  # noqa: E402

CELERY_TASK_ROUTES = CELERY_TASK_ROUTES
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None

# tests/integration starts real Celery workers with this settings module and hands them, through
# the environment, what they must share with the test process: the database (DATABASE_URL
# names pytest-django's test database), the broker, a Redis cache (so the training lock is one
# lock), the media folder that holds the artifacts, and settings overrides as JSON.
if os.environ.get("RECOMMENDATIONS_TEST_REDIS"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["RECOMMENDATIONS_TEST_REDIS"],
            "KEY_PREFIX": "recommendations-tests",
        }
    }
if os.environ.get("RECOMMENDATIONS_TEST_MEDIA_ROOT"):
    MEDIA_ROOT = os.environ["RECOMMENDATIONS_TEST_MEDIA_ROOT"]
if os.environ.get("RECOMMENDATIONS_TEST_SETTINGS"):
    import json

    RECOMMENDATIONS = json.loads(os.environ["RECOMMENDATIONS_TEST_SETTINGS"])
if os.environ.get("TEST_DATABASE_NAME"):  # a private test database, e.g. beside other runs
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
