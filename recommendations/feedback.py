"""The feedback loop: which lists were shown (impressions), which products were followed from
them (clicks), and how each engine, widget and A/B variant does (CTR, conversion).

Every list the template tags or the API show gets an :class:`~recommendations.models.Impression`
row whose id (the *recommendation id*) travels with the list. A click comes back either through
the redirect view the widgets link through (``r/<recommendation id>/<product id>/``) or through
``POST clicks/`` from a JavaScript front end; both end in :func:`record_click`.
:func:`ctr_report` turns the rows into plain dicts for the admin dashboard.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connections, router, transaction
from django.db.models import CharField, Count, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Lower, Replace
from django.utils import timezone

from .conf import app_settings
from .models import Click, Event, Impression
from .products import json_key

logger = logging.getLogger(__name__)

#: The dimensions :func:`ctr_report` breaks results down by.
DIMENSIONS = ("engine", "widget", "variant")


def dominant_engine(recommendations: Iterable[Any]) -> str:
    """The engine that produced most items of a list (lists can mix engines when the fallback
    chain filled them up); '' for an empty list."""
    counts = Counter(rec.engine for rec in recommendations)
    return counts.most_common(1)[0][0] if counts else ""


def record_impression(shopper: Any, widget: str, recommendations: Sequence[Any], *,
                      variant: str = "", engine: str | None = None) -> Impression | None:
    """Store that ``recommendations`` were shown to ``shopper`` (a ``serving.Shopper``) in
    ``widget``; returns the row, or None when nothing is stored (empty list, impressions
    switched off, or the database write failed — showing the list matters more)."""
    if not recommendations:
        return None
    row = _row(shopper, widget, [json_key(r.product_id) for r in recommendations],
               engine or dominant_engine(recommendations), variant)
    return Impression(**row) if row is not None and _record(row) else None


def record_shown(shopper: Any, widget: str, product_ids: list[Any], engine: str,
                 variant: str = "") -> uuid.UUID | None:
    """``record_impression`` for a list already in its stored form (``product_ids`` as JSON
    keys): the id of the impression, or None when nothing is stored. No model instance is
    built on the request path when the impression is buffered (building one is about a
    hundred Python calls, a visible share of a cached list request)."""
    row = _row(shopper, widget, product_ids, engine, variant) if product_ids else None
    return row["id"] if row is not None and _record(row) else None


def _row(shopper: Any, widget: str, product_ids: list[Any], engine: str, variant: str) -> dict[str, Any] | None:
    """An impression's field values, stamped now (attribution windows count from when it was
    shown, not from when the buffer writes it); None when impressions are switched off."""
    if not app_settings.RECORD_IMPRESSIONS:
        return None
    return {"id": uuid.uuid4(), "user_id": shopper.user_id,
            "session_key": (shopper.session_key or "")[:40] if shopper.user_id is None else "",
            "widget": widget[:32], "engine": (engine or "")[:32], "variant": (variant or "")[:32],
            "product_ids": product_ids, "created_at": timezone.now()}


def _record(row: dict[str, Any]) -> bool:
    """Buffer the row, or store it now (see ``ImpressionBuffer.accepts``); False if that failed."""
    if buffer.accepts():
        buffer.add(row)
        return True
    try:
        _store(Impression(**row))
    except Exception:  # noqa: BLE001
        logger.exception("recommendations: could not store an impression for %s", row["widget"])
        return False
    return True


def buffer_seconds(connection: Any = None) -> float:
    """``IMPRESSION_BUFFER_SECONDS``; unset (None), 1 s, except on SQLite: 0. SQLite has one
    writer at a time, and a background write landing while a request's transaction reads (e.g.
    a login under ``ATOMIC_REQUESTS``) makes that request fail with "database is locked"."""
    seconds = app_settings.IMPRESSION_BUFFER_SECONDS
    if seconds is not None:
        return float(seconds)
    connection = connection or connections[router.db_for_write(Impression)]
    return 0.0 if connection.vendor == "sqlite" else 1.0


class ImpressionBuffer:
    """Impressions of this process waiting for one bulk INSERT, so that showing a list costs no
    database round trip. A background thread writes them at most ``IMPRESSION_BUFFER_SECONDS``
    after the first one came in, or as soon as ``IMPRESSION_BUFFER_SIZE`` are waiting; the
    process writes what is left when it exits, and before answering a click on an impression it
    still holds or a CTR report. Inside a transaction (``ATOMIC_REQUESTS``, tests) impressions are
    written at once, with the transaction. A crash loses at most the buffered moment."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._rows: list[dict[str, Any]] = []  # field values: instances are built by the writer
        self._due: float | None = None  # when the writer writes the waiting rows
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closing = False

    def accepts(self) -> bool:
        """Whether to buffer: switched on, and not inside a transaction (whose rollback must
        take the impression with it, and whose tests read it back at once)."""
        connection = connections[router.db_for_write(Impression)]
        if buffer_seconds(connection) <= 0:
            return False
        return not connection.in_atomic_block and connection.settings_dict.get("AUTOCOMMIT", True)

    def add(self, row: dict[str, Any]) -> None:
        with self._lock:
            self._rows.append(row)
            if len(self._rows) >= app_settings.IMPRESSION_BUFFER_SIZE:
                self._due = 0.0
            elif len(self._rows) == 1:
                self._due = time.monotonic() + buffer_seconds()
            else:
                return
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="recommendations-impressions",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def holds(self, pk: Any) -> bool:
        with self._lock:
            return any(row["id"] == pk for row in self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def _run(self) -> None:
        """The writer: sleeps until rows are due (woken when the first comes in or the buffer
        fills up), writes them, and keeps its own database connection between writes."""
        while True:
            with self._lock:
                due, closing = self._due, self._closing
            if closing:
                self.flush()
                for connection in connections.all(initialized_only=True):  # this thread's own
                    connection.close()
                return
            if self._wake.wait(None if due is None else max(0.0, due - time.monotonic())):
                self._wake.clear()
                continue  # a new deadline (or closing): look again
            self.flush()
            for connection in connections.all(initialized_only=True):
                connection.close_if_unusable_or_obsolete()

    def close(self, timeout: float = 5.0) -> None:
        """Write what is waiting and end the writer thread, closing its database connection (at
        exit, and before a test database is dropped). A later impression starts a new one."""
        with self._lock:
            thread, self._closing = self._thread, True
        self._wake.set()
        if thread is not None:
            thread.join(timeout)
        with self._lock:
            self._closing, self._thread = False, None
        self.flush()

    def flush(self) -> int:
        """Write the waiting impressions now (one INSERT); returns how many were written."""
        with self._lock:
            rows, self._rows, self._due = self._rows, [], None
        if not rows:
            return 0
        try:
            _store_many(rows)
            return len(rows)
        except Exception:  # noqa: BLE001  (e.g. a shopper deleted meanwhile: write the others)
            logger.warning("recommendations: bulk impression insert failed, writing one by one",
                           exc_info=True)
        written = 0
        for row in rows:
            try:
                _store(Impression(**row))
                written += 1
            except Exception:  # noqa: BLE001
                logger.exception("recommendations: could not store an impression for %s", row["widget"])
        return written


buffer = ImpressionBuffer()
os.register_at_fork(after_in_child=buffer._reset)
atexit.register(buffer.close)


def flush_impressions() -> int:
    """Write this process's buffered impressions now; returns how many."""
    return buffer.flush()


def _store_many(rows: list[dict[str, Any]]) -> None:
    """The rows (``_row``'s field values) in one transaction; on PostgreSQL without waiting for
    the disk flush (see ``_store``), through ``COPY``: no model instances and no SQL to parse
    (Django's ``bulk_create`` spends about 230 Python calls per impression preparing each field
    of each instance, in the web process that showed it)."""
    alias = router.db_for_write(Impression)
    connection = connections[alias]
    with transaction.atomic(using=alias):
        if connection.vendor != "postgresql":
            Impression.objects.using(alias).bulk_create([Impression(**row) for row in rows])
            return
        fields = Impression._meta.local_concrete_fields
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            if app_settings.CAPTURE_ASYNC_COMMIT:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            columns = ", ".join(quote(f.column) for f in fields)
            with cursor.cursor.copy(f"COPY {quote(Impression._meta.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([json.dumps(row[f.attname]) if f.attname == "product_ids" else row[f.attname]
                                    for f in fields])


