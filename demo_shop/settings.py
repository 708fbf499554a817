"""Settings of the demo shop: embedded defaults on a fresh machine (SQLite; a cache in files,
which every process of the machine shares; `python3 dev.py demo` runs a Celery worker on kombu's
filesystem broker); PostgreSQL, Redis and a Redis broker when ``DATABASE_URL`` / ``REDIS_URL`` /
``CELERY_BROKER_URL`` are set. Without any broker (the test suites) tasks run eagerly."""

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-shop-insecure-key-change-me" if DEBUG else "")
if not SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY when DJANGO_DEBUG=0.")
ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
if not DEBUG:
    # Production mode (`manage.py check --deploy` is clean): HTTPS only, secure cookies. Behind a
    # TLS-terminating proxy set DJANGO_BEHIND_PROXY=1; DJANGO_SSL_REDIRECT=0 tries it over plain HTTP.
    SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SSL_REDIRECT", "1") == "1"
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if os.environ.get("DJANGO_BEHIND_PROXY") == "1":
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",  # API tokens for clients other than the shop's pages (POST /api/token/)
    "drf_spectacular",
    "drf_spectacular_sidecar",  # the docs page's Swagger UI, served locally (no CDN)
    "demo_shop.catalog",
    "recommendations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The shopper's language: the language switch's cookie, else the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A kept recommendation list is answered here, below what it needs (the session, the
    # language, the shopper) and the headers every response gets; the middleware below does
    # nothing for a JSON list.
    "recommendations.middleware.KeptListsMiddleware",
    "django.middleware.common.CommonMiddleware",
    # A NUL byte in a path, query string or form field is a 400, not a PostgreSQL error.
    "recommendations.middleware.RefuseUnstorableInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "demo_shop.urls"
WSGI_APPLICATION = "demo_shop.wsgi.application"

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
                "demo_shop.catalog.context_processors.shop",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets pages read while an event is written; NORMAL syncs at checkpoints, not every commit.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
# English and Simplified Chinese (the app and the demo ship zh_Hans translations; docs/i18n.md).
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "demo_shop" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
if not DEBUG:
    # Production mode: run `manage.py collectstatic`; whitenoise serves the hashed, compressed files.
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "catalog:home"
LOGOUT_REDIRECT_URL = "catalog:home"

# One cache for every process (the web server, the Celery worker, gunicorn's workers): the
# training lock, computed lists and rate limits live there. Redis when REDIS_URL is set, else files.
if os.environ.get("REDIS_URL"):
    # Django's Redis backend with one Redis client per process (docs/deployment.md)
    CACHES = {"default": {"BACKEND": "recommendations.cache.RedisCache",
                          "LOCATION": os.environ["REDIS_URL"]}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": os.environ.get("DJANGO_CACHE_DIR", str(BASE_DIR / ".cache" / "django"))}}

# Celery: a real broker when CELERY_BROKER_URL is set (`python3 dev.py demo` sets "filesystem://":
# kombu's broker in a folder, no service needed; or a Redis URL), otherwise tasks run in-process
# (the test suites).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "memory://")
CELERY_TASK_ALWAYS_EAGER = "CELERY_BROKER_URL" not in os.environ
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_folder = Path(os.environ.get("CELERY_BROKER_FOLDER", BASE_DIR / ".celery-broker"))
    for _sub in ("queue", "processed", "control"):
        (_broker_folder / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_folder / "queue"), "data_folder_out": str(_broker_folder / "queue"),
        "processed_folder": str(_broker_folder / "processed"), "store_processed": False,
        "control_folder": str(_broker_folder / "control"),
    }

# The recommendations app uses the shop's own product model, unchanged.
RECOMMENDATIONS_PRODUCT_MODEL = "catalog.Product"
RECOMMENDATIONS = {
    "PRODUCT_FIELDS": {
        "name": "title",
        "description": "summary",
        "category": "category__name",
        "brand": "brand",
        "price": "unit_price",
        "available": "in_stock",
    },
    # Widgets render each product with the shop's own card (picture, rating, price, add to cart).
    "CARD_TEMPLATE": "catalog/_product_card.html",
    # A penalty on popular products in personal lists, so that a few best sellers do not fill
    # every shopper's "for you" (bench/popularity_share.py measures it; docs/benchmarks.md).
    "RERANK": {"method": "popularity", "strength": 0.5},
    # Keep the TensorFlow engines' training short on a laptop-sized demo (two minutes of fitting,
    # shared by a training's validation and final fits).
    "ENGINE_PARAMS": {"deep": {"max_seconds": 120}, "sequence": {"max_seconds": 120}},
}

# Training and precomputation get their own queues (and so their own workers) in production:
#   celery -A demo_shop worker -Q recommendations.training      (training hosts)
#   celery -A demo_shop worker -Q recommendations.precompute    (precompute hosts)
from recommendations.conf import CELERY_TASK_ROUTES  # noqa: E402

CELERY_TASK_ROUTES = CELERY_TASK_ROUTES
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))

# The recommendations API (mounted at /api/recommendations/): OpenAPI schema by drf-spectacular;
# session authentication for the shop's pages, tokens for other clients, never HTTP Basic (whose
# every request is a password check); rates per shopper (defaults in
# RECOMMENDATIONS["THROTTLE_RATES"], which also limits reads and failed passwords).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication",
                                       "rest_framework.authentication.TokenAuthentication"],
    # Behind a proxy (DJANGO_BEHIND_PROXY=1) the client's address is the one it forwards.
    "NUM_PROXIES": 1 if os.environ.get("DJANGO_BEHIND_PROXY") == "1" else None,
    "DEFAULT_THROTTLE_RATES": {
        "recommendations.events": "120/min",
        "recommendations.clicks": "120/min",
        "recommendations.ratings": "30/min",
        "recommendations.retrain": "10/hour",
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Demo shop recommendations API",
    "VERSION": "0.1.0",
    # The docs page loads Swagger UI from drf-spectacular-sidecar's static files, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
