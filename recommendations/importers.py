"""Loading shopping history (products, views, carts, purchases, ratings) into the app's tables.

Used by ``manage.py recommendations_import``; usable from code too::

    from recommendations.importers import HistoryImporter

    with HistoryImporter(progress=False) as importer:
        importer.import_products_csv("products.csv")
        importer.import_events_csv("events.csv")
    print(importer.stats.summary())

Import format
    products: ``product_id,name,description,category,brand,price``
    events:   ``user_id,product_id,event,timestamp,value`` with ``event`` one of
              view|cart|purchase|rating, ``timestamp`` unix seconds or ISO 8601 and ``value`` the
              quantity (view/cart/purchase, default 1) or the score 1-5 (rating).

How it works
    * Files are streamed with the ``csv`` module (never held in memory) and written in batches of
      ``RECOMMENDATIONS['IMPORT_BATCH_SIZE']`` rows, one transaction per batch: products, users
      and ratings with ``bulk_create``; events, the big table, with one batched INSERT
      (``executemany``; ``COPY`` on PostgreSQL), about twice as fast as ``bulk_create``
      (``HistoryImporter(raw_event_insert=False)`` uses ``bulk_create`` for them too). A batch
      that the database rejects is rolled back and retried row by row, so a bad row never takes
      good ones with it.
    * Every row is validated before it is written, against what the app and the product model
      can hold: ids of the key's type and database range (auto-increment ids from 1 up), prices
      within the field's digits (rounded half up to its decimal places), text without NUL
      characters or lone surrogates, within the field's length, timestamps from 1990 to a day
      from now. A bad row is reported as ``events.csv line 17: score must be 1-5, got '9'`` and
      skipped; its batch's good rows are kept. The bad rows of a file come in line order.
    * A product id repeated within one products file is reported (``product_id 2 repeats
      line 3``); the first row stands.
    * Re-running is harmless: products are upserted by primary key (``product_id``), ratings by
      (user, product), and an event identical to a stored one (same user, product, kind and time,
      looked up per batch through the (user, created_at) index) is skipped as a duplicate.
    * ``user_id`` is the user model's primary key; a missing user is created as
      ``imported-<id>`` with an unusable password.
    * Products go through ``RECOMMENDATIONS['PRODUCT_FIELDS']``, so a shop's own product model
      works. A field mapped to a relation lookup (``category__name``) is resolved with
      get-or-create on the related model when that model can be created from that one value
      (a required ``slug`` is filled with ``slugify``); otherwise the import stops with
      :class:`ImportFailed` - such products must come from the shop's own catalogue.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.management.color import no_style
from django.db import DatabaseError, connections, models, router, transaction
from django.utils.text import slugify

from .conf import app_settings, get_product_model
from .models import Event, Rating
from .serving import products_changed

PRODUCT_COLUMNS = ("product_id", "name", "description", "category", "brand", "price")
EVENT_COLUMNS = ("user_id", "product_id", "event", "timestamp", "value")
REQUIRED_PRODUCT_COLUMNS = ("product_id", "name")
REQUIRED_EVENT_COLUMNS = ("user_id", "product_id", "event", "timestamp")
EVENT_KINDS = {
    "view": Event.Kind.VIEW,
    "cart": Event.Kind.CART,
    "purchase": Event.Kind.PURCHASE,
    "rating": None,
}
MAX_QUANTITY = 2_147_483_647
#: Timestamps before this are refused (0 or -1 stand for "unknown" in many exports), and so are
#: those more than FUTURE_TOLERANCE ahead of the importing machine's clock.
EARLIEST_TIMESTAMP = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
SHOWN_ERRORS = 20
# Parameters per dedup query: below SQLite's historical limit of 999 host parameters.
_QUERY_PARAMS = 900


class ImportFailed(Exception):
    """The input cannot be used at all (missing file, wrong header, undecodable text...)."""


class BadRow(Exception):
    """One row is invalid; the message is the reason shown to the user."""


# --------------------------------------------------------------------------------------------
# Statistics and error reporting


@dataclass
class ImportStats:
    products_created: int = 0
    products_updated: int = 0
    events_stored: int = 0
    events_skipped: int = 0
    ratings_upserted: int = 0
    returns_skipped: int = 0
    bad_rows: int = 0
    users_created: int = 0

    def summary(self) -> str:
        parts = [
            f"products: {self.products_created} created, {self.products_updated} updated",
            f"events: {self.events_stored} stored, {self.events_skipped} skipped as duplicates",
            f"ratings: {self.ratings_upserted} upserted",
        ]
        if self.returns_skipped:
            parts.append(f"returns: {self.returns_skipped} skipped")
        parts += [f"bad rows: {self.bad_rows}", f"users: {self.users_created} created"]
        return "Import finished - " + "; ".join(parts) + "."


class ErrorLog:
    """Collects bad-row messages: keeps the first ``shown`` for display, streams all of them to
    an optional CSV file (``file,line,reason``), counts the rest."""

    def __init__(self, *, shown: int = SHOWN_ERRORS, out_path: str | os.PathLike | None = None,
                 echo=None):
        self.shown = shown
        self.messages: list[str] = []
        self.count = 0
        self.echo = echo
        self._file = None
        self._writer = None
        if out_path:
            self._file = open(out_path, "w", newline="", encoding="utf-8")  # noqa: SIM115
            self._writer = csv.writer(self._file)
            self._writer.writerow(["file", "line", "reason"])

    def add(self, source: str, line: int | None, reason: str) -> None:
        self.count += 1
        where = f"{source} line {line}" if line else source
        message = f"{where}: {reason}"
        if self._writer is not None:
            self._writer.writerow([source, line or "", reason])
        if len(self.messages) < self.shown:
            self.messages.append(message)
            if self.echo is not None:
                self.echo(message)

    @property
    def hidden(self) -> int:
        return self.count - len(self.messages)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# --------------------------------------------------------------------------------------------
# Reading CSV files as a stream, with progress by bytes


class _CountingReader(io.RawIOBase):
    """A raw binary stream that reports how many bytes were read (for the progress bar)."""

    def __init__(self, raw, callback):
        self._raw = raw
        self._callback = callback

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._raw.readinto(buffer)
        if n:
            self._callback(n)
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def _progress_bar(total: int | None, desc: str, unit: str, enabled: bool):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency, but stay usable without it
        enabled = False
        tqdm = None
    if not enabled or tqdm is None:
        return _NoBar()
    return tqdm(total=total, desc=desc, unit=unit, unit_scale=True, unit_divisor=1024
                if unit == "B" else 1000, file=sys.stderr, leave=False, dynamic_ncols=True)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _first_undecodable_line(path: Path, encoding: str) -> tuple[int, bytes] | None:
    """(line number, offending byte) of the first line ``encoding`` cannot decode."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
        with open(path, "rb") as f:
            for number, line in enumerate(f, 1):
                try:
                    decoder.decode(line)
                except UnicodeDecodeError as exc:
                    return number, line[exc.start : exc.start + 1]
    except (LookupError, OSError):
        return None
    return None


