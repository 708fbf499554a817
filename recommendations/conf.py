"""The app's settings: one ``RECOMMENDATIONS`` dict in the host's settings, read through
``app_settings`` (in the manner of DRF's ``api_settings``).

The product model is the one top-level setting, ``RECOMMENDATIONS_PRODUCT_MODEL``, because
Django's swappable-model machinery (like ``AUTH_USER_MODEL``) needs it there.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.db.models import Model

PRODUCT_MODEL_SETTING = "RECOMMENDATIONS_PRODUCT_MODEL"
DEFAULT_PRODUCT_MODEL = "recommendations.Product"

DEFAULTS: dict[str, Any] = {
    # The class that describes products to the app (recommendations.products.ProductAdapter);
    # the default reads PRODUCT_FIELDS.
    "PRODUCT_ADAPTER": "recommendations.products.FieldMappingAdapter",
    # Which fields of the product model hold the content used for features and filters, read by
    # the default adapter. Values are field names or lookups across relations (e.g.
    # "category__name"); "category" may cross a many-to-many ("categories__name": a list),
    # "price" a many-valued relation ("stockrecords__price": the lowest) or be an aggregate
    # (Max("stockrecords__price")), "available" a Q (true when some row matches). A key mapped
    # to None means the shop has no such field.
    "PRODUCT_FIELDS": {
        "name": "name",
        "description": "description",
        "category": "category",
        "brand": "brand",
        "price": "price",
        "available": "is_available",
        "image": None,
    },
    # Capture rules.
    "VIEW_DEDUP_SECONDS": 30 * 60,
    "BOT_USER_AGENT_PATTERN": (
        r"bot\b|bot/|crawl|spider|slurp|archiver|facebookexternalhit|embedly|preview|"
        r"monitor|pingdom|curl/|wget/|python-requests|python-urllib|httpclient|go-http-client|okhttp"
    ),
    # On PostgreSQL, commit captured events without waiting for the disk flush (a crash may
    # lose the last moment of behaviour; a page view no longer waits for an fsync).
    "CAPTURE_ASYNC_COMMIT": True,
    # How much each kind of behaviour counts when engines build their interaction matrix.
    "EVENT_WEIGHTS": {"view": 1.0, "cart": 3.0, "purchase": 5.0, "rating": 4.0},
    # Half-life of an event's weight in days (None: old behaviour counts as much as new).
    "TIME_DECAY_HALF_LIFE_DAYS": None,
    # Users and products with fewer interactions than this are left out of training.
    "MIN_SUPPORT": 1,
    # Rows per transaction when importing history.
    "IMPORT_BATCH_SIZE": 5000,
    # Engines trained by "retrain all" (``deep`` and ``sequence`` only where TensorFlow is installed).
    "ENGINES": ["popular", "trending", "item_cf", "user_cf", "content", "rating", "deep", "sequence", "hybrid"],
    # Constructor parameters per engine, e.g. {"item_cf": {"l2": 300.0}}.
    "ENGINE_PARAMS": {},
    # Seconds each training may spend choosing its engine's main hyperparameter (item_cf's l2,
    # user_cf's k, als's reg) on validation folds of the shop's data, starting from the value
    # above or the documented default (0 turns self-tuning off; a value set in a retrain's
    # params is never tuned).
    "TUNING_SECONDS": 60,
    # A new version replaces the active one only if its validation ndcg@10 is not lower by
    # more than this (staff can force activation).
    "ACTIVATION_TOLERANCE": 0.01,
    # Versions kept per engine; older ones are deleted with their artifacts.
    "KEEP_VERSIONS": 5,
    # Where artifacts go: a storage alias from STORAGES, and a folder inside it.
    "ARTIFACT_STORAGE": "default",
    "ARTIFACT_PATH": "recommendations/models",
    # Liveness of a training: its lock in the cache lives this long and is renewed by a
    # heartbeat (which also stamps the version's heartbeat_at) every TRAINING_HEARTBEAT_SECONDS
    # while it runs. A run whose lock is gone and whose last heartbeat is older than the lock's
    # lifetime has lost its worker: whoever looks next (the dashboard, the next retrain) marks it
    # failed, and the next training of that engine proceeds.
    "TRAINING_LOCK_SECONDS": 60,
    "TRAINING_HEARTBEAT_SECONDS": 10,
    # A version still queued after this long was lost with its message (no worker ever started
    # it): it is marked failed, and no longer stops a new training of its engine.
    "TRAINING_QUEUE_TIMEOUT": 6 * 60 * 60,
    # Users scored on the validation split (a sample keeps validation cheap on big shops).
    "VALIDATION_MAX_USERS": 3000,
    # Serving: the engine behind "recommended for you", then the fallbacks tried in order
    # when it has no model or nothing to say about this shopper.
    "SERVING_ENGINE": "hybrid",
    "FALLBACK_CHAIN": ["item_cf", "trending", "popular"],
    # How many of a shopper's latest events are folded in at request time.
    "HISTORY_LIMIT": 50,
    # Share of a known shopper's personalised list given to what they did since the model was
    # trained (0 turns it off): a few fresh views visibly steer the next page without a retrain.
    "RECENT_ACTIVITY_SHARE": 0.35,
    # Cache of computed lists: alias in CACHES, lifetime in seconds.
    "CACHE_ALIAS": "default",
    "CACHE_TIMEOUT": 15 * 60,
    # How often a web process checks which model versions are active (seconds).
    "ACTIVE_VERSION_CHECK_SECONDS": 10,
    # Precomputation (``tasks.precompute_lists``): shoppers per ``precompute_chunk`` task, and
    # how many products each shopper's stored list holds (requests for more compute live).
    "PRECOMPUTE_CHUNK_SIZE": 500,
    "PRECOMPUTE_LENGTH": 20,
    # Business rules.
    "EXCLUDE_PURCHASED": True,
    "REPURCHASABLE_CATEGORIES": [],
    "MAX_PER_CATEGORY": None,
    # Re-ranking of personalised lists: the engine's top ``overfetch`` x n re-ranked to n before
    # the business rules. method: None, "mmr" (diversity by category), "mmr_content" (by the
    # content engine's features) or "popularity" (a penalty on popular products); see
    # recommendations.algorithms.rerank. docs/benchmarks.md measures what each strength costs.
    "RERANK": {"method": None, "strength": 0.0, "overfetch": 5},
    "MAX_LIMIT": 50,
    # Dotted paths of callables ``(recommendations, context) -> recommendations`` run on every
    # list after the rules (boost, pin, demote); see docs/api.md.
    "RANKING_HOOKS": [],
    # A/B test of the personalised list's engine, e.g.
    # {"name": "hybrid-vs-item_cf", "variants": {"hybrid": 50, "item_cf": 50}}; None: no test.
    "AB_TEST": None,
    # Store an Impression row for each list shown by the template tags and the API.
    "RECORD_IMPRESSIONS": True,
    # Impressions wait in the process for one bulk INSERT at most this long (seconds; 0: each
    # is written at once), or until this many are waiting. Inside a transaction: at once.
    # None: 1.0 where the database takes concurrent writers, 0 on SQLite (one writer at a time:
    # a background writer would make the next request's transaction fail, "database is locked").
    "IMPRESSION_BUFFER_SECONDS": None,
    "IMPRESSION_BUFFER_SIZE": 100,
    # Products of cached lists kept in process memory, at most this many (0: none); dropped on
    # any product save or delete in any process (a token in the cache), by the app's importers,
    # and by recommendations.serving.products_changed() for changes that bypass signals.
    "PRODUCT_CACHE_SIZE": 10_000,
    # Default length of a list from the API and the template tags.
    "DEFAULT_LIMIT": 10,
    # The product card every widget of the template tags renders per item (the shop's own card:
    # it gets ``product``, the shop's instance, and ``item``, the recommendation's fields, with
    # ``item.click_url`` to link through so clicks are attributed); see docs/templates.md.
    "CARD_TEMPLATE": "recommendations/widgets/_card.html",
    # URL name of the shop's add-to-cart view, reversed with the product's key, for the app's
    # card (a POST form with quantity=1, next and recommendation_id); None: no button.
    "ADD_TO_CART_URL": None,
    # A purchase (or add to cart) of a product a shopper clicked in a widget counts for
    # recommendations when it happens within this many days of the click (the owner's dashboard).
    "ATTRIBUTION_DAYS": 7,
    # Rates, DRF format ("<count>/<period>", the period optionally a multiple: "5/15m");
    # REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] entries with the same scope names win, None lifts one.
    # The API's writes per shopper (user, else client address) and scope; its reads per shopper
    # (user, else session, else address) and per client address; failed password checks per
    # account and per address, after which password checks are refused (recommendations.passwords).
    "THROTTLE_RATES": {
        "recommendations.events": "120/min",
        "recommendations.clicks": "120/min",
        "recommendations.ratings": "30/min",
        "recommendations.preferences": "30/min",
        "recommendations.retrain": "10/hour",
        "recommendations.reads": "120/min",
        "recommendations.reads.address": "600/min",
        "recommendations.login.account": "5/15m",
        "recommendations.login.address": "20/h",
    },
}

#: Keys still accepted, with a warning (recommendations.W037) saying what replaced them.
DEPRECATED_SETTINGS = {
    "PRODUCT_CACHE_SECONDS": _(
        "The product cache no longer empties on a timer: it follows the catalogue token alone (product "
        "saves and deletes, the app's importers, recommendations.serving.products_changed() after "
        "QuerySet.update or bulk_create). Remove the key; to turn the product cache off, set "
        "PRODUCT_CACHE_SIZE to 0 (PRODUCT_CACHE_SECONDS = 0 still does until the key is removed)."),
}

_DICT_SETTINGS = {"PRODUCT_FIELDS", "EVENT_WEIGHTS", "THROTTLE_RATES", "RERANK"}
ENGINE_NAMES = ("popular", "trending", "user_cf", "item_cf", "content", "deep", "sequence", "hybrid", "rating")


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
        value = self.user_settings.get(name, DEFAULTS[name])
        if name in _DICT_SETTINGS and isinstance(value, dict):
            value = {**DEFAULTS[name], **value}
        setattr(self, name, value)  # later reads skip __getattr__ (as DRF's api_settings does)
        return value

    @property
    def product_cache_size(self) -> int:
        """``PRODUCT_CACHE_SIZE``, or 0 while the deprecated ``PRODUCT_CACHE_SECONDS`` is 0 (off)."""
        if "_product_cache_size" not in self._cache:
            off = self.user_settings.get("PRODUCT_CACHE_SECONDS") == 0
            self._cache["_product_cache_size"] = 0 if off else self.PRODUCT_CACHE_SIZE
        return self._cache["_product_cache_size"]

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
        for name in DEFAULTS:
            self.__dict__.pop(name, None)


app_settings = AppSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("RECOMMENDATIONS", PRODUCT_MODEL_SETTING):
        app_settings.reload()


setting_changed.connect(_reload)


def get_product_model() -> type[Model]:
    """The active product model class, like ``django.contrib.auth.get_user_model``."""
    if "_product_model" in app_settings._cache:  # before the imports, which cost a request a dozen calls
        return app_settings._cache["_product_model"]
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    label = app_settings.product_model
    try:
        model = apps.get_model(label, require_ready=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"{PRODUCT_MODEL_SETTING} must be of the form 'app_label.ModelName', not {label!r}."
        ) from None
    except LookupError:
        raise ImproperlyConfigured(
            f"{PRODUCT_MODEL_SETTING} refers to model {label!r} that has not been installed."
        ) from None
    if apps.ready:  # kept only once every model is registered (reset with the settings)
        app_settings._cache["_product_model"] = model
    return model


#: Celery routes a host can use as ``CELERY_TASK_ROUTES`` to send training and precomputation
#: to their own queues (and so to their own workers).
TRAINING_QUEUE = "recommendations.training"
PRECOMPUTE_QUEUE = "recommendations.precompute"
CELERY_TASK_ROUTES = {
    "recommendations.tasks.train_*": {"queue": TRAINING_QUEUE},
    "recommendations.tasks.prune_*": {"queue": TRAINING_QUEUE},
    "recommendations.tasks.precompute_*": {"queue": PRECOMPUTE_QUEUE},
    "recommendations.tasks.refresh_profiles*": {"queue": PRECOMPUTE_QUEUE},
}