def _store(impression: Impression) -> None:
    """Insert one impression. Like captured events (``CAPTURE_ASYNC_COMMIT``), on PostgreSQL
    outside a surrounding transaction the commit does not wait for the disk flush (a crash may
    lose the last moment of impressions; showing a list never waits for an fsync), and the
    transaction goes to the server in one round trip instead of four."""
    connection = connections[router.db_for_write(Impression)]
    if (app_settings.CAPTURE_ASYNC_COMMIT and connection.vendor == "postgresql"
            and connection.get_autocommit()):
        fields = Impression._meta.local_concrete_fields
        values = [f.get_db_prep_save(f.pre_save(impression, True), connection) for f in fields]
        quote = connection.ops.quote_name
        sql = (f"BEGIN; SET LOCAL synchronous_commit TO OFF; "
               f"INSERT INTO {quote(Impression._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
               f"VALUES ({', '.join(['%s'] * len(fields))}); COMMIT")
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, values)
            return
        except Exception:  # noqa: BLE001  (e.g. server-side binding: fall back to the ORM)
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
            logger.debug("recommendations: one-round-trip impression insert failed", exc_info=True)
    impression.save(force_insert=True)


def owns(impression: Impression, shopper: Any) -> bool:
    """Whether ``shopper`` is the one the list was shown to (lists shown to an anonymous
    visitor without a session belong to nobody in particular)."""
    if impression.user_id is not None:
        return shopper.user_id is not None and str(shopper.user_id) == str(impression.user_id)
    if impression.session_key:
        return shopper.user_id is None and shopper.session_key == impression.session_key
    return True


