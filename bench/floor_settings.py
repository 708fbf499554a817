"""Settings of the serving floor (``bench/floor.py``): bench/load_settings.py's database, cache
and session engine (the shop's, as load.py serves it), without the shop's middleware and URLs."""

from bench.load_settings import *  # noqa: F403

ROOT_URLCONF = "bench.floor"
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [], "DEFAULT_PERMISSION_CLASSES": [],
                  "UNAUTHENTICATED_USER": None, "DEFAULT_THROTTLE_CLASSES": [],
                  "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}
