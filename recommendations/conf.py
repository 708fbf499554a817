"""The app's settings: one ``RECOMMENDATIONS`` dict in the host's settings, read through
``app_settings`` (in the manner of DRF's ``api_settings``).

The product model is the one top-level setting, ``RECOMMENDATIONS_PRODUCT_MODEL``, because
Django's swappable-model machinery (like ``AUTH_USER_MODEL``) needs it there.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

PRODUCT_MODEL_SETTING = "RECOMMENDATIONS_PRODUCT_MODEL"
DEFAULT_PRODUCT_MODEL = "recommendations.Product"

DEFAULTS: dict[str, Any] = {
    # Which fields of the product model hold the content used for features and filters.
    # Values are field names or lookups across relations (e.g. "category__name"); a key
    # mapped to None means the shop has no such field.
    "PRODUCT_FIELDS": {
        "name": "name",
        "description": "description",
        "category": "category",
        "brand": "brand",
        "price": "price",
        "available": "is_available",
    },
    # Capture rules.
    "VIEW_DEDUP_SECONDS": 30 * 60,
    "BOT_USER_AGENT_PATTERN": (
        r"bot\b|bot/|crawl|spider|slurp|archiver|facebookexternalhit|embedly|preview|"
        r"monitor|pingdom|curl/|wget/|python-requests|python-urllib|httpclient|go-http-client|okhttp"
    ),
    # How much each kind of behaviour counts when engines build their interaction matrix.
    "EVENT_WEIGHTS": {"view": 1.0, "cart": 3.0, "purchase": 5.0, "rating": 4.0},
    # Half-life of an event's weight in days (None: old behaviour counts as much as new).
    "TIME_DECAY_HALF_LIFE_DAYS": None,
    # Users and products with fewer interactions than this are left out of training.
    "MIN_SUPPORT": 1,
    # Rows per transaction when importing history.
    "IMPORT_BATCH_SIZE": 5000,
}

_DICT_SETTINGS = {"PRODUCT_FIELDS", "EVENT_WEIGHTS"}


class AppSettings:
    """Attribute access to ``settings.RECOMMENDATIONS`` merged over ``DEFAULTS``; cached,
    and reset whenever a test overrides the setting."""

    def __init__(self) -> None:
        self._cache: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        return getattr(settings, "RECOMMENDATIONS", None) or {}

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid RECOMMENDATIONS setting: {name!r}")
        if name not in self._cache:
            value = self.user_settings.get(name, DEFAULTS[name])
            if name in _DICT_SETTINGS and isinstance(value, dict):
                value = {**DEFAULTS[name], **value}
            self._cache[name] = value
        return self._cache[name]

    @property
    def product_model(self) -> str:
        return getattr(settings, PRODUCT_MODEL_SETTING, DEFAULT_PRODUCT_MODEL)

    @property
    def bot_user_agent_re(self) -> re.Pattern[str] | None:
        if "_bot_re" not in self._cache:
            pattern = self.BOT_USER_AGENT_PATTERN
            self._cache["_bot_re"] = re.compile(pattern, re.IGNORECASE) if pattern else None
        return self._cache["_bot_re"]

    def reload(self) -> None:
        self._cache.clear()


app_settings = AppSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("RECOMMENDATIONS", PRODUCT_MODEL_SETTING):
        app_settings.reload()


setting_changed.connect(_reload)


def get_product_model():
    """The active product model class, like ``django.contrib.auth.get_user_model``."""
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    label = app_settings.product_model
    try:
        return apps.get_model(label, require_ready=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"{PRODUCT_MODEL_SETTING} must be of the form 'app_label.ModelName', not {label!r}."
        ) from None
    except LookupError:
        raise ImproperlyConfigured(
            f"{PRODUCT_MODEL_SETTING} refers to model {label!r} that has not been installed."
        ) from None
