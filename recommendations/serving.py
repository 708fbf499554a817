"""The one place that answers "what does this shopper / this product get?".

Order of work for a personalised list: cache -> active model (loaded once per process, reloaded
when another version becomes active) with the shopper's newest events folded in -> the
fallback chain when a model is missing or has nothing to say -> business rules -> reasons.
Web processes import NumPy only: artifacts are arrays, never TensorFlow graphs.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.core.cache import caches
from django.http import HttpRequest
from django.utils.module_loading import import_string

from . import products as catalogue
from . import profiles
from .algorithms import rerank as reranking
from .artifacts import Bundle, artifact_storage, load_bundle
from .capture import ANONYMOUS_KEY_SESSION_ENTRY
from .conf import app_settings, get_product_model
from .data import EVENT_NAMES, SESSION_PREFIX, shopper_key
from .models import Event, ModelVersion, PrecomputedList

logger = logging.getLogger(__name__)
POPULARITY_ENGINES = ("popular", "trending")
VERB = {Event.Kind.VIEW: "viewed", Event.Kind.CART: "added", Event.Kind.PURCHASE: "bought"}


# -- who is asking ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Shopper:
    user_id: Any = None
    session_key: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> Shopper:
        """The shopper behind a request; never creates a session just to read."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return cls(user_id=user.pk)
        session = getattr(request, "session", None)
        if session is None:
            return cls()
        return cls(session_key=session.get(ANONYMOUS_KEY_SESSION_ENTRY) or session.session_key or "")

    @classmethod
    def from_data_key(cls, key: str) -> Shopper:
        """The inverse of ``data_key``."""
        if key.startswith(SESSION_PREFIX):
            return cls(session_key=key[len(SESSION_PREFIX):])
        return cls(user_id=key)

    @property
    def known(self) -> bool:
        return self.user_id is not None or bool(self.session_key)

    @property
    def data_key(self) -> str:
        """The key the training data uses for this shopper (see ``data.shopper_key``)."""
        return shopper_key(self.user_id, self.session_key)

    @property
    def cache_key(self) -> str:
        return f"recommendations:shopper:{self.data_key}"

    def events(self):
        if self.user_id is not None:
            return Event.objects.filter(user_id=self.user_id)
        return Event.objects.filter(session_key=self.session_key, user__isnull=True)


@dataclass
class Recommendation:
    product_id: Any
    score: float
    engine: str
    reason: str
    product: Any = field(default=None, repr=False, compare=False)

    def as_cacheable(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("product")
        return data


# -- active models, once per process ---------------------------------------------------------
@dataclass
class LoadedModel:
    version_id: int
    trained_at: datetime | None
    bundle: Bundle


class ActiveModels:
    """Loads each engine's active artifact once per process and reloads it when the active
    version changes (checked at most every ``ACTIVE_VERSION_CHECK_SECONDS``). If a new
    artifact is missing or corrupt, the previously loaded one keeps serving."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, LoadedModel] = {}
        self._active: dict[str, tuple[int, datetime | None, str]] = {}
        self._checked_at = 0.0

    def clear(self) -> None:
        with self._lock:
            self._loaded.clear()
            self._active.clear()
            self._checked_at = 0.0
        _popularity.clear()  # keyed by version id, which a fresh test database numbers again

    def _refresh(self) -> None:
        if time.monotonic() - self._checked_at < app_settings.ACTIVE_VERSION_CHECK_SECONDS:
            return
        rows = ModelVersion.objects.filter(is_active=True).values_list(
            "engine", "pk", "started_at", "artifact")
        self._active = {engine: (pk, started, artifact) for engine, pk, started, artifact in rows}
        self._checked_at = time.monotonic()

    def active_version(self, engine: str, *, fresh: bool = False) -> int | None:
        """The id of ``engine``'s active version as this process sees it (``fresh``: ask the
        database now instead of trusting the last check)."""
        with self._lock:
            if fresh:
                self._checked_at = 0.0
            self._refresh()
            active = self._active.get(engine)
            return active[0] if active else None

    def signature(self) -> str:
        """Changes whenever any engine's active version changes (part of every cache key)."""
        with self._lock:
            self._refresh()
            return ",".join(f"{e}{v[0]}" for e, v in sorted(self._active.items()))

    def get(self, engine: str) -> LoadedModel | None:
        with self._lock:
            self._refresh()
            active = self._active.get(engine)
            loaded = self._loaded.get(engine)
            if active is None or (loaded is not None and loaded.version_id == active[0]):
                return loaded if active is not None else None
            version_id, trained_at, artifact = active
            try:
                with artifact_storage().open(artifact, "rb") as fh:
                    bundle = load_bundle(fh)
                bundle.use_keys(get_product_model()._meta.pk.to_python)
            except Exception as exc:  # noqa: BLE001
                logger.error("recommendations: cannot load %s v%s (%s): %s", engine, version_id,
                             artifact, exc)
                ModelVersion.objects.filter(pk=version_id).update(
                    error=f"Serving could not load the artifact: {type(exc).__name__}: {exc}")
                return loaded
            self._loaded[engine] = LoadedModel(version_id, trained_at, bundle)
            return self._loaded[engine]


active_models = ActiveModels()


# -- cache ------------------------------------------------------------------------------------
def _cache():
    return caches[app_settings.CACHE_ALIAS]


