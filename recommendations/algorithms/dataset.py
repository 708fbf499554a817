"""The one in-memory shape every engine trains on.

Pure NumPy/SciPy: engines never see the ORM. ``recommendations.data`` builds a
:class:`Dataset` from the database or from CSV; evaluation builds one from a split.
Users and items are addressed by *internal index* (row / column of the matrices);
``user_ids`` / ``item_ids`` map indices back to the shop's own primary keys so a
saved model is self-contained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

#: Implicit-feedback kinds, in the order of the ``kind`` codes stored in ``Interactions``.
VIEW, CART, PURCHASE, RATING = 1, 2, 3, 4
KIND_NAMES = {VIEW: "view", CART: "cart", PURCHASE: "purchase", RATING: "rating"}
DEFAULT_EVENT_WEIGHTS = {"view": 1.0, "cart": 3.0, "purchase": 5.0, "rating": 4.0}


@dataclass
class ItemFeatures:
    """Content of each item, aligned with ``Dataset.item_ids``; missing values are '' / NaN."""

    name: list[str]
    description: list[str]
    category: list[str | list[str]]  # a label, or every label of an item with several
    brand: list[str]
    price: np.ndarray  # float64, NaN where unknown

    def __post_init__(self) -> None:
        self.price = np.asarray(self.price, dtype=np.float64)
        n = len(self.name)
        if not (len(self.description) == len(self.category) == len(self.brand) == len(self.price) == n):
            raise ValueError("all item feature columns must have the same length")

    def __len__(self) -> int:
        return len(self.name)

    @classmethod
    def empty(cls, n: int) -> ItemFeatures:
        blank = [""] * n
        return cls(list(blank), list(blank), list(blank), list(blank), np.full(n, np.nan))


@dataclass
class Dataset:
    """Users x items interactions plus optional explicit ratings and item content.

    ``user``/``item``/``kind``/``value``/``timestamp`` are aligned event-level arrays (one entry
    per event, indices into ``user_ids``/``item_ids``); ``value`` is the quantity for purchases
    and the score (1-5) for ratings. The weighted matrix engines use is derived from them with
    ``event_weights`` and an optional time decay, so those stay settings, not data.
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    user: np.ndarray
    item: np.ndarray
    kind: np.ndarray
    value: np.ndarray
    timestamp: np.ndarray
    item_features: ItemFeatures | None = None
    event_weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_EVENT_WEIGHTS))
    #: Half-life in days of an event's weight (None: no decay), counted back from ``now``.
    decay_half_life_days: float | None = None
    now: float | None = None

    def __post_init__(self) -> None:
        self.user_ids = np.asarray(self.user_ids)
        self.item_ids = np.asarray(self.item_ids)
        self.user = np.asarray(self.user, dtype=np.int32)
        self.item = np.asarray(self.item, dtype=np.int32)
        self.kind = np.asarray(self.kind, dtype=np.int8)
        self.value = np.asarray(self.value, dtype=np.float32)
        self.timestamp = np.asarray(self.timestamp, dtype=np.float64)
        n = len(self.user)
        if not (len(self.item) == len(self.kind) == len(self.value) == len(self.timestamp) == n):
            raise ValueError("event arrays must have the same length")
        if n and (self.user.max() >= len(self.user_ids) or self.item.max() >= len(self.item_ids)):
            raise ValueError("event indices out of range of user_ids / item_ids")
        if self.item_features is not None and len(self.item_features) != len(self.item_ids):
            raise ValueError("item_features must have one entry per item")
        if self.now is None:
            self.now = float(self.timestamp.max()) if n else 0.0

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_events(self) -> int:
        return len(self.user)

    def event_weight(self) -> np.ndarray:
        """Per-event weight: kind weight (x rating-centred score) x time decay."""
        weights = np.zeros(self.n_events, dtype=np.float32)
        for code, name in KIND_NAMES.items():
            weights[self.kind == code] = self.event_weights.get(name, 0.0)
        if self.decay_half_life_days:
            age_days = np.maximum(self.now - self.timestamp, 0.0) / 86400.0
            weights *= np.power(0.5, age_days / self.decay_half_life_days).astype(np.float32)
        return weights

    @cached_property
    def matrix(self) -> sp.csr_matrix:
        """Users x items confidence matrix (float32 CSR, duplicates summed)."""
        m = sp.csr_matrix(
            (self.event_weight(), (self.user, self.item)),
            shape=(self.n_users, self.n_items),
            dtype=np.float32,
        )
        m.sum_duplicates()
        m.eliminate_zeros()
        return m

    @cached_property
    def ratings(self) -> sp.csr_matrix:
        """Users x items explicit scores (last rating wins); empty when there are none."""
        mask = self.kind == RATING
        order = np.argsort(self.timestamp[mask], kind="stable")
        users, items, scores = self.user[mask][order], self.item[mask][order], self.value[mask][order]
        m = sp.coo_matrix((scores, (users, items)), shape=(self.n_users, self.n_items)).tocsr()
        # coo->csr sums duplicates; keep the latest score instead.
        latest: dict[tuple[int, int], float] = {}
        if len(users) != m.nnz:
            for u, i, s in zip(users.tolist(), items.tolist(), scores.tolist()):
                latest[(u, i)] = s
            keys = np.array(list(latest.keys()), dtype=np.int64).reshape(-1, 2)
            m = sp.csr_matrix(
                (np.array(list(latest.values()), dtype=np.float32), (keys[:, 0], keys[:, 1])),
                shape=(self.n_users, self.n_items),
            )
        return m

    @classmethod
    def from_frames(
        cls,
        events,
        products=None,
        event_weights: dict[str, float] | None = None,
        decay_half_life_days: float | None = None,
    ) -> Dataset:
        """Build from the app's import-format pandas frames.

        ``events``: ``user_id, product_id, event`` (view|cart|purchase|rating), ``timestamp``
        (unix seconds or ISO 8601) and optional ``value`` (quantity / score, default 1).
        ``products`` (optional): ``product_id, name, description, category, brand, price``; its
        products become items even without events (new items for cold start). User ids are
        sorted; item ids are the products' ids in order, then event-only ids sorted.
        """
        import pandas as pd  # local: the algorithms package itself needs only NumPy/SciPy

        codes = {name: code for code, name in KIND_NAMES.items()}
        ev = events
        kind_names = ev["event"].astype(str).str.strip().str.lower()
        unknown = sorted(set(kind_names.unique()) - set(codes))
        if unknown:
            raise ValueError(f"unknown event kinds: {unknown}")
        kind = kind_names.map(codes).to_numpy(dtype=np.int8)
        ts = timestamps_to_unix(ev["timestamp"]) if "timestamp" in ev else np.zeros(len(ev))
        if "value" in ev:
            value = pd.to_numeric(ev["value"], errors="coerce").to_numpy(dtype=np.float64)
            value = np.where(np.isnan(value), 1.0, value)
        else:
            value = np.ones(len(ev))

        user_codes, user_ids = pd.factorize(ev["user_id"], sort=True)
        event_items = ev["product_id"]
        if products is not None and len(products):
            prod_ids = pd.Index(products["product_id"]).drop_duplicates()
            extra = pd.Index(event_items.unique()).difference(prod_ids)
            item_index = prod_ids.append(extra.sort_values())
        else:
            item_index = pd.Index(event_items.unique()).sort_values()
        item_codes = item_index.get_indexer(event_items)

        features = None
        if products is not None and len(products):
            prod = products.drop_duplicates("product_id").set_index("product_id").reindex(item_index)

            def text(col: str) -> list[str]:
                if col not in prod:
                    return [""] * len(prod)
                return prod[col].fillna("").astype(str).tolist()

            price = (
                pd.to_numeric(prod["price"], errors="coerce").to_numpy(dtype=np.float64)
                if "price" in prod
                else np.full(len(prod), np.nan)
            )
            categories = [list(c) if isinstance(c, (list, tuple)) else ("" if _missing(c) else str(c))
                          for c in (prod["category"] if "category" in prod else [""] * len(prod))]
            features = ItemFeatures(text("name"), text("description"), categories, text("brand"), price)
        return cls(
            user_ids=np.asarray(user_ids),
            item_ids=np.asarray(item_index),
            user=user_codes,
            item=item_codes,
            kind=kind,
            value=value,
            timestamp=ts,
            item_features=features,
            event_weights=dict(event_weights) if event_weights else dict(DEFAULT_EVENT_WEIGHTS),
            decay_half_life_days=decay_half_life_days,
        )

    def subset(self, mask: np.ndarray) -> Dataset:
        """Same users, items and features; only the events where ``mask`` is true."""
        return Dataset(
            user_ids=self.user_ids,
            item_ids=self.item_ids,
            user=self.user[mask],
            item=self.item[mask],
            kind=self.kind[mask],
            value=self.value[mask],
            timestamp=self.timestamp[mask],
            item_features=self.item_features,
            event_weights=self.event_weights,
            decay_half_life_days=self.decay_half_life_days,
            now=self.now,
        )


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def category_label(value) -> str:
    """One string per item for what compares items by category: several categories sorted
    and joined with '|' ('' when none)."""
    if isinstance(value, (list, tuple)):
        return "|".join(sorted(str(v) for v in value if v))
    return "" if _missing(value) else str(value)


def timestamps_to_unix(column) -> np.ndarray:
    """Unix seconds (float64) from a column of unix numbers or ISO 8601 strings / datetimes."""
    import pandas as pd

    col = pd.Series(column)
    numeric = pd.to_numeric(col, errors="coerce")
    if numeric.notna().all():
        return numeric.to_numpy(dtype=np.float64)
    out = numeric.to_numpy(dtype=np.float64, na_value=np.nan).copy()
    rest = numeric.isna().to_numpy()
    try:
        parsed = pd.to_datetime(col[rest], utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"unparseable timestamps: {exc}") from exc
    if parsed.isna().any():
        raise ValueError("unparseable (empty) timestamps")
    out[rest] = (parsed - pd.Timestamp(0, tz="UTC")).dt.total_seconds().to_numpy(dtype=np.float64)
    return out