# --------------------------------------------------------------------------------------------
# Value parsing


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return False


def _text(value: Any) -> str:
    if _is_missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_timestamp(value: Any) -> datetime:
    """Unix seconds (number or numeric string) or ISO 8601 -> aware UTC datetime, between
    ``EARLIEST_TIMESTAMP`` and a day from now (a 0 or -1 is a placeholder, not a moment)."""
    if _is_missing(value):
        raise BadRow("missing timestamp")
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        else:
            text = str(value).strip()
            try:
                seconds = float(text)
            except ValueError:
                seconds = None
                try:
                    moment = datetime.fromisoformat(text)
                except ValueError:
                    raise BadRow(f"bad timestamp {text!r}: use unix seconds or ISO 8601") from None
                moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if seconds is not None:
            try:
                moment = datetime.fromtimestamp(seconds, tz=UTC)
            except (ValueError, OverflowError, OSError):
                raise BadRow(f"bad timestamp {_text(value)!r}: use unix seconds or ISO 8601") from None
    try:
        latest = datetime.now(UTC) + FUTURE_TOLERANCE
        if moment < EARLIEST_TIMESTAMP or moment > latest:
            raise BadRow(f"timestamp {_text(value)!r} is outside {EARLIEST_TIMESTAMP:%Y-%m-%d} .. "
                         f"{latest:%Y-%m-%d} (a placeholder, or a unit other than seconds?)")
    except (OverflowError, ValueError):  # a moment at the very edge of what datetime holds
        raise BadRow(f"bad timestamp {_text(value)!r}: use unix seconds or ISO 8601") from None
    return moment


def _as_utc(value: Any) -> Any:
    """A datetime read back with plain SQL (text on SQLite, naive or aware elsewhere) as an
    aware UTC datetime comparable with the ones the importer builds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _existing_pks(manager, pks: list) -> set:
    """Which of ``pks`` exist, asked in chunks that stay under any backend's parameter limit."""
    found: set = set()
    for start in range(0, len(pks), _QUERY_PARAMS):
        found.update(manager.filter(pk__in=pks[start : start + _QUERY_PARAMS])
                     .values_list("pk", flat=True))
    return found


def _whole_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or not number.is_integer():
        return None
    return int(number)


def parse_score(value: Any) -> int:
    score = None if _is_missing(value) else _whole_number(value)
    if score is None or not 1 <= score <= 5:
        raise BadRow(f"score must be 1-5, got {_text(value)!r}")
    return score


def parse_quantity(value: Any) -> int:
    if _is_missing(value):
        return 1
    quantity = _whole_number(value)
    if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
        raise BadRow(f"quantity must be a positive whole number, got {_text(value)!r}")
    return quantity


def _first_message(exc: ValidationError) -> str:
    return "; ".join(str(m) for m in exc.messages) or str(exc)


