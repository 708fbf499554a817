"""Non-personalised engines: ``popular`` (all-time) and ``trending`` (time-decayed).

They are the fallback for shoppers without history; a ``history`` only widens exclusion.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from .base import History, NotFittedError, Recommender, exclusion, top_n
from .dataset import KIND_NAMES, Dataset


def _kind_weights(dataset: Dataset) -> np.ndarray:
    weights = np.zeros(dataset.n_events, dtype=np.float64)
    for code, name in KIND_NAMES.items():
        weights[dataset.kind == code] = dataset.event_weights.get(name, 0.0)
    return weights


def _seen_matrix(dataset: Dataset) -> sp.csr_matrix:
    m = dataset.matrix.copy().astype(np.float32)
    m.data[:] = 1.0
    return m


class PopularRecommender(Recommender):
    """Items ranked by all-time weighted event counts (kind weights, no time decay).

    ``distinct_users=True`` counts each user once per item (weight of their strongest event),
    which resists a few heavy buyers dominating.
    """

    name = "popular"

    def __init__(self, distinct_users: bool = True) -> None:
        self.distinct_users = distinct_users
        self.scores_: np.ndarray | None = None
        self.seen_: sp.csr_matrix | None = None

    def get_params(self) -> dict[str, Any]:
        return {"distinct_users": self.distinct_users}

    def _event_weights(self, dataset: Dataset) -> np.ndarray:
        return _kind_weights(dataset)

    def fit(self, dataset: Dataset) -> Self:
        w = self._event_weights(dataset)
        n = dataset.n_items
        if self.distinct_users:
            m = sp.coo_matrix((w, (dataset.user, dataset.item)), shape=(dataset.n_users, n)).tocsr()
            m.sum_duplicates()
            if m.nnz:
                # strongest single event per (user, item) would need a max-reduce; use min(sum, max kind weight)
                cap = max(dataset.event_weights.values()) if dataset.event_weights else 1.0
                m.data = np.minimum(m.data, cap)
            scores = np.asarray(m.sum(axis=0)).ravel()
        else:
            scores = np.bincount(dataset.item, weights=w, minlength=n).astype(np.float64)
        # tiny deterministic tie-break by raw event count
        scores = scores + 1e-9 * np.bincount(dataset.item, minlength=n)
        self.scores_ = scores.astype(np.float64)
        self.seen_ = _seen_matrix(dataset)
        return self

    def _check(self) -> None:
        if self.scores_ is None:
            raise NotFittedError(f"{self.name} is not fitted")

    def score_all(self, user: int | None = None, history: History | None = None) -> np.ndarray:
        self._check()
        return self.scores_.copy()

    def recommend(
        self,
        user: int | None = None,
        *,
        history: History | None = None,
        n: int = 10,
        exclude: np.ndarray | list[int] | None = None,
        exclude_seen: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        self._check()
        ex = exclusion(self.seen_, user, history, exclude, exclude_seen, len(self.scores_))
        scores = self.scores_.copy()
        scores[scores <= 0] = -np.inf  # never recommend items nobody touched
        return top_n(scores, n, ex)

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """No notion of similarity: the most popular other items."""
        return self.recommend(None, n=n, exclude=[item])

    def _state(self) -> dict[str, Any]:
        self._check()
        return {"scores": self.scores_, "seen": self.seen_}

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.scores_ = np.asarray(state["scores"], dtype=np.float64)
        self.seen_ = sp.csr_matrix(state["seen"])


class TrendingRecommender(PopularRecommender):
    """Items ranked by time-decayed weighted counts: each event counts ``0.5 ** (age / half_life)``.

    Age is measured back from the newest event in the data (``Dataset.now``).
    """

    name = "trending"

    def __init__(self, half_life_days: float = 7.0, distinct_users: bool = False) -> None:
        super().__init__(distinct_users=distinct_users)
        self.half_life_days = float(half_life_days)

    def get_params(self) -> dict[str, Any]:
        return {"half_life_days": self.half_life_days, "distinct_users": self.distinct_users}

    def _event_weights(self, dataset: Dataset) -> np.ndarray:
        w = _kind_weights(dataset)
        if self.half_life_days > 0 and dataset.n_events:
            age_days = np.maximum(dataset.now - dataset.timestamp, 0.0) / 86400.0
            w = w * np.power(0.5, age_days / self.half_life_days)
        return w

    def fit(self, dataset: Dataset) -> Self:
        super().fit(dataset)
        return self