def get_impression(recommendation_id: Any, shopper: Any) -> Impression | None:
    """The shopper's own impression with that id, else None (unknown, malformed or someone
    else's: the caller cannot tell which)."""
    try:
        key = recommendation_id if isinstance(recommendation_id, uuid.UUID) else uuid.UUID(str(recommendation_id))
    except (TypeError, ValueError):
        return None
    if buffer.holds(key):  # shown a moment ago by this process and not written yet
        buffer.flush()
    impression = Impression.objects.filter(pk=key).first()
    if impression is None and buffer.accepts():
        # Shown a moment ago by another process whose buffer has not been written yet: it will
        # be within IMPRESSION_BUFFER_SECONDS, so wait that long (only on this rare path).
        deadline = time.monotonic() + buffer_seconds() + 0.25
        while impression is None and time.monotonic() < deadline:
            time.sleep(0.05)
            impression = Impression.objects.filter(pk=key).first()
    return impression if impression is not None and owns(impression, shopper) else None


def in_impression(impression: Impression, product_id: Any) -> bool:
    return str(product_id) in {str(p) for p in impression.product_ids}


def record_click(impression: Impression, product_id: Any) -> tuple[Click, bool]:
    """Record a click on ``product_id`` from ``impression`` (once per impression and product);
    returns ``(click, created)``. The caller checks ownership and that the product was shown."""
    product_id = str(product_id)[:64]
    try:
        with transaction.atomic():
            return Click.objects.get_or_create(impression=impression, product_id=product_id)
    except IntegrityError:  # a concurrent click on the same link won the race
        return Click.objects.get(impression=impression, product_id=product_id), False


