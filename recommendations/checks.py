"""System checks: a misconfigured ``RECOMMENDATIONS`` fails ``manage.py check`` with a message
that says what is wrong and how to fix it."""

from __future__ import annotations

import difflib
import re
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from .conf import DEFAULTS, DEPRECATED_SETTINGS, ENGINE_NAMES, PRODUCT_MODEL_SETTING, app_settings, get_product_model
from .limits import parse_rate

PRODUCT_FIELD_KEYS = set(DEFAULTS["PRODUCT_FIELDS"])
ADAPTER_METHODS = {"name": "name", "description": "description", "categories": "category", "brand": "brand",
                   "price": "price", "is_available": "available", "image_url": "image", "url": None}


def _error(msg: str, hint: str, n: int) -> checks.Error:
    return checks.Error(msg, hint=hint, id=f"recommendations.E{n:03d}")


@checks.register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    user = getattr(settings, "RECOMMENDATIONS", {})
    if not isinstance(user, dict):
        return [_error(_("RECOMMENDATIONS must be a dict."),
                       _("Set RECOMMENDATIONS = {...} with the options from docs/settings.md."), 1)]
    for key in sorted(set(user) & set(DEPRECATED_SETTINGS)):
        errors.append(checks.Warning(_("RECOMMENDATIONS[%(key)r] is deprecated.") % {"key": key},
                                     hint=str(DEPRECATED_SETTINGS[key]), id="recommendations.W037"))
    for key in sorted(set(user) - set(DEFAULTS) - set(DEPRECATED_SETTINGS)):
        close = difflib.get_close_matches(str(key).upper(), DEFAULTS, n=1)
        hint = (_("Did you mean %(key)r?") % {"key": close[0]} if close
                else _("Valid keys: %(keys)s.") % {"keys": ", ".join(sorted(DEFAULTS))})
        errors.append(_error(_("RECOMMENDATIONS has an unknown key %(key)r.") % {"key": key}, hint, 2))

    try:
        model = get_product_model()
    except ImproperlyConfigured as exc:
        errors.append(_error(str(exc), _("Set %(setting)s to an installed model, e.g. 'catalog.Product', or "
                                         "leave it unset for 'recommendations.Product'.")
                             % {"setting": PRODUCT_MODEL_SETTING}, 3))
        model = None

    fields = app_settings.PRODUCT_FIELDS
    if not isinstance(fields, dict):
        errors.append(_error(_("RECOMMENDATIONS['PRODUCT_FIELDS'] must be a dict."),
                             _("Map name, description, category, brand, price, available, image to fields."), 4))
    else:
        for key in sorted(set(fields) - PRODUCT_FIELD_KEYS):
            errors.append(_error(_("RECOMMENDATIONS['PRODUCT_FIELDS'] has an unknown key %(key)r.") % {"key": key},
                                 _("Valid keys: %(keys)s.") % {"keys": ", ".join(sorted(PRODUCT_FIELD_KEYS))}, 5))
        if model is not None and _uses_field_mapping():
            from .products import MappingError, _Reader

            for key, lookup in sorted(fields.items()):
                if key not in PRODUCT_FIELD_KEYS or lookup is None:
                    continue
                try:
                    _Reader.compile(model, key, lookup)
                except MappingError as exc:
                    errors.append(_error(str(exc), exc.hint, 6))
        if fields.get("name") is None:
            errors.append(_error(_("RECOMMENDATIONS['PRODUCT_FIELDS']['name'] cannot be None."),
                                 _("Map 'name' to the field holding the product's title."), 7))

    dedup = app_settings.VIEW_DEDUP_SECONDS
    if not isinstance(dedup, int) or isinstance(dedup, bool) or dedup < 0:
        errors.append(_error(
            _("RECOMMENDATIONS['VIEW_DEDUP_SECONDS'] must be an integer >= 0, got %(value)r.") % {"value": dedup},
            _("Use 0 to count every view, or a window in seconds (default 1800)."), 8))
    pattern = app_settings.BOT_USER_AGENT_PATTERN
    if pattern:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            errors.append(_error(_("RECOMMENDATIONS['BOT_USER_AGENT_PATTERN'] is not a valid regex: %(error)s.")
                                 % {"error": exc},
                                 _("Fix the pattern, or set it to '' to count every user agent."), 9))
    weights = app_settings.EVENT_WEIGHTS
    valid_kinds = set(DEFAULTS["EVENT_WEIGHTS"])
    if not isinstance(weights, dict) or set(weights) - valid_kinds or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in weights.values()
    ):
        errors.append(_error(_("RECOMMENDATIONS['EVENT_WEIGHTS'] is invalid: %(value)r.") % {"value": weights},
                             _("Give non-negative numbers for keys among %(keys)s.") % {"keys": sorted(valid_kinds)},
                             10))
    half_life = app_settings.TIME_DECAY_HALF_LIFE_DAYS
    if half_life is not None and (not isinstance(half_life, (int, float)) or half_life <= 0):
        errors.append(_error(
            _("RECOMMENDATIONS['TIME_DECAY_HALF_LIFE_DAYS'] must be > 0 or None, got %(value)r.")
            % {"value": half_life},
            _("Use e.g. 30 for a 30-day half-life, or None for no decay."), 11))
    engines = app_settings.ENGINES
    if not isinstance(engines, (list, tuple)) or set(engines) - set(ENGINE_NAMES):
        errors.append(_error(_("RECOMMENDATIONS['ENGINES'] must list engines among %(engines)s, got %(value)r.")
                             % {"engines": list(ENGINE_NAMES), "value": engines}, _("Remove the unknown names."), 13))
    chain = [app_settings.SERVING_ENGINE, *app_settings.FALLBACK_CHAIN]
    unknown = [name for name in chain if name not in ENGINE_NAMES]
    if unknown:
        errors.append(_error(_("Unknown engine(s) %(unknown)s in SERVING_ENGINE / FALLBACK_CHAIN.")
                             % {"unknown": unknown},
                             _("Choose from %(engines)s.") % {"engines": list(ENGINE_NAMES)}, 14))
    tolerance = app_settings.ACTIVATION_TOLERANCE
    if not isinstance(tolerance, (int, float)) or isinstance(tolerance, bool) or tolerance < 0:
        errors.append(_error(
            _("RECOMMENDATIONS['ACTIVATION_TOLERANCE'] must be a number >= 0, got %(value)r.") % {"value": tolerance},
            _("It is the ndcg@10 drop a new version may have and still be activated."), 15))
    if app_settings.CACHE_ALIAS not in settings.CACHES:
        errors.append(_error(_("RECOMMENDATIONS['CACHE_ALIAS'] %(value)r is not in CACHES.")
                             % {"value": app_settings.CACHE_ALIAS}, _("Name one of the caches defined in CACHES."), 16))
    if app_settings.ARTIFACT_STORAGE not in settings.STORAGES:
        errors.append(_error(
            _("RECOMMENDATIONS['ARTIFACT_STORAGE'] %(value)r is not in STORAGES.")
            % {"value": app_settings.ARTIFACT_STORAGE},
            _("Name one of the storages defined in STORAGES (e.g. 'default')."), 17))
    share = app_settings.RECENT_ACTIVITY_SHARE
    if not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share < 1:
        errors.append(_error(_("RECOMMENDATIONS['RECENT_ACTIVITY_SHARE'] must be a number in [0, 1), got %(value)r.")
                             % {"value": share},
                             _("It is the share of a personalised list given to the shopper's newest events."), 18))
    tuning = app_settings.TUNING_SECONDS
    if not isinstance(tuning, (int, float)) or isinstance(tuning, bool) or not 0 <= tuning < float("inf"):
        errors.append(_error(_("RECOMMENDATIONS['TUNING_SECONDS'] must be a number of seconds >= 0, got %(value)r.")
                             % {"value": tuning},
                             _("Default: %(default)s; 0 turns self-tuning off.")
                             % {"default": DEFAULTS["TUNING_SECONDS"]},
                             12))
    for key in ("MIN_SUPPORT", "IMPORT_BATCH_SIZE", "KEEP_VERSIONS", "HISTORY_LIMIT", "MAX_LIMIT", "ATTRIBUTION_DAYS"):
        value = getattr(app_settings, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            errors.append(_error(_("RECOMMENDATIONS[%(key)r] must be an integer >= 1, got %(value)r.")
                                 % {"key": key, "value": value}, _("Default: %(default)s.")
                                                                 % {"default": DEFAULTS[key]},
                                 12))
    return errors


@checks.register()
def check_presentation_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """RANKING_HOOKS, AB_TEST, THROTTLE_RATES, RECORD_IMPRESSIONS, DEFAULT_LIMIT, buffers, RERANK
    (E030-E036)."""
    from django.utils.module_loading import import_string

    errors: list[checks.CheckMessage] = []
    if not isinstance(getattr(settings, "RECOMMENDATIONS", {}), dict):
        return errors
    hooks = app_settings.RANKING_HOOKS
    if not isinstance(hooks, (list, tuple)):
        errors.append(_error(_("RECOMMENDATIONS['RANKING_HOOKS'] must be a list, got %(value)r.") % {"value": hooks},
                             _("List dotted paths of callables (recommendations, context) -> recommendations."), 30))
    else:
        for path in hooks:
            try:
                hook = import_string(path)
            except ImportError as exc:
                errors.append(_error(_("RECOMMENDATIONS['RANKING_HOOKS'] entry %(path)r cannot be imported: %(error)s.")
                                     % {"path": path, "error": exc},
                                     _("Give the dotted path of a callable, e.g. 'shop.ranking.boost_sale'."), 30))
                continue
            if not callable(hook):
                errors.append(_error(_("RECOMMENDATIONS['RANKING_HOOKS'] entry %(path)r is not callable.")
                                     % {"path": path},
                                     _("Point it at a function (recommendations, context) -> recommendations."), 30))
    test = app_settings.AB_TEST
    if test is not None:
        from .serving import ab_variants

        problem = ""
        if not isinstance(test, dict) or not isinstance(test.get("variants"), dict) or not test["variants"]:
            problem = _("it must be a dict with a non-empty 'variants' dict")
        else:
            try:
                arms = ab_variants(test)
            except (TypeError, ValueError, AttributeError) as exc:
                arms, problem = [], _("a variant is malformed (%(error)s)") % {"error": exc}
            unknown = sorted({engine for _, engine, _ in arms} - set(ENGINE_NAMES))
            if unknown:
                problem = _("unknown engine(s) %(unknown)s") % {"unknown": unknown}
            elif arms and (any(w < 0 for *_, w in arms) or not sum(w for *_, w in arms)):
                problem = _("weights must be >= 0 and not all 0")
            elif any(len(name) > 32 for name, *_ in arms):
                problem = _("variant names are stored in 32 characters at most")
        if problem:
            errors.append(_error(_("RECOMMENDATIONS['AB_TEST'] is invalid: %(problem)s.") % {"problem": problem},
                                 _("E.g. {'name': 'hybrid-vs-item_cf', 'variants': {'hybrid': 50, 'item_cf': 50}}; "
                                   "engines: %(engines)s.") % {"engines": list(ENGINE_NAMES)}, 31))
    rates = app_settings.THROTTLE_RATES
    if not isinstance(rates, dict):
        errors.append(_error(_("RECOMMENDATIONS['THROTTLE_RATES'] must be a dict."),
                             _("Map scopes such as 'recommendations.events' to rates like '120/min'."), 32))
    else:
        for scope, rate in sorted(rates.items()):
            try:
                parse_rate(rate)
            except ImproperlyConfigured:
                errors.append(_error(_("RECOMMENDATIONS['THROTTLE_RATES'][%(scope)r] = %(rate)r is not a rate.")
                                     % {"scope": scope, "rate": rate},
                                     _("Use DRF's format, e.g. '120/min', '10/hour', '5/15m', or None for no limit."),
                                     32))
    if not isinstance(app_settings.RECORD_IMPRESSIONS, bool):
        errors.append(_error(_("RECOMMENDATIONS['RECORD_IMPRESSIONS'] must be True or False."),
                             _("Default: True."), 33))
    limit = app_settings.DEFAULT_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= app_settings.MAX_LIMIT:
        errors.append(_error(_("RECOMMENDATIONS['DEFAULT_LIMIT'] must be an integer in 1..MAX_LIMIT, got %(value)r.")
                             % {"value": limit}, _("Default: %(default)s.")
                                                 % {"default": DEFAULTS["DEFAULT_LIMIT"]}, 34))
    value = app_settings.IMPRESSION_BUFFER_SECONDS
    if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0):
        errors.append(_error(_("RECOMMENDATIONS['IMPRESSION_BUFFER_SECONDS'] must be a number >= 0, got %(value)r.")
                             % {"value": value}, _("Default: None; 0 turns it off."), 35))
    for key, least in (("IMPRESSION_BUFFER_SIZE", 1), ("PRODUCT_CACHE_SIZE", 0)):
        value = getattr(app_settings, key)
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            errors.append(_error(_("RECOMMENDATIONS[%(key)r] must be an integer >= %(least)s, got %(value)r.")
                                 % {"key": key, "least": least, "value": value},
                                 (_("Default: %(default)s; 0 turns it off.") if least == 0
                                  else _("Default: %(default)s.")) % {"default": DEFAULTS[key]}, 35))
    problem = _rerank_problem(app_settings.RERANK)
    if problem:
        errors.append(_error(_("RECOMMENDATIONS['RERANK'] is invalid: %(problem)s.") % {"problem": problem},
                             _("E.g. {'method': 'mmr', 'strength': 0.25}; method None, 'mmr', 'mmr_content' or "
                               "'popularity'; strength in [0, 1] for MMR, >= 0 for popularity; overfetch an "
                               "integer >= 1."), 36))
    return errors


