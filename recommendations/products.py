"""Everything the app knows about a product comes through one object: the product adapter.

``RECOMMENDATIONS["PRODUCT_ADAPTER"]`` names a :class:`ProductAdapter` subclass (the way a
shop describes its users with ``AUTH_USER_MODEL`` and an authentication backend). The default,
:class:`FieldMappingAdapter`, reads ``PRODUCT_FIELDS``, the shorthand for the common shapes:

* a field or a lookup through foreign keys (``"department__label"``), read with
  ``select_related``;
* ``category`` across a many-to-many or reverse relation (``"categories__name"``): every value,
  a list, read with ``prefetch_related``;
* ``price`` across one (``"stockrecords__price"``): the lowest, annotated with ``Min`` (or give
  any aggregate, e.g. ``Max("stockrecords__price")``);
* ``available`` as a ``Q`` (e.g. ``Q(is_public=True, stockrecords__num_in_stock__gt=0)``), or a
  boolean field across a many-valued relation: true when some row matches (``EXISTS``).

An adapter is asked in bulk: :meth:`ProductAdapter.get_queryset` fetches in one query (plus a
fixed number of prefetches) everything the per-product methods read, so describing a list of
products never costs a query per product. A shape the shorthand cannot express is a subclass::

    class ShopProducts(ProductAdapter):
        def get_queryset(self):
            return super().get_queryset().select_related("brand").prefetch_related("tags")

        def categories(self, product):
            return [tag.name for tag in product.tags.all()]
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db.models import Exists, Min, OuterRef, Q, QuerySet
from django.db.models.expressions import BaseExpression, Combinable
from django.utils.module_loading import import_string

from .conf import app_settings, get_product_model

logger = logging.getLogger(__name__)

#: The attribute a fetched product carries its description in (see :func:`info`).
INFO_ATTRIBUTE = "_recommendations_info"
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class ProductInfo:
    """What the app reads of one product (``categories`` in the adapter's order; the first is
    the one shown and the one ``MAX_PER_CATEGORY`` counts)."""

    pk: Any
    name: str
    description: str = ""
    categories: tuple[str, ...] = ()
    brand: str = ""
    price: Decimal | None = None
    available: bool = True
    image_url: str | None = None
    url: str | None = None

    @property
    def category(self) -> str:
        return self.categories[0] if self.categories else ""


class ProductAdapter:
    """Describes the shop's products to the app. Override :meth:`get_queryset` to fetch in bulk
    what the per-product methods read (``select_related``, ``prefetch_related``, ``annotate``),
    and the per-product methods themselves; they must not query the database per product."""

    def __init__(self) -> None:
        self.model = get_product_model()

    # -- bulk -----------------------------------------------------------------------------------
    def get_queryset(self) -> QuerySet:
        """Every product the app may show, with what the per-product methods read."""
        return self.model._default_manager.all()

    def filter_categories(self, queryset: QuerySet, categories: Iterable[str]) -> QuerySet | None:
        """``queryset`` narrowed to products in any of ``categories``; None when this adapter
        cannot say (then "more in this category" and category rules are skipped)."""
        return None

    # -- per product (reading only what get_queryset fetched) -------------------------------
    def name(self, product: Any) -> str:
        return str(product)

    def description(self, product: Any) -> str:
        return ""

    def categories(self, product: Any) -> list[str]:
        return []

    def brand(self, product: Any) -> str:
        return ""

    def price(self, product: Any) -> Decimal | float | None:
        return None

    def is_available(self, product: Any) -> bool:
        return True

    def image_url(self, product: Any) -> str | None:
        return None

    def url(self, product: Any) -> str | None:
        getter = getattr(product, "get_absolute_url", None)
        if getter is None:
            return None
        try:
            return getter()
        except Exception:  # noqa: BLE001  (a URL that cannot be built: show no link)
            logger.warning("recommendations: no URL for product %r", product.pk, exc_info=True)
            return None

    # -- what callers use -------------------------------------------------------------------
    def describe(self, product: Any, *, links: bool = True) -> ProductInfo:
        """The product's :class:`ProductInfo` (``links=False``: no URL or image, for training)."""
        name = self.name(product)
        return ProductInfo(
            pk=product.pk,
            name=_text(name) or str(product),
            description=_text(self.description(product)),
            categories=tuple(dict.fromkeys(c for c in (_text(c) for c in self.categories(product) or ()) if c)),
            brand=_text(self.brand(product)),
            price=_decimal(self.price(product)),
            available=bool(self.is_available(product)),
            image_url=self.image_url(product) if links else None,
            url=self.url(product) if links else None,
        )

    def fetch(self, ids: Iterable[Any], *, links: bool = True) -> dict[Any, Any]:
        """``{pk: product}`` for the products among ``ids``, each carrying its description
        (:func:`info` reads it): one query plus this adapter's prefetches, whatever their number.
        ``links=False``: described without URL or image, for products never shown (a shopper's
        history, read for its names and categories): building a URL costs more than the rest
        of a description."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        # One id (e.g. from a URL): an exact lookup, which answers "none" for an out-of-range integer.
        queryset = self.get_queryset().filter(**({"pk": ids[0]} if len(ids) == 1 else {"pk__in": ids}))
        found = {}
        for product in queryset:
            setattr(product, INFO_ATTRIBUTE, self.describe(product, links=links))
            found[product.pk] = product
        return found

    def iterate(self, chunk_size: int = 2000) -> Iterator[Any]:
        """Every product, in chunks (training reads the whole catalogue this way)."""
        return self.get_queryset().order_by("pk").iterator(chunk_size=chunk_size)

    def describe_all(self, chunk_size: int = 2000) -> Iterator[ProductInfo]:
        """Every product's description without links (training reads the catalogue this way)."""
        for product in self.iterate(chunk_size):
            yield self.describe(product, links=False)

    def prices(self) -> list[float]:
        """Every known price in the catalogue (for the shop's price bands)."""
        return [float(p) for p in (_decimal(self.price(product)) for product in self.iterate()) if p is not None]