def _cache_get(key: str, field_name: str, signature: str) -> list[dict] | None:
    """The cached list, read in the same round trip as the catalogue generation, which keeps
    the process's product cache in step with product saves in every process."""
    try:
        found = _cache().get_many([key, CATALOG_KEY])
    except Exception:  # noqa: BLE001  (cache down: compute instead, products from the database)
        product_cache.clear()
        return None
    product_cache.sync(found.get(CATALOG_KEY))
    entry = found.get(key)
    if entry and entry.get("versions") == signature:
        return entry["lists"].get(field_name)
    return None


def _cache_set(key: str, field_name: str, signature: str, value: list[dict], *,
               since: float | None = None) -> None:
    """Store a list; ``since`` is when its computation began: a list begun before the shopper's
    last invalidation may miss what they just did, so it is not stored."""
    try:
        entry = _cache().get(key)
        invalidated = (entry or {}).get("invalidated", 0.0)
        if since is not None and since < invalidated:
            return
        if not entry or entry.get("versions") != signature:
            entry = {"versions": signature, "lists": {}, "invalidated": invalidated}
        if len(entry["lists"]) >= 16:  # bounded per shopper
            entry["lists"].clear()
        entry["lists"][field_name] = value
        _cache().set(key, entry, app_settings.CACHE_TIMEOUT)
    except Exception:  # noqa: BLE001
        logger.warning("recommendations: cache unavailable, list not cached", exc_info=True)


def invalidate(shopper: Shopper) -> None:
    """Forget a shopper's cached and precomputed lists, so their next request reflects what
    they just did. The cache keeps when (a tombstone), so that a list whose computation began
    before is not stored after (``_cache_set``)."""
    try:
        _cache().set(shopper.cache_key, {"invalidated": time.time()}, app_settings.CACHE_TIMEOUT)
    except Exception:  # noqa: BLE001
        logger.warning("recommendations: cache unavailable, could not invalidate", exc_info=True)
    if shopper.known:
        PrecomputedList.objects.filter(shopper=shopper.data_key).delete()


# -- finished responses -----------------------------------------------------------------------
#: Stands for the impression id in a stored response (never in JSON text: a NUL is escaped there).
RESPONSE_ID = b"\x00recommendation_id\x00"
TRENDING_KEY = "recommendations:trending"
_UNREAD = object()


def list_key(kind: str, pk: Any) -> str:
    """The cache entry of a product's ``kind`` list ("similar", "also_bought")."""
    return f"recommendations:{kind}:{pk}"


def cached_response(key: str, name: str) -> tuple[Any, Any, str]:
    """``(stored response or None, catalogue token, versions' signature)``, the entry and the
    token read in one round trip. A response is kept beside the lists of the same cache entry
    (so a shopper's ``invalidate`` forgets it with them) and answers only while the model
    versions and the catalogue token are those it was built under."""
    signature = active_models.signature()
    try:
        found = _cache().get_many([key, CATALOG_KEY])
    except Exception:  # noqa: BLE001  (cache down: build the response, store nothing)
        return None, _UNREAD, signature
    token = found.get(CATALOG_KEY)
    entry = found.get(key)
    if entry and entry.get("versions") == signature:
        stored = (entry.get("responses") or {}).get(name)
        if stored is not None and stored[0] == token:
            return stored[1], token, signature
    return None, token, signature


def store_response(key: str, name: str, response: Any, *, token: Any, signature: str, since: float) -> None:
    """Keep a finished response (see ``cached_response``; ``token`` and ``signature`` as it
    returned them before the response was built). Not stored when the entry was invalidated
    after ``since`` (when building it began: it may miss what the shopper just did)."""
    if token is _UNREAD:
        return
    try:
        entry = _cache().get(key)
        invalidated = (entry or {}).get("invalidated", 0.0)
        if since < invalidated:
            return
        if not entry or entry.get("versions") != signature:
            entry = {"versions": signature, "lists": {}, "invalidated": invalidated}
        responses = entry.setdefault("responses", {})
        if len(responses) >= 16:  # bounded per entry
            responses.clear()
        responses[name] = (token, response)
        _cache().set(key, entry, app_settings.CACHE_TIMEOUT)
    except Exception:  # noqa: BLE001
        logger.warning("recommendations: cache unavailable, response not cached", exc_info=True)


# -- products ---------------------------------------------------------------------------------
#: A token in the shared cache that changes whenever a product is saved or deleted (any process).
CATALOG_KEY = "recommendations:catalog"


