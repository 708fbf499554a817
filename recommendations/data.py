"""The one bridge between the ORM and the engines.

Reads events, ratings and product content from the database in chunks (memory stays bounded
by the arrays, not by model instances) into pandas frames in the import format — the same
shape ``recommendations.sources`` reads from CSV — so evaluation, training and import share one
path into :class:`~recommendations.algorithms.dataset.Dataset`.

Shoppers are keyed by strings: a user's primary key, or ``"session:<key>"`` for anonymous
visitors, whose sessions still teach the engines which products go together.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .models import Event, Rating
from .products import describe_all

CHUNK_SIZE = 50_000
EVENT_NAMES = {Event.Kind.VIEW: "view", Event.Kind.CART: "cart", Event.Kind.PURCHASE: "purchase"}
EVENT_COLUMNS = ["user_id", "product_id", "event", "timestamp", "value"]
PRODUCT_COLUMNS = ["product_id", "name", "description", "category", "brand", "price"]
SESSION_PREFIX = "session:"


def shopper_key(user_id: Any = None, session_key: str = "") -> str:
    return str(user_id) if user_id is not None else SESSION_PREFIX + session_key


def _chunks(queryset, columns: list[str]):
    """Column tuples of at most ``CHUNK_SIZE`` rows (no pandas dtype guessing on NULLs)."""
    rows = []
    for row in queryset.values_list(*columns).iterator(chunk_size=CHUNK_SIZE):
        rows.append(row)
        if len(rows) == CHUNK_SIZE:
            yield list(zip(*rows))
            rows = []
    if rows:
        yield list(zip(*rows))


def _epoch(values) -> np.ndarray:
    return np.fromiter((v.timestamp() for v in values), dtype=np.float64, count=len(values))


def events_frame(include_anonymous: bool = True) -> pd.DataFrame:
    """Events and ratings as one frame in the import format."""
    events = Event.objects.all() if include_anonymous else Event.objects.filter(user__isnull=False)
    parts = []
    columns = ["user_id", "session_key", "product_id", "kind", "quantity", "created_at"]
    for users, sessions, products, kinds, quantities, times in _chunks(events, columns):
        parts.append(pd.DataFrame({
            "user_id": [shopper_key(u, s) for u, s in zip(users, sessions)],
            "product_id": products,
            "event": [EVENT_NAMES[k] for k in kinds],
            "timestamp": _epoch(times),
            "value": np.asarray(quantities, dtype=np.float32),
        }))
    for users, products, scores, times in _chunks(
            Rating.objects.all(), ["user_id", "product_id", "score", "updated_at"]):
        parts.append(pd.DataFrame({
            "user_id": [str(u) for u in users],
            "product_id": products,
            "event": "rating",
            "timestamp": _epoch(times),
            "value": np.asarray(scores, dtype=np.float32),
        }))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("user_id", "event") else float)
                             for c in EVENT_COLUMNS})
    return pd.concat(parts, ignore_index=True)[EVENT_COLUMNS]


def products_frame() -> pd.DataFrame:
    """Every product's content through the product adapter; ``category`` holds each product's
    list of categories (engines see every one, e.g. the content engine's multi-hot block)."""
    rows = [(p.pk, p.name, p.description, list(p.categories), p.brand,
             float(p.price) if p.price is not None else np.nan) for p in describe_all(CHUNK_SIZE)]
    frame = pd.DataFrame.from_records(rows, columns=PRODUCT_COLUMNS)
    frame["price"] = frame["price"].astype(float)
    return frame


def load_frames(include_anonymous: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, products) from the database, in the import format."""
    return events_frame(include_anonymous), products_frame()