# -- reporting ---------------------------------------------------------------------------------
def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _converted_clicks():
    """Clicks followed by a purchase of the clicked product by the same shopper."""
    pid, clicked = Cast("product_id", CharField()), OuterRef("product_id")
    if Event._meta.get_field("product").target_field.get_internal_type() == "UUIDField":
        # A click stores str(uuid); SQLite stores UUIDs as 32 hex digits: compare without dashes.
        pid = Replace(Lower(pid), Value("-"), Value(""))
        clicked = Replace(Lower(clicked), Value("-"), Value(""))
    purchases = Event.objects.annotate(pid=pid).filter(
        kind=Event.Kind.PURCHASE,
        pid=clicked,
        created_at__gte=OuterRef("created_at"),
    ).filter(
        Q(user_id=OuterRef("impression__user_id"))
        | Q(user__isnull=True, session_key=OuterRef("impression__session_key"))
    )
    return Exists(purchases)


def ctr_report(since: datetime | None = None, until: datetime | None = None, *,
               days: int = 30) -> dict[str, Any]:
    """Click-through and conversion per engine, per widget and per A/B variant.

    Window: impressions shown in ``[since, until)`` (default: the last ``days`` days). For each
    group: ``impressions`` (lists shown), ``clicks`` (products followed), ``clicked_impressions``
    (lists with at least one click), ``ctr`` = clicked_impressions / impressions,
    ``clicks_per_impression``, ``conversions`` (clicks followed by a purchase of that product by
    the same shopper) and ``conversion_rate`` = conversions / clicks. Plain dicts and lists,
    sorted by impressions, ready for a template or JSON::

        {"since": ..., "until": ..., "ab_test": {...} | None,
         "totals": {...}, "by_engine": [{"engine": "item_cf", ...}], "by_widget": [...],
         "by_variant": [{"variant": "hybrid", ...}]}
    """
    buffer.flush()
    until = until or timezone.now()
    since = since or until - timedelta(days=days)
    impressions = Impression.objects.filter(created_at__gte=since, created_at__lt=until)
    clicks = Click.objects.filter(impression__in=impressions.values("pk"))
    converted = clicks.filter(_converted_clicks())

    def breakdown(dimension: str | None) -> list[dict[str, Any]]:
        counts = {"impressions": Count("id", distinct=True),
                  "clicked_impressions": Count("id", distinct=True, filter=Q(clicks__isnull=False)),
                  "clicks": Count("clicks")}
        if dimension is None:
            shown = [impressions.aggregate(**counts)]
            conv_by = {None: converted.count()}
        else:
            shown = impressions.values(dimension).annotate(**counts).order_by()
            prefix = f"impression__{dimension}"
            conv = converted.values(prefix).annotate(n=Count("id")).order_by()
            conv_by = {row[prefix]: row["n"] for row in conv}
        rows = []
        for row in shown:
            key = row[dimension] if dimension else None
            if dimension == "variant" and not key:
                continue  # lists shown outside the A/B test
            conversions = conv_by.get(key, 0)
            entry = {dimension: key} if dimension else {}
            entry.update(
                impressions=row["impressions"], clicks=row["clicks"],
                clicked_impressions=row["clicked_impressions"],
                ctr=_rate(row["clicked_impressions"], row["impressions"]),
                clicks_per_impression=_rate(row["clicks"], row["impressions"]),
                conversions=conversions, conversion_rate=_rate(conversions, row["clicks"]),
            )
            rows.append(entry)
        return sorted(rows, key=lambda r: (-r["impressions"], str(r.get(dimension, ""))))

    totals = breakdown(None)
    variants = breakdown("variant")
    arms = {}
    if app_settings.AB_TEST:
        from .serving import ab_variants

        arms = {name: engine for name, engine, _ in ab_variants()}
        for row in variants:
            row["engine"] = arms.get(row["variant"], "")
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "ab_test": app_settings.AB_TEST or None,
        "totals": totals[0],
        "by_engine": breakdown("engine"),
        "by_widget": breakdown("widget"),
        "by_variant": variants,
    }