def _rerank_problem(config: Any) -> str:
    """What is wrong with a RERANK setting ('' when nothing)."""
    from .algorithms.rerank import METHODS

    if not isinstance(config, dict):
        return _("it must be a dict")
    unknown = sorted(set(config) - set(DEFAULTS["RERANK"]))
    if unknown:
        return _("unknown key(s) %(unknown)s") % {"unknown": unknown}
    method, strength, overfetch = config.get("method"), config.get("strength"), config.get("overfetch")
    if method is not None and method not in METHODS:
        return _("unknown method %(method)r") % {"method": method}
    if not isinstance(strength, (int, float)) or isinstance(strength, bool) or not strength >= 0:
        return _("strength must be a number >= 0, got %(value)r") % {"value": strength}
    if method in ("mmr", "mmr_content") and strength > 1:
        return _("an MMR strength is in [0, 1], got %(value)r") % {"value": strength}
    if not isinstance(overfetch, int) or isinstance(overfetch, bool) or overfetch < 1:
        return _("overfetch must be an integer >= 1, got %(value)r") % {"value": overfetch}
    return ""


def _adapter_class() -> Any:
    from django.utils.module_loading import import_string

    path = app_settings.PRODUCT_ADAPTER
    return import_string(path) if isinstance(path, str) else path