class ProductCache:
    """Product instances of recent lists, kept in process memory so that serving a cached list
    needs no database query. They stay until the catalogue token read with the list changes
    (``products_changed``: sent by every product save or delete, and called by the app's
    importers; a shop calls it after changes that bypass signals, e.g. ``QuerySet.update``),
    never on a timer: a timed refill made every process pay for the whole catalogue at once,
    a periodic spike. ``PRODUCT_CACHE_SIZE`` bounds the memory (0: no product cache). Lists
    computed afresh always read the database."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Any, list] = {}  # pk -> [instance or None, available, payload or None]
        self._token: Any = None

    def clear(self) -> None:
        with self._lock:
            self._entries = {}

    def sync(self, token: Any) -> None:
        """Forget everything if the catalogue changed since the entries were read."""
        if token != self._token:
            with self._lock:
                self._entries, self._token = {}, token

    def store(self, found: dict[Any, tuple[Any, bool]], asked: Iterable[Any]) -> None:
        """Remember what a database read returned (ids it did not return: no such product)."""
        size = app_settings.product_cache_size
        if size <= 0:
            return
        with self._lock:
            if len(self._entries) > size:
                self._entries = {}
            for pk in asked:
                instance, available = found.get(pk, (None, False))
                self._entries[pk] = [instance, available, None]

    def contains(self, pk: Any) -> bool:
        return pk in self._entries

    def available(self, ids: list[Any], also: Iterable[Any] = ()) -> dict[Any, Any]:
        """The available products among ``ids``; one database query (plus the adapter's
        prefetches) for those not cached, whatever their number. ``also``: ids read in the same
        query when missing (a page's own product with its list)."""
        if app_settings.product_cache_size <= 0:
            return _products(ids)
        entries = self._entries
        missing = list(dict.fromkeys(pk for pk in [*ids, *also] if pk not in entries))
        if missing:
            self.store(_fetch_products(missing), missing)
            entries = self._entries
        result = {}
        for pk in ids:
            entry = entries.get(pk)
            if entry is None:  # evicted meanwhile by another thread: ask the database
                return _products(ids)
            if entry[1]:
                result[pk] = entry[0]
        return result

    def get(self, pk: Any) -> Any:
        """The product with this pk, available or not, from the cache or else the database
        (None: no such product)."""
        entry = self._entries.get(pk)
        if entry is not None:
            return entry[0]
        found = _fetch_products([pk])
        self.store(found, [pk])
        return found[pk][0] if pk in found else None

    def payload(self, product: Any, build: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        """``build(product)``, memoised while this very instance is the cached one."""
        entry = self._entries.get(product.pk)
        if entry is None or entry[0] is not product:
            return build(product)
        if entry[2] is None:
            entry[2] = build(product)
        return entry[2]


product_cache = ProductCache()


def products_changed() -> None:
    """Every process drops its cached products at its next cached list: sent by the product
    model's ``post_save`` / ``post_delete`` and by the app's importers; call it after changes
    that bypass signals (``QuerySet.update``, ``bulk_create``, raw SQL, a stock table the
    adapter reads). The product cache has no timer: without this call, such a change is not
    seen by cached lists until the next product save."""
    product_cache.clear()
    try:
        _cache().set(CATALOG_KEY, uuid.uuid4().hex, None)
    except Exception:  # noqa: BLE001  (cache down: lists are then served from the database)
        logger.warning("recommendations: cache unavailable, catalogue change not shared", exc_info=True)


# -- precomputed lists ------------------------------------------------------------------------
def precomputed_items(recs: list[Recommendation]) -> list[list[Any]]:
    """How ``tasks.precompute_chunk`` stores a list: ``[[product_id, score, engine, reason]]``."""
    return [[catalogue.json_key(r.product_id), round(float(r.score), 6), r.engine, r.reason] for r in recs]


def _from_precomputed(shopper: Shopper, engine: str, n: int,
                      hidden: profiles.Dismissed | None = None) -> list[Recommendation] | None:
    """The shopper's precomputed list if ``engine``'s active version made it and it is long
    enough without the ``hidden`` products; ``None`` means compute live."""
    active = active_models.active_version(engine)
    if active is None:
        return None
    row = (PrecomputedList.objects.filter(shopper=shopper.data_key, engine=engine)
           .values_list("version_id", "items").first())
    if row is None or row[0] != active or len(row[1]) < n:
        return None
    to_python = get_product_model()._meta.pk.to_python
    rows = [{"product_id": to_python(item[0]), "score": item[1],
             "engine": item[2] if len(item) > 2 else engine,
             "reason": item[3] if len(item) > 3 else ""} for item in row[1]]
    recs = _hydrate(rows)  # drops products that became unavailable since
    if hidden:
        recs = [r for r in recs if not hidden.hides(r.product)]
    return recs[:n] if len(recs) >= n else None


# -- history ----------------------------------------------------------------------------------
@dataclass
class HistoryEvent:
    product_id: Any
    kind: int
    quantity: int
    created_at: datetime


def recent_history(shopper: Shopper, limit: int | None = None) -> list[HistoryEvent]:
    if not shopper.known:
        return []
    rows = shopper.events().order_by("-created_at").values_list(
        "product_id", "kind", "quantity", "created_at")[: limit or app_settings.HISTORY_LIMIT]
    return [HistoryEvent(*row) for row in rows]


def purchased_ids(shopper: Shopper) -> set[Any]:
    if not shopper.known:
        return set()
    return set(shopper.events().filter(kind=Event.Kind.PURCHASE)
               .values_list("product_id", flat=True).distinct()[:1000])


def _history_vector(events: Iterable[HistoryEvent], bundle: Bundle) -> dict[int, float]:
    """``{item index: summed event weight}`` of ``events`` (newest first, as read), in time
    order, oldest first, each product at its latest event: the order the sequence engine reads."""
    weights = app_settings.EVENT_WEIGHTS
    vector: dict[int, float] = {}
    for event in reversed(list(events)):
        index = bundle.item_index.get(event.product_id)
        if index is not None:  # pop and re-insert: the product moves to its latest place
            vector[index] = vector.pop(index, 0.0) + float(weights.get(EVENT_NAMES[event.kind], 0.0))
    return {i: w for i, w in vector.items() if w > 0}


# -- rules ------------------------------------------------------------------------------------
def _fetch_products(ids: list[Any]) -> dict[Any, tuple[Any, bool]]:
    """``{pk: (instance, available)}`` for the products among ``ids``: one bulk call of the
    product adapter (one query plus its prefetches); each instance carries its description."""
    return {pk: (p, catalogue.info(p).available) for pk, p in catalogue.fetch(ids).items()}


def _history_products(history: list[HistoryEvent]) -> dict[Any, Any]:
    """The products of the shopper's history, available or not (one query; none if empty)."""
    ids = list({e.product_id for e in history})
    return {pk: product for pk, (product, _) in _fetch_products(ids).items()} if ids else {}


def _products(ids: Iterable[Any], known: dict[Any, tuple[Any, bool] | None] | None = None) -> dict[Any, Any]:
    """Instances of the available products among ``ids``, read from the database now (one
    query); the product cache keeps them for the cached lists that follow. ``known`` (pk ->
    ``(instance, available)``, ``None`` for no such product) holds what this request already
    read: only the others are fetched, and added to it."""
    ids = list(dict.fromkeys(ids))
    if known is None:
        found = _fetch_products(ids)
        product_cache.store(found, ids)
    else:
        missing = [pk for pk in ids if pk not in known]
        fetched = _fetch_products(missing) if missing else {}
        product_cache.store(fetched, missing)
        known.update({pk: fetched.get(pk) for pk in missing})
        found = {pk: known[pk] for pk in ids if known[pk] is not None}
    return {pk: product for pk, (product, available) in found.items() if available}


def _category(product: Any) -> str:
    """The product's first category (the one shown, and the one ``MAX_PER_CATEGORY`` counts)."""
    return catalogue.info(product).category


def _apply_rules(candidates: list[Recommendation], n: int, max_per_category: int | None, *,
                 hidden: profiles.Dismissed | None = None, affinity: dict[str, float] | None = None,
                 known: dict[Any, tuple[Any, bool] | None] | None = None) -> list[Recommendation]:
    """Available products only, none the shopper dismissed, at most ``max_per_category`` per
    category; with ``affinity`` (category -> share), the shopper's categories first. With
    ``known`` (see ``_products``: several lists for one shopper), the candidates are read a
    block at a time, as far down the list as the rules need (the same list, fewer products read)."""
    block = max(2 * n, 20) if known is not None and not affinity else len(candidates)
    products = _products((c.product_id for c in candidates[:block]), known)
    read = block
    if affinity:
        candidates = sorted(candidates, key=lambda c: -affinity.get(
            _category(products[c.product_id]), 0.0) if c.product_id in products else 0.0)
    chosen: list[Recommendation] = []
    per_category: dict[str, int] = {}
    seen: set[Any] = set()
    for index, rec in enumerate(candidates):
        if index >= read:
            products.update(_products((c.product_id for c in candidates[read:read + block]), known))
            read += block
        product = products.get(rec.product_id)
        if product is None or rec.product_id in seen or (hidden and hidden.hides(product)):
            continue
        if max_per_category:
            category = _category(product)
            if per_category.get(category, 0) >= max_per_category:
                continue
            per_category[category] = per_category.get(category, 0) + 1
        rec.product = product
        seen.add(rec.product_id)
        chosen.append(rec)
        if len(chosen) == n:
            break
    return chosen


def _repurchasable(product_ids: set[Any]) -> set[Any]:
    categories = set(app_settings.REPURCHASABLE_CATEGORIES)
    if not categories or not product_ids:
        return set()
    adapter = catalogue.product_adapter()
    queryset = adapter.filter_categories(adapter.model._default_manager.filter(pk__in=product_ids), categories)
    return set() if queryset is None else set(queryset.values_list("pk", flat=True))


def _clamp(n: int) -> int:
    return max(1, min(int(n), app_settings.MAX_LIMIT))


# -- A/B test and ranking hooks ---------------------------------------------------------------
@dataclass(frozen=True)
class Variant:
    """The arm of ``AB_TEST`` a shopper is in, and the engine behind their personalised list."""

    test: str
    name: str
    engine: str


def ab_variants(test: dict[str, Any] | None = None) -> list[tuple[str, str, int]]:
    """``(variant, engine, weight)`` for each arm of ``AB_TEST``; a weight may be a number
    (the variant's name is then the engine) or ``{"engine": ..., "weight": ...}``."""
    test = app_settings.AB_TEST if test is None else test
    arms = []
    for name, spec in ((test or {}).get("variants") or {}).items():
        engine, weight = (spec.get("engine", name), spec.get("weight", 0)) if isinstance(spec, dict) \
            else (name, spec)
        arms.append((str(name), str(engine), int(weight)))
    return arms


def assign_variant(shopper: Shopper) -> Variant | None:
    """The shopper's arm of ``AB_TEST``: a stable hash of the test's name and the shopper's key,
    so a shopper keeps their arm across requests and processes. None when no test runs or the
    shopper is unknown (no user, no session yet)."""
    test = app_settings.AB_TEST
    if not test or not shopper.known:
        return None
    arms = [arm for arm in ab_variants(test) if arm[2] > 0]
    total = sum(arm[2] for arm in arms)
    if not total:
        return None
    name = str(test.get("name", "ab"))
    digest = hashlib.sha256(f"{name}:{shopper.data_key}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") % total
    for variant, engine, weight in arms:
        if point < weight:
            return Variant(name, variant, engine)
        point -= weight
    return None  # pragma: no cover  (unreachable: point < total)


@functools.lru_cache(maxsize=16)
def _import_hooks(paths: tuple[str, ...]) -> tuple[Callable, ...]:
    hooks = []
    for path in paths:
        try:
            hooks.append(import_string(path))
        except ImportError:
            logger.exception("recommendations: cannot import ranking hook %r; skipped", path)
    return tuple(hooks)


def _apply_hooks(recs: list[Recommendation], n: int, context: dict[str, Any]) -> list[Recommendation]:
    """Run ``RANKING_HOOKS`` (``(recommendations, context) -> recommendations``) over a final
    list, after the rules and on cached lists too. A hook may reorder, drop, boost or pin
    (insert ``Recommendation(product_id, score, engine, reason)``); products it adds are loaded
    (unavailable ones dropped), duplicates removed and the list cut to ``n``. A hook that
    raises is logged and skipped."""
    hooks = _import_hooks(tuple(app_settings.RANKING_HOOKS or ()))
    if not hooks:
        return recs
    for hook in hooks:
        try:
            result = hook(list(recs), context)
        except Exception:  # noqa: BLE001
            logger.exception("recommendations: ranking hook %r failed; skipped", hook)
            continue
        if result is not None:
            recs = list(result)
    missing = [r for r in recs if r.product is None]
    if missing:
        products = _products(r.product_id for r in missing)
        for rec in missing:
            rec.product = products.get(rec.product_id)
    seen: set[Any] = set()
    final = []
    for rec in recs:
        if rec.product is not None and rec.product_id not in seen:
            seen.add(rec.product_id)
            final.append(rec)
    return final[:n]


# -- re-ranking (RERANK) ----------------------------------------------------------------------
_popularity: dict[tuple[str, int, int | None], np.ndarray] = {}


def _item_popularity(engine: str, loaded: LoadedModel) -> np.ndarray | None:
    """Distinct training shoppers per item, in ``loaded``'s item order, for the popularity
    penalty. The cheapest correct source is the model itself: item_cf, user_cf, hybrid and
    popular keep their training matrix (``seen_``) in the artifact, so counting its entries per
    column needs no query and matches the data the scores came from. Other engines borrow the
    active ``popular`` model's matrix, mapped by product id. Once per model version."""
    seen = getattr(loaded.bundle.model, "seen_", None)
    n_items = len(loaded.bundle.item_ids)
    source = loaded if hasattr(seen, "tocsr") and seen.shape[1] == n_items else active_models.get("popular")
    if source is None or not hasattr(getattr(source.bundle.model, "seen_", None), "tocsr"):
        return None
    key = (engine, loaded.version_id, None if source is loaded else source.version_id)
    counts = _popularity.get(key)
    if counts is None:
        matrix = source.bundle.model.seen_.tocsr()
        counts = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)
        if source is not loaded:
            index = source.bundle.item_index
            counts = np.array([counts[index[p]] if p in index else 0.0 for p in loaded.bundle.item_keys])
        if len(_popularity) >= 32:
            _popularity.clear()
        _popularity[key] = counts
    return counts


def _reranked(engine: str, loaded: LoadedModel, user: int | None, vector: dict[int, float] | None,
              n: int, excluded: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The engine's top ``n``; with ``RERANK`` on (personalised engines only), its top
    ``overfetch * n`` re-ranked to ``n`` (``recommendations.algorithms.rerank``)."""
    model, config = loaded.bundle.model, app_settings.RERANK or {}
    method, strength = config.get("method"), float(config.get("strength") or 0.0)
    if not method or strength <= 0 or engine in POPULARITY_ENGINES:
        return model.recommend(user, history=vector, n=n, exclude=excluded)
    items, scores = model.recommend(user, history=vector, n=n * int(config.get("overfetch") or 5), exclude=excluded)
    keep = np.isfinite(scores)
    items, scores = items[keep], scores[keep]
    if method == "popularity":
        return reranking.rerank(items, scores, n, method, strength, popularity=_item_popularity(engine, loaded))
    ids = [loaded.bundle.item_keys[i] for i in items.tolist()]
    if method == "mmr_content":
        # the active content model's feature rows, looked up for these candidates only
        content = active_models.get("content")
        rows = getattr(content.bundle.model, "item_features_", None) if content else None
        if rows is None:
            return items[:n], scores[:n]
        at = [content.bundle.item_index.get(pk) for pk in ids]
        vectors = rows[[i if i is not None else 0 for i in at]].toarray()
        vectors[[j for j, i in enumerate(at) if i is None]] = 0.0
        similarity = reranking.cosine_similarity(vectors)
    else:
        # categories from the product rows: one query at most (the product cache answers for
        # products of recent lists), as the business rules read the same products next
        products = product_cache.available(ids)
        similarity = reranking.category_similarity(
            [list(catalogue.info(products[pk]).categories) if pk in products else [] for pk in ids])
    return reranking.mmr(items, scores, n, min(strength, 1.0), similarity)


# -- answers ----------------------------------------------------------------------------------
def _from_engine(loaded: LoadedModel, engine: str, shopper: Shopper, history: list[HistoryEvent],
                 exclude: set[Any], n: int) -> list[Recommendation]:
    bundle = loaded.bundle
    user = bundle.user_index.get(shopper.data_key) if shopper.known else None
    fresh = history if user is None or loaded.trained_at is None else [
        e for e in history if e.created_at >= loaded.trained_at]
    vector = _history_vector(fresh, bundle)
    if engine not in POPULARITY_ENGINES and user is None and not vector:
        return []
    excluded = [bundle.item_index[p] for p in exclude if p in bundle.item_index]
    items, scores = _reranked(engine, loaded, user, vector or None, n, excluded)
    ids = bundle.item_keys
    recs = [Recommendation(ids[i], float(s), engine, "") for i, s in zip(items.tolist(), scores)
            if np.isfinite(s)]
    share = app_settings.RECENT_ACTIVITY_SHARE
    if user is None or not vector or share <= 0 or engine in POPULARITY_ENGINES:
        return recs
    # A known shopper's months of history outweigh a few fresh clicks in any profile, so what
    # they did since training also gets its own list, and a share of the slots.
    items, scores = _reranked(engine, loaded, None, vector, n, excluded)
    session = [Recommendation(ids[i], float(s), engine, "") for i, s in zip(items.tolist(), scores)
               if np.isfinite(s)]
    return _interleave(recs, session, share)


def _interleave(main: list[Recommendation], extra: list[Recommendation], share: float) -> list[Recommendation]:
    """``main`` with ``extra`` woven in so that about ``share`` of every prefix comes from it."""
    merged: list[Recommendation] = []
    taken: set[Any] = set()
    main_iter, extra_iter = iter(main), iter(extra)
    from_extra = 0
    while True:
        want_extra = from_extra < int(share * (len(merged) + 1) + 0.5)
        source = extra_iter if want_extra else main_iter
        rec = next((r for r in source if r.product_id not in taken), None)
        if rec is None:
            rec = next((r for r in (main_iter if want_extra else extra_iter) if r.product_id not in taken), None)
            if rec is None:
                return merged
            want_extra = not want_extra
        from_extra += want_extra
        taken.add(rec.product_id)
        merged.append(rec)


def _explain(recs: list[Recommendation], history: list[HistoryEvent],
             history_products: dict[Any, Any]) -> None:
    """A plain reason per item naming the shopper's own product: the past product in the same
    category that links to it most strongly (item_cf's learned similarity), else the latest one
    in that category; none when no past product shares a category with it (a reason that is no
    real link, coffee beans "because you bought" a poetry book, reads as nonsense). Popularity
    items say which list they came from."""
    item_model = active_models.get("item_cf")
    names = {pk: catalogue.info(p).name for pk, p in history_products.items()}
    categories = {pk: set(catalogue.info(p).categories) for pk, p in history_products.items()}
    personal = [rec for rec in recs if rec.engine not in POPULARITY_ENGINES and history]

    def related(rec: Recommendation, event: HistoryEvent) -> bool:
        own = set(catalogue.info(rec.product).categories) if rec.product is not None else set()
        return bool(own & categories.get(event.product_id, set()))

    links = _strongest_links(item_model, personal, history, related) if item_model else {}
    for rec in recs:
        if rec.engine in POPULARITY_ENGINES or not history:
            rec.reason = "Trending now" if rec.engine == "trending" else "Popular with shoppers"
            continue
        best = links.get(rec.product_id) or next((e for e in history if related(rec, e)), None)
        rec.reason = f"Because you {VERB[best.kind]} {names.get(best.product_id, 'a product')}" if best else ""


def _strongest_links(loaded: LoadedModel, recs: list[Recommendation], history: list[HistoryEvent],
                     related: Callable[[Recommendation, HistoryEvent], bool]) -> dict[Any, HistoryEvent]:
    """For each recommendation, the first ``related`` history event whose product has the
    largest positive learned weight towards it; one block of the weight matrix read for all of
    them (element by element, a sparse matrix costs more than the rest of the request)."""
    bundle = loaded.bundle
    weights = getattr(bundle.model, "weights_", None)
    if weights is None:
        return {}
    sources = [(event, bundle.item_index.get(event.product_id)) for event in history]
    sources = [(event, row) for event, row in sources if row is not None]
    targets = [(rec, bundle.item_index.get(rec.product_id)) for rec in recs]
    targets = [(rec, column) for rec, column in targets if column is not None]
    if not sources or not targets:
        return {}
    rows = np.array([row for _, row in sources])
    columns = np.array([column for _, column in targets])
    block = weights[rows][:, columns]
    block = block.toarray() if hasattr(block, "toarray") else np.array(block, dtype=np.float64)
    links = {}
    for k, (rec, _) in enumerate(targets):
        column = np.where([related(rec, event) for event, _ in sources], block[:, k], -np.inf)
        top = int(np.argmax(column))
        if column[top] > 0:
            links[rec.product_id] = sources[top][0]
    return links


@dataclass(frozen=True)
class ShopperState:
    """What every engine's list for a shopper depends on besides the engine: their "not
    interested" choices, their recent history without what they dismissed, its products, and
    the products never to recommend them (dismissed, or bought and not repurchasable)."""

    hidden: profiles.Dismissed | None
    history: list[HistoryEvent]
    history_products: dict[Any, Any]
    exclude: frozenset[Any]
    #: Products already read for this shopper's lists (``_products``): engines' candidates overlap.
    products: dict[Any, tuple[Any, bool] | None] = field(default_factory=dict)


def shopper_state(shopper: Shopper) -> ShopperState:
    """The shopper's state read once (a few queries), for several ``recommend_for`` calls."""
    return _read_state(shopper, profiles.dismissed(shopper))


def _read_state(shopper: Shopper, hidden: profiles.Dismissed | None) -> ShopperState:
    history = recent_history(shopper)
    history_products = _history_products(history)
    exclude: set[Any] = set()
    if hidden:
        history = [e for e in history if e.product_id not in hidden.products
                   and not (e.product_id in history_products and hidden.hides(history_products[e.product_id]))]
        exclude |= hidden.products
    if app_settings.EXCLUDE_PURCHASED:
        bought = purchased_ids(shopper)
        exclude |= bought - _repurchasable(bought)
    return ShopperState(hidden, history, history_products, frozenset(exclude))


def recommend_for(shopper: Shopper, n: int = 10, *, engine: str | None = None,
                  exclude: Iterable[Any] = (), max_per_category: int | None = None,
                  use_cache: bool = True, list_name: str = "for_you",
                  cache_key: str | None = None, state: ShopperState | None = None) -> list[Recommendation]:
    """Personalised list for a shopper; never raises for lack of a model (falls back to
    trending, popular, then plain database counts). Without ``engine``, a shopper in the
    ``AB_TEST`` gets their variant's engine. Cached under the shopper's key, or ``cache_key``
    for a list that is the same for everyone (trending). ``state`` (``shopper_state``) saves
    reading the shopper's history again when one request asks several engines."""
    n = _clamp(n)
    variant = assign_variant(shopper) if engine is None else None
    if variant is not None:
        engine = variant.engine
    context = {"list": list_name, "shopper": shopper, "product": None, "n": n, "engine": engine,
               "variant": variant}
    max_per_category = max_per_category or app_settings.MAX_PER_CATEGORY
    exclude = set(exclude)
    signature = active_models.signature()
    field_name = f"for_you:{engine or ''}:{n}:{max_per_category}:{sorted(map(str, exclude))}"
    key = cache_key or (shopper.cache_key if shopper.known else None)
    if use_cache and key:
        cached = _cache_get(key, field_name, signature)
        if cached is not None:
            return _apply_hooks(_hydrate(cached), n, context)

    since = time.time()  # before reading what the list depends on (see _cache_set)
    hidden = state.hidden if state is not None else profiles.dismissed(shopper)
    if use_cache and key and shopper.known and not exclude and max_per_category == app_settings.MAX_PER_CATEGORY:
        # A "not interested" choice deletes the shopper's precomputed lists, but a precompute
        # chunk that computed this one before the choice may have stored it after: filter again.
        stored = _from_precomputed(shopper, engine or app_settings.SERVING_ENGINE, n, hidden)
        if stored is not None:
            _cache_set(key, field_name, signature, [r.as_cacheable() for r in stored], since=since)
            return _apply_hooks(stored, n, context)

    shared = state is not None
    state = state or _read_state(shopper, hidden)
    history, history_products = state.history, state.history_products
    exclude |= state.exclude
    candidates: list[Recommendation] = []
    chain = [engine or app_settings.SERVING_ENGINE, *app_settings.FALLBACK_CHAIN]
    over_fetch = n * 3 + 10
    for name in dict.fromkeys(chain):
        loaded = active_models.get(name)
        if loaded is None:
            continue
        candidates += _from_engine(loaded, name, shopper, history, exclude, over_fetch)
        if len({c.product_id for c in candidates}) >= over_fetch:
            break
    if len(candidates) < n:
        candidates += _database_popular(over_fetch, exclude)
    affinity: dict[str, float] = {}
    if history and all(c.engine in POPULARITY_ENGINES for c in candidates):
        # Cold start: no model knows this shopper's products yet, so the popular ones come
        # ordered by the categories of what the shopper just looked at (their profile so far).
        affinity = profiles.category_affinity(history_products[pk] for pk in {e.product_id for e in history}
                                              if pk in history_products)
    recs = _apply_rules(candidates, n, max_per_category, hidden=hidden, affinity=affinity,
                        known=state.products if shared else None)
    _explain(recs, history, history_products)
    for rec in recs if affinity else ():
        category = _category(rec.product)
        if affinity.get(category):
            rec.reason = f"Popular in {category}, which you looked at"
    if use_cache and key:
        _cache_set(key, field_name, signature, [r.as_cacheable() for r in recs], since=since)
    return _apply_hooks(recs, n, context)


def _hydrate(rows: list[dict]) -> list[Recommendation]:
    """Recommendations of a cached or precomputed list with their products, unavailable ones
    dropped (the product cache answers; see ``ProductCache``)."""
    recs = [Recommendation(**row) for row in rows]
    products = product_cache.available([r.product_id for r in recs])
    return [r for r in recs if (setattr(r, "product", products.get(r.product_id)) or r.product)]


def _item_list(kind: str, product: Any, n: int, chain: list[tuple[str, str]],
               reason: str, fill: Callable[[Any, int], list[Recommendation]]) -> list[Recommendation]:
    n = _clamp(n)
    context = {"list": kind, "shopper": None, "product": product, "n": n, "engine": None, "variant": None}
    signature = active_models.signature()
    key = list_key(kind, product.pk)
    cached = _cache_get(key, str(n), signature)
    if cached is not None:
        return _apply_hooks(_hydrate(cached), n, context)
    candidates: list[Recommendation] = []
    for engine, method in chain:
        loaded = active_models.get(engine)
        if loaded is None or not hasattr(loaded.bundle.model, method):
            continue
        index = loaded.bundle.item_index.get(product.pk)
        if index is None:
            continue
        items, scores = getattr(loaded.bundle.model, method)(index, n=n * 2 + 5)
        ids = loaded.bundle.item_keys
        candidates += [Recommendation(ids[i], float(s), engine, reason)
                       for i, s in zip(items.tolist(), scores) if np.isfinite(s)]
        if len(candidates) >= n:
            break
    candidates = [c for c in candidates if c.product_id != product.pk]
    if len(candidates) < n:
        candidates += fill(product, n * 2)
    recs = _apply_rules(candidates, n, None)
    _cache_set(key, str(n), signature, [r.as_cacheable() for r in recs])
    return _apply_hooks(recs, n, context)


def list_subject(kind: str, pk: Any) -> Any:
    """The product (available or not; None: no such product) whose ``kind`` list ("similar",
    "also_bought") a request asks for, from the product cache. When it is not cached, it is read
    in the same query as the products of its cached lists, which the list then finds cached: a
    cold product cache costs one query per request (and one Redis read more), not two."""
    if app_settings.product_cache_size > 0 and not product_cache.contains(pk):
        try:
            found = _cache().get_many([list_key(kind, pk), CATALOG_KEY])
        except Exception:  # noqa: BLE001  (cache down: the product alone, from the database)
            found = {}
        else:
            product_cache.sync(found.get(CATALOG_KEY))
        lists = (found.get(list_key(kind, pk)) or {}).get("lists") or {}
        product_cache.available([row["product_id"] for rows in lists.values() for row in rows], also=[pk])
    return product_cache.get(pk)


def similar_products(product: Any, n: int = 10) -> list[Recommendation]:
    """Products like this one: the content model's likeness (description, category, brand,
    price) first, then item_cf's behavioural neighbours, then the product's category."""
    return _item_list("similar", product, n, [("content", "similar_items"), ("item_cf", "similar_items")],
                      f"Similar to {product}", _same_category)


def also_bought(product: Any, n: int = 10) -> list[Recommendation]:
    """Co-purchases only (item_cf's co-purchase and co-cart neighbours, then the database's
    co-purchases): never topped up with same-category products, which would make it a second
    "similar products" list."""
    return _item_list("also_bought", product, n, [("item_cf", "also_bought")],
                      f"Often bought with {product}", _co_purchased)


def trending(n: int = 10, *, exclude: Iterable[Any] = ()) -> list[Recommendation]:
    """The same list for everyone (no shopper's history goes in), so cached once for all."""
    return recommend_for(Shopper(), n, engine="trending", exclude=exclude, list_name="trending",
                         cache_key=TRENDING_KEY)


def _database_popular(n: int, exclude: set[Any]) -> list[Recommendation]:
    """Last resort before any model is trained: most purchased, then most viewed products."""
    from django.db.models import Count

    rows = (Event.objects.exclude(product_id__in=exclude).values("product_id")
            .annotate(c=Count("id")).order_by("-c")[:n])
    recs = [Recommendation(r["product_id"], float(r["c"]), "popular", "Popular with shoppers") for r in rows]
    if len(recs) < n:
        model = get_product_model()
        taken = exclude | {r.product_id for r in recs}
        more = model._default_manager.exclude(pk__in=taken).values_list("pk", flat=True)[: n - len(recs)]
        recs += [Recommendation(pk, 0.0, "popular", "New in the shop") for pk in more]
    return recs


def _co_purchased(product: Any, n: int) -> list[Recommendation]:
    """What the latest signed-in buyers of the product bought besides it, most often first
    (before a model is trained, or for a product it does not know)."""
    from django.db.models import Count

    buyers = (Event.objects.filter(product=product, kind=Event.Kind.PURCHASE, user__isnull=False)
              .order_by("-created_at").values("user_id")[:500])
    rows = (Event.objects.filter(kind=Event.Kind.PURCHASE, user_id__in=buyers).exclude(product=product)
            .values("product_id").annotate(c=Count("user_id", distinct=True)).order_by("-c", "product_id")[:n])
    return [Recommendation(r["product_id"], float(r["c"]), "popular", f"Often bought with {product}") for r in rows]


def _same_category(product: Any, n: int) -> list[Recommendation]:
    """Products sharing a category with the product (the adapter filters; none if it cannot)."""
    categories = catalogue.info(product).categories
    value = categories[0] if categories else ""
    adapter = catalogue.product_adapter()
    queryset = adapter.filter_categories(adapter.model._default_manager.exclude(pk=product.pk), categories) \
        if categories else None
    if queryset is None:
        return []
    return [Recommendation(pk, 0.0, "content", f"More in {value}")
            for pk in queryset.order_by("pk").values_list("pk", flat=True)[:n]]