def unstorable(text: str) -> str | None:
    """Why the database cannot store ``text`` (a NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate (not valid Unicode text)"
    return None


_AUTO_FIELDS = (models.AutoField, models.BigAutoField, models.SmallAutoField)


def clean_key(key_field: models.Field, raw: Any, column: str) -> Any:
    """A primary key as ``key_field`` can hold it: its type, its database range and, for an
    auto-increment key, positive (ids from 1 up are what sequences, URLs and caches expect)."""
    if _is_missing(raw):
        raise BadRow(f"missing {column}")
    text = _text(raw) if isinstance(raw, float | str) else raw
    bad = f"bad {column} {_text(raw)!r}"
    if isinstance(text, str) and unstorable(text):
        raise BadRow(f"{bad}: {unstorable(text)}")
    try:
        key = key_field.to_python(text)
        if key is None or key == "":
            raise BadRow(f"missing {column}")
        key_field.run_validators(key)
    except ValidationError as exc:
        raise BadRow(f"{bad}: {_first_message(exc)}") from None
    except (TypeError, ValueError, OverflowError):
        raise BadRow(bad) from None
    if isinstance(key_field, _AUTO_FIELDS) and key < 1:
        raise BadRow(f"{bad}: ids are whole numbers from 1 up")
    return key


def _clean_decimal(column: str, f: models.DecimalField, raw: Any) -> Decimal:
    """A non-negative number rounded (half up) to the field's decimal places, refused when it
    then has more digits than the field holds."""
    try:
        value = Decimal(str(raw).strip())
    except ArithmeticError:
        raise BadRow(f"{column}: {_text(raw)!r} is not a number") from None
    if not value.is_finite():
        raise BadRow(f"{column}: {_text(raw)!r} is not a number")
    if value < 0:
        raise BadRow(f"{column} must not be negative, got {_text(raw)!r}")
    whole = (f.max_digits or 0) - (f.decimal_places or 0)
    too_big = f"{column}: {_text(raw)!r} has more digits than the field holds ({whole} before the point)"
    if f.max_digits is not None and value.adjusted() >= whole:
        raise BadRow(too_big)
    try:
        return value.quantize(Decimal(1).scaleb(-(f.decimal_places or 0)), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # beyond the decimal context's precision
        raise BadRow(too_big) from None


# --------------------------------------------------------------------------------------------
# Product field mapping


@dataclass
class _Target:
    """Where one import column goes on the product model."""

    column: str
    field: models.Field  # a local concrete field, or the ForeignKey of a lookup
    lookup: models.Field | None = None  # the related model's field, for "fk__field"
    slug_fields: list[models.Field] = field(default_factory=list)

    @property
    def is_relation(self) -> bool:
        return self.lookup is not None


def _blocking_fields(model, provided: set[str]) -> tuple[list[str], list[models.Field]]:
    """Fields of ``model`` an import cannot fill: (names that block, slug fields to generate)."""
    blocking: list[str] = []
    slugs: list[models.Field] = []
    for f in model._meta.concrete_fields:
        if f.name in provided or f.attname in provided:
            continue
        if f.primary_key or f.null or f.has_default() or f.db_default is not models.NOT_PROVIDED:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            continue
        if isinstance(f, models.SlugField) or f.name == "slug":
            slugs.append(f)
            continue
        if f.blank and f.empty_strings_allowed and not f.unique:
            continue
        blocking.append(f.name)
    return blocking, slugs


CATALOGUE_HINT = (
    "load products through the shop's own catalogue (admin, fixtures or its import tools) "
    "and import only events"
)


class ProductMapping:
    """Import columns -> fields of the active product model, per ``PRODUCT_FIELDS``."""

    def __init__(self, model=None, columns: Iterable[str] = PRODUCT_COLUMNS,
                 related_cache: dict | None = None):
        self.model = model or get_product_model()
        opts = self.model._meta
        self.pk_field = opts.pk
        self.targets: list[_Target] = []
        mapping = app_settings.PRODUCT_FIELDS
        label = opts.label
        for column in columns:
            if column == "product_id":
                continue
            path = mapping.get(column)
            if not path:
                continue
            parts = path.split("__")
            try:
                first = opts.get_field(parts[0])
            except FieldDoesNotExist:
                raise ImportFailed(
                    f"PRODUCT_FIELDS[{column!r}] = {path!r}: {label} has no field {parts[0]!r}"
                ) from None
            if len(parts) == 1:
                if first.is_relation or not first.concrete:
                    raise ImportFailed(
                        f"PRODUCT_FIELDS[{column!r}] = {path!r} is a relation of {label}; "
                        f"map it to a field of the related model (e.g. '{path}__name') or "
                        f"{CATALOGUE_HINT}."
                    )
                self.targets.append(_Target(column, first, None, []))
                continue
            if len(parts) > 2 or not (first.many_to_one or first.one_to_one) or not first.concrete:
                raise ImportFailed(
                    f"PRODUCT_FIELDS[{column!r}] = {path!r} cannot be written by an import; "
                    f"{CATALOGUE_HINT}."
                )
            related = first.related_model
            try:
                lookup = related._meta.get_field(parts[1])
            except FieldDoesNotExist:
                raise ImportFailed(
                    f"PRODUCT_FIELDS[{column!r}] = {path!r}: {related._meta.label} has no field "
                    f"{parts[1]!r}"
                ) from None
            if lookup.is_relation or not lookup.concrete:
                raise ImportFailed(
                    f"PRODUCT_FIELDS[{column!r}] = {path!r} cannot be written by an import; "
                    f"{CATALOGUE_HINT}."
                )
            blocking, slugs = _blocking_fields(related, {lookup.name})
            if blocking:
                raise ImportFailed(
                    f"Products cannot be imported into {label}: the {column!r} column maps to "
                    f"{path!r}, and a new {related._meta.label} also needs "
                    f"{', '.join(blocking)}; {CATALOGUE_HINT}."
                )
            self.targets.append(_Target(column, first, lookup, slugs))
        # Required fields no import column can fill: products cannot be created at all.
        everything = {mapping[c].split("__")[0] for c in PRODUCT_COLUMNS[1:] if mapping.get(c)}
        blocking, slugs = _blocking_fields(self.model, everything)
        blocking += [f.name for f in slugs]
        if blocking:
            raise ImportFailed(
                f"Products cannot be imported into {label}: its required field(s) "
                f"{', '.join(blocking)} have no column in the import format; {CATALOGUE_HINT}."
            )
        # Required fields whose column this file lacks: it can update products, not add them.
        provided = {t.field.name for t in self.targets}
        self.missing_for_new = [
            column for column in PRODUCT_COLUMNS[1:]
            if column not in columns and mapping.get(column)
            and mapping[column].split("__")[0] in _blocking_fields(self.model, provided)[0]
        ]
        # Related objects already resolved: {fk name: {lookup value: related pk}}.
        self._related: dict[str, dict[Any, Any]] = (
            related_cache if related_cache is not None else defaultdict(dict))

    @property
    def update_fields(self) -> list[str]:
        return [t.field.name for t in self.targets]

    def clean_row(self, row: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Validate one row -> (pk, {target field name or fk name: value}). Raises BadRow."""
        pk = clean_key(self.pk_field, row.get("product_id"), "product_id")
        values: dict[str, Any] = {}
        for t in self.targets:
            raw = row.get(t.column)
            if t.is_relation:
                if _is_missing(raw):
                    if not t.field.null:
                        raise BadRow(f"{t.column} is required")
                    values[t.field.name] = None
                    continue
                values[t.field.name] = self._clean_value(t.column, t.lookup, raw)
            else:
                values[t.field.name] = self._clean_value(t.column, t.field, raw)
        return pk, values

    @staticmethod
    def _clean_value(column: str, f: models.Field, raw: Any) -> Any:
        textual = isinstance(f, models.CharField | models.TextField)
        if _is_missing(raw):
            value: Any = "" if textual else None
        elif textual:
            value = _text(raw) if isinstance(raw, float) else str(raw).strip()
            if unstorable(value):
                raise BadRow(f"{column} {unstorable(value)}, which the database cannot store")
        elif isinstance(f, models.DecimalField):
            value = _clean_decimal(column, f, raw)
        else:
            value = raw
        if value == "" and not f.blank:
            raise BadRow(f"{column} is required")
        if value is None and not f.null:
            if f.has_default():
                return f.get_default()
            raise BadRow(f"{column} is required")
        try:
            return f.clean(value, None)
        except ValidationError as exc:
            raise BadRow(f"{column}: {_first_message(exc)}") from None

    # Related objects ---------------------------------------------------------------------

    def resolve_related(self, rows: list[tuple[Any, dict[str, Any]]], using: str) -> dict:
        """Replace lookup values by related objects' pks, creating missing related objects.

        Returns the newly created {fk name: {value: pk}} so the caller can remember them once
        the transaction has committed."""
        created: dict[str, dict[Any, Any]] = defaultdict(dict)
        for t in self.targets:
            if not t.is_relation:
                continue
            name = t.field.name
            known = self._related[name]
            wanted = {v[name] for _, v in rows if v[name] not in (None, "")} - known.keys()
            related = t.field.related_model
            manager = related._base_manager.db_manager(using)
            if wanted:
                for value, pk in manager.filter(**{f"{t.lookup.name}__in": list(wanted)}).values_list(
                    t.lookup.name, "pk"
                ):
                    known.setdefault(value, pk)
                for value in sorted(wanted - known.keys(), key=str):
                    obj = related(**{t.lookup.name: value})
                    for slug_field in t.slug_fields:
                        setattr(obj, slug_field.attname,
                                self._unique_slug(manager, slug_field, value))
                    obj.save(using=using)
                    created[name][value] = obj.pk
            resolved = {**known, **created[name]}
            for _, values in rows:
                value = values.pop(name)
                values[t.field.attname] = resolved.get(value) if value not in (None, "") else None
        return created

    def remember(self, created: dict) -> None:
        for name, values in created.items():
            self._related[name].update(values)

    @staticmethod
    def _unique_slug(manager, slug_field: models.Field, value: Any) -> str:
        limit = slug_field.max_length or 50
        base = (slugify(str(value)) or "item")[:limit]
        slug, n = base, 1
        while manager.filter(**{slug_field.name: slug}).exists():
            n += 1
            suffix = f"-{n}"
            slug = base[: limit - len(suffix)] + suffix
        return slug


