"""Shared fixtures. Which directories are collected depends on the settings module, because
the product model is fixed per process: ``tests.settings`` (the app's own model) runs most of
the suite, ``tests.hostshop.settings`` re-runs it against a shop's own model,
``tests.uuidshop.settings`` against a shop with UUID keys, many-to-many categories, related
prices, an adapter of its own and an email-login user model, and ``demo_shop.settings`` runs
the demo shop's tests."""

from __future__ import annotations

import itertools
import os
from decimal import Decimal
from pathlib import Path

import pytest

SETTINGS = os.environ.get("DJANGO_SETTINGS_MODULE", "tests.settings")
if os.environ.get("RECOMMENDATIONS_TEST_INSTALLED_PACKAGE"):  # noxfile.py's wheel session
    import recommendations

    if "site-packages" not in Path(recommendations.__file__).resolve().parts:
        raise pytest.UsageError(f"the wheel suite imports the checkout: {recommendations.__file__}")
collect_ignore = []
if SETTINGS != "tests.hostshop.settings":
    collect_ignore.append("hostshop")
if SETTINGS != "tests.uuidshop.settings":
    collect_ignore.append("uuidshop")
if SETTINGS == "tests.oscarshop.settings":  # the Oscar shop runs its own suite only
    collect_ignore += [path.name for path in Path(__file__).parent.iterdir()
                       if path.name != "oscarshop" and (path.is_dir() or path.name.startswith("test_"))]
else:
    collect_ignore.append("oscarshop")
if SETTINGS != "demo_shop.settings":
    collect_ignore.append("demo")
if SETTINGS != "tests.settings":
    collect_ignore += ["algorithms", "integration", "test_import.py", "test_checks.py", "test_api_fuzz.py",
                       "test_dev.py", "test_packaging.py", "test_bench_scripts.py", "test_translations.py",
                       "test_sequence_serving.py"]  # an engine's two processes: the app's settings suffice
if SETTINGS == "demo_shop.settings":
    collect_ignore += ["test_capture.py"]
    if not os.environ.get("DJANGO_CACHE_DIR"):
        # The demo's file cache lives in demo_shop/.cache, which a running demo shares: tests
        # clearing it would empty the demo's lists, and could read the demo's. They get their own.
        import tempfile

        from django.conf import settings as _settings
        from django.core.cache import caches as _caches

        if _settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
            assert not _caches.all(initialized_only=True), "the cache was used before the tests chose its folder"
            # the environment too: the demo processes a test starts share the test's cache
            os.environ["DJANGO_CACHE_DIR"] = tempfile.mkdtemp(prefix="demo-test-cache-")
            _settings.CACHES["default"]["LOCATION"] = os.environ["DJANGO_CACHE_DIR"]
            import atexit
            import shutil

            atexit.register(shutil.rmtree, _settings.CACHES["default"]["LOCATION"], ignore_errors=True)

