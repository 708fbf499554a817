"""Settings for bench/load.py: the demo shop on PostgreSQL with Redis as cache, production-like
(DEBUG off, no browsable API renderer), artifacts under bench/.media (git-ignored by media/)."""

import os

from demo_shop.settings import *  # noqa: F403
from demo_shop.settings import BASE_DIR, RECOMMENDATIONS, REST_FRAMEWORK

DEBUG = False
ROOT_URLCONF = "bench.load_urls"  # the floor's URLs, then the demo shop's
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
MEDIA_ROOT = os.environ.get("BENCH_MEDIA_ROOT", str(BASE_DIR / "bench" / ".media" / "media"))
CACHES = {"default": {"BACKEND": os.environ.get("BENCH_CACHE_BACKEND", "django.core.cache.backends.redis.RedisCache"),
                      "LOCATION": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")}}
SESSION_ENGINE = os.environ.get("BENCH_SESSION_ENGINE", "django.contrib.sessions.backends.cached_db")
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "WARNING"}}
# The benchmark's clients are many shoppers behind one address, each as fast as the server
# answers: lift the API's read limits (per shopper, per address), which it would otherwise measure.
RECOMMENDATIONS = {**RECOMMENDATIONS, "THROTTLE_RATES": {"recommendations.reads": None,
                                                         "recommendations.reads.address": None}}
# bench/cold_for_you.py serves each engine from its own server.
if os.environ.get("BENCH_SERVING_ENGINE"):
    RECOMMENDATIONS["SERVING_ENGINE"] = os.environ["BENCH_SERVING_ENGINE"]