def _uses_field_mapping() -> bool:
    from .products import FieldMappingAdapter

    try:
        adapter_class = _adapter_class()
    except ImportError:
        return False
    return isinstance(adapter_class, type) and issubclass(adapter_class, FieldMappingAdapter)


@checks.register()
def check_product_adapter(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """PRODUCT_ADAPTER imports and is a ProductAdapter (E019); and, when the product table exists
    and holds a product, the adapter really describes one (E020), in bulk (W021): a mapping that
    passes ``check`` cannot fail at request time."""
    from .products import MappingError, ProductAdapter

    if not isinstance(getattr(settings, "RECOMMENDATIONS", {}), dict):
        return []
    path = app_settings.PRODUCT_ADAPTER
    hint = _("Give the dotted path of a recommendations.products.ProductAdapter subclass, e.g. "
             "'shop.recommendations.ShopProducts', or leave it unset to use PRODUCT_FIELDS.")
    try:
        adapter_class = _adapter_class()
    except ImportError as exc:
        return [_error(_("RECOMMENDATIONS['PRODUCT_ADAPTER'] %(path)r cannot be imported: %(error)s.")
                       % {"path": path, "error": exc}, hint, 19)]
    if not (isinstance(adapter_class, type) and issubclass(adapter_class, ProductAdapter)):
        return [_error(_("RECOMMENDATIONS['PRODUCT_ADAPTER'] %(path)r is not a ProductAdapter subclass.")
                       % {"path": path}, hint, 19)]
    try:
        adapter = adapter_class()
    except (MappingError, ImproperlyConfigured):
        return []  # reported by check_settings (E003, E006)
    except Exception as exc:  # noqa: BLE001
        return [_error(_("RECOMMENDATIONS['PRODUCT_ADAPTER'] %(path)r cannot be created: %(error)s.")
                       % {"path": path, "error": f"{type(exc).__name__}: {exc}"}, hint, 19)]
    return _evaluate(adapter)


def _where(adapter: Any, method: str) -> str:
    """The setting to blame for what ``method`` does: a PRODUCT_FIELDS entry, or the adapter."""
    from .products import FieldMappingAdapter

    key = ADAPTER_METHODS.get(method)
    if (isinstance(adapter, FieldMappingAdapter) and adapter.fields.get(key) is not None
            and getattr(type(adapter), method) is getattr(FieldMappingAdapter, method)):
        return f"RECOMMENDATIONS['PRODUCT_FIELDS'][{key!r}] = {adapter.fields[key]!r}"
    return f"RECOMMENDATIONS['PRODUCT_ADAPTER'] ({type(adapter).__module__}.{type(adapter).__qualname__}).{method}()"


def _evaluate(adapter: Any) -> list[checks.CheckMessage]:
    """Describe the first products through the adapter, exactly as serving will."""
    from decimal import Decimal, InvalidOperation

    from django.db import DatabaseError, connections, router
    from django.test.utils import CaptureQueriesContext

    model = adapter.model
    connection = connections[router.db_for_read(model)]
    try:
        if model._meta.db_table not in connection.introspection.table_names():
            return []  # not migrated yet
        first = list(model._default_manager.order_by("pk").values_list("pk", flat=True)[:2])
    except DatabaseError:
        return []  # no database to look at (e.g. a build step): nothing to evaluate
    if not first:
        return []
    fix = _("Fix the mapping (see docs/integration.md, 'Describe your products'), or describe this shape in a "
            "ProductAdapter subclass named by RECOMMENDATIONS['PRODUCT_ADAPTER'].")
    try:
        products = list(adapter.get_queryset().filter(pk__in=first))
    except Exception as exc:  # noqa: BLE001
        return [_error(_("%(where)s: fetching products fails: %(error)s.")
                       % {"where": _where(adapter, "get_queryset"), "error": f"{type(exc).__name__}: {exc}"}, fix, 20)]
    errors: list[checks.CheckMessage] = []
    for product in products[:1]:
        for method in ADAPTER_METHODS:
            try:
                value = getattr(adapter, method)(product)
            except Exception as exc:  # noqa: BLE001
                errors.append(_error(_("%(where)s cannot be read on product %(pk)r: %(error)s.")
                                     % {"where": _where(adapter, method), "pk": product.pk,
                                        "error": f"{type(exc).__name__}: {exc}"}, fix, 20))
                continue
            problem = ""
            if method == "categories" and (isinstance(value, (str, bytes)) or not hasattr(value, "__iter__")):
                problem = _("categories() must return a list of names")
            elif method == "price" and value not in (None, ""):
                try:
                    Decimal(str(value))
                except (InvalidOperation, ValueError):
                    problem = _("a price must be a number")
            elif method in ("image_url", "url") and value is not None and not isinstance(value, str):
                problem = _("a URL must be a string or None")
            if problem:
                errors.append(_error(_("%(where)s gave %(value)r on product %(pk)r: %(problem)s.")
                                     % {"where": _where(adapter, method), "value": value, "pk": product.pk,
                                        "problem": problem}, fix, 20))
    if errors:
        return errors
    fetched = adapter.fetch(first)
    with CaptureQueriesContext(connection) as queries:
        for product in fetched.values():
            adapter.describe(product)
    if len(queries):
        errors.append(checks.Warning(
            _("RECOMMENDATIONS['PRODUCT_ADAPTER']: describing a fetched product costs %(n)s database queries per "
              "product (e.g. %(sql)r), so every list costs one per item.")
            % {"n": f"{len(queries) / len(fetched):g}", "sql": queries[0]["sql"][:120]},
            hint=_("Fetch what the adapter reads in its get_queryset() (select_related, prefetch_related, annotate)."),
            id="recommendations.W021"))
    return errors


PROCESS_LOCAL_CACHES = ("django.core.cache.backends.locmem.LocMemCache",
                        "django.core.cache.backends.dummy.DummyCache")


def _runs_a_worker() -> bool:
    """Whether tasks go to a worker process (a broker, not eager): Django's CELERY_* settings,
    else the current Celery app's configuration (a project that configures Celery in code)."""
    eager = getattr(settings, "CELERY_TASK_ALWAYS_EAGER", None)
    broker = getattr(settings, "CELERY_BROKER_URL", None)
    try:
        from celery import current_app

        conf = current_app.conf
        eager = conf.task_always_eager if eager is None else eager
        broker = broker or conf.broker_url
    except Exception:  # noqa: BLE001 - no Celery app: the shop trains with --sync
        pass
    return bool(broker) and not str(broker).startswith("memory://") and not eager


@checks.register(checks.Tags.caches, deploy=True)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """With a worker, the training lock (the "default" cache) and the lists and rate limits
    (CACHE_ALIAS) must live in a cache every process sees (E040)."""
    if not _runs_a_worker():
        return []
    errors: list[checks.CheckMessage] = []
    configured = getattr(settings, "CACHES", {}) or {}
    for alias in dict.fromkeys(["default", app_settings.CACHE_ALIAS]):
        backend = (configured.get(alias) or {}).get("BACKEND", PROCESS_LOCAL_CACHES[0])
        if backend in PROCESS_LOCAL_CACHES:
            errors.append(_error(
                _("CACHES[%(alias)r] is %(backend)s, a cache of one process, but training runs in a Celery worker: "
                  "the web processes cannot see the worker's training lock, and the lists and rate limits differ "
                  "per process.") % {"alias": alias, "backend": backend.rsplit(".", 1)[-1]},
                _("Set CACHES[%(alias)r]['BACKEND'] to a cache shared by every process, e.g. "
                  "'django.core.cache.backends.redis.RedisCache' (or DatabaseCache / FileBasedCache on a "
                  "single host); see docs/deployment.md.") % {"alias": alias}, 40))
    return errors


KEPT_LISTS_MIDDLEWARE = "recommendations.middleware.KeptListsMiddleware"
#: What KeptListsMiddleware's answer needs above it: the shopper, and the list's language.
KEPT_LISTS_NEEDS = ("django.contrib.auth.middleware.AuthenticationMiddleware",
                    "django.middleware.locale.LocaleMiddleware")


@checks.register()
def check_middleware_order(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``KeptListsMiddleware`` below ``AuthenticationMiddleware`` and, where the shop has it,
    ``LocaleMiddleware`` (E041): above them it would answer with nobody signed in, in the
    default language."""
    classes = []
    for entry in getattr(settings, "MIDDLEWARE", None) or []:
        try:
            classes.append(import_string(entry))
        except ImportError:
            classes.append(None)  # Django's own handler names it when it loads

    def first(dotted: str) -> int | None:
        wanted = import_string(dotted)
        return next((i for i, cls in enumerate(classes) if isinstance(cls, type) and issubclass(cls, wanted)), None)

    kept = first(KEPT_LISTS_MIDDLEWARE)
    if kept is None:
        return []
    errors: list[checks.CheckMessage] = []
    for needed in KEPT_LISTS_NEEDS:
        at = first(needed)
        missing = at is None and needed.endswith("AuthenticationMiddleware")
        if missing or (at is not None and at > kept):
            errors.append(_error(
                _("%(kept)s comes before %(needed)s in MIDDLEWARE (or %(needed)s is missing): it would answer "
                  "kept lists without the signed-in shopper or the shopper's language.")
                % {"kept": KEPT_LISTS_MIDDLEWARE.rsplit(".", 1)[-1], "needed": needed.rsplit(".", 1)[-1]},
                _("Move %(kept)s below %(needed)s (docs/deployment.md).")
                % {"kept": KEPT_LISTS_MIDDLEWARE, "needed": needed}, 41))
    return errors