# --------------------------------------------------------------------------------------------
# Rows ready to write


@dataclass(slots=True)
class _EventRow:
    line: int | None
    user_id: Any
    product_id: Any
    kind: int | None  # None: a rating
    created_at: datetime
    value: int
    db_time: Any = None  # created_at adapted for the database, computed once per batch


# --------------------------------------------------------------------------------------------
# The importer


class HistoryImporter:
    """Imports products and events; keeps counts in ``stats`` and bad rows in ``errors``."""

    def __init__(self, *, batch_size: int | None = None, using: str | None = None,
                 progress: bool = True, encoding: str = "utf-8",
                 errors: ErrorLog | None = None, raw_event_insert: bool = True):
        self.batch_size = max(1, int(batch_size or app_settings.IMPORT_BATCH_SIZE))
        self.using = using or router.db_for_write(Event)
        self.progress = progress
        self.encoding = encoding
        self.errors = errors or ErrorLog()
        self.stats = ImportStats()
        self.Product = get_product_model()
        self.User = get_user_model()
        self._product_pk = self.Product._meta.pk
        self._user_pk = self.User._meta.pk
        self._known_products: set = set()
        self._missing_products: set = set()
        self._known_users: set = set()
        self._explicit_pk_models: set = set()
        self._mapping: ProductMapping | None = None
        self._related_cache: dict[str, dict[Any, Any]] = defaultdict(dict)
        self.raw_event_insert = raw_event_insert
        self._event_insert_sql: str | None = None
        self._event_copy_sql = ""
        self._prep_user: dict = {}
        self._prep_product: dict = {}
        self._bad_rows: list[tuple[str, int | None, str]] = []

    # context manager: always reset sequences and close the error file
    def __enter__(self) -> HistoryImporter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.finish()

    def finish(self) -> None:
        self.report_bad_rows()
        self.reset_sequences()
        self.errors.close()

    def bad_row(self, source: str, line: int | None, reason: str) -> None:
        """Count a bad row; it is reported with the rest of its batch, in line order (some are
        only found when the batch is written, e.g. an unknown product)."""
        self.stats.bad_rows += 1
        self._bad_rows.append((source, line, reason))

    def report_bad_rows(self) -> None:
        """Hand the batch's bad rows to the error log, sorted by line."""
        rows, self._bad_rows = self._bad_rows, []
        rows.sort(key=lambda row: -1 if row[1] is None else row[1])  # stable: unnumbered rows keep their order
        for source, line, reason in rows:
            self.errors.add(source, line, reason)

    # ---- CSV entry points ------------------------------------------------------------------

    def import_products_csv(self, path: str | os.PathLike) -> None:
        name = Path(path).name
        with self._open_csv(path, REQUIRED_PRODUCT_COLUMNS, PRODUCT_COLUMNS) as (rows, columns):
            self.import_products(rows, source=name, columns=columns)

    def import_events_csv(self, path: str | os.PathLike) -> None:
        name = Path(path).name
        with self._open_csv(path, REQUIRED_EVENT_COLUMNS, EVENT_COLUMNS) as (rows, _):
            self.import_events(rows, source=name)

    # ---- DataFrame entry points (public data sets) --------------------------------------------

    def import_products_frame(self, frame, *, source: str, lines: Iterable[int] | None = None):
        self.import_products(self._frame_rows(frame, PRODUCT_COLUMNS, source, lines), source=source,
                             columns=list(frame.columns))

    def import_events_frame(self, frame, *, source: str, lines: Iterable[int] | None = None):
        self.import_events(self._frame_rows(frame, EVENT_COLUMNS, source, lines), source=source)

    def _frame_rows(self, frame, columns, source, lines) -> Iterator[tuple[int | None, dict]]:
        present = [c for c in columns if c in frame.columns]
        if lines is None:
            lines = [None] * len(frame)
        bar = _progress_bar(len(frame), source, "rows", self.progress)
        try:
            values = [frame[c].tolist() for c in present]
            for n, (line, *row) in enumerate(zip(lines, *values), 1):
                yield line, dict(zip(present, row))
                if n % 1000 == 0:
                    bar.update(1000)
            bar.update(len(frame) % 1000)
        finally:
            bar.close()

    # ---- CSV reading -------------------------------------------------------------------------

    class _OpenCSV:
        def __init__(self, importer, path, required, known):
            self.importer, self.path, self.required, self.known = importer, Path(path), required, known
            self.bar = None
            self.text = None

        def __enter__(self):
            path, name = self.path, self.path.name
            if not path.is_file():
                raise ImportFailed(f"{path}: no such file")
            size = path.stat().st_size
            self.bar = _progress_bar(size, name, "B", self.importer.progress)
            raw = open(path, "rb", buffering=0)  # noqa: SIM115
            counting = _CountingReader(raw, self.bar.update)
            encoding = self.importer.encoding
            if encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
                encoding = "utf-8-sig"  # tolerate a byte-order mark
            self.text = io.TextIOWrapper(io.BufferedReader(counting, 1 << 20),
                                         encoding=encoding, newline="")
            reader = csv.reader(self.text)
            try:
                header = next(reader, None)
            except UnicodeDecodeError as exc:
                self.close()
                raise ImportFailed(self.importer._encoding_message(path, exc, 1)) from None
            except csv.Error as exc:
                self.close()
                raise ImportFailed(f"{name} line 1: not a CSV header ({exc})") from None
            if not header:
                self.close()
                raise ImportFailed(f"{name} is empty: expected the header {','.join(self.known)}")
            columns = [h.strip().lower() for h in header]
            missing = [c for c in self.required if c not in columns]
            if missing:
                self.close()
                raise ImportFailed(
                    f"{name}: wrong column header {','.join(header)!r}; expected "
                    f"{','.join(self.known)} (missing {', '.join(missing)})"
                )
            return self._rows(reader, columns, name), columns

        def _rows(self, reader, columns, name):
            width = len(columns)
            last_line = reader.line_num
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except UnicodeDecodeError as exc:
                    raise ImportFailed(
                        self.importer._encoding_message(self.path, exc, last_line + 1)
                    ) from None
                except csv.Error as exc:
                    line = last_line + 1
                    last_line = reader.line_num
                    self.importer.bad_row(name, line, f"unreadable CSV ({exc})")
                    continue
                line = last_line + 1
                last_line = reader.line_num
                if len(row) != width:
                    if not row or (len(row) == 1 and not row[0].strip()):
                        continue  # blank line
                    self.importer.bad_row(name, line, f"expected {width} fields, got {len(row)}")
                    continue
                yield line, dict(zip(columns, row))

        def close(self):
            if self.text is not None:
                self.text.close()
                self.text = None
            if self.bar is not None:
                self.bar.close()
                self.bar = None

        def __exit__(self, *exc_info):
            self.close()

    def _open_csv(self, path, required, known):
        return self._OpenCSV(self, path, required, known)

    def _encoding_message(self, path: Path, exc: UnicodeDecodeError, line: int) -> str:
        found = _first_undecodable_line(path, exc.encoding or self.encoding)
        if found:
            line, byte = found
        else:
            byte = exc.object[exc.start : exc.start + 1] if exc.object else b""
        return (
            f"{path.name} is not valid {self.encoding} text (line {line} has byte "
            f"0x{byte.hex() or '??'}); save it as UTF-8 or pass the file's encoding, "
            f"e.g. --encoding latin-1"
        )

    # ---- products ----------------------------------------------------------------------------

    def import_products(self, rows: Iterable[tuple[int | None, dict]], *, source: str,
                        columns: Iterable[str] = PRODUCT_COLUMNS) -> None:
        """Upsert products; only the given columns are written (others keep their values)."""
        columns = [c for c in PRODUCT_COLUMNS if c in set(columns)]
        mapping = ProductMapping(self.Product, columns, related_cache=self._related_cache)
        self._mapping = mapping
        batch: list[tuple[int | None, Any, dict]] = []
        first_line: dict[Any, int | None] = {}  # each product once per file: the first row stands
        try:
            for line, row in rows:
                try:
                    pk, values = mapping.clean_row(row)
                except BadRow as exc:
                    self.bad_row(source, line, str(exc))
                    continue
                if pk in first_line:
                    where = f"line {first_line[pk]}" if first_line[pk] is not None else "an earlier row"
                    self.bad_row(source, line, f"product_id {pk!r} repeats {where}")
                    continue
                first_line[pk] = line
                batch.append((line, pk, values))
                if len(batch) >= self.batch_size:
                    self._flush_products(batch, source)
                    batch = []
        except ImportFailed:
            if batch:  # keep the rows read before the fatal error
                self._flush_products(batch, source)
            self.report_bad_rows()
            raise
        if batch:
            self._flush_products(batch, source)
        self.report_bad_rows()

    def _flush_products(self, batch, source: str) -> None:
        try:
            self._write_product_batch(batch, source)
        finally:
            self.report_bad_rows()
            # bulk writes send no signals: tell serving's product caches (every process) instead
            products_changed()

    def _write_product_batch(self, batch, source: str) -> None:
        self._forget_queries()
        if self._mapping.missing_for_new:
            manager = self.Product._base_manager.db_manager(self.using)
            existing = _existing_pks(manager, list({pk for _, pk, _ in batch}))
            needs = ", ".join(self._mapping.missing_for_new)
            for line, pk, _ in batch:
                if pk not in existing:
                    self.bad_row(source, line, f"product {pk!r} is new, and new products need "
                                               f"the column(s) {needs}")
            batch = [item for item in batch if item[1] in existing]
            if not batch:
                return
        try:
            with transaction.atomic(using=self.using):
                result = self._write_products(batch)
        except DatabaseError:
            for item in batch:
                try:
                    with transaction.atomic(using=self.using):
                        result = self._write_products([item])
                except DatabaseError as exc:
                    self.bad_row(source, item[0], f"database error: {exc}")
                else:
                    self._apply_product_result(result)
        else:
            self._apply_product_result(result)

    def _write_products(self, batch):
        mapping = self._mapping
        latest: dict[Any, dict] = {}
        for _, pk, values in batch:
            latest[pk] = dict(values)  # (one row per product: a file's repeats were refused when read)
        items = list(latest.items())
        created_related = mapping.resolve_related([(pk, v) for pk, v in items], self.using)
        manager = self.Product._base_manager.db_manager(self.using)
        existing = _existing_pks(manager, list(latest))
        objs = [self.Product(**{self._product_pk.attname: pk}, **values) for pk, values in items]
        update_fields = [f for f in mapping.update_fields if f != self._product_pk.name]
        if update_fields and mapping.missing_for_new:
            # A partial file (only known products here): an upsert's INSERT half would break
            # the NOT NULL of the missing columns, so update.
            manager.bulk_update(objs, update_fields, batch_size=500)
        elif update_fields:
            manager.bulk_create(objs, update_conflicts=True, unique_fields=[self._product_pk.name],
                                update_fields=update_fields)
        else:
            manager.bulk_create([o for o in objs if o.pk not in existing])
        return created_related, set(latest), existing

    def _apply_product_result(self, result) -> None:
        created_related, pks, existing = result
        self._mapping.remember(created_related)
        self.stats.products_created += len(pks - existing)
        self.stats.products_updated += len(existing)
        self._known_products |= pks
        self._missing_products -= pks
        self._explicit_pk_models.add(self.Product)

    # ---- events and ratings -----------------------------------------------------------------

    def clean_event(self, row: dict[str, Any]) -> _EventRow:
        user_id = clean_key(self._user_pk, row.get("user_id"), "user_id")
        product_id = clean_key(self._product_pk, row.get("product_id"), "product_id")
        raw_kind = row.get("event")
        kind_name = _text(raw_kind).lower()
        if kind_name not in EVENT_KINDS:
            raise BadRow(
                f"unknown event kind {_text(raw_kind)!r} (expected view, cart, purchase or rating)"
            )
        kind = EVENT_KINDS[kind_name]
        created_at = parse_timestamp(row.get("timestamp"))
        raw_value = row.get("value")
        value = parse_score(raw_value) if kind is None else parse_quantity(raw_value)
        return _EventRow(None, user_id, product_id, kind, created_at, value)

    def import_events(self, rows: Iterable[tuple[int | None, dict]], *, source: str) -> None:
        batch: list[_EventRow] = []
        try:
            for line, row in rows:
                try:
                    event = self.clean_event(row)
                except BadRow as exc:
                    self.bad_row(source, line, str(exc))
                    continue
                event.line = line
                batch.append(event)
                if len(batch) >= self.batch_size:
                    self._flush_events(batch, source)
                    batch = []
        except ImportFailed:
            # Rows read before a fatal error (e.g. bad encoding further down) are kept.
            if batch:
                self._flush_events(batch, source)
            self.report_bad_rows()
            raise
        if batch:
            self._flush_events(batch, source)
        self.report_bad_rows()

    def _forget_queries(self) -> None:
        """With DEBUG on, Django keeps every query's SQL: drop it after each batch so memory
        stays flat (run big imports with DEBUG off: logging the SQL also costs time)."""
        connection = connections[self.using]
        if connection.queries_logged:
            connection.queries_log.clear()

    def _flush_events(self, batch: list[_EventRow], source: str) -> None:
        try:
            self._write_event_batch(batch, source)
        finally:
            self.report_bad_rows()

    def _write_event_batch(self, batch: list[_EventRow], source: str) -> None:
        self._forget_queries()
        batch = self._drop_unknown_products(batch, source)
        if not batch:
            return
        try:
            with transaction.atomic(using=self.using):
                result = self._write_events(batch)
        except DatabaseError:
            for event in batch:
                try:
                    with transaction.atomic(using=self.using):
                        result = self._write_events([event])
                except DatabaseError as exc:
                    self.bad_row(source, event.line, f"database error: {exc}")
                else:
                    self._apply_event_result(result)
        else:
            self._apply_event_result(result)

    def _drop_unknown_products(self, batch: list[_EventRow], source: str) -> list[_EventRow]:
        wanted = {e.product_id for e in batch} - self._known_products - self._missing_products
        if wanted:
            found = _existing_pks(self.Product._base_manager.db_manager(self.using), list(wanted))
            self._known_products |= found
            self._missing_products |= wanted - found
        if not self._missing_products:
            return batch
        kept = []
        for event in batch:
            if event.product_id in self._missing_products:
                self.bad_row(source, event.line, f"unknown product {event.product_id!r}")
            else:
                kept.append(event)
        return kept

    def _write_events(self, batch: list[_EventRow]):
        users = {e.user_id for e in batch}
        new_users = self._create_missing_users(users)
        events = [e for e in batch if e.kind is not None]
        ratings = [e for e in batch if e.kind is None]
        stored = skipped = 0
        if events:
            adapt = connections[self.using].ops.adapt_datetimefield_value
            for e in events:
                e.db_time = adapt(e.created_at)
            existing = self._existing_event_keys(events)
            fresh: list[_EventRow] = []
            for e in events:
                key = (e.user_id, e.product_id, e.kind, e.created_at)
                if key in existing:
                    skipped += 1
                    continue
                existing.add(key)  # an identical row later in the same batch is a duplicate
                fresh.append(e)
            if fresh:
                self._insert_events(fresh)
            stored = len(fresh)
        upserted = 0
        if ratings:
            latest: dict[tuple, _EventRow] = {}
            for r in ratings:  # one row per (user, product) per statement; the last one wins
                latest[(r.user_id, r.product_id)] = r
            objs = [
                Rating(user_id=r.user_id, product_id=r.product_id, score=r.value,
                       created_at=r.created_at, updated_at=r.created_at)
                for r in latest.values()
            ]
            Rating._base_manager.db_manager(self.using).bulk_create(
                objs, update_conflicts=True, unique_fields=["user", "product"],
                update_fields=["score", "updated_at"],
            )
            upserted = len(objs)
        return users, new_users, stored, skipped, upserted

    def _insert_events(self, rows: list[_EventRow]) -> None:
        """Insert validated, de-duplicated events.

        By default (``raw_event_insert=True``): one parameterised INSERT run with ``executemany``
        over the batch (``COPY`` on PostgreSQL with psycopg 3), with values adapted by the
        fields themselves - the rows ``bulk_create`` would write, without building a model
        instance and compiling SQL per row, which was about 60% of the import time.
        With ``raw_event_insert=False``: ``bulk_create``."""
        if not self.raw_event_insert:
            Event._base_manager.db_manager(self.using).bulk_create(
                [Event(user_id=e.user_id, product_id=e.product_id, kind=e.kind,
                       quantity=e.value, created_at=e.created_at) for e in rows]
            )
            return
        connection = connections[self.using]
        ops = connection.ops
        if self._event_insert_sql is None:
            opts = Event._meta
            fields = [opts.get_field(n) for n in
                      ("user", "session_key", "product", "kind", "quantity", "created_at")]
            columns = ", ".join(ops.quote_name(f.column) for f in fields)
            self._event_insert_sql = (
                f"INSERT INTO {ops.quote_name(opts.db_table)} ({columns}) "
                f"VALUES ({', '.join(['%s'] * len(fields))})"
            )
            self._event_copy_sql = f"COPY {ops.quote_name(opts.db_table)} ({columns}) FROM STDIN"
        user_target = Event._meta.get_field("user").target_field
        product_target = Event._meta.get_field("product").target_field
        prep_user, prep_product = self._prep_user, self._prep_product
        params = []
        for e in rows:
            user = prep_user.get(e.user_id)
            if user is None:
                user = prep_user[e.user_id] = user_target.get_db_prep_save(e.user_id, connection)
            product = prep_product.get(e.product_id)
            if product is None:
                product = prep_product[e.product_id] = product_target.get_db_prep_save(
                    e.product_id, connection)
            db_time = e.db_time if e.db_time is not None else ops.adapt_datetimefield_value(
                e.created_at)
            params.append((user, "", product, int(e.kind), e.value, db_time))
        with connection.cursor() as cursor:
            raw = getattr(cursor, "cursor", None)
            if connection.vendor == "postgresql" and hasattr(raw, "copy"):
                # psycopg 3: COPY is several times faster than row-by-row INSERTs.
                with raw.copy(self._event_copy_sql) as copy:
                    for row in params:
                        copy.write_row(row)
            else:
                cursor.executemany(self._event_insert_sql, params)

    def _apply_event_result(self, result) -> None:
        users, new_users, stored, skipped, upserted = result
        self._known_users |= users
        self.stats.users_created += new_users
        self.stats.events_stored += stored
        self.stats.events_skipped += skipped
        self.stats.ratings_upserted += upserted
        if new_users:
            self._explicit_pk_models.add(self.User)

    def _create_missing_users(self, users: set) -> int:
        wanted = users - self._known_users
        if not wanted:
            return 0
        manager = self.User._base_manager.db_manager(self.using)
        found = _existing_pks(manager, list(wanted))
        missing = sorted(wanted - found, key=str)
        if not missing:
            return 0
        username_field = self.User.USERNAME_FIELD
        password = make_password(None)  # unusable
        objs = []
        for pk in missing:
            user = self.User(**{self._user_pk.attname: pk, username_field: f"imported-{pk}"})
            user.password = password
            objs.append(user)
        manager.bulk_create(objs)
        return len(objs)

    def _existing_event_keys(self, events: list[_EventRow]) -> set[tuple]:
        """Stored events with the same (user, created_at) as rows of the batch, as
        (user, product, kind, created_at) keys: one indexed (user, created_at) probe per row.

        Plain SQL: building this query through the ORM costs more than running it."""
        times: dict[Any, set] = defaultdict(set)
        for e in events:
            times[e.user_id].add(e.db_time)
        connection = connections[self.using]
        ops = connection.ops
        opts = Event._meta
        user_f, product_f, kind_f, time_f = (opts.get_field(n) for n in
                                             ("user", "product", "kind", "created_at"))
        user_col, time_col = ops.quote_name(user_f.column), ops.quote_name(time_f.column)
        select = (
            f"SELECT {user_col}, {ops.quote_name(product_f.column)}, "
            f"{ops.quote_name(kind_f.column)}, {time_col} FROM {ops.quote_name(opts.db_table)} WHERE "
        )
        user_target = user_f.target_field
        product_key = product_f.target_field.to_python
        keys: set[tuple] = set()
        terms: list[str] = []
        params: list[Any] = []

        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(select + " OR ".join(terms), params)
                for user_id, product_id, kind, moment in cursor.fetchall():
                    # raw rows: a UUID key comes back as SQLite stores it (32 hex digits)
                    keys.add((user_id, product_key(product_id), kind, _as_utc(moment)))

        for user_id, moments in times.items():
            adapted = sorted(moments)
            db_user = user_target.get_db_prep_value(user_id, connection)
            for start in range(0, len(adapted), _QUERY_PARAMS - 1):
                part = adapted[start : start + _QUERY_PARAMS - 1]
                if terms and len(params) + len(part) + 1 > _QUERY_PARAMS:
                    run()
                    terms, params = [], []
                terms.append(f"({user_col} = %s AND {time_col} IN ({', '.join(['%s'] * len(part))}))")
                params.append(db_user)
                params.extend(part)
        if terms:
            run()
        return keys

    # ---- after loading rows with explicit primary keys ------------------------------------

    def reset_sequences(self) -> None:
        """Move PostgreSQL (and Oracle) sequences past the explicitly inserted primary keys."""
        models_ = [m for m in self._explicit_pk_models
                   if isinstance(m._meta.pk, models.AutoField | models.BigAutoField
                                 | models.SmallAutoField)]
        if not models_:
            return
        connection = connections[self.using]
        statements = connection.ops.sequence_reset_sql(no_style(), models_)
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
        self._explicit_pk_models.clear()