_counter = itertools.count(1)
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = os.environ.get("RECOMMENDATIONS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def make_product(name: str | None = None, category: str = "Books", **extra):
    """A product of whichever product model is active, built through the field mapping."""
    from recommendations.conf import app_settings, get_product_model

    model = get_product_model()
    name = name or f"Product {next(_counter)}"
    if app_settings.product_model == "hostshop.Item":
        from tests.hostshop.models import Department

        department, _ = Department.objects.get_or_create(label=category)
        return model.objects.create(title=name, department=department, maker="Acme",
                                    cost=Decimal("9.99"), **extra)
    if app_settings.product_model == "uuidshop.Article":
        from tests.uuidshop.models import Maker, Offer, Section

        maker, _ = Maker.objects.get_or_create(name="Acme")
        offers = extra.pop("offers", [Decimal("12.50"), Decimal("9.99")])
        article = model.objects.create(headline=name, maker=maker, **extra)
        section, _ = Section.objects.get_or_create(name=category)
        article.sections.add(section)
        Offer.objects.bulk_create([Offer(article=article, price=price) for price in offers])
        return article
    if app_settings.product_model == "catalog.Product":
        from demo_shop.catalog.models import Category

        cat, _ = Category.objects.get_or_create(name=category, slug=category.lower())
        return model.objects.create(title=name, category=cat, brand="Acme",
                                    unit_price=Decimal("9.99"), **extra)
    return model.objects.create(name=name, category=category, brand="Acme",
                                price=Decimal("9.99"), **extra)


def update_product(product, *, brand: str | None = None, price: Decimal | None = None,
                   available: bool | None = None) -> None:
    """Change a product's brand, price or availability, whichever model describes it, and save."""
    from recommendations.conf import app_settings

    if app_settings.product_model == "uuidshop.Article":
        from tests.uuidshop.models import Maker

        if brand is not None:
            product.maker, _ = Maker.objects.get_or_create(name=brand)
        if price is not None:
            product.offers.all().delete()
            product.offers.create(price=price)
        if available is not None:
            product.published = available
        product.save()
        return
    fields = app_settings.PRODUCT_FIELDS
    for key, value in (("brand", brand), ("price", price), ("available", available)):
        if value is not None:
            setattr(product, fields[key], value)
    product.save()


def FETCH_QUERIES() -> int:  # noqa: N802  (reads as the constant it is per configuration)
    """Queries one bulk product fetch costs with this configuration's adapter: one, plus one per
    prefetched relation (e.g. many-to-many categories), whatever the number of products."""
    from recommendations.products import product_adapter

    return 1 + len(product_adapter().get_queryset()._prefetch_related_lookups)


#: Stands, in a parametrised payload, for a well-formed product key that no product has.
UNKNOWN_PRODUCT = "{unknown}"


def unknown_product_key():
    """A key of the active product model's type that no product has: an unknown product is a
    404, while a key of the wrong type (an integer for a UUID key) is a 400."""
    import uuid

    from recommendations.conf import get_product_model

    kind = get_product_model()._meta.pk.get_internal_type()
    if kind == "UUIDField":
        return str(uuid.UUID(int=987654))
    if kind in ("CharField", "SlugField", "TextField"):
        return "no-such-product"
    return 987654


def fill_payload(payload: dict, product) -> dict:
    """``payload`` with ``"{pk}"`` replaced by ``product``'s key and ``UNKNOWN_PRODUCT`` by
    :func:`unknown_product_key`."""
    stand_ins = {"{pk}": product.pk if product is not None else None, UNKNOWN_PRODUCT: unknown_product_key()}
    return {k: stand_ins.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}


def unavailable_update(model) -> dict:
    """``QuerySet.update`` keywords that make products unavailable (bypassing signals)."""
    from recommendations.conf import app_settings

    if app_settings.product_model == "uuidshop.Article":
        return {"published": False}
    return {app_settings.PRODUCT_FIELDS["available"]: False}


@pytest.fixture(scope="session", autouse=True)
def _impression_writer_closed(django_db_setup):
    """End the impression writer thread (and its database connection) before the test
    database is dropped (set up after it, so torn down before it); otherwise PostgreSQL
    refuses to drop a database still in use."""
    yield
    from recommendations import feedback

    feedback.buffer.close()


@pytest.fixture(autouse=True)
def _fresh_local_cache():
    """Each test starts with an empty in-process cache: no list cached, and no rate-limit window
    filled, by an earlier test (all test clients share one address, and SQLite reuses ids)."""
    from django.core.cache import caches
    from django.core.cache.backends.filebased import FileBasedCache
    from django.core.cache.backends.locmem import LocMemCache

    for cache in caches.all(initialized_only=True):
        if isinstance(cache, (LocMemCache, FileBasedCache)):  # the demo's cache is files
            cache.clear()


@pytest.fixture
def frozen_clock(monkeypatch):
    """Rate limits' clock stands still, so a test's requests fall in one window however slowly a
    loaded machine runs them."""
    from recommendations import limits

    monkeypatch.setattr(limits, "clock", lambda: 1_800_000_000.0)


@pytest.fixture
def product(db):
    return make_product()


@pytest.fixture
def product_factory(db):
    return make_product


@pytest.fixture
def shopper(django_user_model):
    return django_user_model.objects.create_user("shopper", password="pw-shopper-1")


#: Request headers of an ordinary browser (capture ignores bots by user agent).
BROWSER_HEADERS = {"HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"}


def shopper_client(user=None):
    """A test client that looks like a browser, signed in as ``user`` when given."""
    from django.test import Client

    client = Client(**BROWSER_HEADERS)
    if user is not None:
        client.force_login(user)
    return client


def recs(**extra) -> dict:
    """The suite's ``RECOMMENDATIONS`` (a host shop's field mapping included) plus ``extra``;
    model versions are re-checked on every request so tests see activations at once."""
    from django.conf import settings

    return {**(getattr(settings, "RECOMMENDATIONS", None) or {}), "ACTIVE_VERSION_CHECK_SECONDS": 0, **extra}


@pytest.fixture
def isolated_serving(settings, tmp_path):
    """Artifacts in a temp folder, empty caches, no model loaded, versions checked per request."""
    from django.core.cache import cache
    from django.test import override_settings

    from recommendations import serving

    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    serving.active_models.clear()
    with override_settings(RECOMMENDATIONS=recs()):
        yield
    serving.active_models.clear()


@pytest.fixture
def taste_shop(product_factory, django_user_model):
    """Build a shop with planted tastes: odd shoppers like books, even ones garden tools.
    Returns ``(books, garden, users)``."""
    import numpy as np

    from recommendations.models import Event

    def build(products: int = 12, users: int = 40, picks: int = 6, seed: int = 3,
              then: int = 2, prefix: str = "s"):
        rng = np.random.default_rng(seed)
        books = [product_factory(f"Book {i}", category="Books") for i in range(products)]
        garden = [product_factory(f"Tool {i}", category="Garden") for i in range(products)]
        events, shoppers = [], []
        for u in range(users):
            user = django_user_model.objects.create_user(f"{prefix}{u}")
            shoppers.append(user)
            liked = books if u % 2 else garden
            for p in rng.choice(len(liked), size=picks, replace=False):
                events.append(Event(user=user, product=liked[p], kind=Event.Kind.VIEW))
                events.append(Event(user=user, product=liked[p], kind=then))
        Event.objects.bulk_create(events)
        return books, garden, shoppers

    return build


def train(*engines: str) -> None:
    """Train engines in this process and activate them whatever their validation score."""
    from recommendations import training

    for name in engines:
        training.run_sync(name, force=True)


@pytest.fixture
def browser(monkeypatch):
    """Debian's chromium driven by Playwright (never ``playwright install``); fails under CI
    when either is missing, skips otherwise."""
    import shutil

    from django.db import connections

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        if CI:
            pytest.fail(f"playwright is not installed: {exc}", pytrace=False)
        pytest.skip(f"playwright is not installed: {exc}")
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if CI:
            pytest.fail(f"no chromium at {CHROMIUM} (apt-get install chromium)", pytrace=False)
        pytest.skip(f"no chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
            # Django opened a database connection in Playwright's context; close it, or the
            # test database cannot be dropped at the end of the session.
            connections.close_all()


@pytest.fixture(scope="session")
def axe() -> str:
    """axe-core's script, installed from the npm registry on first use (tests/accessibility.py)."""
    from tests.accessibility import axe_source

    return axe_source(CI)


def without_ids(body: dict) -> dict:
    """The body less what differs per request (the impression id and the links carrying it)."""
    return {**body, "recommendation_id": None,
            "results": [{**item, "recommendation_id": None, "click_url": None} for item in body["results"]]}


@pytest.fixture
def dispatches(monkeypatch):
    """How many requests DRF's dispatch got as far as authenticating (``APIView.initial``)."""
    from rest_framework.views import APIView

    seen = []
    initial = APIView.initial

    def counted(self, request, *args, **kwargs):
        seen.append(request.path)
        return initial(self, request, *args, **kwargs)

    monkeypatch.setattr(APIView, "initial", counted)
    return seen