class FieldMappingAdapter(ProductAdapter):
    """The adapter ``PRODUCT_FIELDS`` configures (see the module's docstring)."""

    def __init__(self, fields: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.fields = dict(app_settings.PRODUCT_FIELDS if fields is None else fields)
        self.readers = {key: _Reader.compile(self.model, key, value)
                        for key, value in self.fields.items() if value is not None}

    def get_queryset(self) -> QuerySet:
        queryset = super().get_queryset()
        related = sorted({r.select for r in self.readers.values() if r.select})
        prefetch = sorted({r.prefetch for r in self.readers.values() if r.prefetch})
        annotations = {r.annotation: r.expression for r in self.readers.values() if r.annotation}
        if related:
            queryset = queryset.select_related(*related)
        if prefetch:
            queryset = queryset.prefetch_related(*prefetch)
        return queryset.annotate(**annotations) if annotations else queryset

    def filter_categories(self, queryset: QuerySet, categories: Iterable[str]) -> QuerySet | None:
        reader = self.readers.get("category")
        if reader is None or reader.lookup is None:
            return None
        queryset = queryset.filter(**{f"{reader.lookup}__in": list(categories)})
        return queryset.distinct() if reader.prefetch else queryset

    def _read(self, product: Any, key: str, default: Any = "") -> Any:
        reader = self.readers.get(key)
        return default if reader is None else reader.read(product)

    def name(self, product: Any) -> str:
        return self._read(product, "name", None) or str(product)

    def description(self, product: Any) -> str:
        return self._read(product, "description")

    def categories(self, product: Any) -> list[str]:
        reader = self.readers.get("category")
        if reader is None:
            return []
        value = reader.read(product)
        return list(value) if reader.prefetch else ([] if value in (None, "") else [value])

    def brand(self, product: Any) -> str:
        return self._read(product, "brand")

    def price(self, product: Any) -> Any:
        return self._read(product, "price", None)

    def is_available(self, product: Any) -> bool:
        return bool(self._read(product, "available", True))

    def image_url(self, product: Any) -> str | None:
        value = self._read(product, "image", None)
        if not value:
            return None
        if isinstance(value, str):
            return value
        try:
            return value.url  # a FieldFile (ImageField, FileField)
        except ValueError:  # no file attached
            return None

    def describe_all(self, chunk_size: int = 2000) -> Iterator[ProductInfo]:
        """The catalogue read as columns (no model instances: several times faster on a big
        catalogue), unless a subclass reads products its own way."""
        keys = ("name", "description", "category", "brand", "price")
        own = ("get_queryset", "name", "description", "categories", "brand", "price")
        readers = {key: self.readers[key] for key in keys if key in self.readers}
        if any(getattr(type(self), m) is not getattr(FieldMappingAdapter, m) for m in own) or not all(
                r.annotation or r.column for r in readers.values()):
            yield from super().describe_all(chunk_size)
            return
        category = readers.pop("category", None)
        listed: dict[Any, list[str]] = {}
        if category is not None and category.prefetch:
            assert category.lookup is not None  # a many-valued reader is always a lookup
            rows = self.model._default_manager.filter(**{f"{category.lookup}__isnull": False}).values_list(
                "pk", category.lookup)
            for pk, name in rows.iterator(chunk_size=chunk_size):
                listed.setdefault(pk, []).append(name)
        elif category is not None:
            readers["category"] = category
        names = [r.annotation or r.lookup for r in readers.values()]
        queryset = self.model._default_manager.annotate(
            **{r.annotation: r.expression for r in readers.values() if r.annotation}).order_by("pk")
        places = readers["price"].places if "price" in readers else None
        for pk, *values in queryset.values_list("pk", *names).iterator(chunk_size=chunk_size):
            row = dict(zip(readers, values))
            price = row.get("price")
            if price is not None and not isinstance(price, Decimal) or places is not None:
                price = _decimal(price)
                price = price.quantize(places) if price is not None and places is not None else price
            if category is None or category.prefetch:
                categories = tuple(dict.fromkeys(str(c) for c in listed.get(pk, ()) if c not in (None, "")))
            else:
                single = row.get("category")
                categories = () if single in (None, "") else (str(single),)
            yield ProductInfo(pk, _text(row.get("name")), _text(row.get("description")), categories,
                              _text(row.get("brand")), price)

    def prices(self) -> list[float]:
        reader = self.readers.get("price")
        if reader is None:
            return []
        if reader.annotation:
            rows = self.model._default_manager.annotate(**{reader.annotation: reader.expression}).values_list(
                reader.annotation, flat=True)
        elif reader.lookup is not None:
            rows = self.model._default_manager.exclude(**{f"{reader.lookup}__isnull": True}).values_list(
                reader.lookup, flat=True)
        else:
            return []
        return [float(p) for p in (_decimal(value) for value in rows.iterator()) if p is not None]


class MappingError(ImproperlyConfigured):
    """A ``PRODUCT_FIELDS`` value the adapter cannot read; says what to write instead."""

    def __init__(self, key: str, value: Any, problem: str, hint: str) -> None:
        super().__init__(f"RECOMMENDATIONS['PRODUCT_FIELDS'][{key!r}] = {value!r}: {problem}.")
        self.key, self.value, self.problem, self.hint = key, value, problem, hint


@dataclass
class _Reader:
    """How one ``PRODUCT_FIELDS`` entry is fetched in bulk and read per product."""

    key: str
    lookup: str | None = None      # the ORM lookup (filters, values_list)
    path: tuple[str, ...] = ()     # attribute names to walk on a fetched product
    select: str | None = None      # select_related path
    prefetch: str | None = None    # prefetch_related path (values are then a list)
    annotation: str | None = None  # annotation holding the value
    expression: Any = None
    places: Decimal | None = None  # a price aggregated across rows is quantized to its field's places
    column: bool = False           # ends on a plain column (values_list reads it as the instance would)

    @classmethod
    def compile(cls, model: Any, key: str, value: Any) -> _Reader:
        annotation = f"_recommendations_{key}"
        if isinstance(value, Q):
            if key != "available":
                raise MappingError(key, value, "a Q object can only describe 'available'",
                                   "Point it at a field, e.g. 'title' or 'brand__name'.")
            return cls(key, annotation=annotation, expression=Exists(
                model._default_manager.filter(value, pk=OuterRef("pk"))))
        if isinstance(value, (BaseExpression, Combinable)):
            return cls(key, annotation=annotation, expression=value)
        if not isinstance(value, str) or not value:
            raise MappingError(key, value, "not a field name",
                               "Give a field name or lookup such as 'category__name', or None.")
        path, relations, many, column = [], [], None, False
        current = model
        parts = value.split("__")
        for i, part in enumerate(parts):
            try:
                field = current._meta.get_field(part)
            except FieldDoesNotExist:
                names = sorted(f.name for f in current._meta.get_fields())
                close = difflib.get_close_matches(part, names, n=1)
                hint = f"Did you mean {'__'.join([*parts[:i], close[0], *parts[i + 1:]])!r}? " if close else ""
                raise MappingError(key, value, f"{current.__name__} has no field {part!r}",
                                   f"{hint}Fields of {current.__name__}: {', '.join(names)}.") from None
            last = i == len(parts) - 1
            if field.is_relation and field.related_model is not None:
                accessor = field.get_accessor_name() if field.auto_created and not field.concrete else field.name
                path.append(accessor)
                if field.many_to_many or field.one_to_many:
                    if many is None:
                        many = len(path)
                relations.append(accessor)
                current = field.related_model
                continue
            if not last:
                raise MappingError(key, value, f"{current.__name__}.{part} is not a relation, so "
                                   f"{value!r} cannot follow it",
                                   f"Stop at {'__'.join(parts[:i + 1])!r}, or follow a foreign key.")
            path.append(field.attname if field.concrete else field.name)
            column = field.concrete
        if many is None:
            # Forward foreign keys / one-to-ones only: joined in the same query.
            return cls(key, lookup=value, path=tuple(path), select="__".join(relations) or None, column=column)
        crossing = "__".join(path[:many])
        if key == "category":
            return cls(key, lookup=value, path=tuple(path), prefetch="__".join(relations) or crossing, column=column)
        if key == "price":
            places = getattr(field, "decimal_places", None)  # SQLite's MIN() gives 19 for 19.00
            return cls(key, lookup=value, annotation=annotation, expression=Min(value),
                       places=None if places is None else Decimal(1).scaleb(-places))
        if key == "available":
            return cls(key, lookup=value, annotation=annotation,
                       expression=Exists(model._default_manager.filter(pk=OuterRef("pk"), **{value: True})))
        raise MappingError(
            key, value, f"{crossing!r} is a many-valued relation (many-to-many or reverse foreign key), "
            f"so {key!r} would have several values",
            "Only 'category' (a list), 'price' (the lowest) and 'available' (any row) may cross one. "
            f"Point {key!r} at one value, or write a PRODUCT_ADAPTER subclass whose {key}() picks one.")

    def read(self, product: Any) -> Any:
        if self.annotation:
            value = getattr(product, self.annotation, None)
            if self.places is not None and value is not None:
                value = _decimal(value)  # None for what is not a number
                value = value.quantize(self.places) if value is not None else None
            return value
        if self.prefetch:
            return _collect(product, self.path)
        value = product
        for name in self.path:
            value = getattr(value, name, None)
            if value is None:
                return None
        return value


def _collect(value: Any, path: tuple[str, ...]) -> list[Any]:
    """The values at the end of ``path``, every related row of a many-valued hop included."""
    if value is None:
        return []
    if not path:
        return [value]
    step = getattr(value, path[0], None)
    if step is not None and hasattr(step, "all") and callable(step.all):  # a related manager
        return [found for row in step.all() for found in _collect(row, path[1:])]
    return _collect(step, path[1:])


def json_key(pk: Any) -> Any:
    """A product key as JSON holds it: an integer, else its string (UUID, code)."""
    return pk if isinstance(pk, int) and not isinstance(pk, bool) else str(pk)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        value = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    if value.is_finite() and value.as_tuple().exponent < -2 and value == value.quantize(CENTS):
        value = value.quantize(CENTS)  # 9.99, not SQLite's aggregate 9.99000000000000
    return value


def parse_price(value: Any) -> Decimal | None:
    """A price as stored with an event: a decimal rounded to cents, None if it is not a number."""
    value = _decimal(value)
    return value.quantize(CENTS) if value is not None and value.is_finite() else None


# -- the configured adapter, once per process -------------------------------------------------
_adapter: ProductAdapter | None = None


def product_adapter() -> ProductAdapter:
    """The adapter named by ``PRODUCT_ADAPTER`` (default: ``PRODUCT_FIELDS``' field mapping)."""
    global _adapter
    if _adapter is None:
        path = app_settings.PRODUCT_ADAPTER
        adapter_class = import_string(path) if isinstance(path, str) else path
        _adapter = adapter_class()
    return _adapter


def _reset(*, setting: str, **kwargs: Any) -> None:
    global _adapter
    if setting in ("RECOMMENDATIONS", "RECOMMENDATIONS_PRODUCT_MODEL"):
        _adapter = None


setting_changed.connect(_reset)


def info(product: Any) -> ProductInfo:
    """The description of a product: the one attached when it was fetched through the adapter
    (no query), else the adapter fetches it first (one bulk call: an instance from elsewhere,
    e.g. a view's, lacks what ``get_queryset`` adds)."""
    found = getattr(product, INFO_ATTRIBUTE, None)
    if found is None:
        fetched = fetch([product.pk]).get(product.pk)
        found = info(fetched) if fetched is not None else product_adapter().describe(product)
        setattr(product, INFO_ATTRIBUTE, found)
    return found


def fetch(ids: Iterable[Any], *, links: bool = True) -> dict[Any, Any]:
    """``{pk: product}`` for ``ids`` through the configured adapter (bulk; see ``ProductAdapter.fetch``)."""
    return product_adapter().fetch(ids, links=links)


def describe_all(chunk_size: int = 2000) -> Iterator[ProductInfo]:
    """Every product's description without links (training's catalogue)."""
    return product_adapter().describe_all(chunk_size)