# --------------------------------------------------------------------------------------------
# Public data sets (read with recommendations.sources)


def import_movielens100k(importer: HistoryImporter, path: str | os.PathLike) -> None:
    """MovieLens 100K: ``u.item`` (Latin-1) as products, ``u.data`` as ratings."""
    from .sources import read_movielens100k

    path = Path(path)
    for needed in ("u.data", "u.item"):
        if not (path / needed).is_file():
            raise ImportFailed(f"{path / needed}: no such file (expected the ml-100k directory)")
    try:
        events, products = read_movielens100k(path)
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        raise ImportFailed(f"{path}: cannot read MovieLens 100K files ({exc})") from None
    # Both files have no header: line n holds the frame's row n-1.
    importer.import_products_frame(products, source="u.item", lines=_lines(products, 1))
    importer.import_events_frame(events, source="u.data", lines=_lines(events, 1))


def import_completejourney(importer: HistoryImporter, path: str | os.PathLike) -> None:
    """Complete Journey sample: ``products_in_sample.csv`` and the purchases of
    ``transactions_sample.csv``; lines with quantity <= 0 (returns) or no sales value are
    counted as skipped, not as errors."""
    import numpy as np
    import pandas as pd

    from .sources import read_completejourney

    path = Path(path)
    tx_file = path / "transactions_sample.csv"
    for needed in (tx_file, path / "products_in_sample.csv"):
        if not needed.is_file():
            raise ImportFailed(f"{needed}: no such file (expected the completejourney directory)")
    try:
        events, products = read_completejourney(path)
        tx = pd.read_csv(tx_file, usecols=["quantity", "sales_value"])
    except (ValueError, KeyError, UnicodeDecodeError, OSError) as exc:
        raise ImportFailed(f"{path}: cannot read Complete Journey files ({exc})") from None
    # A few products have no product_type (the reader's name): name them from what is known.
    names = products["name"].fillna("").astype(str).str.strip()
    fallback = products["description"].fillna("").astype(str).str.strip()
    fallback = fallback.where(fallback != "", "Product " + products["product_id"].astype(str))
    products = products.assign(name=names.where(names != "", fallback))
    kept = np.flatnonzero(((tx["quantity"] > 0) & (tx["sales_value"] > 0)).to_numpy())
    importer.stats.returns_skipped += len(tx) - len(events)
    # The reader drops the returns; map its rows back to file lines (header = line 1).
    lines = (kept + 2).tolist() if len(kept) == len(events) else None
    importer.import_products_frame(products, source="products_in_sample.csv",
                                   lines=_lines(products, 2))
    importer.import_events_frame(events, source="transactions_sample.csv", lines=lines)


def _lines(frame, first: int) -> list[int] | None:
    import pandas as pd

    if isinstance(frame.index, pd.RangeIndex) and frame.index.step == 1:
        return [i + first for i in range(frame.index.start, frame.index.stop)]
    try:
        return [int(i) + first for i in frame.index]
    except (TypeError, ValueError):
        return None
