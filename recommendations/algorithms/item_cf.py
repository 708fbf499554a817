"""``item_cf``: learned item-item weights (EASE closed form), shrunk cosine neighbours,
RP3beta random walks, a spectral low-pass filter, or EASE over what shoppers took one after
the other (``adjacency``).

Serving folds in a shopper's history: ``scores = profile @ W`` where ``profile`` is the
user's stored row plus the request-time ``history``, so fresh events count before the next
training. ``W`` is kept as a sparse matrix of the top ``neighbours`` weights per item, and
EASE's dense inverse only spans the ``max_items`` most popular items, so memory stays bounded
for large catalogues. ``also_bought`` ("customers also bought") comes from co-purchase /
co-cart counts normalised by cosine or lift.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import scipy.sparse as sp

from .base import History, NotFittedError, Recommender, top_n, user_profile
from .dataset import CART, PURCHASE, Dataset


def prune_rows(matrix: np.ndarray | sp.spmatrix, k: int | None, *, drop_diagonal: bool = True,
               positive_only: bool = False, by_magnitude: bool = False, block: int = 2048) -> sp.csr_matrix:
    """Keep the ``k`` largest entries (by value, or by ``abs`` if ``by_magnitude``) of each row
    (all if ``k`` is None) as float32 CSR."""
    n_rows, n_cols = matrix.shape
    rows, cols, vals = [], [], []
    for start in range(0, n_rows, block):
        stop = min(start + block, n_rows)
        chunk = matrix[start:stop]
        chunk = chunk.toarray() if sp.issparse(chunk) else np.array(chunk, dtype=np.float64, copy=True)
        if drop_diagonal:
            idx = np.arange(start, stop)
            ok = idx < n_cols
            chunk[np.arange(stop - start)[ok], idx[ok]] = 0.0
        if positive_only:
            chunk[chunk < 0] = 0.0
        if k is not None and k < n_cols:
            rank_by = np.abs(chunk) if by_magnitude else chunk
            part = np.argpartition(-rank_by, k - 1, axis=1)[:, :k]
            r = np.repeat(np.arange(start, stop), k)
            c = part.ravel()
            v = chunk[np.arange(stop - start)[:, None], part].ravel()
        else:
            r, c = np.nonzero(chunk)
            v = chunk[r, c]
            r = r + start
        keep = v != 0
        rows.append(r[keep])
        cols.append(c[keep])
        vals.append(v[keep])
    out = sp.csr_matrix(
        (np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, n_cols),
    )
    out.sum_duplicates()
    return out


def adjacency_counts(dataset: Dataset, window: int) -> sp.csr_matrix:
    """Symmetric item x item weights of two different items ``d <= window`` places apart in a
    shopper's history ordered by time (each item at its first event; ties in data order), each
    pair weighted ``1 - d / (window + 1)``: O(events x window), one pass per distance.

    With the items' counts on the diagonal this is the Gram matrix of every window of
    ``window + 1`` places (scaled), so EASE's system stays positive definite; flat weights can
    make it indefinite (an item has up to ``2 * window`` neighbours per shopper and one count).
    """
    n_items = dataset.n_items
    order = np.lexsort((np.arange(dataset.n_events), dataset.timestamp, dataset.user))
    user, item = dataset.user[order].astype(np.int64), dataset.item[order].astype(np.int64)
    _, first = np.unique(user * n_items + item, return_index=True)
    first.sort()
    user, item = user[first], item[first]
    counts = sp.csr_matrix((n_items, n_items), dtype=np.float64)
    for distance in range(1, min(int(window), max(len(user) - 1, 0)) + 1):
        same = user[distance:] == user[:-distance]
        a, b = item[:-distance][same], item[distance:][same]
        weight = np.full(len(a), 1.0 - distance / (window + 1.0))
        counts = counts + sp.csr_matrix((weight, (a, b)), shape=(n_items, n_items))
    return (counts + counts.T).tocsr()


def normalised_matrix(dataset: Dataset, binary: bool) -> sp.csr_matrix:
    """Users x items confidence, scaled so the median non-zero entry is 1 (or binary)."""
    x = dataset.matrix.astype(np.float32).tocsr(copy=True)
    if x.nnz:
        if binary:
            x.data[:] = 1.0
        else:
            x.data /= np.float32(np.median(x.data))
    return x


class ItemCFRecommender(Recommender):
    """Item-based collaborative filtering.

    ``method="ease"``: W = EASE closed form (Steck 2019), ``l2`` ridge penalty, over the
    ``max_items`` most popular items. ``method="cosine"``: shrunk cosine similarity raised to
    ``alpha``. ``method="rp3"``: RP3beta. ``method="spectral"``: the ideal low-pass filter of
    GF-CF (Shen et al. 2021), the ``components`` leading singular directions of the
    degree-normalised matrix. ``method="adjacency"``: EASE's closed form over a Gram matrix
    whose off-diagonal counts how often two items lie within ``window`` places of each other in
    a shopper's time-ordered history, nearer pairs weighing more (diagonal: the items' counts,
    plus ``l2``; see :func:`adjacency_counts`), so items taken in the same sitting link more
    than items one shopper took years apart. All keep
    ``neighbours`` weights per item for serving (None: all).
    """

    name = "item_cf"

    def __init__(
        self,
        method: str = "ease",
        l2: float = 500.0,
        neighbours: int | None = 500,
        max_items: int = 4000,
        binary: bool = True,
        shrink: float = 10.0,
        alpha: float = 1.0,
        also_bought_neighbours: int = 50,
        also_bought_min_support: int = 2,
        also_bought_normalisation: str = "cosine",
        beta: float = 0.5,
        dropout: float = 0.0,
        components: int = 32,
        window: int = 10,
    ) -> None:
        if method not in {"ease", "cosine", "rp3", "spectral", "adjacency"}:
            raise ValueError("method must be 'ease', 'cosine', 'rp3', 'spectral' or 'adjacency'")
        if int(window) < 1:
            raise ValueError("window must be at least 1")
        if also_bought_normalisation not in {"cosine", "lift"}:
            raise ValueError("also_bought_normalisation must be 'cosine' or 'lift'")
        self.method = method
        self.l2 = float(l2)
        self.neighbours = neighbours
        self.max_items = int(max_items)
        self.binary = binary
        self.shrink = float(shrink)
        self.alpha = float(alpha)
        self.also_bought_neighbours = int(also_bought_neighbours)
        self.also_bought_min_support = int(also_bought_min_support)
        self.also_bought_normalisation = also_bought_normalisation
        self.beta = float(beta)
        self.dropout = float(dropout)
        self.components = int(components)
        self.window = int(window)
        self.weights_: sp.csr_matrix | None = None
        self.seen_: sp.csr_matrix | None = None
        self.co_: sp.csr_matrix | None = None
        self.popularity_: np.ndarray | None = None

    def get_params(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "l2": self.l2,
            "neighbours": self.neighbours,
            "max_items": self.max_items,
            "binary": self.binary,
            "shrink": self.shrink,
            "alpha": self.alpha,
            "also_bought_neighbours": self.also_bought_neighbours,
            "also_bought_min_support": self.also_bought_min_support,
            "also_bought_normalisation": self.also_bought_normalisation,
            "beta": self.beta,
            "dropout": self.dropout,
            "components": self.components,
            "window": self.window,
        }

    # -- training ---------------------------------------------------------------------------
    def fit(self, dataset: Dataset) -> Self:
        x = normalised_matrix(dataset, self.binary)
        n_items = dataset.n_items
        counts = np.diff(x.tocsc().indptr)
        self.popularity_ = counts.astype(np.float64)
        if self.method == "ease":
            self.weights_ = self._fit_ease(x, counts)
        elif self.method == "adjacency":
            self.weights_ = self._fit_ease(x, counts, adjacency_counts(dataset, self.window))
        elif self.method == "rp3":
            self.weights_ = self._fit_rp3(x, counts)
        elif self.method == "spectral":
            self.weights_ = self._fit_spectral(x, counts)
        else:
            self.weights_ = self._fit_cosine(x)
        self.seen_ = x
        self.co_ = self._fit_also_bought(dataset, n_items)
        return self

    def _active_items(self, counts: np.ndarray) -> np.ndarray:
        """The items a dense item-item fit spans: those with interactions, at most the
        ``max_items`` most popular, in index order."""
        active = np.flatnonzero(counts > 0)
        if len(active) > self.max_items:
            active = np.sort(active[np.argsort(-counts[active], kind="stable")[: self.max_items]])
        return active

    def _fit_ease(self, x: sp.csr_matrix, counts: np.ndarray,
                  adjacency: sp.csr_matrix | None = None) -> sp.csr_matrix:
        """EASE over the active items; with ``adjacency`` (item x item counts) its Gram matrix
        is those counts off the diagonal and the items' counts on it."""
        n_items = x.shape[1]
        active = self._active_items(counts)
        if len(active) == 0:
            return sp.csr_matrix((n_items, n_items), dtype=np.float32)
        xa = x[:, active]
        if adjacency is None:
            gram = (xa.T @ xa).toarray().astype(np.float64)
        else:
            gram = adjacency[active][:, active].toarray().astype(np.float64)
            gram[np.diag_indices_from(gram)] = counts[active]
        # EDLAE (Steck 2020): emphasised-denoising penalty p/(1-p) * diag(G) on top of l2
        extra = self.dropout / (1.0 - self.dropout) * np.diag(gram) if self.dropout > 0 else 0.0
        gram[np.diag_indices_from(gram)] += self.l2 + extra
        p = np.linalg.inv(gram)
        b = p / (-np.diag(p))[None, :]
        b[np.diag_indices_from(b)] = 0.0
        local = prune_rows(b, self.neighbours, drop_diagonal=True, by_magnitude=True)
        del b, p, gram
        coo = local.tocoo()
        return sp.csr_matrix(
            (coo.data, (active[coo.row], active[coo.col])), shape=(n_items, n_items), dtype=np.float32
        )

    def _fit_cosine(self, x: sp.csr_matrix) -> sp.csr_matrix:
        xb = x.tocsc()
        norms = np.sqrt(np.asarray(xb.multiply(xb).sum(axis=0)).ravel())
        co = (xb.T @ xb).tocsr().astype(np.float64)
        co.sum_duplicates()
        co.sort_indices()
        binary = x.copy()
        binary.data[:] = 1.0
        support = (binary.T @ binary).tocsr()
        support.sum_duplicates()
        support.sort_indices()
        # same sparsity pattern (non-negative confidences), so the data arrays line up
        sup = support.data.astype(np.float64)
        co = co.tocoo()
        denom = norms[co.row] * norms[co.col]
        sim = np.where(denom > 0, co.data / np.maximum(denom, 1e-12), 0.0)
        sim *= sup / (sup + self.shrink)
        if self.alpha != 1.0:
            sim = np.power(np.maximum(sim, 0.0), self.alpha)
        s = sp.csr_matrix((sim, (co.row, co.col)), shape=co.shape)
        return prune_rows(s, self.neighbours, drop_diagonal=True)

    def _fit_rp3(self, x: sp.csr_matrix, counts: np.ndarray) -> sp.csr_matrix:
        """RP3beta (Paudel et al. 2017): 3-step random-walk probabilities item -> user -> item,
        raised to ``alpha`` and divided by the target's popularity ** ``beta``."""
        row_sum = np.asarray(x.sum(axis=1)).ravel()
        col_sum = np.asarray(x.sum(axis=0)).ravel()
        p_ui = sp.diags(1.0 / np.maximum(row_sum, 1e-12)) @ x
        p_iu = sp.diags(1.0 / np.maximum(col_sum, 1e-12)) @ x.T.tocsr()
        w = (p_iu @ p_ui).tocsr()
        if self.alpha != 1.0:
            w.data = np.power(w.data, self.alpha)
        w = w @ sp.diags(1.0 / np.power(np.maximum(counts, 1.0), self.beta))
        return prune_rows(w.tocsr(), self.neighbours, drop_diagonal=True)

    def _fit_spectral(self, x: sp.csr_matrix, counts: np.ndarray) -> sp.csr_matrix:
        """W = D^-1/2 V V^T D^1/2, V the top right singular vectors of D_u^-1/2 X D^-1/2 (D: item
        degrees): smooth item-item weights from the co-occurrence graph's strongest
        components, over the ``max_items`` most popular items like EASE."""
        from scipy.sparse.linalg import svds

        n_items = x.shape[1]
        active = self._active_items(counts)
        k = min(self.components, len(active) - 1, x.shape[0] - 1)
        if k < 1:
            return sp.csr_matrix((n_items, n_items), dtype=np.float32)
        xa = x[:, active].astype(np.float64)
        row_deg = np.asarray(xa.sum(axis=1)).ravel()
        col_deg = np.maximum(np.asarray(xa.sum(axis=0)).ravel(), 1e-12)
        norm = sp.diags(1.0 / np.sqrt(np.maximum(row_deg, 1e-12))) @ xa @ sp.diags(1.0 / np.sqrt(col_deg))
        _, _, vt = svds(norm.tocsc(), k=k, random_state=0)
        left = vt.T / np.sqrt(col_deg)[:, None]
        right = vt.T * np.sqrt(col_deg)[:, None]
        local = prune_rows(left @ right.T, self.neighbours, drop_diagonal=True, by_magnitude=True)
        coo = local.tocoo()
        return sp.csr_matrix(
            (coo.data, (active[coo.row], active[coo.col])), shape=(n_items, n_items), dtype=np.float32
        )

    def _fit_also_bought(self, dataset: Dataset, n_items: int) -> sp.csr_matrix:
        mask = (dataset.kind == PURCHASE) | (dataset.kind == CART)
        if not mask.any():
            return sp.csr_matrix((n_items, n_items), dtype=np.float32)
        p = sp.csr_matrix(
            (np.ones(int(mask.sum()), dtype=np.float32), (dataset.user[mask], dataset.item[mask])),
            shape=(dataset.n_users, n_items),
        )
        p.sum_duplicates()
        p.data[:] = 1.0
        n_i = np.asarray(p.sum(axis=0)).ravel().astype(np.float64)
        co = (p.T @ p).tocoo()
        keep = (co.row != co.col) & (co.data >= self.also_bought_min_support)
        r, c, v = co.row[keep], co.col[keep], co.data[keep].astype(np.float64)
        if self.also_bought_normalisation == "lift":
            score = v * p.shape[0] / (n_i[r] * n_i[c])
            score *= v / (v + 2.0)  # damp lifts resting on one or two baskets
        else:
            score = v / np.sqrt(n_i[r] * n_i[c])
        s = sp.csr_matrix((score, (r, c)), shape=(n_items, n_items))
        return prune_rows(s, self.also_bought_neighbours, drop_diagonal=True)

    # -- serving ----------------------------------------------------------------------------
    def _check(self) -> None:
        if self.weights_ is None:
            raise NotFittedError("item_cf is not fitted")

    def score_all(self, user: int | None = None, history: History | None = None) -> np.ndarray:
        """Scores for every item from the user's row plus ``history`` (0 where nothing links)."""
        self._check()
        n_items = self.weights_.shape[0]
        profile = user_profile(self.seen_, user, history, n_items)
        nz = np.flatnonzero(profile)
        if len(nz) == 0:
            return np.zeros(n_items)
        return np.asarray(self.weights_[nz].T @ profile[nz], dtype=np.float64).ravel()

    def score_users(self, users: np.ndarray) -> np.ndarray:
        """Dense scores for a batch of known users (evaluation speed-up)."""
        self._check()
        return np.asarray((self.seen_[users] @ self.weights_).toarray(), dtype=np.float64)

    def similar_items(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        self._check()
        row = self.weights_[int(item)]
        scores = np.full(self.weights_.shape[1], -np.inf)
        pos = row.data > 0
        scores[row.indices[pos]] = row.data[pos]
        return top_n(scores, n, np.array([int(item)]))

    def also_bought(self, item: int, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """"Customers also bought": co-purchase / co-cart neighbours, topped up by similar_items."""
        self._check()
        item = int(item)
        row = self.co_[item] if self.co_ is not None and self.co_.nnz else None
        if row is None or row.nnz == 0:
            return self.similar_items(item, n)
        scores = np.full(self.co_.shape[1], -np.inf)
        scores[row.indices] = row.data
        items, vals = top_n(scores, n, np.array([item]))
        if len(items) < n:
            extra, extra_vals = self.similar_items(item, n + len(items))
            keep = ~np.isin(extra, items)
            extra, extra_vals = extra[keep][: n - len(items)], extra_vals[keep][: n - len(items)]
            # similarity scores sit below every co-purchase score
            floor = float(vals.min()) if len(vals) else 0.0
            scaled = floor * 0.5 * (extra_vals / max(float(extra_vals.max()), 1e-12)) if len(extra) else extra_vals
            items = np.concatenate([items, extra])
            vals = np.concatenate([vals, scaled])
        return items, vals

    def _state(self) -> dict[str, Any]:
        self._check()
        return {
            "weights": self.weights_,
            "seen": self.seen_,
            "co": self.co_,
            "popularity": self.popularity_,
        }

    def _set_state(self, state: dict[str, np.ndarray]) -> None:
        self.weights_ = sp.csr_matrix(state["weights"])
        self.seen_ = sp.csr_matrix(state["seen"])
        self.co_ = sp.csr_matrix(state["co"])
        self.popularity_ = np.asarray(state["popularity"])
