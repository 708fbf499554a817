"""Content-based engine: items are described by what they *are*, not by who bought them.

Each item becomes one L2-normalised sparse feature row built from four blocks:

* TF-IDF over ``name`` + ``description`` (scikit-learn, fitted at training time only),
* multi-hot ``category`` (a list of categories per item, or one string split on ``category_sep``),
* one-hot ``brand``,
* a price band (quantile bins of the known prices; unknown price -> no band).

Every block is L2-normalised per row and scaled by its weight before the row as a
whole is normalised, so a weight says how much that block counts in the cosine.
A shopper's profile is the weighted sum of the rows of their history (weights come from
``Dataset.matrix``, so event kinds and time decay already apply); every item, including
ones nobody has touched yet, is scored by its dot product with that profile.

Optionally (``prior_weight`` > 0) a *feature popularity prior* is added: a ridge
regression, fitted on items that do have interactions, from item features to
log-popularity. It lets a brand-new product that looks like what sells rank above one
that looks like what does not, and is what the cold-start path benefits from.

Serving needs NumPy/SciPy only: the feature matrix is stored (sparse) in the .npz and
the vectorizer is thrown away after ``fit``.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from .base import History, NotFittedError, Recommender, top_n, user_profile
from .dataset import Dataset, ItemFeatures


def _l2_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    m = sp.csr_matrix(m, dtype=np.float32)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sp.csr_matrix(sp.diags(1.0 / norms).dot(m), dtype=np.float32)


def _one_hot(values: list[str | list[str]], sep: str | None) -> sp.csr_matrix:
    """Multi-hot of string labels: a list of labels, or one label (split on ``sep`` if given);
    '' means none."""
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for r, raw in enumerate(values):
        if isinstance(raw, (list, tuple)):
            labels = [str(p).strip() for p in raw]
        else:
            raw = (raw or "").strip()
            if not raw:
                continue
            labels = [p.strip() for p in raw.split(sep)] if sep else [raw]
        for label in dict.fromkeys(p for p in labels if p):
            cols.append(vocab.setdefault(label.lower(), len(vocab)))
            rows.append(r)
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(values), max(len(vocab), 1)))


def _price_bands(price: np.ndarray, n_bins: int) -> sp.csr_matrix:
    price = np.asarray(price, dtype=np.float64)
    known = np.isfinite(price)
    n = len(price)
    if n_bins <= 0 or known.sum() < 2:
        return sp.csr_matrix((n, 1), dtype=np.float32)
    edges = np.unique(np.quantile(price[known], np.linspace(0, 1, n_bins + 1)[1:-1]))
    band = np.searchsorted(edges, price[known], side="right")
    rows = np.flatnonzero(known)
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, band)), shape=(n, len(edges) + 1))


def build_item_features(
    features: ItemFeatures,
    *,
    text_weight: float = 1.0,
    category_weight: float = 1.0,
    brand_weight: float = 0.5,
    price_weight: float = 0.25,
    max_features: int | None = 20000,
    min_df: int = 1,
    ngram_max: int = 1,
    category_sep: str | None = "|",
    price_bins: int = 5,
) -> sp.csr_matrix:
    """The L2-normalised item x feature matrix (float32 CSR) the content engine uses."""
    n = len(features)
    blocks = []
    texts = [f"{a or ''} {b or ''}".strip() for a, b in zip(features.name, features.description)]
    if text_weight and any(texts):
        from sklearn.feature_extraction.text import TfidfVectorizer  # fit-time only

        try:
            vec = TfidfVectorizer(
                max_features=max_features,
                min_df=min_df,
                ngram_range=(1, ngram_max),
                sublinear_tf=True,
                dtype=np.float32,
            )
            tfidf = vec.fit_transform(texts)
            blocks.append(text_weight * _l2_rows(tfidf))
        except ValueError:  # empty vocabulary (e.g. only stop words / min_df too high)
            pass
    if category_weight:
        blocks.append(category_weight * _l2_rows(_one_hot(features.category, category_sep)))
    if brand_weight:
        blocks.append(brand_weight * _l2_rows(_one_hot(features.brand, None)))
    if price_weight:
        blocks.append(price_weight * _price_bands(features.price, price_bins))
    if not blocks:
        return sp.csr_matrix((n, 1), dtype=np.float32)
    return _l2_rows(sp.hstack(blocks, format="csr"))


class ContentRecommender(Recommender):
    """Profile (weighted sum of history feature rows) . item feature rows.

    Parameters
    ----------
    text_weight, category_weight, brand_weight, price_weight:
        Weight of each feature block in the item cosine.
    max_features, min_df, ngram_max:
        TF-IDF vocabulary settings (name + description).
    category_sep:
        Separator for multi-valued categories (``"Comedy|Drama"``); ``None``: one label.
    price_bins:
        Number of quantile price bands.
    normalize_history:
        Divide each history item's weight by the history's total (so heavy shoppers'
        profiles do not just grow); ranking-neutral for one shopper, kept for score scale.
    prior_weight:
        Weight of the standardised feature popularity prior added to the profile scores
        (0 disables it). The profile score is a cosine-like value in [0, 1].
    prior_alpha:
        Ridge regularisation of that prior.
    """

    name = "content"

    def __init__(
        self,
        text_weight: float = 1.0,
        category_weight: float = 0.5,
        brand_weight: float = 0.5,
        price_weight: float = 0.25,
        max_features: int | None = 20000,
        min_df: int = 1,
        ngram_max: int = 1,
        category_sep: str | None = "|",
        price_bins: int = 5,
        normalize_history: bool = True,
        prior_weight: float = 0.05,
        prior_alpha: float = 1.0,
    ) -> None:
        self.text_weight = text_weight
        self.category_weight = category_weight
        self.brand_weight = brand_weight
        self.price_weight = price_weight
        self.max_features = max_features
        self.min_df = min_df
        self.ngram_max = ngram_max
        self.category_sep = category_sep
        self.price_bins = price_bins
        self.normalize_history = normalize_history
        self.prior_weight = prior_weight
        self.prior_alpha = prior_alpha
        self.item_features_: sp.csr_matrix | None = None
        self.user_items_: sp.csr_matrix | None = None
        self.prior_: np.ndarray | None = None

    def get_params(self) -> dict[str, Any]:
        return {
            "text_weight": self.text_weight,
            "category_weight": self.category_weight,
            "brand_weight": self.brand_weight,
            "price_weight": self.price_weight,
            "max_features": self.max_features,
            "min_df": self.min_df,
            "ngram_max": self.ngram_max,
            "category_sep": self.category_sep,
            "price_bins": self.price_bins,
            "normalize_history": self.normalize_history,
            "prior_weight": self.prior_weight,
            "prior_alpha": self.prior_alpha,
        }

    # -- training ----------------------------------------------------------------------
    def fit(self, dataset: Dataset) -> Self:
        features = dataset.item_features or ItemFeatures.empty(dataset.n_items)
        self.item_features_ = build_item_features(
            features,
            text_weight=self.text_weight,
            category_weight=self.category_weight,
            brand_weight=self.brand_weight,
            price_weight=self.price_weight,
            max_features=self.max_features,
            min_df=self.min_df,
            ngram_max=self.ngram_max,
            category_sep=self.category_sep,
            price_bins=self.price_bins,
        )
        self.user_items_ = sp.csr_matrix(dataset.matrix, dtype=np.float32)
        self.prior_ = self._fit_prior(self.item_features_, self.user_items_)
        return self

    def _fit_prior(self, feats: sp.csr_matrix, ui: sp.csr_matrix) -> np.ndarray:
        """Standardised ridge prediction of log(1 + #users) from features (all items)."""
        n_items = feats.shape[0]
        users_per_item = np.diff(sp.csc_matrix(ui).indptr).astype(np.float64)
        seen = users_per_item > 0
        if seen.sum() < 2:
            return np.zeros(n_items, dtype=np.float32)
        from sklearn.linear_model import Ridge  # fit-time only

        y = np.log1p(users_per_item[seen])
        reg = Ridge(alpha=self.prior_alpha, fit_intercept=True, solver="sparse_cg", random_state=0)
        reg.fit(sp.csr_matrix(feats[seen], dtype=np.float64), y)
        pred = np.asarray(feats @ reg.coef_.astype(np.float64)).ravel() + reg.intercept_
        std = pred.std()
        pred = (pred - pred.mean()) / (std if std > 0 else 1.0)
        return pred.astype(np.float32)

    # -- serving -----------------------------------------------------------------------
    def _check(self) -> None:
        if self.item_features_ is None:
            raise NotFittedError("ContentRecommender is not fitted")

    def _history_vector(self, user: int | None, history: History | None) -> tuple[np.ndarray, np.ndarray]:
        """(item indices, weights) of a known ``user``'s stored row plus the request-time
        ``history``, combined as every engine combines them (``user_profile``)."""
        known = user is not None and 0 <= user < self.user_items_.shape[0]
        vec = user_profile(self.user_items_, user if known else None, history, self.item_features_.shape[0])
        items = np.flatnonzero(vec)
        return items.astype(np.int64), vec[items].astype(np.float64)

    def profile(self, user: int | None = None, *, history: History | None = None) -> np.ndarray:
        """The shopper's dense profile in feature space (zeros when there is no history)."""
        self._check()
        items, weights = self._history_vector(user, history)
        if len(items) == 0:
            return np.zeros(self.item_features_.shape[1], dtype=np.float64)
        if self.normalize_history and weights.sum() > 0:
            weights = weights / weights.sum()
        return np.asarray(self.item_features_[items].T @ weights).ravel()

    def score_items(
        self,
        history: History | None,
        items: np.ndarray | list[int] | None = None,
        *,
        user: int | None = None,
        prior_weight: float | None = None,
    ) -> np.ndarray:
        """Scores of ``items`` (all items when None) for a history (or a known user's rows).

        Usable for cold-start ranking among a candidate subset: the items need no
        interactions, only features.
        """
        self._check()
        feats = self.item_features_ if items is None else self.item_features_[np.asarray(items, dtype=np.int64)]
        profile = self.profile(user, history=history)
        scores = np.asarray(feats @ profile).ravel()
        w = self.prior_weight if prior_weight is None else prior_weight
        if w and self.prior_ is not None:
            prior = self.prior_ if items is None else self.prior_[np.asarray(items, dtype=np.int64)]
            scores = scores + w * prior
        return scores

    def cold_start_scores(
        self, history: History | None, candidate_items: np.ndarray | list[int], *, user: int | None = None
    ) -> np.ndarray:
        """Scores for new (interaction-less) candidates: profile cosine + feature prior."""
        return self.score_items(history, candidate_items, user=user)

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
        scores = self.score_items(history, None, user=user)
        drop = [] if exclude is None else [np.asarray(exclude, dtype=np.int64)]
        if exclude_seen:
            drop.append(self._history_vector(user, history)[0])
        excl = np.concatenate(drop) if drop else None
        return top_n(scores, n, excl)

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        self._check()
        sims = np.asarray(self.item_features_ @ self.item_features_[item].T.toarray()).ravel()
        return top_n(sims, n, np.array([item]))

    # -- persistence -------------------------------------------------------------------
    def _state(self) -> dict[str, np.ndarray | sp.spmatrix]:
        self._check()
        return {
            "item_features": self.item_features_,
            "user_items": self.user_items_,
            "prior": self.prior_,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.item_features_ = sp.csr_matrix(state["item_features"], dtype=np.float32)
        self.user_items_ = sp.csr_matrix(state["user_items"], dtype=np.float32)
        self.prior_ = np.asarray(state["prior"], dtype=np.float32)
